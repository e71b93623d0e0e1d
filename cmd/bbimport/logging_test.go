package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/rs/zerolog"
)

// hasDebug reports whether stderr holds any debug line (JSON or text).
func hasDebug(stderr string) bool {
	return strings.Contains(stderr, `"level":"debug"`) || strings.Contains(stderr, " DBG ")
}

func TestLogging_levelsAndDEBUG(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	g := "--groupId=" + sim.SimSnykGroupID
	cases := []struct {
		name  string
		debug string // DEBUG
		args  []string
		want  bool // debug lines expected
	}{
		{"default", "", nil, false},
		{"--logLevel=debug", "", []string{"--logLevel=debug"}, true},
		{"--logLevel=DEBUG", "", []string{"--logLevel=DEBUG"}, true},
		{"--log-level=trace", "", []string{"--log-level=trace"}, true},
		{"DEBUG=*snyk*", "*snyk*", nil, true},
		{"DEBUG=snyk", "snyk", nil, true},
		{"DEBUG=snyk:*", "snyk:*", nil, true},
		{"DEBUG=*", "*", nil, true},
		{"DEBUG=express", "express", nil, false},
		// DEBUG raises the level; it never lowers an explicit one.
		{"DEBUG with --logLevel=trace", "*snyk*", []string{"--logLevel=trace"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.Set("DEBUG", tc.debug)
			defer e.Set("DEBUG", "")
			r := e.MustRun(0, append([]string{"orgs:data", g}, tc.args...)...)
			if got := hasDebug(r.Stderr); got != tc.want {
				t.Errorf("debug lines = %v, want %v\n%s", got, tc.want, lastLines(r.Stderr, 5))
			}
			if strings.Contains(r.Stdout, `"level"`) || strings.Contains(r.Stdout, "DBG") {
				t.Errorf("log lines on stdout:\n%s", r.Stdout)
			}
		})
	}

	t.Run("--logLevel=warn hides info", func(t *testing.T) {
		e := newSimEnv(t, sim.Config{})
		r := e.MustRun(0, "import:data", "--orgsData="+createdOrgs(t, e), "--logLevel=warn")
		if strings.Contains(r.Stderr, `"level":"info"`) {
			t.Errorf("info lines at warn level:\n%s", r.Stderr)
		}
	})
}

func TestLogging_badFlags(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	r := e.MustRun(exitUsage, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--logLevel=loud")
	wantContains(t, r.Stderr, `--logLevel "loud" is not a level; use one of trace, debug, info, warn, error`)
	r = e.MustRun(exitUsage, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--logFormat=xml")
	wantContains(t, r.Stderr, `--logFormat "xml" is not a format; use auto`)
	if r.Stdout != "" {
		t.Errorf("stdout on a usage error: %q", r.Stdout)
	}
}

// Without a TTY the log is JSON lines (one object per line, for CI log
// search); --logFormat=text gives human lines, without colour codes.
func TestLogging_formatsWithoutTTY(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	g := "--groupId=" + sim.SimSnykGroupID
	r := e.MustRun(0, "orgs:data", g, "--logLevel=debug")
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if len(lines) < 2 {
		t.Fatalf("too few log lines:\n%s", r.Stderr)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		for _, k := range []string{"level", "time", "message"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line without %q: %s", k, l)
			}
		}
	}

	r = e.MustRun(0, "orgs:data", g, "--logLevel=debug", "--logFormat=text")
	if strings.Contains(r.Stderr, "{\"level\"") || !strings.Contains(r.Stderr, " DBG ") {
		t.Errorf("--logFormat=text is not human-readable:\n%s", lastLines(r.Stderr, 3))
	}
	if strings.Contains(r.Stderr, "\x1b[") {
		t.Errorf("colour codes in a non-TTY log:\n%q", lastLines(r.Stderr, 3))
	}
}

// At debug level every HTTP attempt is one line with method, URL, status,
// duration and attempt; failed attempts carry the response body; a 429 also
// says, once at info, that we wait.
func TestLogging_oneLinePerExchange(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Faults: sim.Faults{RateLimitEvery: 2}}})
	orgs := createdOrgs(t, e)
	before := e.Sim.Counters()
	r := e.MustRun(0, "import:data", "--orgsData="+orgs, "--logLevel=debug")
	lines := debugLines(t, r.Stderr)
	var xs []map[string]any
	for _, x := range exchanges(lines) {
		if x["api"] != "snyk" {
			xs = append(xs, x)
		}
	}
	// Every request the simulator saw is one line (token exchange included).
	after := e.Sim.Counters()
	served := 0
	for _, c := range []string{"bitbucket.requests", "bitbucket.429", "bitbucket.token_exchanges"} {
		served += int(after[c] - before[c])
	}
	if len(xs) != served {
		t.Errorf("%d exchange lines for %d requests", len(xs), served)
	}
	var ok200, got429, retried bool
	for _, x := range xs {
		msg := x["message"].(string)
		url := x["url"].(string)
		if !strings.HasPrefix(msg, x["method"].(string)+" "+url+" → ") || !strings.Contains(msg, " in ") {
			t.Errorf("message does not read METHOD URL → STATUS in DURATION: %q", msg)
		}
		if _, ok := x["duration"].(float64); !ok {
			t.Errorf("no numeric duration: %v", x)
		}
		switch x["status"].(float64) {
		case 200:
			ok200 = true
		case 429:
			got429 = true
			if !strings.Contains(x["body"].(string), "Rate limit for this resource has been exceeded") {
				t.Errorf("429 line without the response body: %v", x)
			}
		}
		if x["attempt"].(float64) == 2 {
			retried = true
		}
	}
	if !ok200 || !got429 || !retried {
		t.Errorf("exchange lines: 200 %v, 429 %v, attempt 2 %v", ok200, got429, retried)
	}
	var waits int
	for _, l := range lines {
		if l["level"] == "info" && strings.HasPrefix(l["message"].(string), "Bitbucket rate limit reached, waiting ") {
			waits++
		}
	}
	if waits != 1 {
		t.Errorf("%d info lines about the rate limit, want exactly 1 (repeats within seconds are debug)", waits)
	}
}

