package snyk

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/credential"
)

// TestClient_401NamesTheCredentialSent: the error of a 401 says which kind
// of credential Snyk refused, read from the answer: the command's hint then
// names the variable the user really set.
func TestClient_401NamesTheCredentialSent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, fixture(t, "error-not-authorised.json"))
	}))
	t.Cleanup(srv.Close)
	for _, kind := range []credential.Kind{credential.SnykAPIToken, credential.SnykOAuthToken, credential.SnykServiceAccount} {
		cred, err := credential.Token(kind, "Bearer", "tok-91c2")
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(WithBaseURL(srv.URL+"/v1"), WithHTTPClient(apitest.Sender{Cred: cred}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListIntegrations(t.Context(), "o1")
		er, ok := errors.AsType[*ErrorResponse](err)
		if !ok || er.AuthKind != kind || !er.CredentialsRejected() {
			t.Errorf("%v: error %v; want a 401 naming %v", kind, err, kind)
		}
	}
}

// TestClient_deprecationReported: an answer carrying Sunset or Deprecation
// is reported through the hook, once per answer; the library says nothing.
func TestClient_deprecationReported(t *testing.T) {
	t.Parallel()
	var got []Deprecation
	c, mux, _ := setup(t, WithDeprecationFunc(func(d Deprecation) { got = append(got, d) }))
	mux.HandleFunc("GET /org/{orgId}/integrations", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("orgId") == "old" {
			w.Header().Set("Sunset", "Wed, 01 Jul 2026 00:00:00 GMT")
			w.Header().Set("Deprecation", "@1767225600")
		}
		writeJSON(w, http.StatusOK, []byte(`{}`))
	})
	for _, org := range []string{"new", "old"} {
		if _, err := c.ListIntegrations(t.Context(), org); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Sunset != "Wed, 01 Jul 2026 00:00:00 GMT" || got[0].Deprecation != "@1767225600" || got[0].Method != "GET" || got[0].URL == "" {
		t.Errorf("reports %+v; want one for the old org", got)
	}
}
