package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/ledger"
	"github.com/google/go-cmp/cmp"
)

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, opts := range []Options{
		{RetryWaitMin: 2 * time.Minute}, // above the default max
		{RetryWaitMin: time.Second, RetryWaitMax: time.Millisecond},
		{RetryWaitMin: -time.Second},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) = nil error, want one", opts)
		}
	}
}

// A 429 the budget does not hold is the answer, as a response rather than
// an error, so callers can turn it into a typed rate-limit error; the
// budget's gate still closed for every other request.
func TestRateLimitReturnsTheResponse(t *testing.T) {
	t.Parallel()
	const body = `{"error":"Rate limit for this resource has been exceeded"}`
	srv, hits := statusServer(t, body, http.StatusTooManyRequests)
	rec := &recorder{}
	b := NewBudget(BudgetConfig{API: "bitbucket", PauseMin: time.Millisecond, PauseMax: 5 * time.Millisecond, Observer: rec})
	c, _ := newTestClient(t, Options{RetryMax: 3, Budget: b, Observer: rec})

	resp, err := c.Get(srv.URL + "/2.0/user/workspaces?pagelen=100")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || string(got) != body {
		t.Errorf("final response %d %q, want 429 %q", resp.StatusCode, got, body)
	}
	if hits.Load() != 1 {
		t.Errorf("server saw %d requests, want 1: retryablehttp does not count 429s", hits.Load())
	}
	want := []Exchange{{API: "bitbucket", Method: "GET", URL: srv.URL + "/2.0/user/workspaces?pagelen=100",
		Status: 429, Attempt: 1, ErrorBody: body}}
	ignoreTimes := cmp.FilterPath(func(p cmp.Path) bool {
		n := p.Last().String()
		return n == ".Duration" || n == ".Wait"
	}, cmp.Ignore())
	if diff := cmp.Diff(want, rec.Exchanges(), ignoreTimes); diff != "" {
		t.Errorf("exchanges (-want +got):\n%s", diff)
	}
	limited := rec.Limited()
	if len(limited) != 1 || limited[0].API != "bitbucket" || limited[0].Status != 429 ||
		limited[0].Wait < time.Millisecond || limited[0].Wait > 5*time.Millisecond {
		t.Errorf("RateLimited calls %+v, want one: bitbucket, 1ms..5ms, 429", limited)
	}
}

// A 429's Retry-After is the budget's pause, even above RetryWaitMax.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	c, rec := newTestClient(t, Options{RetryWaitMax: 10 * time.Millisecond})

	start := time.Now()
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
		t.Errorf("retried after %s, want about Retry-After's 1s", elapsed)
	}
	if got := rec.Limited(); len(got) != 1 || got[0].Wait != time.Second {
		t.Errorf("RateLimited calls %+v, want one with wait 1s", got)
	}
	if diff := cmp.Diff([]int{1, 2}, attempts(rec.Exchanges())); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestPostBodyReplayed(t *testing.T) {
	t.Parallel()
	const payload = `{"target":{"owner":"acme","name":"api","branch":"main"},"files":[]}`
	bodies := map[string]func() io.Reader{
		"strings.Reader": func() io.Reader { return strings.NewReader(payload) },
		"bytes.Buffer":   func() io.Reader { return bytes.NewBufferString(payload) },
		"plain reader":   func() io.Reader { return io.MultiReader(strings.NewReader(payload)) },
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, string(b))
				n := len(got)
				mu.Unlock()
				w.WriteHeader([]int{503, 429, 201}[min(n-1, 2)])
			}))
			t.Cleanup(srv.Close)
			c, _ := newTestClient(t, Options{})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, body())
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 201 {
				t.Errorf("status %d, want 201", resp.StatusCode)
			}
			if diff := cmp.Diff([]string{payload, payload, payload}, got); diff != "" {
				t.Errorf("bodies the server saw (-want +got):\n%s", diff)
			}
		})
	}
}

