package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

func readSummary(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func historyFiles(t *testing.T, e *simEnv, stage string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.LogPath, "summaries", strings.ReplaceAll(stage, ":", "-")+"-2*.json"))
	return files
}

// Every stage writes <stage>-summary.json next to its output, with the exit
// code and the failures by cause, and keeps each run's copy: a re-run never
// loses the run before.
func TestSummaryFiles_everyStageKeepsHistory(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("SNYK_RATE_LIMIT", "100000")
	targets := e.Pipeline()
	e.MustRun(exitOK, "import", "--file="+targets)
	e.MustRun(exitOK, "list:imported", "--groupId="+sim.SimSnykGroupID)
	for _, st := range []struct{ stage, file, field string }{
		{"orgs:data", "orgs-data-summary.json", "workspaces"},
		{"orgs:create", "orgs-create-summary.json", "created"},
		{"import:data", "import-data-summary.json", "repositories"},
		{"import", "import-summary.json", "kickedOff"},
		{"list:imported", "list-imported-summary.json", "targets"},
	} {
		m := readSummary(t, e.File(st.file))
		if m["stage"] != st.stage || m["outcome"] != "ok" || m["exitCode"] != 0.0 || m[st.field] == nil {
			t.Errorf("%s: %v", st.file, m)
		}
		if fs, ok := m["failures"].([]any); !ok || len(fs) != 0 {
			t.Errorf("%s: failures %v", st.file, m["failures"])
		}
		hist := historyFiles(t, e, st.stage)
		if len(hist) != 1 || m["history"] != filepath.Join("summaries", filepath.Base(hist[0])) {
			t.Errorf("%s: history %v, files %v", st.file, m["history"], hist)
		}
	}
	// import-summary.json keeps its fields for existing readers.
	m := readSummary(t, e.File("import-summary.json"))
	for _, k := range []string{"file", "logPath", "targets", "skipped", "kickedOff", "jobsComplete", "projectsImported", "started", "finished", "durationSeconds", "failed"} {
		if _, ok := m[k]; !ok {
			t.Errorf("import-summary.json lost %q", k)
		}
	}

	// A re-run (every target skipped now) and a failed run: three import
	// runs, three copies, the first untouched.
	first := historyFiles(t, e, "import")[0]
	before, _ := os.ReadFile(first)
	e.MustRun(exitOK, "import", "--file="+targets)
	e.Set("SNYK_TOKEN", "")
	e.MustRun(exitUsage, "import", "--file="+targets)
	if hist := historyFiles(t, e, "import"); len(hist) != 3 {
		t.Errorf("%d import summaries kept, want 3: %v", len(hist), hist)
	}
	if after, _ := os.ReadFile(first); string(after) != string(before) {
		t.Error("a later run rewrote the first run's summary")
	}
	m = readSummary(t, e.File("import-summary.json"))
	if m["outcome"] != "usage" || m["exitCode"] != 2.0 || !strings.Contains(m["error"].(string), "bbimport: no Snyk credential: set SNYK_CLIENT_ID and SNYK_CLIENT_SECRET") {
		t.Errorf("latest import summary after a usage error: %v", m)
	}
	if fs := m["failures"].([]any); len(fs) != 1 || fs[0].(map[string]any)["stage"] != "run" {
		t.Errorf("failures of a run that failed outright: %v", m["failures"])
	}

	// Dry runs write nothing.
	e.Set("SNYK_TOKEN", sim.SimSnykToken)
	e.MustRun(exitOK, "import", "--dryRun", "--file="+targets)
	if hist := historyFiles(t, e, "import"); len(hist) != 3 {
		t.Errorf("a dry run wrote a summary: %v", hist)
	}
	if matches, _ := filepath.Glob(filepath.Join(e.LogPath, "summaries", ".*")); len(matches) != 0 {
		t.Errorf("temp files left behind: %v", matches)
	}
}

// Failures by cause, in the summary of a stage that finished with some.
func TestSummaryFiles_failuresByCause(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file := orgsFile(t, e, 3, sim.SimSnykGroupID, missingGroup)
	e.MustRun(exitPartial, "orgs:create", "--file="+file)
	m := readSummary(t, e.File("orgs-create-summary.json"))
	if m["outcome"] != "partial" || m["exitCode"] != 3.0 || m["failed"] != 3.0 || m["created"] != 3.0 {
		t.Errorf("summary: %v", m)
	}
	fs := m["failures"].([]any)
	if len(fs) != 1 {
		t.Fatalf("failures: %v", fs)
	}
	if f := fs[0].(map[string]any); f["stage"] != "create" || f["cause"] != "HTTP 404" || f["count"] != 3.0 {
		t.Errorf("failure group: %v", f)
	}

	// A network failure: the cause is named, and the fix is in the error.
	productionWaits(e)
	e.Set("BITBUCKET_APP_API_BASE", "https://api.bitbucket.bbimport-test.invalid/2.0")
	e.MustRun(exitFailed, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	m = readSummary(t, e.File("orgs-data-summary.json"))
	f := m["failures"].([]any)[0].(map[string]any)
	if m["outcome"] != "failed" || f["cause"] != "DNS name not found" || !strings.Contains(m["error"].(string), "fix: check BITBUCKET_APP_API_BASE") {
		t.Errorf("summary of a DNS failure: %v", m)
	}
}
