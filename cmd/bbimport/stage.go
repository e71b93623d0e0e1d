package main

import (
	"errors"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
)

// stageRun collects what a stage's summary file says, as the stage runs;
// rt.run writes it once the exit code is known, whatever the outcome.
type stageRun struct {
	name    string
	logPath string
	started time.Time
	// dryRun stages write no summary: they write nothing at all.
	dryRun   bool
	output   string
	shard    string
	detail   any
	failures []importer.FailureGroup
}

// startStage marks the start of a stage whose summary goes in logPath.
func (rt *invocation) startStage(name, logPath string) *stageRun {
	rt.stage = &stageRun{name: name, logPath: logPath, started: rt.Now()}
	return rt.stage
}

// outcomes by exit code, for the summary's "outcome".
var outcomes = map[int]string{
	exitOK: "ok", exitFailed: "failed", exitUsage: "usage", exitPartial: "partial",
	exitAuth: "auth", exitInterrupted: "interrupted",
}

// writeSummary writes <stage>-summary.json and this run's copy under
// summaries/ (see importer.WriteStageSummary). msg is the closing message,
// "" when there is none. A summary that cannot be written is a warning: the
// stage's own work is done and recorded in its files.
func (rt *invocation) writeSummary(code int, err error, msg string) {
	st := rt.stage
	if st == nil || st.dryRun || st.logPath == "" {
		return
	}
	finished := rt.Now()
	s := importer.StageSummary{
		Stage: st.name, Outcome: outcomes[code], ExitCode: code,
		Started: st.started, Finished: finished, DurationSeconds: finished.Sub(st.started).Seconds(),
		Output: st.output, Shard: st.shard, Failures: st.failures,
		Error: rt.redactor.String(msg),
	}
	if len(s.Failures) == 0 && err != nil && !errors.Is(err, errSilent) && code != exitInterrupted {
		s.Failures = []importer.FailureGroup{{Stage: "run", Cause: rt.redactor.String(importer.FailureCause(err)), Count: 1}}
	}
	if _, _, werr := importer.WriteStageSummary(st.logPath, s, st.detail); werr != nil {
		errorFields(rt.log.Warn(), werr).Msgf("could not write the %s summary: %v", st.name, werr)
	}
}

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
