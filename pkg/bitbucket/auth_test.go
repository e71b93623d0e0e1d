package bitbucket

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

const (
	testClientID     = "consumer-key"
	testClientSecret = "cs-VERY-secret-0123456789"
	testTokenPrefix  = "at-VERY-secret-"
)

// tokenServer is a fake Bitbucket token endpoint issuing at-VERY-secret-N.
type tokenServer struct {
	URL       string
	exchanges atomic.Int64
	issued    sync.Map // access token → time.Time

	expiresIn int           // seconds; 0 leaves expires_in out
	sameToken bool          // always issue the same token
	scopes    string        // the `scopes` field
	firstWait time.Duration // delay of the first exchange
	started   chan struct{} // receives when an exchange starts, if non-nil
	errStatus int           // when non-zero, answer with errBody
	errBody   string
}

func newTokenServer(t *testing.T, configure func(*tokenServer)) *tokenServer {
	t.Helper()
	ts := &tokenServer{expiresIn: 3600, scopes: "account repository"}
	if configure != nil {
		configure(ts)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.exchanges.Add(1)
		if ts.started != nil {
			ts.started <- struct{}{}
		}
		testMethod(t, r, http.MethodPost)
		testHeader(t, r, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testClientSecret)))
		testHeader(t, r, "Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		if diff := cmp.Diff(url.Values{"grant_type": {"client_credentials"}}, r.PostForm); diff != "" {
			t.Errorf("token form mismatch (-want +got):\n%s", diff)
		}
		if n == 1 && ts.firstWait > 0 {
			select {
			case <-time.After(ts.firstWait):
			case <-r.Context().Done():
				return
			}
		}
		if ts.errStatus != 0 {
			writeJSON(w, ts.errStatus, []byte(ts.errBody))
			return
		}
		tok := fmt.Sprintf("%s%d", testTokenPrefix, n)
		if ts.sameToken {
			tok = testTokenPrefix + "same"
		}
		ts.issued.Store(tok, time.Now())
		body := map[string]any{"access_token": tok, "token_type": "bearer", "scopes": ts.scopes, "state": "client_credentials"}
		if ts.expiresIn > 0 {
			body["expires_in"] = ts.expiresIn
		}
		b, _ := json.Marshal(body)
		writeJSON(w, 200, b)
	}))
	t.Cleanup(srv.Close)
	ts.URL = srv.URL + "/site/oauth2/access_token"
	return ts
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestTokenSource(t *testing.T, ts *tokenServer, now func() time.Time) *TokenSource {
	t.Helper()
	src, err := NewTokenSource(TokenConfig{ClientID: testClientID, ClientSecret: testClientSecret, TokenURL: ts.URL, Now: now})
	if err != nil {
		t.Fatalf("NewTokenSource: %v", err)
	}
	return src
}

// oauthSetup returns a client whose transport is OAuthTransport over a token
// source talking to ts.
func oauthSetup(t *testing.T, ts *tokenServer, now func() time.Time) (*Client, *http.ServeMux, string, *TokenSource) {
	t.Helper()
	src := newTestTokenSource(t, ts, now)
	hc := &http.Client{Transport: OAuthTransport(src, nil)}
	c, mux, base := setup(t, WithHTTPClient(hc), WithAuthKind(AuthOAuthConsumer))
	return c, mux, base, src
}

// bearerOf returns the token of an `Authorization: Bearer` header.
func bearerOf(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func TestNewTokenSource_validation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  TokenConfig
		want string
	}{
		{"no id", TokenConfig{ClientSecret: "x"}, "bitbucket: the OAuth consumer key is empty; set BITBUCKET_APP_CLIENT_ID"},
		{"no secret", TokenConfig{ClientID: "x"}, "bitbucket: the OAuth consumer secret is empty; set BITBUCKET_APP_CLIENT_SECRET"},
		{"plain http", TokenConfig{ClientID: "x", ClientSecret: "y", TokenURL: "http://bitbucket.org/site/oauth2/access_token"},
			`bitbucket: the token URL (BITBUCKET_APP_TOKEN_URL): "http://bitbucket.org/site/oauth2/access_token" uses plain http; use https (plain http is accepted only for loopback hosts such as 127.0.0.1 or localhost)`},
	}
	for _, tt := range tests {
		_, err := NewTokenSource(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: NewTokenSource() error = %v; want %q", tt.name, err, tt.want)
		}
	}
	src, err := NewTokenSource(TokenConfig{ClientID: "x", ClientSecret: "y"})
	if err != nil || src.cfg.TokenURL != DefaultTokenURL || src.cfg.AuthStyle != oauth2.AuthStyleInHeader {
		t.Errorf("defaults: token URL %q, auth style %v, err %v", src.cfg.TokenURL, src.cfg.AuthStyle, err)
	}
}

