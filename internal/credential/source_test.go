package credential_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

var start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func bearer(t *testing.T, c *credential.Credential, ctx context.Context) string {
	t.Helper()
	tok, err := token(c, ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// token is the bearer token c authorizes a request with now.
func token(c *credential.Credential, ctx context.Context) (string, error) {
	a, err := c.Authorize(ctx)
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	return strings.TrimPrefix(a.Attach(req).Header.Get("Authorization"), "Bearer "), nil
}

func TestClientCredentialsValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg   credential.Config
		field string
	}{
		{credential.Config{ClientSecret: "x", TokenURL: "https://t"}, "ClientID"},
		{credential.Config{ClientID: " ", ClientSecret: "x", TokenURL: "https://t"}, "ClientID"},
		{credential.Config{ClientID: "x", TokenURL: "https://t"}, "ClientSecret"},
		{credential.Config{ClientID: "x", ClientSecret: "y"}, "TokenURL"},
	}
	for _, tt := range tests {
		_, err := credential.ClientCredentials(credential.SnykServiceAccount, tt.cfg)
		fe, ok := errors.AsType[*credential.FieldError](err)
		if !ok || fe.Field != tt.field || fe.Problem != "is empty" {
			t.Errorf("ClientCredentials(%+v) error = %v; want %s is empty", tt.cfg, err, tt.field)
		}
	}
}

// The two configurations of one source: Bitbucket's consumer sends its key
// and secret as HTTP credential.Basic, a Snyk service account in the form (the token
// server checks which).
func TestClientCredentialsAuthStyles(t *testing.T) {
	t.Parallel()
	for _, inForm := range []bool{false, true} {
		ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.InForm = inForm })
		if got := bearer(t, ts.Consumer(t, nil), t.Context()); got != apitest.TokenPrefix+"1" {
			t.Errorf("InForm %v: token %q", inForm, got)
		}
	}
}

func TestScopesAndTokenShareTheCache(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.Scopes = "account project repository team" })
	c := ts.Consumer(t, nil)
	got, minted, err := c.Scopes(t.Context())
	if err != nil || !minted {
		t.Fatal(err, minted)
	}
	if diff := cmp.Diff([]string{"account", "project", "repository", "team"}, got); diff != "" {
		t.Errorf("Scopes mismatch (-want +got):\n%s", diff)
	}
	bearer(t, c, t.Context())
	if n := ts.Exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d; want 1 (Scopes and Authorize share the cached token)", n)
	}
}

func TestConcurrentCallersShareOneExchange(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.FirstWait = 50 * time.Millisecond })
	var minted atomic.Int64
	c, err := credential.ClientCredentials(credential.SnykServiceAccount, credential.Config{ClientID: apitest.TokenClientID, ClientSecret: apitest.TokenClientSecret,
		TokenURL: ts.URL, Minted: func(string) { minted.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	tokens := make([]string, 50)
	for i := range tokens {
		wg.Go(func() { tokens[i] = bearer(t, c, t.Context()) })
	}
	wg.Wait()
	if n, m := ts.Exchanges.Load(), minted.Load(); n != 1 || m != 1 {
		t.Errorf("exchanges = %d, Minted calls = %d; want 1, 1", n, m)
	}
	for i, tok := range tokens {
		if tok != apitest.TokenPrefix+"1" {
			t.Errorf("tokens[%d] = %q; want the shared token", i, tok)
		}
	}
}

func TestRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		expiresIn int
		keep      time.Duration // still cached at this age
		renew     time.Duration // renewed at this age
	}{
		{"one hour renews 5 min early", 3600, 54*time.Minute + 59*time.Second, 55 * time.Minute},
		{"two hours renews 5 min early", 7200, 114 * time.Minute, 115 * time.Minute},
		{"missing expires_in means 50 min", 0, 44*time.Minute + 59*time.Second, 45 * time.Minute},
		{"1 s renews after 800 ms", 1, 799 * time.Millisecond, 800 * time.Millisecond},
		{"60 s renews after 48 s", 60, 47 * time.Second, 48 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ExpiresIn = tt.expiresIn })
			clock := apitest.NewClock(start)
			c := ts.Consumer(t, clock.Now)
			mustToken := func(want string) {
				t.Helper()
				if got := bearer(t, c, t.Context()); got != want {
					t.Errorf("at +%v: token %q; want %q", clock.Now().Sub(start), got, want)
				}
			}
			mustToken(apitest.TokenPrefix + "1")
			clock.Advance(tt.keep)
			mustToken(apitest.TokenPrefix + "1")
			clock.Advance(tt.renew - tt.keep)
			mustToken(apitest.TokenPrefix + "2")
			mustToken(apitest.TokenPrefix + "2")
			if n := ts.Exchanges.Load(); n != 2 {
				t.Errorf("exchanges = %d; want 2", n)
			}
		})
	}
}

