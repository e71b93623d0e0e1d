package bitbucket

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// An outage of the token endpoint when a renewal is due must not fail
// callers while the cached token still works; once it has expired, it must.
func TestTokenSource_renewalOutageKeepsValidToken(t *testing.T) {
	var down atomic.Bool
	var exchanges atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := exchanges.Add(1)
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(srv.Close)
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	src, err := NewTokenSource(TokenConfig{ClientID: testClientID, ClientSecret: testClientSecret, TokenURL: srv.URL, HTTPClient: srv.Client(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	token := func() (string, error) {
		tok, err := src.Token(t.Context())
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
	if got, err := token(); err != nil || got != "tok-1" {
		t.Fatalf("first token = %q, %v", got, err)
	}
	down.Store(true)
	clock.Advance(56 * time.Minute) // renewal due (55 min), token valid until 60 min
	if got, err := token(); err != nil || got != "tok-1" {
		t.Fatalf("during the outage, before expiry: token %q, err %v; want the cached tok-1", got, err)
	}
	before := exchanges.Load()
	if got, err := token(); err != nil || got != "tok-1" {
		t.Fatalf("second call during the outage: %q, %v", got, err)
	}
	if exchanges.Load() != before {
		t.Errorf("a failed renewal is retried on every call; want a pause of %s", renewRetry)
	}
	clock.Advance(4*time.Minute + 55*time.Second) // within the last seconds of the token
	if _, err := token(); err == nil {
		t.Fatal("an expiring token was handed out while the endpoint is down; want the error")
	}
	down.Store(false)
	if got, err := token(); err != nil || got == "tok-1" {
		t.Fatalf("after the outage: %q, %v; want a new token", got, err)
	}
}
