package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// Secrets of the leak tests: distinctive, so that any occurrence is a leak
// and not a coincidence.
const (
	leakClientSecret     = "cs-LEAK-8f3b2a91d7e6"
	leakSnykToken        = "st-LEAK-5c0e7d1a9b24"
	leakSnykClientSecret = "ss-LEAK-2b7d9e4f1a06"
)

// leakEnv is a simulator with the leak tests' secrets, short-lived
// Bitbucket tokens (several get issued and renewed), and faults so that
// error bodies, retries and rate-limit waits are logged too.
func leakEnv(t *testing.T) *simEnv {
	t.Helper()
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{
			ClientSecret: leakClientSecret,
			TokenTTL:     time.Second,
			Faults:       sim.Faults{Latency: 2 * time.Millisecond, RateLimitEvery: 9, ServerErrorRate: 0.05},
		},
		Snyk: sim.SnykConfig{
			Token:            leakSnykToken,
			Faults:           sim.Faults{RateLimitEvery: 13, ServerErrorRate: 0.02},
			FailJobEvery:     9,
			FailProjectEvery: 7,
			PendingPolls:     1,
		},
	})
	e.Set("BITBUCKET_APP_CLIENT_SECRET", leakClientSecret)
	e.Set("SNYK_TOKEN", leakSnykToken)
	e.Set("SNYK_RATE_LIMIT", "100000")
	return e
}

// assertNoSecrets fails for any secret value in everything the runs printed
// and every file in the log directory.
func assertNoSecrets(t *testing.T, e *simEnv, runs []result, extra ...string) {
	t.Helper()
	secrets := append([]string{leakClientSecret, leakSnykToken, leakSnykClientSecret}, extra...)
	secrets = append(secrets, e.Sim.IssuedBitbucketTokens()...)
	secrets = append(secrets, e.Sim.IssuedSnykTokens()...)
	var all strings.Builder
	for _, r := range runs {
		all.WriteString(e.allOutput(r))
	}
	text := all.String()
	for _, s := range secrets {
		if i := strings.Index(text, s); i >= 0 {
			lo, hi := max(0, i-200), min(len(text), i+len(s)+100)
			t.Errorf("secret %q leaked:\n…%s…", s, text[lo:hi])
		}
	}
}

// debugLines parses the JSON log lines of stderr.
func debugLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line is not JSON: %v\n%s", err, line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// exchanges are the per-request debug lines.
func exchanges(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if _, ok := l["method"]; ok && l["level"] == "debug" {
			out = append(out, l)
		}
	}
	return out
}

