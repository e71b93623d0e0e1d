package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// authRecorder is a reverse proxy in front of the simulator's Snyk API that
// records the Authorization header of every request.
type authRecorder struct {
	mu      sync.Mutex
	headers map[string]int
}

func newAuthRecorder(t *testing.T, target string) (*authRecorder, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &authRecorder{headers: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.headers[r.Header.Get("Authorization")]++
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

func (a *authRecorder) seen() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for k, v := range a.headers {
		out[k] = v
	}
	return out
}

// TestSnykOAuthToken: SNYK_OAUTH_TOKEN is sent as `Authorization: Bearer
// <t>` and wins over SNYK_TOKEN (snyk-request-manager's rule); alone it is
// enough. Its value appears in no output or file at any log level, in
// error paths neither.
func TestSnykOAuthToken(t *testing.T) {
	t.Parallel()
	const oauthToken = "oa-LEAK-3e9d7c1b5a20"
	// The simulator accepts only the OAuth token: SNYK_TOKEN is wrong.
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()},
		Snyk:      sim.SnykConfig{Token: oauthToken, PendingPolls: 1},
	})
	rec, proxyURL := newAuthRecorder(t, e.Sim.URL)
	e.Set("SNYK_API", proxyURL+"/v1")
	e.Set("SNYK_TOKEN", leakSnykToken)
	e.Set("SNYK_OAUTH_TOKEN", oauthToken)
	g := sim.SimSnykGroupID
	var runs []result
	for _, args := range [][]string{
		{"orgs:data", "--groupId=" + g},
		{"orgs:create", "--file=" + e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"), "--logLevel=trace"},
		{"import:data", "--orgsData=" + e.File("snyk-created-orgs.json"), "--logLevel=trace"},
		{"import", "--file=" + e.File("bitbucket-cloud-app-import-targets.json"), "--logLevel=trace"},
		{"list:imported", "--groupId=" + g, "--logLevel=trace", "--logFormat=text"},
		{"doctor", "--groupId=" + g, "--orgsData=snyk-created-orgs.json", "--logLevel=trace"},
	} {
		runs = append(runs, e.MustRun(0, args...))
	}
	seen := rec.seen()
	if seen["Bearer "+oauthToken] == 0 || len(seen) != 1 {
		t.Errorf("Authorization headers sent to Snyk: %v, want only Bearer <SNYK_OAUTH_TOKEN>", seen)
	}
	if e.Sim.Count("snyk.imports") == 0 {
		t.Error("nothing imported with SNYK_OAUTH_TOKEN")
	}
	// Alone, without SNYK_TOKEN.
	e.Set("SNYK_TOKEN", "")
	runs = append(runs, e.MustRun(0, "list:imported", "--groupId="+g, "--logLevel=debug"))
	// Rejected: exit 4, still redacted (debug lines carry the error body).
	e.Set("SNYK_OAUTH_TOKEN", oauthToken+"-expired")
	r := e.Run("list:imported", "--groupId="+g, "--logLevel=trace")
	if r.Code != exitAuth {
		t.Errorf("rejected SNYK_OAUTH_TOKEN: exit %d, want %d\n%s", r.Code, exitAuth, r.Stderr)
	}
	// The hint names the credential sent, not SNYK_TOKEN (which it did).
	if !strings.Contains(r.Stderr, "SNYK_OAUTH_TOKEN is invalid, expired") || strings.Contains(r.Stderr, "SNYK_TOKEN is invalid") {
		t.Errorf("the refusal does not name SNYK_OAUTH_TOKEN:\n%s", r.Stderr)
	}
	runs = append(runs, r)
	assertNoSecrets(t, e, runs, oauthToken, oauthToken+"-expired")
}
