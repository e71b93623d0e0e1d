package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/apitest"
)

func newBBClock() *apitest.Clock {
	return apitest.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
}

func newBB(t *testing.T, cfg BitbucketConfig) (*Server, string) {
	t.Helper()
	s := New(Config{Bitbucket: cfg})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

type bbResp struct {
	status int
	header http.Header
	body   []byte
}

func (r bbResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// do sends one request; auth is a full Authorization header value or "".
func bbDo(t *testing.T, method, u, auth string, form url.Values) bbResp {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return bbResp{resp.StatusCode, resp.Header, b}
}

func bbBasic(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

var bbCCForm = url.Values{"grant_type": {"client_credentials"}}

// token exchanges the default consumer's credentials for a token.
func bbTokenFor(t *testing.T, base string) string {
	t.Helper()
	r := bbDo(t, http.MethodPost, base+"/site/oauth2/access_token",
		bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret), bbCCForm)
	if r.status != http.StatusOK {
		t.Fatalf("token exchange: %d %s", r.status, r.body)
	}
	return r.json(t)["access_token"].(string)
}

func bbBearer(tok string) string { return "Bearer " + tok }

func bbWantStatus(t *testing.T, r bbResp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

func bbWantCount(t *testing.T, s *Server, name string, want int64) {
	t.Helper()
	if got := s.Count(name); got != want {
		t.Errorf("counter %s = %d, want %d", name, got, want)
	}
}

func bbErrMessage(t *testing.T, r bbResp) string {
	t.Helper()
	m := r.json(t)
	if m["type"] != "error" {
		t.Fatalf("not a Bitbucket error body: %s", r.body)
	}
	return m["error"].(map[string]any)["message"].(string)
}

func TestBitbucketTokenExchange(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{TokenTTL: 90 * time.Minute, Scopes: "account repository"})
	tokURL := base + "/site/oauth2/access_token"

	r := bbDo(t, http.MethodPost, tokURL, bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret), bbCCForm)
	bbWantStatus(t, r, http.StatusOK)
	m := r.json(t)
	tok1, _ := m["access_token"].(string)
	if len(tok1) < 20 || m["token_type"] != "bearer" || m["expires_in"] != float64(5400) ||
		m["scopes"] != "account repository" || m["refresh_token"] == "" {
		t.Fatalf("token response %s", r.body)
	}

	form := url.Values{"grant_type": {"client_credentials"},
		"client_id": {DefaultBitbucketClientID}, "client_secret": {DefaultBitbucketClientSecret}}
	r = bbDo(t, http.MethodPost, tokURL, "", form)
	bbWantStatus(t, r, http.StatusOK)
	if tok2 := r.json(t)["access_token"]; tok2 == tok1 {
		t.Fatal("two exchanges issued the same token")
	}

	for _, tc := range []struct {
		name, auth string
		form       url.Values
		want       string
	}{
		{"wrong secret", bbBasic(DefaultBitbucketClientID, "nope"), bbCCForm, "invalid_client"},
		{"no credentials", "", bbCCForm, "invalid_client"},
		{"wrong grant", bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret),
			url.Values{"grant_type": {"password"}}, "invalid_grant"},
		{"missing grant", bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret), url.Values{}, "invalid_grant"},
		{"scope not granted", bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret),
			url.Values{"grant_type": {"client_credentials"}, "scope": {"pipeline"}}, "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bbDo(t, http.MethodPost, tokURL, tc.auth, tc.form)
			bbWantStatus(t, r, http.StatusBadRequest)
			if got := r.json(t)["error"]; got != tc.want {
				t.Errorf("error = %v, want %s", got, tc.want)
			}
		})
	}
	bbWantCount(t, s, "bitbucket.token_exchanges", 2)
	bbWantCount(t, s, "bitbucket.token_errors", 5)
	bbWantCount(t, s, "bitbucket.requests", 0)
}

