package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"

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
