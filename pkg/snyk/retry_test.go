package snyk

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
)

// setupWithStack is setup with the real shared HTTP stack (retries, a
// budget that waits a 429 out for 100 ms, passthrough of the last answer)
// and waits of milliseconds.
func setupWithStack(t *testing.T) (*Client, *http.ServeMux) {
	t.Helper()
	hc, err := httpx.New(httpx.Options{
		API:        "snyk",
		Credential: testCredential(t),
		Budget: httpx.NewBudget(httpx.BudgetConfig{API: "snyk", PauseMin: time.Millisecond, PauseMax: 2 * time.Millisecond,
			RateLimitWait: 100 * time.Millisecond}),
		RetryMax:     3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("httpx.New: %v", err)
	}
	c, mux, _ := setup(t, WithHTTPClient(hc))
	return c, mux
}

// scripted answers with the given statuses in turn (the last one repeats)
// and records every request body.
type scripted struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
}

func (s *scripted) handle(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, b)
	status := s.statuses[min(n, len(s.statuses)-1)]
	s.mu.Unlock()
	switch status {
	case 0: // drop the connection after reading the request
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	case http.StatusCreated:
		w.Header().Set("Location", "https://api.snyk.io/v1/org/o/integrations/i/import/job-1")
		w.WriteHeader(status)
	case http.StatusOK:
		writeJSON(w, status, []byte(`{"bitbucket-cloud-app":"i"}`))
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "0")
		writeJSON(w, status, []byte(`{"code":429,"message":"Too many requests"}`))
	default:
		writeJSON(w, status, []byte(`{"code":500,"message":"Internal server error"}`))
	}
}

func (s *scripted) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// TestClient_ImportTarget_neverRetriedAfterServerAnswer checks SPEC §5: the
// import POST is retried on 429 and 503 (Snyk refused to handle it) only;
// once Snyk answered 500, 502 or 504, or the connection broke after the
// request was sent, it is not sent again.
func TestClient_ImportTarget_neverRetriedAfterServerAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		statuses     []int
		wantAttempts int
		wantOK       bool
		check        func(t *testing.T, err error)
	}{
		{name: "500 once", statuses: []int{500, 201}, wantAttempts: 1, check: wantStatus(500)},
		{name: "502 once", statuses: []int{502, 201}, wantAttempts: 1, check: wantStatus(502)},
		{name: "504 once", statuses: []int{504, 201}, wantAttempts: 1, check: wantStatus(504)},
		// 503: Snyk would not handle the request, so it did not act on it.
		{name: "503 then 201 is retried", statuses: []int{503, 201}, wantAttempts: 2, wantOK: true},
		{name: "connection dropped after sending", statuses: []int{0, 201}, wantAttempts: 1},
		{name: "429 then 201 is retried", statuses: []int{429, 429, 201}, wantAttempts: 3, wantOK: true},
		// The budget, not RetryMax, decides how long: many sends, then typed.
		{name: "429 forever ends typed", statuses: []int{429}, wantAttempts: -1, check: func(t *testing.T, err error) {
			var rl *RateLimitError
			if !errors.As(err, &rl) {
				t.Errorf("error = %v; want *RateLimitError", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setupWithStack(t)
			s := &scripted{statuses: tt.statuses}
			mux.HandleFunc("POST /org/{orgId}/integrations/{integrationId}/import", s.handle)
			loc, err := c.ImportTarget(t.Context(), "o", "i", ImportRequest{Target: json.RawMessage(`{"owner":"acme","name":"api","branch":"main"}`)})
			if got := s.attempts(); got != tt.wantAttempts && (tt.wantAttempts >= 0 || got < 5) {
				t.Errorf("import POST sent %d times; want %d", got, tt.wantAttempts)
			}
			if tt.wantOK {
				if err != nil || loc == "" {
					t.Fatalf("ImportTarget() = %q, %v; want a Location", loc, err)
				}
				for i, b := range s.bodies {
					if !bytes.Equal(b, s.bodies[0]) || len(b) == 0 {
						t.Errorf("attempt %d body = %q; want the first attempt's %q", i+1, b, s.bodies[0])
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("ImportTarget() = %q, nil; want an error", loc)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

func wantStatus(code int) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var er *ErrorResponse
		if !errors.As(err, &er) || er.StatusCode != code {
			t.Errorf("error = %v; want an *ErrorResponse with status %d", err, code)
		}
	}
}

// TestClient_GETRetriedAfterServerError is the contrast: reads are safe to
// repeat, so the same stack retries them on 5xx and dropped connections.
func TestClient_GETRetriedAfterServerError(t *testing.T) {
	t.Parallel()
	for _, first := range []int{500, 0} {
		c, mux := setupWithStack(t)
		s := &scripted{statuses: []int{first, 200}}
		mux.HandleFunc("GET /org/{orgId}/integrations", s.handle)
		got, err := c.ListIntegrations(t.Context(), "o")
		if err != nil || got["bitbucket-cloud-app"] != "i" {
			t.Errorf("first answer %d: ListIntegrations() = %v, %v; want the integrations", first, got, err)
		}
		if s.attempts() != 2 {
			t.Errorf("first answer %d: GET sent %d times; want 2", first, s.attempts())
		}
	}
}
