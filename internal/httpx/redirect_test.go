package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
)

// A redirect to another host must not carry the credential the stack
// attaches; a redirect within the origin is followed.
func TestRedirectsStayWithinOrigin(t *testing.T) {
	var leaked string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization")
	}))
	t.Cleanup(other.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/final", http.StatusFound)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(api.Close)
	cred, err := credential.Token(credential.BitbucketOAuthToken, "Bearer", "SECRET")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Credential: cred, RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(api.URL + "/away")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || leaked != "" {
		t.Errorf("cross-origin redirect: status %d, other host saw Authorization %q; want 302 returned and nothing sent", resp.StatusCode, leaked)
	}
	resp, err = c.Get(api.URL + "/here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/final" {
		t.Errorf("same-origin redirect: status %d at %s, want 200 at /final", resp.StatusCode, resp.Request.URL.Path)
	}
}

// Two APIs behind one gateway host are one origin: the scope keeps a
// credential under its API's path, dot segments and encoded slashes
// resolved as the gateway would.
func TestInScope(t *testing.T) {
	t.Parallel()
	scope, _ := url.Parse("https://gw.example/bitbucket/2.0/")
	for raw, want := range map[string]bool{
		"https://gw.example/bitbucket/2.0/":                        true,
		"https://gw.example/bitbucket/2.0":                         true,
		"https://gw.example/bitbucket/2.0/repositories/a?page=2":   true,
		"https://gw.example/bitbucket/2.0/repositories/%7Bu%7D":    true,
		"https://gw.example/snyk/v1/org/x":                         false,
		"https://gw.example/bitbucket/2.0/../../snyk/v1/org":       false,
		"https://gw.example/bitbucket/2.0/a%2F..%2F..%2F..%2Fsnyk": false,
		"https://gw.example/bitbucket/2.0x/":                       false,
		"https://gw.example:8443/bitbucket/2.0/":                   false,
		"http://gw.example/bitbucket/2.0/":                         false,
		"https://other.example/bitbucket/2.0/":                     false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := InScope(u, scope); got != want {
			t.Errorf("InScope(%s) = %v, want %v", raw, got, want)
		}
	}
	root, _ := url.Parse("https://api.snyk.io/")
	if u, _ := url.Parse("https://api.snyk.io/api/v1/org/x"); !InScope(u, root) {
		t.Error("a scope of / holds the whole origin")
	}
}

// With a scope, a redirect to another API behind the same host is not
// followed, and a request sent there outright is refused, final, before
// anything reaches the wire.
func TestScopeKeepsTheCredentialUnderItsAPI(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sawSnyk []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/bitbucket/2.0/away":
			http.Redirect(w, r, "/snyk/v1/steal", http.StatusFound)
		case r.URL.Path == "/bitbucket/2.0/here":
			http.Redirect(w, r, "/bitbucket/2.0/final", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/snyk/"):
			mu.Lock()
			sawSnyk = append(sawSnyk, r.Header.Get("Authorization"))
			mu.Unlock()
		}
	}))
	t.Cleanup(gw.Close)
	cred, err := credential.Token(credential.BitbucketOAuthToken, "Bearer", "SECRET")
	if err != nil {
		t.Fatal(err)
	}
	scope, _ := url.Parse(gw.URL + "/bitbucket/2.0/")
	c, err := New(Options{Credential: cred, Scope: scope, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(gw.URL + "/bitbucket/2.0/away")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("redirect out of the scope: status %d, want the 302 returned", resp.StatusCode)
	}
	resp, err = c.Get(gw.URL + "/bitbucket/2.0/here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/bitbucket/2.0/final" {
		t.Errorf("redirect within the scope: status %d at %s, want 200 at the final path", resp.StatusCode, resp.Request.URL.Path)
	}
	_, err = c.Get(gw.URL + "/snyk/v1/org")
	var se *ScopeError
	if !errors.As(err, &se) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("a request outside the scope: %v, want a *ScopeError", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sawSnyk) > 0 {
		t.Errorf("the other API behind the host was sent %d requests (%q)", len(sawSnyk), sawSnyk)
	}
}
