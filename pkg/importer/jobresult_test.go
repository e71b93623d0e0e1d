package importer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/google/go-cmp/cmp"
)

func TestJobFailure(t *testing.T) {
	ok := snyk.ImportedProject{TargetFile: "package.json", Success: true, ProjectURL: "https://app.snyk.io/org/o/project/p"}
	tests := []struct {
		name string
		job  snyk.ImportJob
		want string
	}{
		{"complete, entry complete", snyk.ImportJob{Status: snyk.JobComplete, Logs: []snyk.ImportLog{{Name: "ws/a", Status: snyk.JobComplete, Projects: []snyk.ImportedProject{ok}}}}, ""},
		{"complete, empty repository", snyk.ImportJob{Status: snyk.JobComplete, Logs: []snyk.ImportLog{{Name: "ws/a", Status: snyk.JobComplete, Projects: []snyk.ImportedProject{}}}}, ""},
		{"complete, no logs", snyk.ImportJob{Status: snyk.JobComplete}, ""},
		{"complete, project failed inside a complete entry", snyk.ImportJob{Status: snyk.JobComplete, Logs: []snyk.ImportLog{{Name: "ws/a", Status: snyk.JobComplete,
			Projects: []snyk.ImportedProject{{TargetFile: "pom.xml", Success: false}}}}}, ""},
		{"complete, entry failed with projects: []", snyk.ImportJob{Status: snyk.JobComplete, Logs: []snyk.ImportLog{{Name: "ws/a", Status: snyk.JobFailed, Projects: []snyk.ImportedProject{}}}},
			"import job complete, but its log entry for ws/a failed"},
		{"complete, one of two entries failed", snyk.ImportJob{Status: snyk.JobComplete, Logs: []snyk.ImportLog{
			{Name: "ws/a", Status: snyk.JobComplete, Projects: []snyk.ImportedProject{ok}}, {Name: "ws/b", Status: snyk.JobFailed}}},
			"import job complete, but its log entry for ws/b failed"},
		{"job failed", snyk.ImportJob{Status: snyk.JobFailed, Logs: []snyk.ImportLog{{Name: "ws/a", Status: snyk.JobFailed}}}, "import job failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobFailure(&tt.job); got != tt.want {
				t.Errorf("jobFailure = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestImportFailedLogEntryInCompleteJob: a `complete` job whose log entry is
// `failed` with `projects: []` counts as a failed job, gets a `Target import
// failed` line, and is retried by the next run, like a `failed` job.
func TestImportFailedLogEntryInCompleteJob(t *testing.T) {
	e := newImpEnv(t,
		`{"orgId":"org1","integrationId":"int1","target":{"name":"ok","owner":"ws","branch":"main"}}`,
		`{"orgId":"org1","integrationId":"int1","target":{"name":"entry","owner":"ws","branch":"main"}}`,
		`{"orgId":"org1","integrationId":"int1","target":{"name":"whole","owner":"ws","branch":"main"}}`,
	)
	f := e.fake
	f.poll = func(context.Context, string, int) (*snyk.ImportJob, error) { return nil, nil }
	f.result = func(name string, job *snyk.ImportJob) {
		switch name {
		case "entry":
			job.Logs[0].Status = snyk.JobFailed
			job.Logs[0].Projects = []snyk.ImportedProject{}
		case "whole":
			job.Status = snyk.JobFailed
			job.Logs[0].Status = snyk.JobFailed
			job.Logs[0].Projects = nil
		}
	}
	opts := e.opts()
	opts.Concurrency = 1
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || res.JobsFailed != 2 || res.JobsComplete != 1 || res.ProjectsImported != 1 {
		t.Errorf("result = %+v", res)
	}
	want := []FailureGroup{{Stage: StageJob, Cause: "job failed", Count: 2, Examples: []string{"org1:int1:entry:ws:main", "org1:int1:whole:ws:main"}}}
	if diff := cmp.Diff(want, res.Failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(filepath.Join(e.logPath, importfiles.ImportedTargetsLog))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"errorMessage":"import job complete, but its log entry for entry failed","msg":"Target import failed"`) {
		t.Errorf("%s lacks the failed-entry line:\n%s", importfiles.ImportedTargetsLog, data)
	}

	f.poll, f.result = nil, nil
	res2, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ok", "entry", "whole", "entry", "whole"}, f.importedNames()); diff != "" {
		t.Errorf("imports over both runs (-want +got):\n%s", diff)
	}
	if res2.Skipped != 1 || res2.KickedOff != 2 || res2.Failed() {
		t.Errorf("second run = %+v", res2)
	}
}