// An outage of the token endpoint when a renewal is due must not fail
// callers while the cached token still works; once it has expired, it must.
func TestRenewalOutageKeepsValidToken(t *testing.T) {
	t.Parallel()
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
	clock := apitest.NewClock(start)
	c, err := credential.ClientCredentials(credential.BitbucketConsumer, credential.Config{ClientID: "id", ClientSecret: "secret", TokenURL: srv.URL, HTTPClient: srv.Client(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	token := func() (string, error) { return token(c, t.Context()) }
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
		t.Errorf("a failed renewal is retried on every call; want a pause")
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

// A caller waiting on an exchange whose leader gave up (its context ended)
// does the exchange itself.
func TestLeaderCancelled(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 4)
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.FirstWait = 10 * time.Second; ts.Started = started })
	c := ts.Consumer(t, nil)

	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Authorize(leaderCtx)
		leaderErr <- err
	}()
	<-started // the leader's exchange is at the server

	waiter := make(chan error, 1)
	go func() {
		tok, err := token(c, t.Context())
		if err == nil && tok != apitest.TokenPrefix+"2" {
			err = fmt.Errorf("token %q", tok)
		}
		waiter <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter join the flight
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("leader error = %v; want context.Canceled", err)
	}
	<-started
	if err := <-waiter; err != nil {
		t.Errorf("waiter error = %v; want a token", err)
	}
}

func TestCallerCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 4)
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.FirstWait = 10 * time.Second; ts.Started = started })
	c := ts.Consumer(t, nil)
	go c.Authorize(t.Context()) // leader, stuck at the server until the test ends
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Authorize(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Authorize error = %v; want context.DeadlineExceeded", err)
	}
}

// A refused exchange is a *credential.TokenError naming whose exchange failed, worded
// for that API, with the secret scrubbed from what the endpoint echoed.
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind   credential.Kind
		status int
		body   string
		want   string
	}{
		{credential.SnykServiceAccount, 401, `{"error":"invalid_client","error_description":"bad secret ` + apitest.TokenClientSecret + `"}`,
			"Snyk rejected the service account's client id or secret (invalid_client: bad secret [REDACTED])"},
		{credential.BitbucketConsumer, 400, `{"error":"invalid_client","error_description":"Invalid OAuth client credentials"}`,
			"Bitbucket rejected the OAuth consumer key or secret (invalid_client: Invalid OAuth client credentials)"},
		{credential.BitbucketConsumer, 400, `{"error":"unauthorized_client","error_description":"Client credentials grant is not allowed for public consumers."}`,
			"the OAuth consumer is public (unauthorized_client: Client credentials grant is not allowed for public consumers.); client_credentials needs a private consumer"},
		{credential.SnykServiceAccount, 401, `{}`, "the Snyk token endpoint answered 401 Unauthorized without an OAuth error"},
	}
	for _, tt := range tests {
		ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ErrStatus, ts.ErrBody = tt.status, tt.body })
		c, err := credential.ClientCredentials(tt.kind, credential.Config{ClientID: apitest.TokenClientID, ClientSecret: apitest.TokenClientSecret, TokenURL: ts.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Authorize(t.Context())
		te, ok := errors.AsType[*credential.TokenError](err)
		if !ok || te.Kind != tt.kind || !te.CredentialsRejected() || te.Retryable() {
			t.Fatalf("error = %#v; want a rejecting *credential.TokenError of %v", err, tt.kind)
		}
		if err.Error() != tt.want {
			t.Errorf("error = %q; want %q", err, tt.want)
		}
		if _, ok := errors.AsType[*oauth2.RetrieveError](err); !ok {
			t.Error("TokenError does not unwrap to *oauth2.RetrieveError")
		}
	}
}

// A refusal is final: the endpoint would refuse the same secret again, so
// later callers get it at once, without another exchange.
func TestRefusalIsRemembered(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) {
		ts.ErrStatus, ts.ErrBody = 401, `{"error":"invalid_client"}`
	})
	c := ts.Consumer(t, nil)
	for range 5 {
		if _, err := c.Authorize(t.Context()); err == nil {
			t.Fatal("Authorize succeeded")
		}
	}
	if n := ts.Exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d; want 1", n)
	}
}
