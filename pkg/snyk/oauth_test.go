package snyk

import (
	"net/http"
	"strings"
	"testing"
)

// TestClient_oauthBearer: an OAuth token (SNYK_OAUTH_TOKEN) is sent as
// `Authorization: Bearer <t>`, as snyk-request-manager does; when both
// options are given the last one wins (the command layer passes one).
func TestClient_oauthBearer(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithOAuthToken(" oauth-tok-91c2 "))
	mux.HandleFunc("GET /org/{orgId}/integrations", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "Bearer oauth-tok-91c2")
		writeJSON(w, http.StatusOK, []byte(`{}`))
	})
	if _, err := c.ListIntegrations(t.Context(), "o1"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{" ", "a\nb"} {
		if _, err := NewClient(WithOAuthToken(bad)); err == nil {
			t.Errorf("WithOAuthToken(%q) accepted", bad)
		} else if want := "SNYK_OAUTH_TOKEN"; !strings.Contains(err.Error(), want) {
			t.Errorf("WithOAuthToken(%q): %v does not name %s", bad, err, want)
		}
	}
}