// TestSecrets_pipelineDebug runs every stage with DEBUG=*snyk* against a
// faulty simulator and finds no secret anywhere: not the client secret, not
// SNYK_TOKEN, not one of the access tokens issued during the run.
func TestSecrets_pipelineDebug(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	e.Set("DEBUG", "*snyk*")
	g := sim.SimSnykGroupID
	var runs []result
	run := func(want int, args ...string) result {
		r := e.Run(args...)
		if r.Code != want && !(want == exitOK && r.Code == exitPartial) {
			t.Fatalf("bbimport %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, want, r.Stdout, lastLines(r.Stderr, 20))
		}
		runs = append(runs, r)
		return r
	}
	run(0, "doctor", "--groupId="+g)
	run(0, "orgs:data", "--groupId="+g)
	run(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	run(0, "import:data", "--source=bitbucket-cloud-app", "--orgsData="+e.File("snyk-created-orgs.json"))
	e.Sim.ExpireBitbucketTokens() // the next stage renews on a 401
	run(0, "doctor", "--orgsData="+e.File("snyk-created-orgs.json"))
	run(0, "import", "--dryRun", "--file="+e.File("bitbucket-cloud-app-import-targets.json")) // import-plan.json
	run(0, "sync", "--help")
	run(exitPartial, "import", "--file="+e.File("bitbucket-cloud-app-import-targets.json"), "--concurrency=20")
	run(0, "list:imported", "--groupId="+g)
	run(0, "import", "--file="+e.File("bitbucket-cloud-app-import-targets.json"), "--logFormat=text")

	if n := len(e.Sim.IssuedBitbucketTokens()); n < 3 {
		t.Fatalf("only %d access tokens were issued; the test wants several", n)
	}
	assertNoSecrets(t, e, runs)

	// The test is only worth something if the debug log is there: one line
	// per exchange with the facts, the token endpoint included, error
	// bodies of failed attempts, and retries.
	var all []map[string]any
	for _, r := range runs {
		all = append(all, exchanges(debugLines(t, r.Stderr))...)
	}
	if len(all) < 100 {
		t.Fatalf("only %d exchange lines at debug level", len(all))
	}
	var token, errBody, retry, bb, snyk bool
	for _, x := range all {
		for _, k := range []string{"api", "method", "url", "status", "duration", "attempt", "message"} {
			if _, ok := x[k]; !ok {
				t.Fatalf("exchange line without %q: %v", k, x)
			}
		}
		url, _ := x["url"].(string)
		switch {
		case strings.HasSuffix(url, "/site/oauth2/access_token") && x["status"] == 200.0:
			token = true
		case strings.Contains(url, "/2.0/"):
			bb = true
		case strings.Contains(url, "/v1/"):
			snyk = true
		}
		if b, _ := x["body"].(string); b != "" && x["status"].(float64) >= 400 {
			errBody = true
		}
		if x["attempt"].(float64) > 1 {
			retry = true
		}
	}
	if !token || !bb || !snyk || !errBody || !retry {
		t.Errorf("debug log lacks: token exchange %v, bitbucket %v, snyk %v, error body %v, retry %v", token, bb, snyk, errBody, retry)
	}
}

// TestSecrets_traceLevel: the most verbose level leaks nothing either.
func TestSecrets_traceLevel(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	g := sim.SimSnykGroupID
	var runs []result
	for _, args := range [][]string{
		{"orgs:data", "--groupId=" + g, "--logLevel=trace"},
		{"orgs:create", "--file=" + e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"), "--logLevel=trace"},
		{"import:data", "--orgsData=" + e.File("snyk-created-orgs.json"), "--logLevel=trace", "--logFormat=text"},
		{"import", "--file=" + e.File("bitbucket-cloud-app-import-targets.json"), "--logLevel=trace", "--concurrency=20"},
	} {
		r := e.Run(args...)
		if r.Code != exitOK && r.Code != exitPartial {
			t.Fatalf("%v: exit %d\n%s", args, r.Code, lastLines(r.Stderr, 20))
		}
		runs = append(runs, r)
	}
	if !strings.Contains(runs[0].Stderr, `"level":"debug"`) {
		t.Fatal("no debug lines at --logLevel=trace")
	}
	assertNoSecrets(t, e, runs)
}

// TestSecrets_errorPaths: wrong credentials end up in error messages, debug
// lines and doctor output, never as values.
func TestSecrets_errorPaths(t *testing.T) {
	t.Parallel()
	const wrongSecret, wrongToken = "cs-WRONG-1a2b3c4d5e6f", "st-WRONG-6f5e4d3c2b1a"
	e := leakEnv(t)
	e.Set("DEBUG", "*")
	g := sim.SimSnykGroupID
	var runs []result
	run := func(want int, args ...string) {
		t.Helper()
		r := e.Run(args...)
		if r.Code != want {
			t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.Code, want, r.Stdout, lastLines(r.Stderr, 20))
		}
		runs = append(runs, r)
	}
	// A good run first, so there are files to create orgs from.
	run(0, "orgs:data", "--groupId="+g)

	e.Set("BITBUCKET_APP_CLIENT_SECRET", wrongSecret)
	run(exitAuth, "orgs:data", "--groupId="+g)
	run(exitAuth, "doctor", "--groupId="+g)
	e.Set("BITBUCKET_APP_CLIENT_SECRET", leakClientSecret)

	e.Set("SNYK_TOKEN", wrongToken)
	run(exitAuth, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	run(exitAuth, "doctor", "--groupId="+g)
	run(exitAuth, "list:imported", "--groupId="+g, "--logFormat=text")

	assertNoSecrets(t, e, runs, wrongSecret, wrongToken)
	// And the messages say what went wrong without the values.
	joined := ""
	for _, r := range runs {
		joined += r.Stdout + r.Stderr
	}
	for _, want := range []string{"invalid_client", "Snyk rejected"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %q in the error output", want)
		}
	}
}

// TestSecrets_echoedByServer: an API that echoes credentials back in its
// error bodies (proxies and gateways do) cannot make us print them: the
// access token issued at run time and SNYK_TOKEN are masked in error
// messages and in debug lines.
func TestSecrets_echoedByServer(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	e.Set("DEBUG", "*snyk*")
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg := fmt.Sprintf("bad request with %s at %s", r.Header.Get("Authorization"), r.URL)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"type": "error", "error": map[string]string{"message": msg},
			"message": msg, "code": 400,
		})
	}))
	t.Cleanup(echo.Close)
	e.Set("BITBUCKET_APP_API_BASE", echo.URL+"/2.0")
	e.Set("SNYK_API", echo.URL+"/v1")

	var runs []result
	for _, args := range [][]string{
		{"orgs:data", "--groupId=" + sim.SimSnykGroupID},
		{"doctor", "--groupId=" + sim.SimSnykGroupID},
		{"list:imported", "--groupId=" + sim.SimSnykGroupID, "--logFormat=text"},
	} {
		r := e.Run(args...)
		runs = append(runs, r)
		if !strings.Contains(r.Stdout+r.Stderr, "bad request with") {
			t.Errorf("%v: the echoed message is not shown at all:\n%s\n%s", args, r.Stdout, r.Stderr)
		}
	}
	if len(e.Sim.IssuedBitbucketTokens()) == 0 {
		t.Fatal("no token was issued")
	}
	assertNoSecrets(t, e, runs)
}

