package httpx

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/credential"
)

// TestSend401Reauthorizes: which token a refused request is sent again
// with, and how often. Each case scripts the API's answer to sends 1, 2, 3
// (advancing the fake clock first, as a queue at the server would) and may
// renew the credential's token while send 1 is in flight.
func TestSend401Reauthorizes(t *testing.T) {
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
		// send 1 is in flight, so it is refused with a token that is no
		// longer the newest.
		renewDuringFirst bool
		answers          []answer
		wantStatus       int
		wantTokens       []string // bearer of each send, by issue number
		wantExchanges    int64
	}{
		{
			name: "stale token sent again with the newest, no extra exchange", expiresIn: 3600, renewDuringFirst: true,
			answers:    []answer{{0, 401}, {0, 200}},
			wantStatus: 200, wantTokens: []string{"1", "2"}, wantExchanges: 2,
		},
		{
			name: "newest token refused: a fresh exchange", expiresIn: 3600,
			answers:    []answer{{0, 401}, {0, 200}},
			wantStatus: 200, wantTokens: []string{"1", "2"}, wantExchanges: 2,
		},
		{
			name: "retry's token expired in the queue: sent once more with a newer one", expiresIn: 2,
			answers:    []answer{{0, 401}, {3 * time.Second, 401}, {0, 200}},
			wantStatus: 200, wantTokens: []string{"1", "2", "3"}, wantExchanges: 3,
		},
		{
			name: "newest token outlived by the queue: not reused, exchanged", expiresIn: 30, renewDuringFirst: true,
			answers: []answer{{40 * time.Second, 401}, {0, 200}},
			// Token 2 (issued during send 1) has 30 s left, less than the
			// 40 s send 1 queued: the retry gets token 3.
			wantStatus: 200, wantTokens: []string{"1", "3"}, wantExchanges: 3,
		},
		{
			name: "refused although its token is fresh: no second retry", expiresIn: 3600,
			answers:    []answer{{0, 401}, {0, 401}},
			wantStatus: 401, wantTokens: []string{"1", "2"}, wantExchanges: 2,
		},
		{
			name: "bounded: at most two re-authorisations", expiresIn: 2,
			answers:    []answer{{3 * time.Second, 401}, {3 * time.Second, 401}, {3 * time.Second, 401}},
			wantStatus: 401, wantTokens: []string{"1", "2", "3"}, wantExchanges: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ExpiresIn = tt.expiresIn })
			clock := apitest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			cred := ts.Consumer(t, clock.Now)
			var sends atomic.Int64
			var got []string
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(sends.Add(1))
				b, _ := io.ReadAll(r.Body)
				if string(b) != "payload" {
					t.Errorf("send %d: body %q; want payload replayed", n, b)
				}
				got = append(got, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "+apitest.TokenPrefix))
				if n > len(tt.answers) {
					t.Errorf("send %d; want at most %d", n, len(tt.answers))
					w.WriteHeader(500)
					return
				}
				a := tt.answers[n-1]
				if n == 1 && tt.renewDuringFirst {
					clock.Advance(time.Duration(tt.expiresIn) * time.Second * 95 / 100)
					if _, err := cred.Authorize(r.Context()); err != nil {
						t.Errorf("renewing: %v", err)
					}
				}
				clock.Advance(a.queue)
				w.WriteHeader(a.status)
			}))
			t.Cleanup(api.Close)
			c, _ := newTestClient(t, Options{Credential: cred, RetryMax: -1})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api.URL, bytes.NewReader([]byte("payload")))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			if !slices.Equal(got, tt.wantTokens) {
				t.Errorf("sends used tokens %v; want %v", got, tt.wantTokens)
			}
			if n := ts.Exchanges.Load(); n != tt.wantExchanges {
				t.Errorf("exchanges = %d; want %d", n, tt.wantExchanges)
			}
		})
	}
}

// TestSendKeepsCallersRequest: the request the caller built is never
// changed by the credential attached to its sends.
func TestSendKeepsCallersRequest(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, nil)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(api.Close)
	c, _ := newTestClient(t, Options{Credential: ts.Consumer(t, nil)})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, api.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := req.Header.Get("Authorization"); got != "" {
		t.Errorf("caller's request was modified: Authorization %q", got)
	}
	if credential.KindOf(resp) != credential.BitbucketConsumer {
		t.Errorf("the response does not name the credential it answered: %v", credential.KindOf(resp))
	}
}
