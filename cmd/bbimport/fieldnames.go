package main

import (
	"errors"
	"strings"

	"github.com/bbimport/bbimport/pkg/importer"
)

// optionNames are the flags and variables that set each importer option
// field, as an error names them. The importer names fields ({LogPath}); the
// command knows how the operator sets them.
var optionNames = map[string]string{
	"Concurrency":      "CONCURRENT_IMPORTS or --concurrency",
	"DeleteAfter":      "--deleteAfter",
	"ExclusionGlobs":   "--exclusionGlobs",
	"File":             "--file or SNYK_IMPORT_PATH",
	"GroupID":          "--groupId",
	"IntegrationType":  "--integrationType",
	"IntegrationTypes": "--integrationType",
	"LogPath":          "SNYK_LOG_PATH or --logPath",
	"MaxDeactivate":    "--maxDeactivate",
	"OnDeleted":        "--onDeletedRepo",
	"OrgID":            "--orgId",
	"OrgPer":           "--orgPer",
	"OrgsData":         "--orgsData",
	"Products":         "--snykProduct",
	"Source":           "--source",
	"Workspaces":       "--workspace",
}

// stageOptionNames are the names that differ by command.
var stageOptionNames = map[string]string{
	"orgs:create File": "--file",
	"sync Orgs":        "--orgPublicId, --orgsData or --groupId",
}

// reasonText words a reason the importer gives for leaving a workspace, a
// project or an org out, when an option of the command decided it.
func reasonText(reason string) string {
	switch reason {
	case importer.LeftOutWorkspace:
		return "not in --workspace"
	case importer.LeftOutProject:
		return "project not in --project"
	case importer.DropNoRepositories:
		return "no repositories (--skipEmptyOrgs)"
	}
	return reason
}

// fieldMessage is a *importer.FieldError inside err worded with flag and
// variable names, in the place its own text had; ok is false when err holds
// none.
func fieldMessage(err error) (string, bool) {
	var fe *importer.FieldError
	if !errors.As(err, &fe) {
		return "", false
	}
	text := fe.Text(func(field string) string {
		if n, ok := stageOptionNames[fe.Stage+" "+field]; ok {
			return n
		}
		if n, ok := optionNames[field]; ok {
			return n
		}
		return field
	})
	full, own := err.Error(), fe.Error()
	if strings.Contains(full, own) {
		return strings.Replace(full, own, text, 1), true
	}
	return text, true
}