func TestBitbucketTokenEndpointConsumerErrors(t *testing.T) {
	_, base := newBB(t, BitbucketConfig{PublicConsumer: true, ClientID: "k", ClientSecret: "s"})
	r := bbDo(t, http.MethodPost, base+"/site/oauth2/access_token", bbBasic("k", "s"), bbCCForm)
	bbWantStatus(t, r, http.StatusBadRequest)
	m := r.json(t)
	if m["error"] != "unauthorized_client" || m["error_description"] == "" {
		t.Fatalf("public consumer: %s", r.body)
	}

	_, base = newBB(t, BitbucketConfig{TokenError: "invalid_scope"})
	r = bbDo(t, http.MethodPost, base+"/site/oauth2/access_token",
		bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret), bbCCForm)
	bbWantStatus(t, r, http.StatusBadRequest)
	if r.json(t)["error"] != "invalid_scope" {
		t.Fatalf("forced error: %s", r.body)
	}
}

func TestBitbucketTokenExpiry(t *testing.T) {
	clock := newBBClock()
	s, base := newBB(t, BitbucketConfig{TokenTTL: time.Second, Now: clock.Now})
	tok := bbTokenFor(t, base)
	u := base + "/2.0/repositories/acme-mobile"

	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer(tok), nil), http.StatusOK)
	clock.Advance(999 * time.Millisecond)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer(tok), nil), http.StatusOK)
	clock.Advance(time.Millisecond)
	r := bbDo(t, http.MethodGet, u, bbBearer(tok), nil)
	bbWantStatus(t, r, http.StatusUnauthorized)
	if msg := bbErrMessage(t, r); msg != "Access token expired." {
		t.Errorf("message %q", msg)
	}

	tok = bbTokenFor(t, base)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer(tok), nil), http.StatusOK)
	s.ExpireBitbucketTokens()
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer(tok), nil), http.StatusUnauthorized)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer("never-issued-token-xxxxxxxx"), nil), http.StatusUnauthorized)
	bbWantCount(t, s, "bitbucket.401", 3)
	bbWantCount(t, s, "bitbucket.token_exchanges", 2)
}

func TestBitbucketAPIAuthentication(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{
		Users:        map[string]string{"alice@example.com": "api-token-1"},
		StaticTokens: []string{"static-oauth-token"},
	})
	u := base + "/2.0/user/workspaces"
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBasic("alice@example.com", "api-token-1"), nil), http.StatusOK)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer("static-oauth-token"), nil), http.StatusOK)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer(bbTokenFor(t, base)), nil), http.StatusOK)

	bbWantStatus(t, bbDo(t, http.MethodGet, u, "", nil), http.StatusUnauthorized)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBasic("alice@example.com", "wrong"), nil), http.StatusUnauthorized)
	// Client credentials are not API credentials.
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret), nil),
		http.StatusUnauthorized)
	bbWantCount(t, s, "bitbucket.401", 3)
	bbWantCount(t, s, "bitbucket.requests", 6)
	bbWantCount(t, s, "bitbucket.requests.user_workspaces", 6)
	bbWantCount(t, s, "bitbucket.workspaces_pages", 3)
}