func TestTokenSource_ScopesAndRequest(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.scopes = "account project repository team" })
	src := newTestTokenSource(t, ts, nil)
	got, err := src.Scopes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"account", "project", "repository", "team"}, got); diff != "" {
		t.Errorf("Scopes mismatch (-want +got):\n%s", diff)
	}
	if _, err := src.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := ts.exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d; want 1 (Scopes and Token share the cached token)", n)
	}
}

func TestTokenSource_concurrentCallersShareOneExchange(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.firstWait = 50 * time.Millisecond })
	src := newTestTokenSource(t, ts, nil)

	var wg sync.WaitGroup
	tokens := make([]string, 50)
	for i := range tokens {
		wg.Go(func() {
			tok, err := src.Token(t.Context())
			if err != nil {
				t.Errorf("Token: %v", err)
				return
			}
			tokens[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if n := ts.exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d; want 1", n)
	}
	for i, tok := range tokens {
		if tok != testTokenPrefix+"1" {
			t.Errorf("tokens[%d] = %q; want the shared token", i, tok)
		}
	}
}

func TestOAuthTransport_fiftyListingsOneExchange(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.firstWait = 50 * time.Millisecond })
	c, mux, base, _ := oauthSetup(t, ts, nil)
	serveRepos(t, mux, base, "acme", 250)

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			repos, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil))
			if err != nil || len(repos) != 250 {
				t.Errorf("ListRepositoriesIter: %d repos, err %v", len(repos), err)
			}
		})
	}
	wg.Wait()
	if n := ts.exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d; want 1", n)
	}
}

// A lifetime that overflowed time.Duration renewed the token on every call
// (43 exchanges for 60 requests); clamped, one exchange serves them all.
func TestOAuthTransport_hugeExpiresInOneExchange(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.expiresIn = 9_300_000_000 })
	c, mux, base, _ := oauthSetup(t, ts, nil)
	serveRepos(t, mux, base, "acme", 10)
	for range 60 {
		if _, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d for 60 listings; want 1", n)
	}
}

func TestTokenSource_renewal(t *testing.T) {
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
			ts := newTokenServer(t, func(ts *tokenServer) { ts.expiresIn = tt.expiresIn })
			clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
			src := newTestTokenSource(t, ts, clock.Now)
			ctx := t.Context()

			mustToken := func(want string) {
				t.Helper()
				tok, err := src.Token(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken != want {
					t.Errorf("at +%v: token %q; want %q", clock.Now().Sub(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)), tok.AccessToken, want)
				}
			}
			mustToken(testTokenPrefix + "1")
			clock.Advance(tt.keep)
			mustToken(testTokenPrefix + "1")
			clock.Advance(tt.renew - tt.keep)
			mustToken(testTokenPrefix + "2")
			mustToken(testTokenPrefix + "2")
			if n := ts.exchanges.Load(); n != 2 {
				t.Errorf("exchanges = %d; want 2", n)
			}
		})
	}
}

// TestOAuthTransport_shortTTL lists for longer than a 1 s token lives against
// an API that rejects tokens older than 1 s: the token is renewed ahead of
// time, so the API never has to answer 401.
func TestOAuthTransport_shortTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 2 s")
	}
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.expiresIn = 1 })
	c, mux, _, _ := oauthSetup(t, ts, nil)
	var rejected atomic.Int64
	const pages = 7
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		issued, ok := ts.issued.Load(bearerOf(r))
		if !ok || time.Since(issued.(time.Time)) > time.Second {
			rejected.Add(1)
			writeJSON(w, 401, fixture(t, "error-401-expired.json", ""))
			return
		}
		time.Sleep(300 * time.Millisecond)
		page := 1
		fmt.Sscan(r.URL.Query().Get("page"), &page)
		body := fmt.Sprintf(`{"values":[{"slug":"r%d"}]`, page)
		if page < pages {
			body += fmt.Sprintf(`,"next":"acme?page=%d"`, page+1)
		}
		writeJSON(w, 200, []byte(body+"}"))
	})
	repos, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil))
	if err != nil || len(repos) != pages {
		t.Fatalf("ListRepositoriesIter: %d repos, err %v; want %d, nil", len(repos), err, pages)
	}
	if n := rejected.Load(); n != 0 {
		t.Errorf("API rejected %d expired tokens; want 0", n)
	}
	if n := ts.exchanges.Load(); n < 2 {
		t.Errorf("exchanges = %d; want the token renewed at least once", n)
	}
}

