package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// A Bitbucket that refuses to list a workspace's projects and echoes the
// credential it was sent in its message (gateways do): orgs:data falls back
// to the repositories and keeps the refusal as a warning, which went into
// orgs-data-summary.json unscrubbed, the minted access token with it.
func TestSecrets_warningInStageSummary(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/projects") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "error",
				"error": map[string]string{"message": "ECHO no projects for " + r.Header.Get("Authorization")}})
			return
		}
		e.Sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.Set("BITBUCKET_APP_API_BASE", srv.URL+"/2.0")
	e.Set("BITBUCKET_APP_TOKEN_URL", srv.URL+"/site/oauth2/access_token")
	r := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID, "--orgPer=project")
	if !strings.Contains(e.allOutput(r), "ECHO") {
		t.Fatalf("the refusal reached no output (exit %d):\n%s", r.Code, lastLines(r.Stderr, 20))
	}
	assertNoSecrets(t, e, []result{r})
}
