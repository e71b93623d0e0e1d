package main

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// Network failures that waiting cannot fix must end the run within seconds
// with production retry waits (1 s doubling to 60 s, 6 retries: several
// minutes if they were retried), and say which setting to check.
const fastFail = 10 * time.Second

// productionWaits drops the harness's millisecond waits, so a failure that
// were retried would take minutes.
func productionWaits(e *simEnv) { e.Tuning = tuning{} }

func finalLine(t *testing.T, stderr string) string {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "bbimport: ") {
			return l
		}
	}
	t.Fatalf("no final bbimport: line:\n%s", stderr)
	return ""
}

func timedRun(t *testing.T, e *simEnv, want int, args ...string) result {
	t.Helper()
	start := time.Now()
	r := e.MustRun(want, args...)
	if d := time.Since(start); d > fastFail {
		t.Errorf("bbimport %s took %s, want under %s", args[0], d, fastFail)
	}
	return r
}

func TestNetwork_dnsNameNotFound(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	productionWaits(e)
	e.Set("BITBUCKET_APP_API_BASE", "https://api.bitbucket.bbimport-test.invalid/2.0")
	r := timedRun(t, e, exitFailed, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, finalLine(t, r.Stderr),
		`cannot reach Bitbucket API: the host name "api.bitbucket.bbimport-test.invalid" does not resolve`,
		"fix: check BITBUCKET_APP_API_BASE (https://api.bitbucket.bbimport-test.invalid/2.0) for a typo")

	// doctor: the token endpoint's name, named as such; Snyk's too.
	e.Set("BITBUCKET_APP_API_BASE", "")
	e.Set("BITBUCKET_APP_TOKEN_URL", "https://bitbucket.bbimport-test.invalid/site/oauth2/access_token")
	e.Set("SNYK_API", "https://api.snyk.bbimport-test.invalid/v1")
	r = timedRun(t, e, exitFailed, "doctor", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, checkLine(t, r.Stdout, "✗", "Bitbucket token"), "does not resolve", "fix: check BITBUCKET_APP_TOKEN_URL")
	wantContains(t, checkLine(t, r.Stdout, "✗", "Snyk group "+sim.SimSnykGroupID), "does not resolve", "fix: check SNYK_API")
	if strings.Contains(r.Stdout, "BITBUCKET_APP_CLIENT_SECRET to") {
		t.Errorf("doctor blames the credentials for a DNS failure:\n%s", r.Stdout)
	}
}

// tlsSim serves the simulator over TLS with httptest's own CA, and returns
// a PEM file of that CA.
func tlsSim(t *testing.T, e *simEnv) (caFile string) {
	t.Helper()
	srv := httptest.NewTLSServer(e.Sim)
	t.Cleanup(srv.Close)
	e.Set("BITBUCKET_APP_API_BASE", srv.URL+"/2.0")
	e.Set("BITBUCKET_APP_TOKEN_URL", srv.URL+"/site/oauth2/access_token")
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile
}

func TestNetwork_untrustedCertificate(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	productionWaits(e)
	caFile := tlsSim(t, e)
	r := timedRun(t, e, exitFailed, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, finalLine(t, r.Stderr), "is not trusted", "certificate signed by unknown authority",
		"fix: if a TLS-inspecting proxy or a private CA signs it, point BBIMPORT_EXTRA_CA_CERTS (or NODE_EXTRA_CA_CERTS)")
	if n := e.Sim.Count("bitbucket.token_exchanges"); n != 0 {
		t.Errorf("%d token exchanges through an untrusted connection", n)
	}

	// Either variable adds the CA to the system roots.
	for _, name := range []string{"NODE_EXTRA_CA_CERTS", "BBIMPORT_EXTRA_CA_CERTS"} {
		e.Set(name, caFile)
		r = e.MustRun(exitOK, "orgs:data", "--groupId="+sim.SimSnykGroupID)
		wantContains(t, r.Stdout, "Written the data to file")
		r = e.MustRun(exitOK, "doctor")
		wantContains(t, r.Stdout, "• CA certificates: the system's roots + 1 certificate from "+name+"="+caFile)
		e.Set(name, "")
	}
}