func TestOAuthTransport_401RenewsAndRetriesOnce(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	c, mux, _, _ := oauthSetup(t, ts, nil)
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if bearerOf(r) == testTokenPrefix+"1" {
			writeJSON(w, 401, fixture(t, "error-401-expired.json", ""))
			return
		}
		writeJSON(w, 200, []byte(`{"values":[{"slug":"a"}]}`))
	})
	ok, err := hasRepositories(t.Context(), c, "acme")
	if err != nil || !ok {
		t.Fatalf("hasRepositories = %v, %v; want true, nil", ok, err)
	}
	if e, r := ts.exchanges.Load(), requests.Load(); e != 2 || r != 2 {
		t.Errorf("exchanges = %d, API requests = %d; want 2, 2", e, r)
	}
}

func TestOAuthTransport_401Persists(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	c, mux, base, _ := oauthSetup(t, ts, nil)
	var requests atomic.Int64
	mux.HandleFunc("GET /user/workspaces", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		writeJSON(w, 401, fixture(t, "error-401-expired.json", ""))
	})
	_, err := collect(t, c.ListWorkspacesIter(t.Context()))
	if !httpx.CredentialsRejected(err) {
		t.Fatalf("ListWorkspacesIter error = %v; want an auth error", err)
	}
	want := "Bitbucket rejected the credentials (GET " +
		base + "/user/workspaces?pagelen=100 answered 401: Access token expired.)"
	if err.Error() != want {
		t.Errorf("error = %q;\nwant %q", err, want)
	}
	if e, r := ts.exchanges.Load(), requests.Load(); e != 2 || r != 2 {
		t.Errorf("exchanges = %d, API requests = %d; want 2, 2", e, r)
	}
}

func TestOAuthTransport_concurrent401sRenewOnce(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	c, mux, _, src := oauthSetup(t, ts, nil)
	if _, err := src.Token(t.Context()); err != nil { // everyone starts with token 1
		t.Fatal(err)
	}
	var rejected atomic.Int64
	start := make(chan struct{})
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		if bearerOf(r) == testTokenPrefix+"1" {
			rejected.Add(1)
			<-start // hold every first attempt until all 50 are in flight
			writeJSON(w, 401, fixture(t, "error-401-expired.json", ""))
			return
		}
		writeJSON(w, 200, []byte(`{"values":[{"slug":"a"}]}`))
	})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if ok, err := hasRepositories(t.Context(), c, "acme"); err != nil || !ok {
				t.Errorf("hasRepositories = %v, %v", ok, err)
			}
		})
	}
	for rejected.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	close(start)
	wg.Wait()
	if n := ts.exchanges.Load(); n != 2 {
		t.Errorf("exchanges = %d; want 2 (the first token and one renewal)", n)
	}
}

func TestOAuthTransport_sameTokenNoRetry(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) { ts.sameToken = true })
	c, mux, _, _ := oauthSetup(t, ts, nil)
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		writeJSON(w, 401, fixture(t, "error-401-expired.json", ""))
	})
	_, err := hasRepositories(t.Context(), c, "acme")
	if !httpx.CredentialsRejected(err) {
		t.Fatalf("error = %v; want an auth error", err)
	}
	if e, r := ts.exchanges.Load(), requests.Load(); e != 2 || r != 1 {
		t.Errorf("exchanges = %d, API requests = %d; want 2, 1 (no retry with the same token)", e, r)
	}
}

func TestOAuthTransport_bodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		body         func() (io.Reader, bool) // reader, whether GetBody is kept
		wantRequests int64
		wantStatus   int
	}{
		{"replayable body retried", func() (io.Reader, bool) { return bytes.NewReader([]byte("payload")), true }, 2, 200},
		{"one-shot body not retried", func() (io.Reader, bool) { return bytes.NewReader([]byte("payload")), false }, 1, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTokenServer(t, nil)
			src := newTestTokenSource(t, ts, nil)
			var requests atomic.Int64
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				b, _ := io.ReadAll(r.Body)
				if string(b) != "payload" {
					t.Errorf("body = %q; want payload", b)
				}
				if bearerOf(r) == testTokenPrefix+"1" {
					w.WriteHeader(401)
					return
				}
				w.WriteHeader(200)
			}))
			t.Cleanup(api.Close)
			rd, keep := tt.body()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api.URL, rd)
			if !keep {
				req.GetBody = nil
			}
			resp, err := OAuthTransport(src, nil).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || requests.Load() != tt.wantRequests {
				t.Errorf("status %d after %d requests; want %d after %d", resp.StatusCode, requests.Load(), tt.wantStatus, tt.wantRequests)
			}
			if got := req.Header.Get("Authorization"); got != "" {
				t.Errorf("caller's request was modified: Authorization %q", got)
			}
		})
	}
}

