package bitbucket

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestOAuthTransport_401Retries: which token a refused request is retried
// with, and how often. Each case scripts the API's answer to attempts 1, 2,
// 3 (advancing the fake clock first, as a queue at the server would) and a
// hook that may renew the source's token while attempt 1 is in flight.
func TestOAuthTransport_401Retries(t *testing.T) {
	t.Parallel()
	type answer struct {
		queue  time.Duration // fake time spent queued before the answer
		status int
	}
	tests := []struct {
		name string
		// expiresIn of the issued tokens, seconds.
		expiresIn int
		// renewDuringFirst moves the clock past renewal and renews while
		// attempt 1 is in flight, so it is refused with a token that is no
		// longer the newest.
		renewDuringFirst bool
		answers          []answer
		wantStatus       int
		wantTokens       []string // bearer of each attempt, by issue number
		wantExchanges    int64
	}{
		{
			name: "stale token retried with the newest, no extra exchange", expiresIn: 3600, renewDuringFirst: true,
			answers:    []answer{{0, 401}, {0, 200}},
			wantStatus: 200, wantTokens: []string{"1", "2"}, wantExchanges: 2,
		},
		{
			name: "newest token refused: a fresh exchange", expiresIn: 3600,
			answers:    []answer{{0, 401}, {0, 200}},
			wantStatus: 200, wantTokens: []string{"1", "2"}, wantExchanges: 2,
		},
		{
			name: "retry's token expired in the queue: retried once more with a newer one", expiresIn: 2,
			answers:    []answer{{0, 401}, {3 * time.Second, 401}, {0, 200}},
			wantStatus: 200, wantTokens: []string{"1", "2", "3"}, wantExchanges: 3,
		},
		{
			name: "newest token outlived by the queue: not reused, exchanged", expiresIn: 30, renewDuringFirst: true,
			answers: []answer{{40 * time.Second, 401}, {0, 200}},
			// Token 2 (issued during attempt 1) has 30 s left, less than the
			// 40 s attempt 1 queued: the retry gets token 3.
			wantStatus: 200, wantTokens: []string{"1", "3"}, wantExchanges: 3,
		},
		{
			name: "retry refused although its token is fresh: no second retry", expiresIn: 3600,
			answers:    []answer{{0, 401}, {0, 401}},
			wantStatus: 401, wantTokens: []string{"1", "2"}, wantExchanges: 2,
		},
		{
			name: "bounded: at most two retries", expiresIn: 2,
			answers:    []answer{{3 * time.Second, 401}, {3 * time.Second, 401}, {3 * time.Second, 401}},
			wantStatus: 401, wantTokens: []string{"1", "2", "3"}, wantExchanges: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t, func(ts *tokenServer) { ts.expiresIn = tt.expiresIn })
			clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			src := newTestTokenSource(t, ts, clock.Now)
			var attempts atomic.Int64
			var got []string
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(attempts.Add(1))
				b, _ := io.ReadAll(r.Body)
				if string(b) != "payload" {
					t.Errorf("attempt %d: body %q; want payload replayed", n, b)
				}
				got = append(got, bearerOf(r)[len(testTokenPrefix):])
				if n > len(tt.answers) {
					t.Errorf("attempt %d; want at most %d", n, len(tt.answers))
					w.WriteHeader(500)
					return
				}
				a := tt.answers[n-1]
				if n == 1 && tt.renewDuringFirst {
					clock.Advance(time.Duration(tt.expiresIn) * time.Second * 95 / 100)
					if _, err := src.Token(r.Context()); err != nil {
						t.Errorf("renewing: %v", err)
					}
				}
				clock.Advance(a.queue)
				w.WriteHeader(a.status)
			}))
			t.Cleanup(api.Close)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api.URL, bytes.NewReader([]byte("payload")))
			resp, err := OAuthTransport(src, nil).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			if !slices.Equal(got, tt.wantTokens) {
				t.Errorf("attempts used tokens %v; want %v", got, tt.wantTokens)
			}
			if n := ts.exchanges.Load(); n != tt.wantExchanges {
				t.Errorf("exchanges = %d; want %d", n, tt.wantExchanges)
			}
		})
	}
}