func TestNetwork_badCABundle(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("# no certificate here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"NODE_EXTRA_CA_CERTS", filepath.Join(dir, "missing.pem"), "no such file"},
		{"BBIMPORT_EXTRA_CA_CERTS", empty, "holds no PEM certificate"},
	} {
		e.Set(tc.name, tc.path)
		r := e.MustRun(exitUsage, "orgs:data", "--groupId="+sim.SimSnykGroupID)
		wantContains(t, finalLine(t, r.Stderr), tc.name+"="+tc.path, tc.want)
		r = e.MustRun(exitFailed, "doctor")
		wantContains(t, checkLine(t, r.Stdout, "✗", "CA certificates"), tc.name+"="+tc.path, tc.want)
		e.Set(tc.name, "")
	}
}

// deadProxy points HTTPS_PROXY at a loopback port nothing listens on and
// the APIs at names that never resolve, so that nothing but the dead proxy
// is ever tried (the proxy resolves the target; a bypass would fail on DNS).
func deadProxy(t *testing.T, e *simEnv, userinfo string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// The run's environment, not the process's: the transport reads its
	// proxy through the invocation, so this test runs beside others.
	e.Set("HTTPS_PROXY", "http://"+userinfo+addr)
	e.Set("BITBUCKET_APP_API_BASE", "https://api.bitbucket.bbimport-test.invalid/2.0")
	e.Set("BITBUCKET_APP_TOKEN_URL", "https://bitbucket.bbimport-test.invalid/site/oauth2/access_token")
	e.Set("SNYK_API", "https://api.snyk.bbimport-test.invalid/v1")
	return addr
}

func TestNetwork_proxyRefused(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	productionWaits(e)
	e.Set("SNYK_TOKEN", "") // orgs:data on Bitbucket alone: its proxy failure
	addr := deadProxy(t, e, "")
	r := timedRun(t, e, exitFailed, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, finalLine(t, r.Stderr), "cannot reach Bitbucket token endpoint: the proxy http://"+addr+" (HTTPS_PROXY) failed (connection refused)",
		"fix: check HTTPS_PROXY")
}

// authProxy is a proxy at a loopback port that answers every CONNECT with
// 407, counting them, with the APIs at names that never resolve (as
// deadProxy).
func authProxy(t *testing.T, e *simEnv, userinfo string) (addr string, connects *atomic.Int64) {
	t.Helper()
	connects = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		connects.Add(1)
		w.Header().Set("Proxy-Authenticate", `Basic realm="corp"`)
		w.WriteHeader(http.StatusProxyAuthRequired)
	}))
	t.Cleanup(srv.Close)
	addr = srv.Listener.Addr().String()
	deadProxy(t, e, "")
	e.Set("HTTPS_PROXY", "http://"+userinfo+addr)
	return addr, connects
}

// A proxy answering 407 is one attempt per request (it was seven), and the
// error names HTTPS_PROXY and proxy authentication; doctor does not blame
// the Bitbucket consumer for it.
func TestNetwork_proxyAsksForCredentials(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	productionWaits(e)
	e.Set("SNYK_TOKEN", "") // orgs:data on Bitbucket alone: its proxy failure
	addr, connects := authProxy(t, e, "")
	r := timedRun(t, e, exitFailed, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, finalLine(t, r.Stderr), "cannot reach Bitbucket token endpoint: the proxy http://"+addr+" (HTTPS_PROXY) asks for credentials (407 Proxy Authentication Required)",
		"fix: put the proxy's user and password in HTTPS_PROXY")
	if n := connects.Load(); n != 1 {
		t.Errorf("the proxy was asked %d times, want 1", n)
	}

	e = newSimEnv(t, sim.Config{})
	productionWaits(e)
	addr, _ = authProxy(t, e, "proxyuser:wrong-proxy-pw@")
	r = timedRun(t, e, exitFailed, "doctor", "--groupId="+sim.SimSnykGroupID)
	tok := checkLine(t, r.Stdout, "✗", "Bitbucket token")
	wantContains(t, tok, "the proxy http://"+addr+" (HTTPS_PROXY, credentials not shown) refused the credentials it was given (407", "fix: check the user and password in HTTPS_PROXY")
	if strings.Contains(tok, "BITBUCKET_APP_CLIENT_ID") || strings.Contains(tok, "SECRET") {
		t.Errorf("doctor blames the consumer for the proxy's 407:\n%s", tok)
	}
	if strings.Contains(e.allOutput(r), "wrong-proxy-pw") {
		t.Errorf("the proxy password was printed:\n%s", r.Stdout)
	}
}

