package httpx

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestNetErrorsFailFast: each error that waiting cannot fix ends after one
// attempt, classified, within a second; the transient ones keep retrying.
func TestNetErrorsFailFast(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	proxyAnswering := func(code int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Proxy-Authenticate", `Basic realm="corp"`)
			w.WriteHeader(code)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	authProxy, forbidProxy, busyProxy := proxyAnswering(http.StatusProxyAuthRequired), proxyAnswering(http.StatusForbidden), proxyAnswering(http.StatusServiceUnavailable)
	dead := closedPort(t) // after the servers: one could take the port just closed
	tests := []struct {
		name     string
		url      string
		proxy    string
		kind     NetErrorKind // 0: transient
		attempts int
	}{
		{name: "DNS name not found", url: "https://api.bbimport-test.invalid/2.0/user", kind: NetDNSNotFound, attempts: 1},
		{name: "untrusted certificate", url: tlsSrv.URL, kind: NetUntrustedCert, attempts: 1},
		{name: "proxy refused", url: "https://api.bbimport-test.invalid/", proxy: "http://" + dead, kind: NetProxy, attempts: 1},
		{name: "proxy does not resolve", url: "https://api.bbimport-test.invalid/", proxy: "http://proxy.bbimport-test.invalid:3128", kind: NetProxy, attempts: 1},
		{name: "proxy asks for credentials", url: "https://api.bbimport-test.invalid/", proxy: authProxy, kind: NetProxy, attempts: 1},
		{name: "proxy forbids the host", url: "https://api.bbimport-test.invalid/", proxy: forbidProxy, kind: NetProxy, attempts: 1},
		{name: "proxy overloaded is retried", url: "https://api.bbimport-test.invalid/", proxy: busyProxy, attempts: 3},
		{name: "loopback refused is retried", url: "http://" + dead + "/", attempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HTTPS_PROXY", tt.proxy)
			t.Setenv("NO_PROXY", "")
			c, rec := newTestClient(t, Options{})
			start := time.Now()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tt.url, nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
			if got := len(rec.Exchanges()); got != tt.attempts {
				t.Errorf("attempts = %d, want %d (%v)", got, tt.attempts, err)
			}
			ne, ok := AsNetError(err)
			switch {
			case tt.kind == 0 && ok:
				t.Errorf("classified %v as final %v", err, ne.Kind)
			case tt.kind != 0 && !ok:
				t.Fatalf("not classified: %v", err)
			case tt.kind != 0 && ne.Kind != tt.kind:
				t.Errorf("kind = %v, want %v (%v)", ne.Kind, tt.kind, err)
			}
			if ok && ne.Error() != errors.Unwrap(err).Error() && !strings.Contains(err.Error(), ne.Error()) {
				t.Errorf("classification changed the message: %q vs %q", ne.Error(), err.Error())
			}
			if ok && tt.kind == NetProxy && ne.Proxy == "" {
				t.Errorf("no proxy address in %+v", ne)
			}
		})
	}
}

// A refused connection to a host that is not loopback cannot be staged
// without a network, so the classifier is fed the error net/http returns.
func TestAsNetErrorRefusedElsewhere(t *testing.T) {
	refused := func(ip string) error {
		return &url.Error{Op: "Get", URL: "https://api.example.com/x", Err: &net.OpError{
			Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 443},
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	}
	if ne, ok := AsNetError(refused("203.0.113.7")); !ok || ne.Kind != NetRefused || ne.Host != "api.example.com" {
		t.Errorf("non-loopback refused: %+v %v", ne, ok)
	}
	if _, ok := AsNetError(refused("127.0.0.1")); ok {
		t.Error("loopback refused classified final")
	}
	if _, ok := AsNetError(&net.DNSError{Name: "x", Err: "server misbehaving", IsTemporary: true}); ok {
		t.Error("temporary DNS failure classified final")
	}
	if _, ok := AsNetError(errors.New("EOF")); ok {
		t.Error("EOF classified final")
	}
}

// A request that timed out is final only once the retries are spent: the
// policy retries it (AsNetError), the wording names it (AsSpentNetError);
// an interrupted run is no timeout.
func TestAsSpentNetErrorTimeout(t *testing.T) {
	get := func(err error) error { return &url.Error{Op: "Get", URL: "https://api.example.com/x", Err: err} }
	for _, tt := range []struct {
		name  string
		err   error
		spent bool
	}{
		{"attempt timeout", get(context.DeadlineExceeded), true},
		{"token exchange wraps it", fmt.Errorf("requesting a token: %w", &url.Error{Op: "Post", URL: "https://api.example.com/t", Err: get(context.DeadlineExceeded)}), true},
		{"interrupted", get(context.Canceled), false},
		{"no URL", context.DeadlineExceeded, false},
	} {
		if _, final := AsNetError(tt.err); final {
			t.Errorf("%s: final for the retry policy", tt.name)
		}
		ne, ok := AsSpentNetError(tt.err)
		if ok != tt.spent || (ok && (ne.Kind != NetTimeout || ne.Host != "api.example.com")) {
			t.Errorf("%s: AsSpentNetError = %+v, %v; want spent %v, NetTimeout on api.example.com", tt.name, ne, ok, tt.spent)
		}
	}
}

type retryRecorder struct {
	recorder
	mu      sync.Mutex
	retries []Retry
}

func (r *retryRecorder) Retrying(rt Retry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, rt)
}

// Retries of transport errors and 5xx are reported before each wait (not
// after the last attempt), so the first one can be shown at once.
func TestRetryingReported(t *testing.T) {
	srv, _ := statusServer(t, "", 503, 503, 200)
	obs := &retryRecorder{}
	c, _ := newTestClient(t, Options{Observer: obs})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	dead := closedPort(t)
	if _, err := c.Get("http://" + dead + "/"); err == nil {
		t.Fatal("no error")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.retries) != 4 {
		t.Fatalf("retries = %+v, want 2 for the 503s and 2 for the refused connection", obs.retries)
	}
	first := obs.retries[0]
	if first.Attempt != 1 || first.MaxAttempts != 3 || first.Status != 503 || first.Method != "GET" || first.URL == "" {
		t.Errorf("first report %+v", first)
	}
	if r := obs.retries[2]; r.Err == nil || r.Status != 0 || r.Attempt != 1 {
		t.Errorf("transport error report %+v", r)
	}
}

func TestRootsWithBundles(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pool, counts, err := RootsWithBundles([]CABundle{{Setting: "NODE_EXTRA_CA_CERTS", Path: good}})
	if err != nil || counts[0] != 1 {
		t.Fatalf("counts %v, err %v", counts, err)
	}
	c, _ := newTestClient(t, Options{Transport: NewTransport(pool)})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("extra CA not trusted: %v", err)
	}
	resp.Body.Close()

	for _, tc := range []struct {
		path string
		want error
	}{{empty, ErrNoCertificates}, {filepath.Join(dir, "missing.pem"), os.ErrNotExist}} {
		_, _, err := RootsWithBundles([]CABundle{{Setting: "BBIMPORT_EXTRA_CA_CERTS", Path: tc.path}})
		var be *CABundleError
		if !errors.As(err, &be) || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "BBIMPORT_EXTRA_CA_CERTS="+tc.path) {
			t.Errorf("%s: %v", tc.path, err)
		}
	}
}
