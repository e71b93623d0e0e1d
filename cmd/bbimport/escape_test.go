package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// hostile is what a hostile or broken server puts in every text it sends:
// OSC 52 (writes the clipboard), ESC[2J (clears the screen), BEL, a CR that
// overwrites the line, a C1 CSI and a bidi override.
const hostile = "\x1b]52;c;SGVsbG8=\a\x1b[2J\a\rEVIL\u009b31m\u202eright"

// rawSequences are the parts of hostile that must never reach a terminal.
var rawSequences = []string{"\x1b]52", "\x1b[2J", "\a", "\rEVIL", "\u009b", "\u202e"}

func TestTermSafe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, lines, line string }{
		{"plain ✓ text", "plain ✓ text", "plain ✓ text"},
		{hostile, `\x1b]52;c;SGVsbG8=\a\x1b[2J\a\rEVIL\u009b31m\u202eright`, `\x1b]52;c;SGVsbG8=\a\x1b[2J\a\rEVIL\u009b31m\u202eright`},
		{"two\nlines\tand a tab", "two\nlines\tand a tab", `two\nlines\tand a tab`},
		{"bad \xff byte, DEL \x7f", `bad \xff byte, DEL \x7f`, `bad \xff byte, DEL \x7f`},
	} {
		if got := termSafe(tc.in, true); got != tc.lines {
			t.Errorf("termSafe(%q, true) = %q, want %q", tc.in, got, tc.lines)
		}
		if got := termSafe(tc.in, false); got != tc.line {
			t.Errorf("termSafe(%q, false) = %q, want %q", tc.in, got, tc.line)
		}
	}
}

