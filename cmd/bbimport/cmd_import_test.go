package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// An orgId that is not one file name is refused before anything is sent:
// it names the log files.
func TestImportRefusesPathLikeOrgID(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	f := filepath.Join(t.TempDir(), "targets.json")
	body := `{"targets":[{"orgId":"../escape","integrationId":"i","target":{"owner":"w","name":"r","branch":"main"}}]}`
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.MustRun(exitFailed, "import", "--file="+f)
	wantContains(t, r.Stderr, "targets[0]", "orgId")
	if n := e.Sim.Count("snyk.requests"); n != 0 {
		t.Errorf("%d Snyk requests for an invalid file, want 0", n)
	}
}

// A resume log whose last line a killed run left half-written: the next
// line appended starts on a line of its own, so no target is lost.
func TestImportAfterHalfWrittenResumeLine(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	targets := e.Pipeline()
	if err := os.MkdirAll(e.LogPath, 0o755); err != nil {
		t.Fatal(err)
	}
	log := e.File("imported-targets.log")
	if err := os.WriteFile(log, []byte(`{"name":"snyk:import-projects-script","msg":"Target requ`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.MustRun(0, "import", "--file="+targets, "--concurrency=20")
	r := e.MustRun(0, "import", "--file="+targets)
	wantContains(t, r.Stdout, "Processed 0 out of a total of")
	data, _ := os.ReadFile(log)
	if !strings.HasPrefix(string(data), `{"name":"snyk:import-projects-script","msg":"Target requ`+"\n{") {
		t.Errorf("the half line was not ended before appending:\n%.200s", data)
	}
}
