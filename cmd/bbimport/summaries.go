package main

import "github.com/bbimport/bbimport/pkg/importer"

// The stages' own figures in their summaries. import keeps the fields
// import-summary.json always had.
type importSummary struct {
	*importer.ImportResult
	Failed bool `json:"failed"`
}

type droppedRow struct {
	Workspace string `json:"workspace"`
	Project   string `json:"project,omitempty"`
	Reason    string `json:"reason"`
}

func orgsDataSummary(groupID, source string, res *importer.OrgsDataResult) any {
	dropped := make([]droppedRow, len(res.Dropped))
	for i, d := range res.Dropped {
		dropped[i] = droppedRow{d.Workspace, d.Project, reasonText(d.Reason)}
	}
	return struct {
		GroupID    string       `json:"groupId"`
		Source     string       `json:"source"`
		Workspaces int          `json:"workspaces"`
		Orgs       int          `json:"orgs"`
		Dropped    []droppedRow `json:"dropped"`
		Warnings   []string     `json:"warnings,omitempty"`
	}{groupID, source, res.Workspaces, len(res.Orgs), dropped, res.Warnings}
}

func orgsCreateSummary(file string, res *importer.OrgsCreateResult) any {
	return struct {
		File         string `json:"file"`
		Orgs         int    `json:"orgs"`
		Created      int    `json:"created"`
		Reused       int    `json:"reused"`
		Failed       int    `json:"failed"`
		NotAttempted int    `json:"notAttempted"`
		Written      int    `json:"written"`
	}{file, len(res.Orgs), res.Count(importer.OrgCreated), res.Count(importer.OrgReused),
		res.Count(importer.OrgFailed), res.Count(importer.OrgNotAttempted), res.Written}
}

// failuresOf groups a stage's failed items by cause for its summary.
func failuresOf[T any](step string, items []T, failure func(T) (example string, err error)) []importer.FailureGroup {
	fs := make([]importer.Failure, 0, len(items))
	for _, it := range items {
		example, err := failure(it)
		fs = append(fs, importer.Failure{Example: example, Err: err})
	}
	return importer.GroupFailures(step, fs)
}

func orgsCreateFailures(res *importer.OrgsCreateResult) []importer.FailureGroup {
	return failuresOf("create", res.Failures(), func(o importer.OrgOutcome) (string, error) { return o.Row.Name, o.Err })
}

func importDataSummary(orgsData string, res *importer.ImportDataResult) any {
	return struct {
		OrgsData     string                      `json:"orgsData"`
		Orgs         int                         `json:"orgs"`
		FailedOrgs   int                         `json:"failedOrgs"`
		LeftOutOrgs  int                         `json:"leftOutOrgs"`
		Repositories int                         `json:"repositories"`
		Targets      int                         `json:"targets"`
		Skipped      map[importer.SkipReason]int `json:"skipped"`
	}{orgsData, len(res.Orgs), len(res.Failures()), len(res.LeftOut), res.Repositories, res.Targets, res.Skipped}
}

func importDataFailures(res *importer.ImportDataResult) []importer.FailureGroup {
	return failuresOf("list", res.Failures(), func(o importer.ImportDataOrg) (string, error) { return o.Workspace, o.Err })
}

func listImportedFailures(res *importer.ListImportedResult) []importer.FailureGroup {
	return failuresOf("list", res.FailedOrgs, func(o importer.OrgFailure) (string, error) { return o.OrgID, o.Err })
}

func listImportedSummary(res *importer.ListImportedResult) any {
	return struct {
		Orgs          int `json:"orgs"`
		FailedOrgs    int `json:"failedOrgs"`
		Projects      int `json:"projects"`
		Targets       int `json:"targets"`
		Written       int `json:"written"`
		NoIntegration int `json:"noIntegration"`
	}{res.Orgs, len(res.FailedOrgs), res.Projects, res.Targets, res.Written, res.NoIntegration}
}