// hostileSim puts hostile text in every server-provided field a person
// reads: Snyk error bodies (a group that does not exist, some import
// kick-offs), the userMessage of every failed project, Bitbucket's error
// body for one workspace.
func hostileSim(t *testing.T) *simEnv {
	t.Helper()
	var inner http.Handler
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/v1/group/"+missingGroup+"/"):
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"code":404,"message":%s}`, jsonString(hostile))
			return
		case strings.HasPrefix(p, "/2.0/repositories/oss-mirrors"):
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"type":"error","error":{"message":%s}}`, jsonString(hostile))
			return
		case r.Method == http.MethodPost && strings.HasSuffix(p, "/import") && posts.Add(1)%10 == 0:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"code":400,"message":%s}`, jsonString(hostile))
			return
		case r.Method == http.MethodGet && strings.Contains(p, "/import/"):
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			var job map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &job) == nil {
				logs, _ := job["logs"].([]any)
				for _, l := range logs {
					projects, _ := l.(map[string]any)["projects"].([]any)
					for _, pr := range projects {
						if m := pr.(map[string]any); m["success"] == false {
							m["userMessage"] = hostile
						}
					}
				}
				body, _ := json.Marshal(job)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(rec.Code)
				w.Write(body)
				return
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{LocationBase: srv.URL, FailProjectEvery: 3}})
	inner = e.Sim
	e.Set("SNYK_API", srv.URL+"/v1")
	e.Set("BITBUCKET_APP_API_BASE", srv.URL+"/2.0")
	e.Set("BITBUCKET_APP_TOKEN_URL", srv.URL+"/site/oauth2/access_token")
	e.Set("SNYK_RATE_LIMIT", "100000")
	return e
}

func assertNoRaw(t *testing.T, where, out string) {
	t.Helper()
	for _, seq := range rawSequences {
		if strings.Contains(out, seq) {
			i := strings.Index(out, seq)
			t.Errorf("%s: the raw sequence %q reached it: …%q…", where, seq, out[max(0, i-80):min(len(out), i+40)])
		}
	}
}

// escapedHostile is hostile's core as termSafe shows it (Bitbucket's error
// text folds the CR into a space; a failure cause blanks the 52).
var escapedHostile = regexp.QuoteMeta(`;c;SGVsbG8=\a\x1b[2J\a`)

// Server text reaches the terminal (text logs on a TTY, the final line,
// the stdout summaries) only escaped; JSON logs and files keep it exact.
func TestEscape_serverTextNeverRaw(t *testing.T) {
	t.Parallel()
	e := hostileSim(t)
	g := sim.SimSnykGroupID
	e.MustRun(exitOK, "orgs:data", "--groupId="+g)
	orgs := e.File("group-" + g + "-bitbucket-cloud-app-orgs.json")

	type step struct {
		name string
		want int
		args []string
	}
	// orgs:create with one more group that does not exist: its error line.
	data, err := os.ReadFile(orgs)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Orgs []map[string]any `json:"orgs"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	file.Orgs = append(file.Orgs, map[string]any{"name": "Ghost", "groupId": missingGroup})
	data, _ = json.Marshal(file)
	withMissing := e.File("orgs-with-missing.json")
	if err := os.WriteFile(withMissing, data, 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []step{
		{"orgs:create", exitPartial, []string{"orgs:create", "--file=" + withMissing}},
		{"orgs:create, group missing", exitFailed, []string{"orgs:create", "--file=" + orgsFile(t, e, 2, missingGroup)}},
		{"import:data", exitPartial, []string{"import:data", "--orgsData=" + e.File("snyk-created-orgs.json")}},
		{"import", exitPartial, []string{"import", "--file=" + e.File("bitbucket-cloud-app-import-targets.json"), "--concurrency=5"}},
	}
	seen := map[string]bool{}
	for _, s := range steps {
		r, term := e.runOnTTY(t, s.args...)
		if r.Code != s.want {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", s.name, r.Code, s.want, r.Stdout, lastLines(term, 5))
		}
		assertNoRaw(t, s.name+" terminal", term)
		assertNoRaw(t, s.name+" stdout", r.Stdout)
		for where, out := range map[string]string{"terminal": term, "stdout": r.Stdout} {
			if regexp.MustCompile(escapedHostile).MatchString(out) {
				seen[s.name+" "+where] = true
			}
		}
	}
	// The hostile text got through, visibly, everywhere it is shown.
	for _, want := range []string{"orgs:create terminal", "orgs:create, group missing terminal", "import:data terminal", "import terminal", "import stdout"} {
		if !seen[want] {
			t.Errorf("no escaped server text in %s (seen: %v)", want, seen)
		}
	}

	// JSON logs and JSON files keep the text exact.
	r := e.Run("import:data", "--orgsData="+e.File("snyk-created-orgs.json"), "--logFormat=json")
	exact := false
	for _, l := range debugLines(t, r.Stderr) {
		if s, _ := l["error"].(string); strings.Contains(s, "\x1b]52;c;SGVsbG8=\a\x1b[2J\a") {
			exact = true
		}
	}
	if !exact {
		t.Errorf("the JSON error line does not carry the server's text exactly:\n%s", r.Stderr)
	}
	summary, _ := os.ReadFile(e.File("import-summary.json"))
	var sm struct {
		Failures []struct{ Cause string }
	}
	if err := json.Unmarshal(summary, &sm); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range sm.Failures {
		found = found || strings.Contains(f.Cause, "\x1b[2J\a\rEVIL")
	}
	if !found {
		t.Errorf("import-summary.json lost the exact userMessage: %+v", sm.Failures)
	}
}

// The dry run's sample prints target fields from a hand-made file: escaped.
func TestEscape_dryRunSample(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file := e.File("hand-made.json")
	if err := os.MkdirAll(e.LogPath, 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"targets":[{"orgId":"org\u001b[2J","integrationId":"int","target":{"owner":%s,"name":%s,"branch":%s}}]}`,
		jsonString(hostile), jsonString("repo\rEVIL"), jsonString("main\a"))
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	rt := newInvocation(&stdout, &stderr, e.getenv)
	if code := rt.run(t.Context(), []string{"bbimport", "import", "--dryRun", "--file=" + file}); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	assertNoRaw(t, "dry-run stdout", stdout.String())
	wantContains(t, stdout.String(), `org\x1b[2J`, `repo\rEVIL@main\a`, `\x1b]52;c;SGVsbG8=`)
}
