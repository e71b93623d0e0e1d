package sim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestSnykServiceAccountTokens: /oauth2/token mints a bearer token for the
// service account's id and secret in the form, with expires_in of the
// configured TTL; the API accepts it until it expires and refuses it after
// (401, counted); a wrong secret is refused with invalid_client.
func TestSnykServiceAccountTokens(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := sim.New(sim.Config{Snyk: sim.SnykConfig{TokenTTL: 3 * time.Second, Now: clock}})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	mint := func(secret string) (int, map[string]any) {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sim.SimSnykClientID}, "client_secret": {secret}}
		resp, err := http.Post(srv.URL+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	status, body := mint(sim.SimSnykClientSecret)
	tok, _ := body["access_token"].(string)
	if status != 200 || tok == "" || body["expires_in"] != float64(3) || body["token_type"] != "bearer" {
		t.Fatalf("mint: %d %v", status, body)
	}
	get := func() int {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1/group/"+sim.SimSnykGroupID+"/orgs", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(); got != 200 {
		t.Errorf("fresh token: %d, want 200", got)
	}
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	if got := get(); got != 401 {
		t.Errorf("expired token: %d, want 401", got)
	}
	if status, body := mint("wrong"); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v, want 401 invalid_client", status, body)
	}
	if got := s.IssuedSnykTokens(); len(got) != 1 || got[0] != tok {
		t.Errorf("IssuedSnykTokens = %v", got)
	}
	for name, want := range map[string]int64{"snyk.token_exchanges": 1, "snyk.token_errors": 1, "snyk.401.expired": 1} {
		if got := s.Count(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}