// TestSecrets_serviceAccount: a Snyk service account whose tokens live a
// second, so many are minted and renewed, through every Snyk stage at
// debug level (DEBUG=*snyk*) and at trace, and a wrong secret: neither the
// client secret nor any minted token appears anywhere.
func TestSecrets_serviceAccount(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()},
		Snyk: sim.SnykConfig{
			ClientSecret: leakSnykClientSecret, TokenTTL: time.Second,
			Faults:       sim.Faults{RateLimitEvery: 13, ServerErrorRate: 0.02},
			FailJobEvery: 9, PendingPolls: 2,
			JobDurations: sim.JobDurations{Min: 100 * time.Millisecond, Max: 400 * time.Millisecond},
		},
	})
	e.Set("SNYK_TOKEN", "")
	e.Set("SNYK_CLIENT_ID", sim.SimSnykClientID)
	e.Set("SNYK_CLIENT_SECRET", leakSnykClientSecret)
	e.Set("SNYK_RATE_LIMIT", "100000")
	g := sim.SimSnykGroupID
	var runs []result
	run := func(want int, args ...string) {
		t.Helper()
		r := e.Run(args...)
		if r.Code != want && !(want == exitOK && r.Code == exitPartial) {
			t.Fatalf("bbimport %s: exit %d, want %d\n%s", strings.Join(args, " "), r.Code, want, lastLines(r.Stderr, 20))
		}
		runs = append(runs, r)
	}
	e.Set("DEBUG", "*snyk*")
	run(0, "orgs:data", "--groupId="+g)
	run(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	run(0, "import:data", "--orgsData="+e.File("snyk-created-orgs.json"))
	run(0, "import", "--file="+e.File("bitbucket-cloud-app-import-targets.json"), "--concurrency=20")
	e.Set("DEBUG", "")
	run(0, "list:imported", "--groupId="+g, "--logLevel=trace")
	run(0, "doctor", "--groupId="+g, "--logLevel=trace")
	e.Set("SNYK_CLIENT_SECRET", leakSnykClientSecret+"-wrong")
	run(exitAuth, "list:imported", "--groupId="+g, "--logLevel=trace")
	run(exitAuth, "doctor", "--groupId="+g, "--logLevel=trace")

	if n := len(e.Sim.IssuedSnykTokens()); n < 3 {
		t.Fatalf("only %d Snyk tokens were minted; the test wants several", n)
	}
	if !strings.Contains(runs[0].Stderr+runs[3].Stderr, "/oauth2/token") {
		t.Fatal("no debug line of the token exchange: the test proves nothing")
	}
	assertNoSecrets(t, e, runs, leakSnykClientSecret+"-wrong")
}