func TestHTTPLog_fields(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := newHTTPLog(zerolog.New(&buf).Level(zerolog.DebugLevel))
	h.Exchange(httpx.Exchange{API: "bitbucket", Method: "GET", URL: "https://api.bitbucket.org/2.0/user/workspaces",
		Status: 200, Duration: 1500 * time.Millisecond, Wait: 1200 * time.Millisecond, Attempt: 1})
	h.Exchange(httpx.Exchange{API: "snyk", Method: "POST", URL: "https://api.snyk.io/v1/org/o/integrations/i/import",
		Duration: 30 * time.Millisecond, Attempt: 3, Err: errors.New("connection reset by peer")})
	var a, b map[string]any
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&a); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&b); err != nil {
		t.Fatal(err)
	}
	if a["message"] != "GET https://api.bitbucket.org/2.0/user/workspaces → 200 in 2s (attempt 1), 1s of it waiting for the Bitbucket rate limit" {
		t.Errorf("message = %q", a["message"])
	}
	if a["rate_limit_wait"] != 1200.0 || a["duration"] != 1500.0 {
		t.Errorf("fields = %v", a)
	}
	if b["error"] != "connection reset by peer" || b["attempt"] != 3.0 || !strings.Contains(b["message"].(string), "→ error in 30ms (attempt 3)") {
		t.Errorf("error line = %v", b)
	}

	// Above debug nothing is built at all.
	buf.Reset()
	newHTTPLog(zerolog.New(&buf).Level(zerolog.InfoLevel)).Exchange(httpx.Exchange{Method: "GET"})
	if buf.Len() != 0 {
		t.Errorf("exchange logged at info level: %s", buf.String())
	}
}

func TestHTTPLog_rateLimitedOncePerFewSeconds(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := newHTTPLog(zerolog.New(&buf).Level(zerolog.DebugLevel))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }
	h.RateLimited("bitbucket", 40*time.Second, 429)
	h.RateLimited("bitbucket", 40*time.Second, 429) // another worker, same moment
	h.RateLimited("snyk", 2*time.Second, 429)       // another API
	now = now.Add(6 * time.Second)
	h.RateLimited("bitbucket", 39*time.Second, 429)
	var info []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["level"] == "info" {
			info = append(info, m["message"].(string))
		}
	}
	want := []string{"Bitbucket rate limit reached, waiting 40s", "Snyk rate limit reached, waiting 2s", "Bitbucket rate limit reached, waiting 39s"}
	if fmt.Sprint(info) != fmt.Sprint(want) {
		t.Errorf("info lines = %q, want %q", info, want)
	}
}

// Every byte printed passes the redactor: logs, results on stdout, the
// final error message, whatever the format.
func TestRuntime_redactsEveryOutput(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value-for-redaction"
	env := map[string]string{"SNYK_TOKEN": secret, "SNYK_LOG_PATH": t.TempDir()}
	for _, format := range []string{"json", "text"} {
		var stdout, stderr bytes.Buffer
		rt := newInvocation(&stdout, &stderr, func(k string) string { return env[k] })
		o := rt.setupOutput()
		log := zerolog.New(o.stderr())
		if format == "text" {
			log = zerolog.New(o.consoleWriter(o.stderr()))
		}
		log.Error().Str("header", "Authorization: token "+secret).Msg("request with " + secret + " failed")
		log.Info().Msg(`body {"access_token":"eyJhbGciOi.payload.sig","refresh_token":"r-123456"}`)
		fmt.Fprintf(o.stdout, "result mentioning %s\n", secret)
		out := stdout.String() + stderr.String()
		for _, leak := range []string{secret, "eyJhbGciOi.payload.sig", "r-123456"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: %q not redacted:\n%s", format, leak, out)
			}
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s: no mask in output:\n%s", format, out)
		}
	}

	// The closing error paragraph too.
	var stdout, stderr bytes.Buffer
	rt := newInvocation(&stdout, &stderr, func(k string) string { return env[k] })
	code := rt.run(t.Context(), []string{"bbimport", "import", "--file=/nonexistent/" + secret + ".json"})
	if code != exitUsage || strings.Contains(stderr.String(), secret) || !strings.Contains(stderr.String(), "[REDACTED]") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
