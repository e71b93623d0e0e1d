package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// serviceAccountEnv is a simulator whose Snyk mints tokens living ttl for
// the service account, with the run using it instead of SNYK_TOKEN.
func serviceAccountEnv(t *testing.T, cfg sim.Config, ttl time.Duration) *simEnv {
	t.Helper()
	cfg.Snyk.TokenTTL = ttl
	e := newSimEnv(t, cfg)
	e.Set("SNYK_TOKEN", "")
	e.Set("SNYK_CLIENT_ID", sim.SimSnykClientID)
	e.Set("SNYK_CLIENT_SECRET", sim.SimSnykClientSecret)
	return e
}

// countTargets is the number of targets in a targets file.
func countTargets(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Targets []json.RawMessage `json:"targets"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return len(f.Targets)
}

// TestServiceAccount_importOutlivesItsTokens: an import of more than 100
// targets with 15 workers, jobs of 0.5–1.5 s and Snyk tokens that live 3 s,
// so the run outlives several of them: every target is imported once, none
// fails, the token is renewed about once per 2.4 s (four fifths of its life)
// however many workers wait for it (never one exchange per worker), and no
// request reaches Snyk with an expired token.
func TestServiceAccount_importOutlivesItsTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 10 s")
	}
	t.Parallel()
	const ttl = 3 * time.Second
	e := serviceAccountEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: sim.Estate(3, 40)},
		Snyk:      sim.SnykConfig{JobDurations: sim.JobDurations{Min: 500 * time.Millisecond, Max: 1500 * time.Millisecond}},
	}, ttl)
	e.Set("SNYK_RATE_LIMIT", "100000")
	targets := e.Pipeline()
	n := countTargets(t, targets)
	if n < 100 {
		t.Fatalf("the estate gives %d targets, want 100+", n)
	}
	before := e.Sim.Count("snyk.token_exchanges")
	start := time.Now()
	r := e.MustRun(exitOK, "import", "--file="+targets, "--concurrency=15")
	took := time.Since(start)
	exchanges := e.Sim.Count("snyk.token_exchanges") - before

	if got := e.Sim.Count("snyk.imports"); got != int64(n) || e.Sim.Count("snyk.duplicate_imports") != 0 {
		t.Errorf("%d imports (%d duplicates) of %d targets, want each once", got, e.Sim.Count("snyk.duplicate_imports"), n)
	}
	if !strings.Contains(r.Stdout, "kick-offs refused: 0") || !strings.Contains(r.Stdout, "Jobs: "+itoa(n)+" complete, 0 failed, 0 not polled") {
		t.Errorf("import summary:\n%s", r.Stdout)
	}
	if took < 2*ttl {
		t.Fatalf("the import took %s, shorter than two token lifetimes: it proves nothing", took)
	}
	// One exchange to start, then one per 2.4 s (renewed at 4/5 of 3 s),
	// with a little slack for the timing of the first request.
	want := took.Seconds() / (ttl.Seconds() * 4 / 5)
	if float64(exchanges) < want-1 || float64(exchanges) > want+2 {
		t.Errorf("%d token exchanges in %s, want about %.1f (run time ÷ 2.4 s), and far fewer than 15 workers", exchanges, took.Round(time.Millisecond), want)
	}
	if expired := e.Sim.Count("snyk.401.expired"); expired != 0 {
		t.Errorf("%d requests reached Snyk with an expired token", expired)
	}
	t.Logf("%d targets in %s with %d token exchanges", n, took.Round(time.Millisecond), exchanges)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestServiceAccount_wrongSecret: a wrong SNYK_CLIENT_SECRET ends the run
// in under a second with exit 4 and a message naming the variable, after
// one token request (a refusal is not retried, and not asked again by each
// worker).
func TestServiceAccount_wrongSecret(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	targets := e.Pipeline()
	e.Set("SNYK_TOKEN", "")
	e.Set("SNYK_CLIENT_ID", sim.SimSnykClientID)
	e.Set("SNYK_CLIENT_SECRET", "not-the-secret")
	for _, args := range [][]string{
		{"import", "--file=" + targets},
		{"list:imported", "--groupId=" + sim.SimSnykGroupID},
	} {
		errors := e.Sim.Count("snyk.token_errors")
		start := time.Now()
		r := e.Run(args...)
		took := time.Since(start)
		if r.Code != exitAuth || took > time.Second {
			t.Errorf("%s: exit %d after %s, want %d in under a second\n%s", args[0], r.Code, took, exitAuth, r.Stderr)
		}
		if !strings.Contains(r.Stderr, "check SNYK_CLIENT_SECRET") || !strings.Contains(r.Stderr, ": Snyk rejected the service account's client id or secret (invalid_client") {
			t.Errorf("%s: the message does not name SNYK_CLIENT_SECRET:\n%s", args[0], r.Stderr)
		}
		if n := e.Sim.Count("snyk.token_errors") - errors; n != 1 {
			t.Errorf("%s: %d token requests refused, want 1", args[0], n)
		}
	}
	if e.Sim.Count("snyk.imports") != 0 {
		t.Error("an import was sent without a token")
	}
}

// TestServiceAccount_choice: the service account wins over SNYK_OAUTH_TOKEN
// and SNYK_TOKEN (every request carries a minted token); one of its two
// variables without the other is a usage error naming the missing one; and
// doctor says which credential is in use and how long its token lives.
func TestServiceAccount_choice(t *testing.T) {
	t.Parallel()
	e := serviceAccountEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}}, time.Hour)
	rec, proxyURL := newAuthRecorder(t, e.Sim.URL)
	e.Set("SNYK_API", proxyURL+"/v1")
	e.Set("SNYK_OAUTH_TOKEN", "oa-not-used")
	e.Set("SNYK_TOKEN", sim.SimSnykToken)
	e.MustRun(exitOK, "list:imported", "--groupId="+sim.SimSnykGroupID)
	for h := range rec.seen() {
		// "": the token request itself, which carries the secret in its form.
		if h != "" && !strings.HasPrefix(h, "Bearer snyk-sa-") {
			t.Errorf("Snyk was sent %q, want only minted tokens", h)
		}
	}
	r := e.MustRun(exitOK, "doctor", "--groupId="+sim.SimSnykGroupID)
	if !strings.Contains(r.Stdout, "✓ Snyk credential: service account "+idHint(sim.SimSnykClientID)+" (SNYK_CLIENT_ID + SNYK_CLIENT_SECRET): token minted at "+proxyURL+"/oauth2/token, valid for 1h") {
		t.Errorf("doctor does not say which Snyk credential is in use:\n%s", r.Stdout)
	}

	for set, missing := range map[string]string{"SNYK_CLIENT_ID": "SNYK_CLIENT_SECRET", "SNYK_CLIENT_SECRET": "SNYK_CLIENT_ID"} {
		e.Set(missing, "")
		r := e.Run("list:imported", "--groupId="+sim.SimSnykGroupID)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, set+" is set but "+missing+" is not") {
			t.Errorf("only %s: exit %d, want %d naming %s\n%s", set, r.Code, exitUsage, missing, r.Stderr)
		}
		e.Set("SNYK_CLIENT_ID", sim.SimSnykClientID)
		e.Set("SNYK_CLIENT_SECRET", sim.SimSnykClientSecret)
	}
}

// TestServiceAccount_refusedTokenRenewed: Snyk refusing the service
// account's token in the middle of a run (revoked, or expired sooner than
// it said) costs one more exchange, shared by every worker refused with it,
// and each refused request is sent again with the new token: nothing fails.
func TestServiceAccount_refusedTokenRenewed(t *testing.T) {
	t.Parallel()
	e := serviceAccountEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}}, time.Hour)
	targets := e.Pipeline()
	var mu sync.Mutex
	seen := 0
	proxy := newHeaderProxy(t, e.Sim.URL, func(resp *http.Response) {
		mu.Lock()
		defer mu.Unlock()
		if seen++; seen == 6 {
			e.Sim.ExpireSnykTokens() // every request after this one meets a dead token
		}
	})
	e.Set("SNYK_API", proxy+"/v1")
	before := e.Sim.Count("snyk.token_exchanges")
	r := e.MustRun(exitOK, "import", "--file="+targets, "--concurrency=10")
	if n := e.Sim.Count("snyk.token_exchanges") - before; n != 2 {
		t.Errorf("%d token exchanges, want 2: the first and one renewal shared by the refused workers", n)
	}
	if e.Sim.Count("snyk.401.expired") == 0 {
		t.Error("no request met the dead token: the test proves nothing")
	}
	if !strings.Contains(r.Stdout, "kick-offs refused: 0") {
		t.Errorf("import summary:\n%s", r.Stdout)
	}
}

// TestSnykRESTVersionAndSunset: SNYK_REST_VERSION replaces the pinned REST
// version (a value that is none is a usage error naming it); an answer
// carrying Sunset is said once per run, however many carry it.
func TestSnykRESTVersionAndSunset(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{Projects: map[string][]sim.SnykProject{}}})
	var mu sync.Mutex
	var versions []string
	proxy := newHeaderProxy(t, e.Sim.URL, func(resp *http.Response) {
		if strings.HasPrefix(resp.Request.URL.Path, "/rest/") {
			mu.Lock()
			versions = append(versions, resp.Request.URL.RawQuery)
			mu.Unlock()
			resp.Header.Set("Sunset", "Wed, 01 Jul 2026 00:00:00 GMT")
		}
	})
	e.Set("SNYK_API", proxy+"/v1")
	org := e.Sim.SeedOrg(sim.SimSnykGroupID, sim.SnykOrg{Name: "One"})
	e.Sim.SeedOrg(sim.SimSnykGroupID, sim.SnykOrg{Name: "Two"})
	e.Set("SNYK_REST_VERSION", "2025-11-05")
	r := e.MustRun(exitOK, "list:imported", "--groupId="+sim.SimSnykGroupID)
	mu.Lock()
	defer mu.Unlock()
	if len(versions) < 2 || !strings.Contains(versions[0], "version=2025-11-05") {
		t.Errorf("REST queries %v, want version=2025-11-05", versions)
	}
	if n := strings.Count(r.Stderr, "Snyk announces the end of what bbimport calls"); n != 1 || !strings.Contains(r.Stderr, "SNYK_REST_VERSION") {
		t.Errorf("the Sunset warning was said %d times, want once naming SNYK_REST_VERSION:\n%s", n, r.Stderr)
	}
	e.Set("SNYK_REST_VERSION", "latest")
	r = e.Run("list:imported", "--orgId="+org.ID)
	if r.Code != exitUsage || !strings.Contains(r.Stderr, `SNYK_REST_VERSION="latest" is not a REST API version`) {
		t.Errorf("bad SNYK_REST_VERSION: exit %d\n%s", r.Code, r.Stderr)
	}
}

// newHeaderProxy is a reverse proxy in front of target that lets edit see
// (and change) every answer, for answers the simulator does not give.
func newHeaderProxy(t *testing.T, target string, edit func(*http.Response)) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error { edit(resp); return nil }
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}