// A Snyk token endpoint echoing every encoded form of the service
// account's secret in its refusal leaks none of them.
func TestSecrets_encodedFormsOfTheSnykClientSecret(t *testing.T) {
	t.Parallel()
	const id = "sa id+1"
	for _, secret := range leakSecrets {
		t.Run(secret, func(t *testing.T) {
			e := leakEnv(t)
			forms := wireForms(id, secret)
			echo := httptest.NewServer(echoForms(forms, true))
			t.Cleanup(echo.Close)
			e.Set("SNYK_TOKEN", "")
			e.Set("SNYK_CLIENT_ID", id)
			e.Set("SNYK_CLIENT_SECRET", secret)
			e.Set("SNYK_OAUTH_TOKEN_URL", echo.URL+"/oauth2/token")
			var text strings.Builder
			for _, args := range [][]string{
				{"list:imported", "--groupId=" + sim.SimSnykGroupID},
				{"doctor", "--groupId=" + sim.SimSnykGroupID},
				{"list:imported", "--groupId=" + sim.SimSnykGroupID, "--logLevel=trace"},
			} {
				r := e.Run(args...)
				if r.Code != exitAuth {
					t.Errorf("%v: exit %d against a token endpoint refusing everything, want %d", args, r.Code, exitAuth)
				}
				text.WriteString(e.allOutput(r))
			}
			assertNoForms(t, secret, text.String(), forms)
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// leakSecrets are the secret shapes of the encoded-form leak tests: a long
// one, short ones (1 to 3 characters, masked as whole tokens) and ones with
// the characters JSON escapes.
var leakSecrets = []string{"cs-LEAK-0d9c8b7a6f5e", "a", "Q7", "k+z", `se"cr\et-LEAK`, `\"\\`}

// wireForms are the forms a hostile server echoes a secret in: as is,
// URL-encoded, JSON-escaped once and twice, base64 of the value alone, and
// the Basic value of id:secret as oauth2 really sends it (both URL-encoded
// first). Each is framed by "|" so that a short one is a whole token.
func wireForms(id, secret string) []string {
	return []string{
		secret, url.QueryEscape(secret), jsonEscaped(secret), jsonEscaped(jsonEscaped(secret)),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret))),
	}
}

// jsonEscaped is s as it stands inside a JSON string.
func jsonEscaped(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }

// echoForms answers 401 with every wire form of secret in the error text.
func echoForms(forms []string, oauth bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		msg := "ECHO auth=|" + r.Header.Get("Authorization") + "|"
		for _, f := range forms {
			msg += " |" + f + "|"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		if oauth {
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": msg})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"message": msg, "code": 401, "error": msg})
	}
}

// assertNoForms fails for any form of a secret, framed, in text; the forms
// may be JSON-escaped again by a log line.
func assertNoForms(t *testing.T, secret, text string, forms []string) {
	t.Helper()
	if !strings.Contains(text, "ECHO") {
		t.Fatalf("secret %q: the echoed message reached no output, so the test proves nothing", secret)
	}
	for _, f := range forms {
		for _, g := range []string{f, jsonEscaped(f), jsonEscaped(jsonEscaped(f))} {
			if i := strings.Index(text, "|"+g+"|"); i >= 0 {
				lo, hi := max(0, i-120), min(len(text), i+len(g)+40)
				t.Errorf("secret %q: form %q leaked:\n…%s…", secret, g, text[lo:hi])
			}
		}
	}
}

// A token endpoint echoing the Basic value oauth2 sends (base64 of the
// URL-encoded id:secret) leaked the secret in the final message and in
// doctor's ✗ line, at the default level; so did double-escaped JSON forms,
// base64 of the secret alone, and any secret under 4 characters.
func TestSecrets_encodedFormsOfTheClientSecret(t *testing.T) {
	t.Parallel()
	const id = "consumer key+1"
	for _, secret := range leakSecrets {
		t.Run(secret, func(t *testing.T) {
			e := leakEnv(t)
			forms := wireForms(id, secret)
			echo := httptest.NewServer(echoForms(forms, true))
			t.Cleanup(echo.Close)
			e.Set("BITBUCKET_APP_CLIENT_ID", id)
			e.Set("BITBUCKET_APP_CLIENT_SECRET", secret)
			e.Set("BITBUCKET_APP_TOKEN_URL", echo.URL+"/site/oauth2/access_token")
			var text strings.Builder
			for _, args := range [][]string{
				{"orgs:data", "--groupId=" + sim.SimSnykGroupID},
				{"doctor", "--groupId=" + sim.SimSnykGroupID},
				{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--logLevel=trace"},
			} {
				r := e.Run(args...)
				if r.Code == exitOK {
					t.Errorf("%v succeeded against a token endpoint refusing everything", args)
				}
				text.WriteString(e.allOutput(r))
			}
			assertNoForms(t, secret, text.String(), forms)
		})
	}
}

// Snyk echoing encoded forms of SNYK_TOKEN in an import refusal: the
// failure logs and the summary in SNYK_LOG_PATH got only the literal token
// scrubbed.
func TestSecrets_encodedFormsOfTheSnykTokenInLogFiles(t *testing.T) {
	t.Parallel()
	for _, token := range leakSecrets {
		t.Run(token, func(t *testing.T) {
			e := leakEnv(t)
			forms := wireForms("token", token)[:5] // no Basic: Snyk's is "token <t>"
			echo := httptest.NewServer(echoForms(forms, false))
			t.Cleanup(echo.Close)
			e.Set("SNYK_TOKEN", token)
			e.Set("SNYK_API", echo.URL+"/v1")
			targets := filepath.Join(t.TempDir(), "targets.json")
			if err := os.WriteFile(targets, []byte(`{"targets":[{"orgId":"o1","integrationId":"i1","target":{"owner":"ws","name":"repo","branch":"main"}}]}`), 0o644); err != nil {
				t.Fatal(err)
			}
			r := e.Run("import", "--file="+targets)
			if r.Code == exitOK {
				t.Fatalf("import succeeded against a Snyk refusing everything:\n%s", r.Stderr)
			}
			files := e.allOutput(result{})
			if !strings.Contains(files, "ECHO") {
				t.Fatalf("the refusal is in no file of the log directory:\n%s", files)
			}
			assertNoForms(t, token, e.allOutput(r), forms)
		})
	}
}

// A 1-character client secret: redaction masks it only where it stands
// alone, so the token endpoint's refusal reads whole ("inv[REDACTED]lid_client
// … credenti[REDACTED]ls" mangled the hint and showed where the secret was
// missing), and doctor warns that so short a secret cannot be kept out of
// every log.
func TestSecrets_oneCharacterSecret(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{ClientSecret: "the-real-secret-0123456789abcdef"}})
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "a")
	e.Set("DEBUG", "*")
	r := e.MustRun(exitAuth, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, finalLine(t, r.Stderr), "invalid_client", "Invalid OAuth client credentials", "BITBUCKET_APP_CLIENT_SECRET")
	if m := regexp.MustCompile(`\w\[REDACTED\]|\[REDACTED\]\w`).FindString(r.Stderr); m != "" {
		t.Errorf("a word was cut by the mask (%q):\n%s", m, lastLines(r.Stderr, 20))
	}
	r = e.MustRun(exitAuth, "doctor", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, checkLine(t, r.Stdout, "⚠", "secrets"), "BITBUCKET_APP_CLIENT_SECRET is 1 character long", "masks secrets this short only where they stand alone")
}
