package importer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two runs started in the same millisecond keep two copies; the latest is
// the second; the stage's fields follow the common ones, in their order.
func TestWriteStageSummary(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	detail := struct {
		Zeta  int    `json:"zeta"`
		Alpha string `json:"alpha"`
		Stage string `json:"stage"` // the common field wins
	}{1, "<a&b>", "not this"}
	s := StageSummary{Stage: "orgs:data", Outcome: "ok", Started: start, Finished: start.Add(time.Second)}
	latest1, hist1, err := WriteStageSummary(dir, s, detail)
	if err != nil {
		t.Fatal(err)
	}
	s.Outcome, s.ExitCode = "failed", 1
	s.Failures = GroupFailures("run", []Failure{{Example: "x", Err: errors.New(`workspace "x" not found`)}})
	latest2, hist2, err := WriteStageSummary(dir, s, detail)
	if err != nil {
		t.Fatal(err)
	}
	if latest1 != latest2 || latest1 != filepath.Join(dir, "orgs-data-summary.json") {
		t.Errorf("latest %s, %s", latest1, latest2)
	}
	if filepath.Base(hist1) != "orgs-data-20260102T030405.006Z.json" || filepath.Base(hist2) != "orgs-data-20260102T030405.006Z-2.json" {
		t.Errorf("history %s, %s", hist1, hist2)
	}
	got, _ := os.ReadFile(latest2)
	h2, _ := os.ReadFile(hist2)
	if string(got) != string(h2) {
		t.Error("latest differs from its history copy")
	}
	text := string(got)
	order := []string{`"stage": "orgs:data"`, `"outcome": "failed"`, `"exitCode": 1`, `"failures"`, `"cause": "workspace \"…\" not found"`,
		`"history": "summaries/orgs-data-20260102T030405.006Z-2.json"`, `"zeta": 1`, `"alpha": "<a&b>"`}
	at := 0
	for _, o := range order {
		i := strings.Index(text[at:], o)
		if i < 0 {
			t.Fatalf("%q missing or out of order in\n%s", o, text)
		}
		at += i
	}
	if strings.Contains(text, "not this") {
		t.Errorf("the stage's field overrode the common one:\n%s", text)
	}
	h1, _ := os.ReadFile(hist1)
	if !strings.Contains(string(h1), `"outcome": "ok"`) {
		t.Errorf("the first run's copy changed:\n%s", h1)
	}
}
