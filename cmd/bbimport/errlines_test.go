package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

const missingGroup = "00000000-0000-4000-8000-0000000000ff"

// orgsFile writes an orgs data file with n orgs in each group.
func orgsFile(t *testing.T, e *simEnv, n int, groups ...string) string {
	t.Helper()
	var rows []string
	for _, g := range groups {
		for i := range n {
			rows = append(rows, fmt.Sprintf(`{"name":"Org %s %d","groupId":%q}`, g[len(g)-2:], i, g))
		}
	}
	path := e.File("orgs-input.json")
	if err := os.MkdirAll(e.LogPath, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"orgs":[`+strings.Join(rows, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func levelLines(t *testing.T, stderr, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range debugLines(t, stderr) {
		if l["level"] == level {
			out = append(out, l)
		}
	}
	return out
}

// A group that cannot be listed fails each of its orgs the same way: one
// error line says so, not one per org.
func TestErrLines_orgsCreateOneLinePerCause(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file := orgsFile(t, e, 4, sim.SimSnykGroupID, missingGroup)
	r := e.MustRun(exitPartial, "orgs:create", "--file="+file)
	errs := levelLines(t, r.Stderr, "error")
	if len(errs) != 1 {
		t.Fatalf("%d error lines for one missing group, want 1:\n%s", len(errs), r.Stderr)
	}
	l := errs[0]
	wantContains(t, l["message"].(string), "could not create 4 orgs (", missingGroup, "404")
	if l["status"] != 404.0 || l["retryable"] != false || l["orgs"] != 4.0 || l["error"] == nil {
		t.Errorf("error line fields: %v", l)
	}
	wantContains(t, finalLine(t, r.Stderr), "bbimport: 4 orgs of 8 could not be created")

	// Nothing listable at all (a rejected token): the closing message is
	// the one line.
	e.Set("SNYK_TOKEN", "not-the-token")
	r = e.MustRun(exitAuth, "orgs:create", "--file="+file)
	if errs := levelLines(t, r.Stderr, "error"); len(errs) != 0 {
		t.Errorf("%d error lines besides the closing message:\n%s", len(errs), r.Stderr)
	}
	if n := strings.Count(r.Stderr, "bbimport: "); n != 1 {
		t.Errorf("%d closing lines:\n%s", n, r.Stderr)
	}
}

// --logFormat=json: every stderr line is a JSON object, the closing message
// included, with error, status, retryable and the exit code.
func TestErrLines_jsonEveryStderrLine(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file := orgsFile(t, e, 2, sim.SimSnykGroupID)
	e.Set("SNYK_TOKEN", "not-the-token")
	for _, args := range [][]string{
		{"orgs:create", "--file=" + file, "--logFormat=json"},
		{"--logFormat", "json", "orgs:create", "--file=" + file},
	} {
		r := e.Run(args...)
		if r.Code != exitAuth {
			t.Fatalf("%v: exit %d\n%s", args, r.Code, r.Stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		var last map[string]any
		for _, l := range lines {
			last = nil
			if err := json.Unmarshal([]byte(l), &last); err != nil {
				t.Errorf("%v: stderr line is not JSON: %q", args, l)
			}
		}
		if last == nil {
			continue
		}
		if !strings.HasPrefix(last["message"].(string), "bbimport: ") || last["level"] != "error" ||
			last["status"] != 401.0 || last["retryable"] != false || last["exit_code"] != 4.0 ||
			!strings.Contains(last["error"].(string), "401") {
			t.Errorf("%v: closing line %v", args, last)
		}
	}

	// A usage error before any command ran is JSON too.
	r := e.Run("orgs:create", "--logFormat=json")
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stderr)), &m); err != nil || m["exit_code"] != 2.0 || m["retryable"] != false {
		t.Errorf("usage error under --logFormat=json: %v %v\n%s", err, m, r.Stderr)
	}
}
