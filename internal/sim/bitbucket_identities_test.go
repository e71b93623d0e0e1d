package sim

import (
	"net/http"
	"testing"
	"time"
)

func bbConsumerToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	r := bbDo(t, http.MethodPost, base+"/site/oauth2/access_token", bbBasic(id, secret), bbCCForm)
	bbWantStatus(t, r, http.StatusOK)
	return r.json(t)["access_token"].(string)
}

// An app user reaches only the workspace owning its consumer, and
// /user/workspaces answers it as its knob says.
func TestBitbucketAppUserConsumers(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{Consumers: []ConsumerSpec{
		{ClientID: "c-mobile", ClientSecret: "s-mobile", Owns: []string{"acme-mobile"}},
		{ClientID: "c-ds", ClientSecret: "s-ds", Owns: []string{"data-science"}, UserWorkspaces: UserWorkspacesEmpty},
		{ClientID: "c-oss", ClientSecret: "s-oss", Owns: []string{"oss-mirrors"}, UserWorkspaces: "403"},
	}})
	mobile := bbBearer(bbConsumerToken(t, base, "c-mobile", "s-mobile"))
	values, _ := bbListAll(t, base+"/2.0/user/workspaces", mobile)
	if len(values) != 1 || values[0]["workspace"].(map[string]any)["slug"] != "acme-mobile" {
		t.Errorf("owned: %v", values)
	}
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/acme-mobile", mobile, nil), http.StatusOK)
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/acme-platform", mobile, nil), http.StatusForbidden)
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/workspaces/acme-platform", mobile, nil), http.StatusForbidden)
	bbWantCount(t, s, "bitbucket.403.elsewhere", 2)

	values, _ = bbListAll(t, base+"/2.0/user/workspaces", bbBearer(bbConsumerToken(t, base, "c-ds", "s-ds")))
	if len(values) != 0 {
		t.Errorf("empty: %v", values)
	}
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/user/workspaces", bbBearer(bbConsumerToken(t, base, "c-oss", "s-oss")), nil), http.StatusForbidden)
	// The default consumer still sees the whole estate, as before 2026.
	values, _ = bbListAll(t, base+"/2.0/user/workspaces", bbBearer(bbTokenFor(t, base)))
	if len(values) != 5 {
		t.Errorf("default consumer: %d workspaces, want 5", len(values))
	}
	bbWantCount(t, s, "bitbucket.identity.c-mobile", 4)
	// Another consumer's secret is refused.
	bbWantStatus(t, bbDo(t, http.MethodPost, base+"/site/oauth2/access_token", bbBasic("c-mobile", "s-ds"), bbCCForm), http.StatusBadRequest)
}

// Each consumer has its own rolling budget.
func TestBitbucketConsumersHaveTheirOwnBudget(t *testing.T) {
	clock := newBBClock()
	_, base := newBB(t, BitbucketConfig{RateLimitPerToken: 2, RateLimitWindow: time.Minute, Now: clock.Now,
		Consumers: []ConsumerSpec{
			{ClientID: "a", ClientSecret: "sa", Owns: []string{"acme-mobile"}},
			{ClientID: "b", ClientSecret: "sb", Owns: []string{"data-science"}},
		}})
	a, b := bbBearer(bbConsumerToken(t, base, "a", "sa")), bbBearer(bbConsumerToken(t, base, "b", "sb"))
	for range 2 {
		bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/acme-mobile", a, nil), http.StatusOK)
	}
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/acme-mobile", a, nil), http.StatusTooManyRequests)
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/data-science", b, nil), http.StatusOK)
}

// A workspace access token: bound to its workspace, its own scaled limit on
// the api group announced in the three headers, NearLimit under 20 % left.
func TestBitbucketAccessTokenScaledLimit(t *testing.T) {
	clock := newBBClock()
	s, base := newBB(t, BitbucketConfig{RateLimitPerToken: 100, RateLimitWindow: time.Hour, Now: clock.Now,
		AccessTokens: []AccessTokenSpec{{Name: "mobile", Token: "at-mobile", Workspace: "acme-mobile", Limit: 5}}})
	auth := bbBearer("at-mobile")
	u := base + "/2.0/repositories/acme-mobile"
	var near []string
	for range 5 {
		r := bbDo(t, http.MethodGet, u, auth, nil)
		bbWantStatus(t, r, http.StatusOK)
		if r.header.Get("X-RateLimit-Limit") != "5" || r.header.Get("X-RateLimit-Resource") != "api" {
			t.Fatalf("headers %v", r.header)
		}
		near = append(near, r.header.Get("X-RateLimit-NearLimit"))
	}
	if want := []string{"false", "false", "false", "false", "true"}; !equalStrings(near, want) {
		t.Errorf("NearLimit %v, want %v", near, want)
	}
	r := bbDo(t, http.MethodGet, u, auth, nil)
	bbWantStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("X-RateLimit-Limit") != "5" {
		t.Errorf("429 without the limit: %v", r.header)
	}
	// Outside the api group: no headers, the ordinary budget; another
	// workspace: 403;
	// /user/workspaces: 403 (an access token is no user).
	r = bbDo(t, http.MethodGet, base+"/2.0/workspaces/acme-mobile/projects", auth, nil)
	bbWantStatus(t, r, http.StatusOK)
	if r.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("projects announce a limit: %v", r.header)
	}
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/workspaces/acme-platform/projects", auth, nil), http.StatusForbidden)
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/user/workspaces", auth, nil), http.StatusForbidden)
	bbWantCount(t, s, "bitbucket.auth.access", 9)
	bbWantCount(t, s, "bitbucket.identity.mobile", 9)
}

func TestParseUserWorkspaces(t *testing.T) {
	for in, ok := range map[string]bool{"": true, "owned": true, "empty": true, "403": true, "500": true, "200": false, "all": false} {
		if _, err := ParseUserWorkspaces(in); (err == nil) != ok {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