// doctor with a dead proxy says so in every check that needed the network,
// shows the proxy without its password, and does not blame the consumer
// key and secret (nor exit 4: no credential was rejected).
func TestNetwork_doctorDeadProxy(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	productionWaits(e)
	addr := deadProxy(t, e, "proxyuser:s3cret-proxy-pw@")
	r := timedRun(t, e, exitFailed, "doctor", "--groupId="+sim.SimSnykGroupID)
	tok := checkLine(t, r.Stdout, "✗", "Bitbucket token")
	wantContains(t, tok, "cannot reach Bitbucket token endpoint: the proxy http://"+addr+" (HTTPS_PROXY, credentials not shown) failed", "fix: check HTTPS_PROXY")
	if strings.Contains(tok, "BITBUCKET_APP_CLIENT_ID") || strings.Contains(tok, "secret") {
		t.Errorf("doctor blames the credentials for a dead proxy:\n%s", tok)
	}
	wantContains(t, checkLine(t, r.Stdout, "✗", "Snyk group "+sim.SimSnykGroupID), "fix: check HTTPS_PROXY")
	wantContains(t, r.Stdout,
		"• API bases: Bitbucket API https://api.bitbucket.bbimport-test.invalid/2.0 (BITBUCKET_APP_API_BASE), "+
			"Bitbucket token endpoint https://bitbucket.bbimport-test.invalid/site/oauth2/access_token (BITBUCKET_APP_TOKEN_URL), "+
			"Snyk API https://api.snyk.bbimport-test.invalid/v1 (SNYK_API)",
		"• proxy: http://"+addr+" (credentials not shown) for Bitbucket API, Bitbucket token endpoint, Snyk API",
		"• CA certificates: the system's roots")
	if strings.Contains(e.allOutput(r), "s3cret-proxy-pw") {
		t.Errorf("the proxy password was printed:\n%s", r.Stdout)
	}
}

// A transient failure keeps its backoff, but the first retry is said at
// once, not when the retries run out minutes later.
func TestNetwork_firstRetryIsShown(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Faults: sim.Faults{ServerErrorRate: 1}}})
	productionWaits(e)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(3*time.Second, cancel) // Ctrl-C
	r := e.RunContext(ctx, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	if r.Code != exitInterrupted {
		t.Fatalf("exit %d, want the run still retrying when stopped\n%s", r.Code, r.Stderr)
	}
	var warns []map[string]any
	for _, l := range debugLines(t, r.Stderr) {
		if l["level"] == "warn" && strings.Contains(l["message"].(string), "retrying with backoff") {
			warns = append(warns, l)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d retry lines in 3 s, want exactly 1:\n%s", len(warns), r.Stderr)
	}
	w := warns[0]
	wantContains(t, w["message"].(string), "Bitbucket: GET ", "failed (HTTP 503); retrying with backoff (attempt 2 of 7)")
	if w["status"] != 503.0 || w["retryable"] != true || w["attempt"] != 1.0 {
		t.Errorf("retry line fields: %v", w)
	}
}

// import: with Snyk's name not resolving, the first kick-offs fail at once
// and alike, so the run stops there (exit 1, issue 23) and the closing
// message carries the fix.
func TestNetwork_importEveryTargetFailsFast(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	targets := e.Pipeline()
	productionWaits(e)
	e.Set("SNYK_API", "https://api.snyk.bbimport-test.invalid/v1")
	r := timedRun(t, e, exitFailed, "import", "--file="+targets)
	wantContains(t, r.Stdout, "5 × DNS name not found")
	wantContains(t, finalLine(t, r.Stderr),
		`cannot reach Snyk API: the host name "api.snyk.bbimport-test.invalid" does not resolve`,
		"fix: check SNYK_API (https://api.snyk.bbimport-test.invalid/v1) for a typo")
}
