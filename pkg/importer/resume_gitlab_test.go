package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/importfiles"
)

// impLogLine is a resume-log line as the original wrote it (its targetId
// stale).
func impLogLine(msg, org, integ, target string) string {
	return `{"name":"snyk:import-projects-script","hostname":"h","pid":1,"level":30,"target":` + target +
		`,"locationUrl":"https://api.snyk.io/v1/org/` + org + `/integrations/` + integ + `/import/j","orgId":"` + org +
		`","integrationId":"` + integ + `","targetId":"stale","msg":"` + msg + `","time":"2024-05-01T10:00:00.000Z","v":0}`
}

// GitLab-style targets {id, branch} share the original's key (`id` is not
// part of it): importing one must not make the next run skip the others of
// the same org, integration and branch. bbimport logs the id and tells them
// apart; a line written by the original (no id) is still honoured, and a
// later line of ours for the same target wins over it.
func TestResumeGitLabTargetsByID(t *testing.T) {
	gl := func(id int) string {
		return fmt.Sprintf(`{"orgId":"org1","integrationId":"int1","target":{"id":%d,"branch":"main"}}`, id)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "logs")
	fake := newImpFakeSnyk(t)
	run := func(rows ...string) *ImportResult {
		t.Helper()
		file := writeStagesFile(t, dir, "targets.json", impTargetsJSON(rows...))
		res, err := Import(t.Context(), ImportOptions{Snyk: fake, File: file, LogPath: logPath, Concurrency: 2,
			PollInitial: time.Millisecond, PollMax: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run(gl(1)); res.KickedOff != 1 {
		t.Fatalf("first run: %+v", res)
	}
	if res := run(gl(1), gl(2), gl(3)); res.Skipped != 1 || res.KickedOff != 2 {
		t.Errorf("second run skipped %d and imported %d, want 1 and 2 (only id 1 was imported)", res.Skipped, res.KickedOff)
	}
	if res := run(gl(1), gl(2), gl(3)); res.Skipped != 3 || res.KickedOff != 0 {
		t.Errorf("third run skipped %d and imported %d, want 3 and 0", res.Skipped, res.KickedOff)
	}

	// The original's line (target without id) names a GitLab target: skipped.
	orig := t.TempDir()
	if err := os.WriteFile(filepath.Join(orig, importfiles.ImportedTargetsLog),
		[]byte(`{"target":{"branch":"main"},"orgId":"org1","integrationId":"int1","msg":"Target requested for import"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rl, err := importfiles.LoadResumeLog(filepath.Join(orig, importfiles.ImportedTargetsLog))
	if err != nil {
		t.Fatal(err)
	}
	it := ImportTarget{OrgID: "org1", IntegrationID: "int1"}
	_ = json.Unmarshal([]byte(`{"id":7,"branch":"main"}`), &it.Target)
	if !rl.SkipTarget(it) {
		t.Error("a target named by the original's log line is not skipped")
	}
	// Our later failure line for that target wins over the original's.
	f, _ := os.OpenFile(filepath.Join(orig, importfiles.ImportedTargetsLog), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"target":{"branch":"main","id":7},"orgId":"org1","integrationId":"int1","msg":"Target import failed"}` + "\n")
	f.Close()
	if rl, _ = importfiles.LoadResumeLog(filepath.Join(orig, importfiles.ImportedTargetsLog)); rl.SkipTarget(it) {
		t.Error("a target whose last line of ours failed is skipped")
	}
}