// Every send carries the credential and pays into the budget.
func TestEverySendAuthenticatesAndPays(t *testing.T) {
	t.Parallel()
	var hits, authorised atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") == "token secret-1234" {
			authorised.Add(1)
		}
		if hits.Load() < 3 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	cred, err := credential.Token(credential.SnykAPIToken, "token", "secret-1234")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ledger.Open(t.TempDir(), "snyk", "tok", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	b := NewBudget(BudgetConfig{API: "snyk", Limit: 10, Window: time.Hour, Ledger: f})
	c, rec := newTestClient(t, Options{Credential: cred, Budget: b})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || authorised.Load() != 3 {
		t.Errorf("status %d after %d authorised sends, want 200 after 3", resp.StatusCode, authorised.Load())
	}
	if n, _ := f.Used(time.Now()); n != 3 {
		t.Errorf("budget counted %d sends, want 3", n)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, attempts(rec.Exchanges())); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestErrorBodyPeekKeepsWholeBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("xxx ", 10<<8)
	srv, _ := statusServer(t, body, http.StatusBadRequest)
	c, rec := newTestClient(t, Options{})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != body {
		t.Errorf("caller read %d bytes, want all %d", len(got), len(body))
	}
	// The first 4 KiB, cut between words (so no token is cut in half).
	if es := rec.Exchanges(); len(es) != 1 || es[0].ErrorBody != body[:4096]+"…" {
		t.Errorf("ErrorBody not the first 4 KiB of the body")
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select { // hang until the client gives up on the attempt
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		io.WriteString(w, "late but fine")
	}))
	t.Cleanup(srv.Close)
	c, rec := newTestClient(t, Options{AttemptTimeout: 100 * time.Millisecond})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body) // the attempt's timeout must not cut the body short
	resp.Body.Close()
	if err != nil || string(got) != "late but fine" {
		t.Errorf("body %q, %v", got, err)
	}
	es := rec.Exchanges()
	if len(es) != 2 || !errors.Is(es[0].Err, context.DeadlineExceeded) || es[1].Status != 200 {
		t.Errorf("exchanges %+v, want a timed-out attempt then a 200", es)
	}
}

func TestCancelStopsWaits(t *testing.T) {
	t.Parallel()
	t.Run("backoff", func(t *testing.T) {
		t.Parallel()
		srv, hits := statusServer(t, "", http.StatusServiceUnavailable)
		c, _ := newTestClient(t, Options{RetryWaitMin: time.Minute, RetryWaitMax: time.Minute})
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			for hits.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		assertPromptCancel(t, c, ctx, srv.URL)
	})
	t.Run("budget", func(t *testing.T) {
		t.Parallel()
		srv, _ := statusServer(t, "", 200)
		c, _ := newTestClient(t, Options{Budget: spentBudget(t)})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		assertPromptCancel(t, c, ctx, srv.URL)
	})
}

// spentBudget admits one request an hour and has admitted it.
func spentBudget(t *testing.T) *Budget {
	t.Helper()
	f, err := ledger.Open(t.TempDir(), "bitbucket", "consumer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 1, Window: time.Hour, Ledger: f})
	if err := b.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	return b
}

// A budget that cannot serve the request before its deadline fails it at
// once instead of retrying until the deadline.
func TestBudgetSlotAfterDeadline(t *testing.T) {
	t.Parallel()
	srv, hits := statusServer(t, "", 200)
	c, rec := newTestClient(t, Options{Budget: spentBudget(t), RetryWaitMin: time.Second, RetryWaitMax: time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	_, err := c.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("err = %v after %s, want DeadlineExceeded at once", err, time.Since(start))
	}
	if hits.Load() != 0 || len(rec.Exchanges()) != 1 {
		t.Errorf("server hits %d, attempts %d; want 0 and 1", hits.Load(), len(rec.Exchanges()))
	}
}

func assertPromptCancel(t *testing.T, c *Client, ctx context.Context, url string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	start := time.Now()
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %s, want promptly", d)
	}
}

// A redirect's hop is a send of its own: budgeted, authorised, reported.
func TestRedirectHopIsReported(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
			return
		}
		io.WriteString(w, "here")
	}))
	t.Cleanup(srv.Close)
	c, rec := newTestClient(t, Options{})
	resp, err := c.Get(srv.URL + "/old")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got []string
	for _, e := range rec.Exchanges() {
		got = append(got, e.URL[len(srv.URL):]+" "+http.StatusText(e.Status))
	}
	if diff := cmp.Diff([]string{"/old Found", "/new OK"}, got); diff != "" {
		t.Errorf("exchanges (-want +got):\n%s", diff)
	}
}
