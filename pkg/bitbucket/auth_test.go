package bitbucket

import (
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
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/google/go-cmp/cmp"
)

// The client on the real stack with an OAuth consumer minting at a fake
// token endpoint: what the credential and the stack do for a listing.

// stack is the httpx stack with cred and no retries of failures; 429s are
// the answer at once.
func stack(t *testing.T, cred *credential.Credential) *httpx.Client {
	t.Helper()
	hc, err := httpx.New(httpx.Options{API: "bitbucket", Credential: cred, RetryMax: -1, Budget: httpx.NewBudget(httpx.BudgetConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// oauthSetup returns a client whose stack carries a consumer minting at ts.
func oauthSetup(t *testing.T, ts *apitest.TokenServer) (*Client, *http.ServeMux, string, *credential.Credential) {
	t.Helper()
	cred := ts.Consumer(t, nil)
	c, mux, base := setup(t, WithHTTPClient(stack(t, cred)))
	return c, mux, base, cred
}

// bearerOf returns the token of an `Authorization: Bearer` header.
func bearerOf(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func TestOAuth_fiftyListingsOneExchange(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.FirstWait = 50 * time.Millisecond })
	c, mux, base, _ := oauthSetup(t, ts)
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
	if n := ts.Exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d; want 1", n)
	}
}

// A lifetime that overflowed time.Duration renewed the token on every call
// (43 exchanges for 60 requests); clamped, one exchange serves them all.
func TestOAuth_hugeExpiresInOneExchange(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ExpiresIn = 9_300_000_000 })
	c, mux, base, _ := oauthSetup(t, ts)
	serveRepos(t, mux, base, "acme", 10)
	for range 60 {
		if _, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil)); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.Exchanges.Load(); n != 1 {
		t.Errorf("exchanges = %d for 60 listings; want 1", n)
	}
}

// TestOAuth_shortTTL lists for longer than a 1 s token lives against an
// API that rejects tokens older than 1 s: the token is renewed ahead of
// time, so the API never has to answer 401.
func TestOAuth_shortTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 2 s")
	}
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ExpiresIn = 1 })
	c, mux, _, _ := oauthSetup(t, ts)
	var rejected atomic.Int64
	const pages = 7
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		issued, ok := ts.IssuedAt(bearerOf(r))
		if !ok || time.Since(issued) > time.Second {
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
	if n := ts.Exchanges.Load(); n < 2 {
		t.Errorf("exchanges = %d; want the token renewed at least once", n)
	}
}

func TestOAuth_401RenewsAndRetriesOnce(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, nil)
	c, mux, _, _ := oauthSetup(t, ts)
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if bearerOf(r) == apitest.TokenPrefix+"1" {
			writeJSON(w, 401, fixture(t, "error-401-expired.json", ""))
			return
		}
		writeJSON(w, 200, []byte(`{"values":[{"slug":"a"}]}`))
	})
	ok, err := hasRepositories(t.Context(), c, "acme")
	if err != nil || !ok {
		t.Fatalf("hasRepositories = %v, %v; want true, nil", ok, err)
	}
	if e, r := ts.Exchanges.Load(), requests.Load(); e != 2 || r != 2 {
		t.Errorf("exchanges = %d, API requests = %d; want 2, 2", e, r)
	}
}

func TestOAuth_401Persists(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, nil)
	c, mux, base, _ := oauthSetup(t, ts)
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
	if e, ok := errors.AsType[*ErrorResponse](err); !ok || e.AuthKind != credential.BitbucketConsumer {
		t.Errorf("the error does not name the credential the API refused: %+v", e)
	}
	if e, r := ts.Exchanges.Load(), requests.Load(); e != 2 || r != 2 {
		t.Errorf("exchanges = %d, API requests = %d; want 2, 2", e, r)
	}
}

func TestOAuth_concurrent401sRenewOnce(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, nil)
	c, mux, _, cred := oauthSetup(t, ts)
	if _, err := cred.Authorize(t.Context()); err != nil { // everyone starts with token 1
		t.Fatal(err)
	}
	var rejected atomic.Int64
	start := make(chan struct{})
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		if bearerOf(r) == apitest.TokenPrefix+"1" {
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
	if n := ts.Exchanges.Load(); n != 2 {
		t.Errorf("exchanges = %d; want 2 (the first token and one renewal)", n)
	}
}

func TestOAuth_sameTokenNoRetry(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.SameToken = true })
	c, mux, _, _ := oauthSetup(t, ts)
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		writeJSON(w, 401, fixture(t, "error-401-expired.json", ""))
	})
	_, err := hasRepositories(t.Context(), c, "acme")
	if !httpx.CredentialsRejected(err) {
		t.Fatalf("error = %v; want an auth error", err)
	}
	if e, r := ts.Exchanges.Load(), requests.Load(); e != 2 || r != 1 {
		t.Errorf("exchanges = %d, API requests = %d; want 2, 1 (no retry with the same token)", e, r)
	}
}

func TestOAuth_tokenErrorReachesCaller(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) {
		ts.ErrStatus = 400
		ts.ErrBody = string(fixture(t, "token-error-unauthorized_client.json", ""))
	})
	c, mux, _, _ := oauthSetup(t, ts)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("API called without a token: %s", r.URL)
	})
	_, err := collect(t, c.ListWorkspacesIter(t.Context()))
	te, ok := errors.AsType[*credential.TokenError](err)
	if !ok || te.Code != "unauthorized_client" || !httpx.CredentialsRejected(err) {
		t.Fatalf("error = %#v; want a *credential.TokenError unauthorized_client", err)
	}
	if want := "the OAuth consumer is public (unauthorized_client: Client credentials grant is not allowed for public consumers.); client_credentials needs a private consumer"; err.Error() != want {
		t.Errorf("error = %q; want %q", err, want)
	}
}

// Bitbucket's token response (fixtures/bitbucket/token.json) as the
// credential reads it: the granted scopes and a lifetime of expires_in.
func TestOAuth_fixtureResponse(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, fixture(t, "token.json", ""))
	}))
	t.Cleanup(srv.Close)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cred, err := credential.ClientCredentials(credential.BitbucketConsumer, credential.Config{ClientID: "id", ClientSecret: "secret",
		TokenURL: srv.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	scopes, minted, err := cred.Scopes(t.Context())
	if err != nil || !minted {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"account", "project", "repository", "team"}, scopes); diff != "" {
		t.Errorf("Scopes mismatch (-want +got):\n%s", diff)
	}
	if want := now.Add(2 * time.Hour); !cred.Expiry().Equal(want) {
		t.Errorf("expiry = %v; want %v (expires_in 7200)", cred.Expiry(), want)
	}
}