func TestOAuthTransport_tokenErrorReachesCaller(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(ts *tokenServer) {
		ts.errStatus = 400
		ts.errBody = string(fixture(t, "token-error-unauthorized_client.json", ""))
	})
	c, mux, _, _ := oauthSetup(t, ts, nil)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("API called without a token: %s", r.URL)
	})
	_, err := collect(t, c.ListWorkspacesIter(t.Context()))
	te, ok := errors.AsType[*TokenError](err)
	if !ok || te.Code != "unauthorized_client" || !httpx.CredentialsRejected(err) {
		t.Fatalf("error = %#v; want a *TokenError unauthorized_client", err)
	}
	if want := "the OAuth consumer is public (unauthorized_client: Client credentials grant is not allowed for public consumers.); client_credentials needs a private consumer"; err.Error() != want {
		t.Errorf("error = %q; want %q", err, want)
	}
	if _, ok := errors.AsType[*oauth2.RetrieveError](err); !ok {
		t.Error("TokenError does not unwrap to *oauth2.RetrieveError")
	}
}

// TestTokenSource_leaderCancelled: a caller waiting on an exchange whose
// leader gave up (its context ended) does the exchange itself.
func TestTokenSource_leaderCancelled(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 4)
	ts := newTokenServer(t, func(ts *tokenServer) { ts.firstWait = 10 * time.Second; ts.started = started })
	src := newTestTokenSource(t, ts, nil)

	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := src.Token(leaderCtx)
		leaderErr <- err
	}()
	<-started // the leader's exchange is at the server

	waiter := make(chan error, 1)
	go func() {
		tok, err := src.Token(t.Context())
		if err == nil && tok.AccessToken != testTokenPrefix+"2" {
			err = fmt.Errorf("token %q", tok.AccessToken)
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

func TestTokenSource_callerCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 4)
	ts := newTokenServer(t, func(ts *tokenServer) { ts.firstWait = 10 * time.Second; ts.started = started })
	src := newTestTokenSource(t, ts, nil)
	go src.Token(t.Context()) // leader, stuck at the server until the test ends
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := src.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token error = %v; want context.DeadlineExceeded", err)
	}
}

func TestStaticTransports(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name string
		rt   http.RoundTripper
		want string
	}{
		{"basic", BasicTransport("jdoe", "app-pass", nil), "Basic " + base64.StdEncoding.EncodeToString([]byte("jdoe:app-pass"))},
		{"basic email", BasicTransport("jane@example.com", "api-tok", nil), "Basic " + base64.StdEncoding.EncodeToString([]byte("jane@example.com:api-tok"))},
		{"bearer", BearerTransport("tok", nil), "Bearer tok"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		resp, err := tt.rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got.Load() != tt.want {
			t.Errorf("%s: Authorization = %q; want %q", tt.name, got.Load(), tt.want)
		}
		if req.Header.Get("Authorization") != "" {
			t.Errorf("%s: the caller's request was modified", tt.name)
		}
	}
}

func TestTokenTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		extra map[string]any
		want  time.Duration
	}{
		{map[string]any{"expires_in": float64(7200)}, 2 * time.Hour},
		{map[string]any{"expires_in": int64(60)}, time.Minute},
		{map[string]any{"expires_in": "3600"}, time.Hour},
		{map[string]any{"expires_in": json.Number("1.5")}, 1500 * time.Millisecond},
		{map[string]any{"expires_in": "soon"}, 50 * time.Minute},
		{map[string]any{"expires_in": float64(0)}, 50 * time.Minute},
		{map[string]any{}, 50 * time.Minute},
		{map[string]any{"expires_in": float64(9.3e9)}, 24 * time.Hour},
		{map[string]any{"expires_in": "1e300"}, 24 * time.Hour},
		{map[string]any{"expires_in": "+Inf"}, 24 * time.Hour},
		{map[string]any{"expires_in": "NaN"}, 50 * time.Minute},
		{map[string]any{"expires_in": float64(-5)}, 50 * time.Minute},
	}
	for _, tt := range tests {
		tok := (&oauth2.Token{AccessToken: "x"}).WithExtra(tt.extra)
		if got := tokenTTL(tok); got != tt.want {
			t.Errorf("tokenTTL(%v) = %v; want %v", tt.extra, got, tt.want)
		}
	}
}

func TestTokenSource_fixtureResponse(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, fixture(t, "token.json", ""))
	}))
	t.Cleanup(srv.Close)
	clock := &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	src, err := NewTokenSource(TokenConfig{ClientID: "id", ClientSecret: "secret", TokenURL: srv.URL, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	scopes, err := src.Scopes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"account", "project", "repository", "team"}, scopes); diff != "" {
		t.Errorf("Scopes mismatch (-want +got):\n%s", diff)
	}
	if want := clock.Now().Add(115 * time.Minute); !src.renewAt.Equal(want) {
		t.Errorf("renewAt = %v; want %v (expires_in 7200 less 5 min)", src.renewAt, want)
	}
}
