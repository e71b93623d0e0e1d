package main

import (
	"strings"
	"testing"

	"github.com/bbimport/bbimport/pkg/importer"
)

// TestFieldErrorsNameFlags: the importer's option errors name fields; the
// messages people read name the flags and variables that set them (the
// assertions the importer's own tests made when it named flags itself).
func TestFieldErrorsNameFlags(t *testing.T) {
	t.Parallel()
	_, concurrency := importer.Import(t.Context(), importer.ImportOptions{Concurrency: 51})
	_, neither := importer.ListImported(t.Context(), importer.ListImportedOptions{LogPath: "x"})
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"concurrency", concurrency, []string{"CONCURRENT_IMPORTS", "--concurrency", "1 to 50", "51"}},
		{"neither id", neither, []string{"either --groupId or --orgId"}},
		{"unknown type", &importer.FieldError{Field: "IntegrationTypes", Msg: `unknown {IntegrationTypes} "svn" (one of github, gitlab)`},
			[]string{`unknown --integrationType "svn"`}},
		{"orgPer=project", &importer.FieldError{Stage: "import:data", Field: "OrgPer", Msg: `{OrgPer}=project but 2 orgs of f have no "project"; drop {OrgPer}`},
			[]string{`import:data: --orgPer=project but 2 orgs`, "drop --orgPer"}},
		{"orgs:create --file", &importer.FieldError{Stage: "orgs:create", Field: "File", Msg: "an orgs data file is required ({File})"},
			[]string{"orgs:create: an orgs data file is required (--file)"}},
		{"import --file", &importer.FieldError{Field: "File", Msg: "no targets file given ({File})"},
			[]string{"no targets file given (--file or SNYK_IMPORT_PATH)"}},
		{"log path", &importer.FieldError{Stage: "orgs:data", Field: "LogPath", Msg: "a log path is required ({LogPath})"},
			[]string{"orgs:data: a log path is required (SNYK_LOG_PATH or --logPath)"}},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		got := (explainer{}).errMessage(tt.err)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tt.name, got, w)
			}
		}
		if problem, _, _ := (explainer{}).explain(tt.err); problem != got {
			t.Errorf("%s: explain's problem %q differs from the message %q", tt.name, problem, got)
		}
	}
}
