package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
)

// TestRetryPolicy runs each case through the whole stack, once as an ordinary
// request and once marked WithoutServerErrorRetry, with RetryMax 2: a retried
// failure makes 3 attempts. The budget here holds no 429 (RateLimitWait 0),
// so a 429 is answered at once: retryablehttp never counts 429s. A
// credential the token endpoint does not give is not retried either: the
// token client has its own retries.
func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		status       int    // server answer; 0 when mode says otherwise
		mode         string // "refused", "reset", "token401", "token503"
		want         int    // attempts of an ordinary request
		wantNoServer int    // attempts under WithoutServerErrorRetry
		wantErr      bool
	}{
		{name: "200", status: 200, want: 1, wantNoServer: 1},
		{name: "400", status: 400, want: 1, wantNoServer: 1},
		{name: "401", status: 401, want: 1, wantNoServer: 1},
		{name: "404", status: 404, want: 1, wantNoServer: 1},
		{name: "429", status: 429, want: 1, wantNoServer: 1},
		{name: "500", status: 500, want: 3, wantNoServer: 1},
		{name: "501", status: 501, want: 1, wantNoServer: 1},
		{name: "502", status: 502, want: 3, wantNoServer: 1},
		{name: "503", status: 503, want: 3, wantNoServer: 3},
		{name: "504", status: 504, want: 3, wantNoServer: 1},
		{name: "connection refused", mode: "refused", want: 3, wantNoServer: 3, wantErr: true},
		{name: "reset after write", mode: "reset", want: 3, wantNoServer: 1, wantErr: true},
		{name: "token endpoint 401", mode: "token401", want: 1, wantNoServer: 1, wantErr: true},
		{name: "token endpoint 503", mode: "token503", want: 1, wantNoServer: 1, wantErr: true},
	}
	for _, tt := range tests {
		for _, noServer := range []bool{false, true} {
			name := tt.name
			want := tt.want
			if noServer {
				name += "/WithoutServerErrorRetry"
				want = tt.wantNoServer
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				target, hits := policyTarget(t, tt.mode, tt.status)
				opts := Options{Budget: NewBudget(BudgetConfig{PauseMin: time.Millisecond, PauseMax: 2 * time.Millisecond})}
				if strings.HasPrefix(tt.mode, "token") {
					code := map[string]int{"token401": 401, "token503": 503}[tt.mode]
					opts.Credential = failingCredential(t, code)
				}
				c, rec := newTestClient(t, opts)
				ctx := t.Context()
				if noServer {
					ctx = WithoutServerErrorRetry(ctx)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(`{"a":1}`))
				resp, err := c.Do(req)
				if (err != nil) != tt.wantErr {
					t.Fatalf("err = %v, want error %v", err, tt.wantErr)
				}
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != tt.status {
						t.Errorf("status = %d, want the last response's %d", resp.StatusCode, tt.status)
					}
				}
				if got := len(rec.Exchanges()); got != want {
					t.Errorf("attempts = %d, want %d", got, want)
				}
				if hits != nil && tt.mode != "token401" && tt.mode != "token503" && int(hits.Load()) != want {
					t.Errorf("server saw %d requests, want %d", hits.Load(), want)
				}
			})
		}
	}
}

// policyTarget returns a URL behaving as mode asks and the server's hit
// counter (nil when no server is involved).
func policyTarget(t *testing.T, mode string, status int) (string, *atomic.Int64) {
	t.Helper()
	switch mode {
	case "refused":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/", nil
	case "reset":
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // the request was read; the answer never comes
			}
		}))
		t.Cleanup(srv.Close)
		return srv.URL, &hits
	case "token401", "token503":
		srv, hits := statusServer(t, "", 200)
		return srv.URL, hits
	}
	srv, hits := statusServer(t, "body", status)
	return srv.URL, hits
}

// failingCredential is a client_credentials credential whose token
// endpoint answers code.
func failingCredential(t *testing.T, code int) *credential.Credential {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if code < 500 {
			io.WriteString(w, `{"error":"invalid_client"}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := credential.ClientCredentials(credential.SnykServiceAccount, credential.Config{ClientID: "id", ClientSecret: "secret", TokenURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestRetryPolicyCancelledContext(t *testing.T) {
	t.Parallel()
	srv, hits := statusServer(t, "", 200)
	c, rec := newTestClient(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if hits.Load() != 0 || len(rec.Exchanges()) > 1 {
		t.Errorf("server hits %d, attempts %d; want 0 and at most 1", hits.Load(), len(rec.Exchanges()))
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	resp := func(code int, retryAfter string) *http.Response {
		r := &http.Response{StatusCode: code, Header: http.Header{}}
		if retryAfter != "" {
			r.Header.Set("Retry-After", retryAfter)
		}
		return r
	}
	const lo, hi = time.Second, 60 * time.Second
	tests := []struct {
		name     string
		retry    int
		resp     *http.Response
		min, max time.Duration
	}{
		{"first retry, no response", 0, nil, lo, 2 * lo},
		{"third retry", 2, resp(500, ""), 4 * time.Second, 8 * time.Second},
		{"capped at max", 20, resp(502, ""), hi / 2, hi},
		{"huge retry count", 100, resp(502, ""), hi / 2, hi},
		{"503 seconds above max", 0, resp(503, "120"), 120 * time.Second, 120 * time.Second},
		{"503 date", 0, resp(503, now.Add(5*time.Second).Format(http.TimeFormat)), 5 * time.Second, 5 * time.Second},
		{"503 date in the past", 0, resp(503, now.Add(-time.Minute).Format(http.TimeFormat)), lo, lo},
		{"503 zero never hammers", 3, resp(503, "0"), lo, lo},
		{"503 capped at MaxRetryAfter", 0, resp(503, "86400"), MaxRetryAfter, MaxRetryAfter},
		{"503 unparsable falls back", 1, resp(503, "soon"), 2 * lo, 4 * lo},
		{"500 ignores Retry-After", 0, resp(500, "120"), lo, 2 * lo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &policy{now: func() time.Time { return now }}
			for range 20 { // jitter: every draw must stay in bounds
				got := p.backoff(lo, hi, tt.retry, tt.resp)
				if got < tt.min || got > tt.max {
					t.Fatalf("backoff = %s, want within [%s, %s]", got, tt.min, tt.max)
				}
			}
		})
	}
}
