package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/snyk"
)

// TestImportSummaryGolden pins import-summary.json byte for byte
// (go test ./pkg/importer -run Golden -update rewrites it).
func TestImportSummaryGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "import", "import-summary.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // relative paths in the summary
	writeStagesFile(t, ".", "import-projects.json", impTargetsJSON(
		impRow("org1", "int1", "ws", "ok", "main"),
		impRow("org1", "int1", "ws", "ok", "main"),
		impRow("org1", "int1", "ws", "bad", "main"),
		impRow("org1", "int1", "ws", "rate", "main"),
		impRow("org1", "int1", "ws", "half", "main"),
	))
	f := newImpFakeSnyk(t)
	f.kickOff = func(ctx context.Context, name string) error {
		switch name {
		case "bad":
			return &impStatusErr{400}
		case "rate":
			return &impStatusErr{429}
		}
		return nil
	}
	f.result = func(name string, job *snyk.ImportJob) {
		if name == "half" {
			job.Logs[0].Projects = append(job.Logs[0].Projects,
				snyk.ImportedProject{TargetFile: "a/pom.xml", UserMessage: "Could not parse a/pom.xml: line 12"})
		}
	}
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	res, err := Import(t.Context(), ImportOptions{
		Snyk: f, File: "import-projects.json", LogPath: "logs", Concurrency: 1,
		PollInitial: time.Millisecond, Hostname: "h", PID: 1,
		Now: func() time.Time { return start },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() {
		t.Error("Failed() = false")
	}
	got, err := os.ReadFile(filepath.Join("logs", ImportSummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	assertGolden(t, golden, got)
}

func TestImportResultFailed(t *testing.T) {
	for _, tc := range []struct {
		r    ImportResult
		want bool
	}{
		{ImportResult{Targets: 3, Skipped: 1, KickedOff: 2, JobsComplete: 2, ProjectsImported: 5}, false},
		{ImportResult{NotStarted: 3, Interrupted: true}, false},
		{ImportResult{KickOffFailures: 1}, true},
		{ImportResult{JobsFailed: 1}, true},
		{ImportResult{PollFailures: 1}, true},
		{ImportResult{ProjectsFailed: 1}, true},
	} {
		if got := tc.r.Failed(); got != tc.want {
			t.Errorf("%+v.Failed() = %v", tc.r, got)
		}
	}
}