// bbListAll follows next links from first and returns every value and the
// number of pages fetched.
func bbListAll(t *testing.T, first, auth string) (values []map[string]any, pages int) {
	t.Helper()
	seen := map[string]bool{}
	for u := first; u != ""; {
		if seen[u] {
			t.Fatalf("next repeats %s", u)
		}
		seen[u] = true
		r := bbDo(t, http.MethodGet, u, auth, nil)
		bbWantStatus(t, r, http.StatusOK)
		pages++
		var page struct {
			Next   string           `json:"next"`
			Values []map[string]any `json:"values"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		values = append(values, page.Values...)
		u = page.Next
	}
	return values, pages
}

func TestBitbucketRepositoryPagination(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{{Slug: "big", Repos: 250}}})
	auth := bbBearer(bbTokenFor(t, base))
	u := base + "/2.0/repositories/big"

	r := bbDo(t, http.MethodGet, u, auth, nil)
	bbWantStatus(t, r, http.StatusOK)
	m := r.json(t)
	if m["pagelen"] != float64(10) || m["page"] != float64(1) || m["size"] != float64(250) ||
		len(m["values"].([]any)) != 10 {
		t.Fatalf("default page: pagelen %v page %v size %v", m["pagelen"], m["page"], m["size"])
	}
	next, _ := m["next"].(string)
	if !strings.HasPrefix(next, base+"/2.0/repositories/big?") || !strings.Contains(next, "page=2") {
		t.Fatalf("next = %q", next)
	}

	values, pages := bbListAll(t, u+"?pagelen=100&fields=next,values.slug", auth)
	if pages != 3 || len(values) != 250 {
		t.Fatalf("pages %d values %d", pages, len(values))
	}
	slugs := map[string]bool{}
	for _, v := range values {
		slugs[v["slug"].(string)] = true
	}
	if len(slugs) != 250 {
		t.Fatalf("%d distinct slugs", len(slugs))
	}

	r = bbDo(t, http.MethodGet, u+"?pagelen=101", auth, nil)
	bbWantStatus(t, r, http.StatusBadRequest)
	bbWantStatus(t, bbDo(t, http.MethodGet, u+"?pagelen=0", auth, nil), http.StatusBadRequest)
	bbWantStatus(t, bbDo(t, http.MethodGet, u+"?page=x", auth, nil), http.StatusBadRequest)

	// Past the end: an empty page without next.
	r = bbDo(t, http.MethodGet, u+"?pagelen=100&page=4", auth, nil)
	bbWantStatus(t, r, http.StatusOK)
	if m := r.json(t); len(m["values"].([]any)) != 0 || m["next"] != nil {
		t.Fatalf("past the end: %s", r.body)
	}

	bbWantCount(t, s, "bitbucket.max_pagelen", 101)
	bbWantCount(t, s, "bitbucket.repositories_pages", 5)
	bbWantCount(t, s, "bitbucket.repositories_pages.big", 5)
	bbWantCount(t, s, "bitbucket.400", 3)
	if s.ExpectedRepositories("big") != 250 || s.ExpectedRepositories("nope") != -1 {
		t.Error("ExpectedRepositories")
	}
}

func TestBitbucketRepositoryListingCounts(t *testing.T) {
	sizes := []int{0, 1, 99, 100, 101, 250, 1000}
	var specs []WorkspaceSpec
	for i, n := range sizes {
		specs = append(specs, WorkspaceSpec{Slug: fmt.Sprintf("w%d", i), Repos: n, Forks: n / 7, Empty: n / 11})
	}
	s, base := newBB(t, BitbucketConfig{Workspaces: specs})
	auth := bbBearer(bbTokenFor(t, base))

	ws, wsPages := bbListAll(t, base+"/2.0/user/workspaces?pagelen=100", auth)
	if len(ws) != len(sizes) || wsPages != 1 {
		t.Fatalf("%d workspaces in %d pages", len(ws), wsPages)
	}
	wantPages := 0
	for i, item := range ws {
		slug := item["workspace"].(map[string]any)["slug"].(string)
		got, pages := bbListAll(t, base+"/2.0/repositories/"+slug+"?pagelen=100&fields=next,values.slug", auth)
		if len(got) != sizes[i] {
			t.Errorf("%s: %d repositories, want %d", slug, len(got), sizes[i])
		}
		wantPages += max(1, (sizes[i]+99)/100)
		if want := max(1, (sizes[i]+99)/100); pages != want {
			t.Errorf("%s: %d pages, want %d", slug, pages, want)
		}
	}
	bbWantCount(t, s, "bitbucket.repositories_pages", int64(wantPages))
	bbWantCount(t, s, "bitbucket.workspaces_pages", 1)
	bbWantCount(t, s, "bitbucket.requests", int64(wantPages+1))
	bbWantCount(t, s, "bitbucket.max_pagelen", 100)
}

func TestBitbucketWorkspaceListing(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{WorkspaceAccessNames: true})
	auth := bbBearer(bbTokenFor(t, base))
	values, pages := bbListAll(t, base+"/2.0/user/workspaces?pagelen=2", auth)
	if pages != 3 || len(values) != 5 {
		t.Fatalf("%d workspaces in %d pages", len(values), pages)
	}
	first := values[0]
	ws := first["workspace"].(map[string]any)
	if first["type"] != "workspace_access" || ws["type"] != "workspace" ||
		ws["slug"] != "acme-platform" || ws["name"] != "Acme Platform" ||
		!strings.HasPrefix(ws["uuid"].(string), "{") {
		t.Fatalf("first item %v", first)
	}
	bbWantCount(t, s, "bitbucket.workspaces_pages", 3)

	// A workspace can be addressed by its {uuid}, escaped.
	uuid := ws["uuid"].(string)
	r := bbDo(t, http.MethodGet, base+"/2.0/repositories/"+url.PathEscape(uuid)+"?pagelen=5", auth, nil)
	bbWantStatus(t, r, http.StatusOK)
	m := r.json(t)
	if m["size"] != float64(120) || !strings.Contains(m["next"].(string), "/2.0/repositories/%7B") {
		t.Fatalf("by uuid: size %v next %v", m["size"], m["next"])
	}
	bbWantCount(t, s, "bitbucket.repositories_pages.acme-platform", 1)

	// Unlisted workspaces are readable but not listed.
	s, base = newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{{Slug: "a"}, {Slug: "hidden", Unlisted: true, Repos: 2}}})
	auth = bbBearer(bbTokenFor(t, base))
	values, _ = bbListAll(t, base+"/2.0/user/workspaces", auth)
	if len(values) != 1 {
		t.Fatalf("%d listed", len(values))
	}
	if got, _ := bbListAll(t, base+"/2.0/repositories/hidden", auth); len(got) != 2 {
		t.Fatalf("hidden: %d repositories", len(got))
	}
	r = bbDo(t, http.MethodGet, base+"/2.0/workspaces/hidden", auth, nil)
	bbWantStatus(t, r, http.StatusOK)
	if r.json(t)["name"] != "Hidden" {
		t.Fatalf("workspace: %s", r.body)
	}
	_ = s
}

func TestBitbucketRepositoryShape(t *testing.T) {
	_, base := newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{
		{Slug: "ws", Name: "The WS", Repos: 30, Forks: 3, Empty: 2, Private: 10, Projects: []string{"A", "B"}},
	}})
	values, _ := bbListAll(t, base+"/2.0/repositories/ws?pagelen=100", bbBearer(bbTokenFor(t, base)))
	forks, empty, private := 0, 0, 0
	for _, v := range values {
		if v["slug"] == v["name"] || v["full_name"] != "ws/"+v["slug"].(string) {
			t.Fatalf("slug/name: %v %v %v", v["slug"], v["name"], v["full_name"])
		}
		if _, ok := v["parent"]; ok {
			forks++
		}
		if mb, ok := v["mainbranch"]; !ok {
			t.Fatal("mainbranch key missing")
		} else if mb == nil {
			empty++
		}
		if v["is_private"] == true {
			private++
		}
		for _, k := range []string{"uuid", "links", "owner", "workspace", "project", "updated_on", "description"} {
			if _, ok := v[k]; !ok {
				t.Fatalf("repository lacks %s", k)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, v["updated_on"].(string)); err != nil {
			t.Fatal(err)
		}
	}
	if forks != 3 || empty != 2 || private != 10 {
		t.Fatalf("forks %d empty %d private %d", forks, empty, private)
	}
}

func TestBitbucketFieldsTrimBody(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{{Slug: "ws", Repos: 100, Forks: 10, Empty: 5}}})
	auth := bbBearer(bbTokenFor(t, base))
	u := base + "/2.0/repositories/ws?pagelen=100"

	full := bbDo(t, http.MethodGet, u, auth, nil)
	bbWantStatus(t, full, http.StatusOK)
	afterFull := s.Count("bitbucket.bytes")
	if afterFull != int64(len(full.body)) {
		t.Fatalf("bitbucket.bytes %d, body %d", afterFull, len(full.body))
	}
	fields := "next,page,values.slug,values.name,values.mainbranch.name,values.is_private,values.parent.full_name,values.updated_on,values.project.key"
	trim := bbDo(t, http.MethodGet, u+"&fields="+url.QueryEscape(fields), auth, nil)
	bbWantStatus(t, trim, http.StatusOK)
	if len(trim.body)*4 > len(full.body) {
		t.Fatalf("trimmed body %d bytes, full %d: not much smaller", len(trim.body), len(full.body))
	}
	if s.Count("bitbucket.bytes") != afterFull+int64(len(trim.body)) {
		t.Fatal("bitbucket.bytes does not add the trimmed body")
	}
	m := trim.json(t)
	if _, ok := m["pagelen"]; ok {
		t.Error("pagelen returned though not asked for")
	}
	if m["page"] != float64(1) {
		t.Error("page missing")
	}
	sawFork, sawEmpty := false, false
	for _, v := range m["values"].([]any) {
		repo := v.(map[string]any)
		for k := range repo {
			switch k {
			case "slug", "name", "mainbranch", "is_private", "parent", "updated_on", "project":
			default:
				t.Fatalf("unexpected key %q", k)
			}
		}
		if p, ok := repo["parent"].(map[string]any); ok {
			sawFork = len(p) == 1 && p["full_name"] != ""
		}
		if mb, ok := repo["mainbranch"]; ok && mb == nil {
			sawEmpty = true
		} else if len(mb.(map[string]any)) != 1 {
			t.Fatalf("mainbranch %v", mb)
		}
		if len(repo["project"].(map[string]any)) != 1 {
			t.Fatalf("project %v", repo["project"])
		}
	}
	if !sawFork || !sawEmpty {
		t.Fatalf("fork %v empty %v", sawFork, sawEmpty)
	}

	// Without next in fields, there is no next; "-" removes from the full body.
	r := bbDo(t, http.MethodGet, base+"/2.0/repositories/ws?fields=values.slug", auth, nil)
	if _, ok := r.json(t)["next"]; ok {
		t.Error("next returned though not asked for")
	}
	r = bbDo(t, http.MethodGet, base+"/2.0/repositories/ws?fields=-values.links,-values.owner", auth, nil)
	m = r.json(t)
	repo := m["values"].([]any)[0].(map[string]any)
	if _, ok := repo["links"]; ok || repo["slug"] == nil || m["next"] == nil {
		t.Fatalf("removal: %v", repo)
	}
	// A wildcard keeps every key of its level.
	r = bbDo(t, http.MethodGet, base+"/2.0/repositories/ws?fields=values.project.*", auth, nil)
	repo = r.json(t)["values"].([]any)[0].(map[string]any)
	if p := repo["project"].(map[string]any); len(repo) != 1 || p["key"] == nil || p["links"] == nil {
		t.Fatalf("wildcard: %v", repo)
	}
}

func TestBitbucketQueryFilters(t *testing.T) {
	spec := WorkspaceSpec{Slug: "ws", Repos: 300, Forks: 30, Empty: 12, Private: 200, Projects: []string{"A", "B", "C"}}
	s, base := newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{spec}, BBQLAcceptZ: true})
	auth := bbBearer(bbTokenFor(t, base))
	since := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

	count := func(pred func(r BitbucketRepo) bool) int {
		n := 0
		for r := range spec.AllRepos() {
			if pred(r) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"updated_on>2024-06-01", count(func(r BitbucketRepo) bool { return r.UpdatedOn.After(since) })},
		{"updated_on>=2024-06-01T00:00:00Z", count(func(r BitbucketRepo) bool { return !r.UpdatedOn.Before(since) })},
		{"updated_on > \"2024-06-01T00:00:00+00:00\"", count(func(r BitbucketRepo) bool { return r.UpdatedOn.After(since) })},
		{"is_private=false", 100},
		{"is_private = true", 200},
		{`project.key="B"`, 100},
		{`(project.key="A" OR project.key="C") AND is_private=true`,
			count(func(r BitbucketRepo) bool { return r.ProjectKey != "B" && r.IsPrivate })},
		{`updated_on>2024-06-01 AND (project.key="A" OR project.key="B")`,
			count(func(r BitbucketRepo) bool { return r.UpdatedOn.After(since) && r.ProjectKey != "C" })},
		{"parent != null", 30},
		{"mainbranch = null", 12},
		{`slug ~ "repo-00"`, 99},
		{`project.key="ZZZ"`, 0},
	} {
		t.Run(tc.q, func(t *testing.T) {
			if tc.want == 0 && tc.q != `project.key="ZZZ"` || tc.want == spec.Repos {
				t.Fatalf("filter %q selects %d: not a meaningful case", tc.q, tc.want)
			}
			values, pages := bbListAll(t, base+"/2.0/repositories/ws?pagelen=50&q="+url.QueryEscape(tc.q), auth)
			if len(values) != tc.want {
				t.Fatalf("%d repositories, want %d", len(values), tc.want)
			}
			if want := max(1, (tc.want+49)/50); pages != want {
				t.Fatalf("%d pages, want %d", pages, want)
			}
		})
	}
	for _, q := range []string{"updated_on>", "bogus=1", "is_private=maybe", "(project.key=\"A\"", "updated_on>yesterday"} {
		r := bbDo(t, http.MethodGet, base+"/2.0/repositories/ws?q="+url.QueryEscape(q), auth, nil)
		bbWantStatus(t, r, http.StatusBadRequest)
	}
	_ = s
}

func TestBitbucketErrorStatuses(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{
		{Slug: "ok", Repos: 1}, {Slug: "locked", Repos: 5, ListStatus: http.StatusForbidden},
	}})
	auth := bbBearer(bbTokenFor(t, base))

	r := bbDo(t, http.MethodGet, base+"/2.0/repositories/nope", auth, nil)
	bbWantStatus(t, r, http.StatusNotFound)
	if msg := bbErrMessage(t, r); !strings.Contains(msg, "nope") {
		t.Errorf("404 message %q", msg)
	}
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/locked", auth, nil), http.StatusForbidden)
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/nothing/here", auth, nil), http.StatusNotFound)

	for _, p := range []string{"/2.0/workspaces", "/2.0/workspaces/", "/2.0/repositories", "/2.0/user/permissions/workspaces"} {
		for _, a := range []string{auth, ""} {
			r := bbDo(t, http.MethodGet, base+p, a, nil)
			bbWantStatus(t, r, http.StatusGone)
			m := r.json(t)["error"].(map[string]any)
			if !strings.HasPrefix(m["message"].(string), "CHANGE-2770") ||
				m["data"].(map[string]any)["announcement_url"] == nil {
				t.Fatalf("410 body %s", r.body)
			}
		}
	}
	bbWantStatus(t, bbDo(t, http.MethodPost, base+"/2.0/repositories/ok", auth, nil), http.StatusMethodNotAllowed)
	bbWantCount(t, s, "bitbucket.404", 2)
	bbWantCount(t, s, "bitbucket.403", 1)
	bbWantCount(t, s, "bitbucket.410", 8)
	bbWantCount(t, s, "bitbucket.requests.removed", 8)
}

func TestBitbucketScopes(t *testing.T) {
	// project:admin implies neither project nor repository (Atlassian's scope list).
	s, base := newBB(t, BitbucketConfig{Scopes: "account project:admin"})
	auth := bbBearer(bbTokenFor(t, base))
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/user/workspaces", auth, nil), http.StatusOK)
	r := bbDo(t, http.MethodGet, base+"/2.0/repositories/acme-platform", auth, nil)
	bbWantStatus(t, r, http.StatusForbidden)
	e := r.json(t)["error"].(map[string]any)
	if !strings.Contains(e["message"].(string), "scope") ||
		fmt.Sprint(e["detail"].(map[string]any)["required"]) != "[repository]" {
		t.Fatalf("403 body %s", r.body)
	}

	_, base = newBB(t, BitbucketConfig{Scopes: "repository:write"})
	auth = bbBearer(bbTokenFor(t, base))
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/acme-platform", auth, nil), http.StatusOK)
	r = bbDo(t, http.MethodGet, base+"/2.0/user/workspaces", auth, nil)
	bbWantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(string(r.body), `"required":["account"]`) {
		t.Fatalf("403 body %s", r.body)
	}
	bbWantCount(t, s, "bitbucket.403", 1)
}

func TestBitbucketPerCredentialRateLimit(t *testing.T) {
	clock := newBBClock()
	s, base := newBB(t, BitbucketConfig{
		RateLimitPerToken: 3, RateLimitWindow: time.Minute, RateLimitRetryAfter: true, Now: clock.Now,
		StaticTokens: []string{"other-token"},
	})
	u := base + "/2.0/repositories/acme-mobile"
	auth := bbBearer(bbTokenFor(t, base))
	for i := range 3 {
		bbWantStatus(t, bbDo(t, http.MethodGet, u, auth, nil), http.StatusOK)
		clock.Advance(10 * time.Second * time.Duration(i))
	}
	// Requests at t=0, 0, 10 s; now t=30 s: the first leaves the window at 60 s.
	r := bbDo(t, http.MethodGet, u, auth, nil)
	bbWantStatus(t, r, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q, want 30", got)
	}
	// A new token of the same consumer shares the budget; another credential does not.
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer(bbTokenFor(t, base)), nil), http.StatusTooManyRequests)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, bbBearer("other-token"), nil), http.StatusOK)
	clock.Advance(30 * time.Second)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, auth, nil), http.StatusOK)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, auth, nil), http.StatusOK)
	bbWantStatus(t, bbDo(t, http.MethodGet, u, auth, nil), http.StatusTooManyRequests)
	bbWantCount(t, s, "bitbucket.429", 3)
	bbWantCount(t, s, "bitbucket.repositories_pages", 6)
}

func TestBitbucketFaultLayer(t *testing.T) {
	s, base := newBB(t, BitbucketConfig{
		Faults:      Faults{RateLimitEvery: 3, RetryAfter: "1"},
		TokenFaults: Faults{RateLimitEvery: 2, RetryAfter: "2"},
	})
	tokURL := base + "/site/oauth2/access_token"
	cc := bbBasic(DefaultBitbucketClientID, DefaultBitbucketClientSecret)
	bbWantStatus(t, bbDo(t, http.MethodPost, tokURL, cc, bbCCForm), http.StatusOK)
	r := bbDo(t, http.MethodPost, tokURL, cc, bbCCForm)
	bbWantStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "2" {
		t.Error("token Retry-After")
	}
	auth := bbBearer(bbTokenFor(t, base))
	statuses := []int{}
	for range 6 {
		statuses = append(statuses, bbDo(t, http.MethodGet, base+"/2.0/user/workspaces", auth, nil).status)
	}
	if fmt.Sprint(statuses) != "[200 200 429 200 200 429]" {
		t.Fatalf("statuses %v", statuses)
	}
	bbWantCount(t, s, "bitbucket.429", 2)
	bbWantCount(t, s, "bitbucket.token.429", 1)
	bbWantCount(t, s, "bitbucket.requests", 4)
	bbWantCount(t, s, "bitbucket.token_exchanges", 2)
}

func TestBitbucketLastPageNextQuirks(t *testing.T) {
	for _, tc := range []struct {
		quirk LastPageNext
		pages int
	}{{LastPageNextNone, 2}, {LastPageNextEmpty, 3}} {
		_, base := newBB(t, BitbucketConfig{LastPageNext: tc.quirk, Workspaces: []WorkspaceSpec{{Slug: "ws", Repos: 15}}})
		values, pages := bbListAll(t, base+"/2.0/repositories/ws", bbBearer(bbTokenFor(t, base)))
		if len(values) != 15 || pages != tc.pages {
			t.Errorf("quirk %q: %d values, %d pages", tc.quirk, len(values), pages)
		}
	}
	_, base := newBB(t, BitbucketConfig{LastPageNext: LastPageNextSame, Workspaces: []WorkspaceSpec{{Slug: "ws", Repos: 15}}})
	auth := bbBearer(bbTokenFor(t, base))
	r := bbDo(t, http.MethodGet, base+"/2.0/repositories/ws?page=2", auth, nil)
	if next := r.json(t)["next"]; next == nil || !strings.Contains(next.(string), "page=2") {
		t.Fatalf("same-page quirk: next %v", next)
	}
}

// BenchmarkBitbucketRepositoryPage measures the simulator's cost of one
// 100-repository page, full and trimmed by fields=.
func BenchmarkBitbucketRepositoryPage(b *testing.B) {
	for name, q := range map[string]string{
		"full":    "",
		"trimmed": "&fields=next,values.slug,values.mainbranch.name,values.is_private,values.parent.full_name,values.updated_on",
	} {
		b.Run(name, func(b *testing.B) {
			s := New(Config{Bitbucket: BitbucketConfig{StaticTokens: []string{"t"}, Workspaces: Estate(1, 250)}})
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "http://sim/2.0/repositories/ws-001?pagelen=100"+q, nil)
				req.Header.Set("Authorization", "Bearer t")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// Bitbucket documents no Retry-After on its 429: the simulator sends none
// unless asked.
func TestBitbucketRateLimitNoRetryAfterByDefault(t *testing.T) {
	t.Parallel()
	s, base := newBB(t, BitbucketConfig{RateLimitPerToken: 1, RateLimitWindow: time.Minute})
	u := base + "/2.0/repositories/acme-mobile"
	auth := bbBearer(bbTokenFor(t, base))
	bbWantStatus(t, bbDo(t, http.MethodGet, u, auth, nil), http.StatusOK)
	r := bbDo(t, http.MethodGet, u, auth, nil)
	bbWantStatus(t, r, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != "" {
		t.Errorf("Retry-After %q sent without RateLimitRetryAfter", got)
	}
	bbWantCount(t, s, "bitbucket.429", 1)
}
