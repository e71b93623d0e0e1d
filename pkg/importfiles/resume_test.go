package importfiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func impLogLine(msg, org, integ, target string) string {
	return `{"name":"snyk:import-projects-script","hostname":"h","pid":1,"level":30,"target":` + target +
		`,"locationUrl":"https://api.snyk.io/v1/org/` + org + `/integrations/` + integ + `/import/j","orgId":"` + org +
		`","integrationId":"` + integ + `","targetId":"stale","msg":"` + msg + `","time":"2024-05-01T10:00:00.000Z","v":0}`
}

func TestResumeLogLastLineWins(t *testing.T) {
	const repo = `{"name":"r","owner":"w","branch":"main"}`
	key := "O:I:r:w:main"
	tests := []struct {
		name  string
		lines []string
		skip  bool
	}{
		{"requested", []string{impLogLine(MsgTargetRequested, "O", "I", repo)}, true},
		{"exists in Snyk", []string{impLogLine(MsgTargetExists, "O", "I", repo)}, true},
		{"failed", []string{impLogLine(MsgTargetFailed, "O", "I", repo)}, false},
		{"requested then failed", []string{impLogLine(MsgTargetRequested, "O", "I", repo), impLogLine(MsgTargetFailed, "O", "I", repo)}, false},
		{"failed then requested", []string{impLogLine(MsgTargetFailed, "O", "I", repo), impLogLine(MsgTargetRequested, "O", "I", repo)}, true},
		{"failed then exists", []string{impLogLine(MsgTargetFailed, "O", "I", repo), impLogLine(MsgTargetExists, "O", "I", repo)}, true},
		{"other message counts as imported (as the original)", []string{impLogLine("something else", "O", "I", repo)}, true},
		{"other branch", []string{impLogLine(MsgTargetRequested, "O", "I", `{"name":"r","owner":"w","branch":"dev"}`)}, false},
		{"other integration", []string{impLogLine(MsgTargetRequested, "O", "I2", repo)}, false},
		{"extras and key order do not matter", []string{impLogLine(MsgTargetRequested, "O", "I", `{"branch":"main","fork":true,"owner":"w","name":"r"}`)}, true},
		{"failed for another target does not matter", []string{impLogLine(MsgTargetRequested, "O", "I", repo), impLogLine(MsgTargetFailed, "O", "I", `{"name":"x","owner":"w","branch":"main"}`)}, true},
		{"no file", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, ImportedTargetsLog)
			if tt.lines != nil {
				writeImpFile(t, dir, ImportedTargetsLog, strings.Join(tt.lines, "\n")+"\n")
			}
			rl, err := LoadResumeLog(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := rl.Skip(key); got != tt.skip {
				t.Errorf("Skip = %v, want %v", got, tt.skip)
			}
		})
	}
}

func TestResumeLogMalformed(t *testing.T) {
	dir := t.TempDir()
	good := impLogLine(MsgTargetRequested, "O", "I", `{"name":"r","owner":"w","branch":"main"}`)
	body := strings.Join([]string{
		"not json",
		good,
		"",
		`{"orgId":"O","target":{"name":"x"}}`, // no integrationId
		`{"orgId":"O","integrationId":"I"}`,   // no target
		`{"orgId":"O","integrationId":"I","target":{"name":{"deep":1}}}`,
		`{"orgId":"O","integrationId":"I","target":"w/r"}`,
		"   ",
		`{"orgId":"O","integrationId":"I","target":{"name":"last"}}`, // no trailing newline
	}, "\r\n")
	writeImpFile(t, dir, ImportedTargetsLog, body)
	rl, err := LoadResumeLog(filepath.Join(dir, ImportedTargetsLog))
	if err != nil {
		t.Fatal(err)
	}
	if rl.Lines != 7 || rl.Malformed != 5 {
		t.Errorf("Lines=%d Malformed=%d, want 7 and 5", rl.Lines, rl.Malformed)
	}
	if !rl.Skip("O:I:r:w:main") || !rl.Skip("O:I:last") || rl.Len() != 2 {
		t.Errorf("keys not read: %v", rl)
	}
}

func TestResumeLogLongLine(t *testing.T) {
	old := maxResumeLine
	maxResumeLine = 200 << 10
	t.Cleanup(func() { maxResumeLine = old })
	dir := t.TempDir()
	long := impLogLine(MsgTargetRequested, "O", "I", `{"name":"`+strings.Repeat("x", 300<<10)+`"}`)
	good := impLogLine(MsgTargetRequested, "O", "I", `{"name":"r"}`)
	writeImpFile(t, dir, ImportedTargetsLog, long+"\n"+good+"\n")
	rl, err := LoadResumeLog(filepath.Join(dir, ImportedTargetsLog))
	if err != nil {
		t.Fatal(err)
	}
	if rl.Lines != 2 || rl.Malformed != 1 || !rl.Skip("O:I:r") {
		t.Errorf("Lines=%d Malformed=%d skip=%v", rl.Lines, rl.Malformed, rl.Skip("O:I:r"))
	}
}

// TestResumeLogCompatStaleTargetID: the original's line whose stored
// targetId is stale; the key is recomputed from orgId, integrationId, target.
func TestResumeLogCompatStaleTargetID(t *testing.T) {
	rl, err := LoadResumeLog(filepath.Join("..", "..", "fixtures", "compat", "bitbucket-cloud.imported-targets.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !rl.Skip("ORG_ID:INTEGRATION_ID:test-spaces:snyk-test-scm:master") {
		t.Error("recomputed key not skipped")
	}
	if rl.Skip("ORG_ID:INTEGRATION_ID:debug:123:snyk:master") {
		t.Error("the stale stored targetId was trusted")
	}
	if rl.Lines != 1 || rl.Malformed != 0 {
		t.Errorf("Lines=%d Malformed=%d", rl.Lines, rl.Malformed)
	}
}

func TestResumeLogUnreadable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ImportedTargetsLog)
	if err := os.Mkdir(p, 0o755); err != nil { // a directory cannot be read as a file
		t.Fatal(err)
	}
	if _, err := LoadResumeLog(p); err == nil {
		t.Error("no error for an unreadable resume log")
	}
}

// A line whose keys repeat decides nothing: which of its two "msg" counts
// depends on the reader, and it says whether a target is imported again.
// The error names the line and the key.
func TestResumeLogDuplicateKey(t *testing.T) {
	dir := t.TempDir()
	good := impLogLine(MsgTargetRequested, "O", "I", `{"name":"r"}`)
	twice := `{"orgId":"O","integrationId":"I","target":{"name":"x"},"msg":"Target import failed","msg":"Target requested for import"}`
	writeImpFile(t, dir, ImportedTargetsLog, good+"\n"+twice+"\n")
	_, err := LoadResumeLog(filepath.Join(dir, ImportedTargetsLog))
	if err == nil || !strings.Contains(err.Error(), `line 2: duplicate key "msg"`) {
		t.Errorf("error = %v; want line 2 and the key named", err)
	}
}
