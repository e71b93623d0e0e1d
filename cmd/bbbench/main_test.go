package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The driver's arithmetic: what the table and the targets are computed from.

func TestMaxInWindow(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(s float64, n int64) sample {
		start := t0.Add(time.Duration(s * float64(time.Second)))
		return sample{start, start.Add(100 * time.Millisecond), n}
	}
	s := []sample{at(0, 0), at(10, 450), at(30, 900), at(59.9, 1800), at(60, 1850), at(70, 1900), at(130, 2600)}
	got, span := maxInWindow(s, time.Minute)
	// 0 → 59.9 (ends at 60.0) = 1800; 0 → 60 ends at 60.1: too long to be
	// sure it was one window; 10 → 70 = 1450.
	if got != 1800 || span != time.Minute {
		t.Errorf("maxInWindow = %d over %s, want 1800 over 1m0s", got, span)
	}
	if got, _ := maxInWindow(nil, time.Minute); got != 0 {
		t.Errorf("no samples: %d", got)
	}
}

func TestPollWaits(t *testing.T) {
	for _, tc := range []struct {
		initial time.Duration
		polls   int
		want    time.Duration
	}{
		{time.Second, 3, 3 * time.Second},
		{time.Millisecond, 3, 3 * time.Millisecond},
		{2 * time.Second, 12, 24200 * time.Millisecond}, // 11 waits of 2 s, then a tenth of 22 s
		{40 * time.Second, 2, 80 * time.Second},         // a floor above the 30 s cap wins
		{time.Second, 0, 0},
	} {
		if got := pollWaits(tc.initial, tc.polls); got != tc.want {
			t.Errorf("pollWaits(%s, %d) = %s, want %s", tc.initial, tc.polls, got, tc.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -5000: "-5,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCountTargets(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.json")
	body := "{\n  \"targets\": [\n" +
		"    {\"orgId\":\"o\",\"integrationId\":\"i\",\"target\":{\"owner\":\"w\",\"name\":\"a\",\"branch\":\"main\"}},\n" +
		"    {\"orgId\":\"o\",\"integrationId\":\"i\",\"target\":{\"owner\":\"w\",\"name\":\"b\",\"branch\":\"main\"}}\n" +
		"  ]\n}\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := countTargets(p); got != 2 {
		t.Errorf("countTargets = %d, want 2", got)
	}
	if got := countTargets(filepath.Join(t.TempDir(), "missing.json")); got != -1 {
		t.Errorf("missing file: %d, want -1", got)
	}
}

func TestWriteCreatedOrgs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "orgs.json")
	if err := os.WriteFile(in, []byte(`{"orgs":[{"name":"Workspace 001","groupId":"g","workspace":"ws-001"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "created.json")
	if err := writeCreatedOrgs(in, out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{`"workspace": "ws-001"`, `"bitbucket-cloud-app"`, `"orgId"`} {
		if !contains(string(b), want) {
			t.Errorf("created-orgs file lacks %s:\n%s", want, b)
		}
	}
	if err := os.WriteFile(in, []byte(`{"orgs":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeCreatedOrgs(in, out); err == nil {
		t.Error("an orgs file with no org: no error")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestFirstLine: a structured line's message ends at its first unescaped
// quote; escaped quotes (a credential's name) are kept.
func TestFirstLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stderr")
	line := `{"level":"info","message":"Bitbucket budget: 10 of 10 used in the last 2s by credential \"labs\"; next request at 14:05","time":"x"}` + "\n"
	if err := os.WriteFile(p, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	want := `Bitbucket budget: 10 of 10 used in the last 2s by credential "labs"; next request at 14:05`
	if got := firstLine(p, "Bitbucket budget:"); got != want {
		t.Errorf("firstLine = %q, want %q", got, want)
	}
}
