package sim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The hostile modes on the wire: what a client sees of each knob.

func TestHostileBitbucket(t *testing.T) {
	t.Parallel()
	s, base := newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{{Slug: "ws", Repos: 250}}})
	auth := bbBearer(bbTokenFor(t, base))
	list := func(page int) map[string]any {
		r := bbDo(t, http.MethodGet, base+"/2.0/repositories/ws?pagelen=100&page="+strconv.Itoa(page), auth, nil)
		bbWantStatus(t, r, http.StatusOK)
		return r.json(t)
	}
	first := s.CurrentRepositories("ws")[0]

	s.HideFromListing("ws", first.Slug)
	if p := list(1); p["size"] != 249.0 || strings.Contains(string(mustJSON(t, p)), `"`+first.Slug+`"`) {
		t.Errorf("hidden repository listed, or size counts it: size %v", p["size"])
	}
	for _, id := range []string{first.Slug, url.PathEscape(first.UUID)} {
		bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/repositories/ws/"+id, auth, nil), http.StatusOK)
	}

	s.SetListingCut("ws", ListingNoNext)
	if p := list(1); p["next"] != nil || p["size"] != 249.0 {
		t.Errorf("no-next cut: next %v, size %v", p["next"], p["size"])
	}
	s.SetListingCut("ws", ListingEmptyPage)
	if p := list(2); len(p["values"].([]any)) != 0 || p["next"] == nil || p["size"] != 249.0 {
		t.Errorf("empty-page cut: page 2 %v", p)
	}

	s.HTMLNotFoundFromProxy("ws")
	r := bbDo(t, http.MethodGet, base+"/2.0/repositories/ws/"+first.Slug, auth, nil)
	if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("proxy: %d %s", r.status, r.header.Get("Content-Type"))
	}
	bbWantCount(t, s, "bitbucket.proxy_404", 1)
}

func TestHostileSnyk(t *testing.T) {
	t.Parallel()
	s := New(Config{Snyk: SnykConfig{ProjectsPerTarget: 1, Groups: map[string]SnykGroup{SimSnykGroupID: {Orgs: []SnykOrg{{ID: "o", Name: "o"}}}}}})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	for _, n := range []string{"ws/a:package.json", "ws/b:package.json"} {
		if _, err := s.SeedProject("o", SnykProject{Name: n, Origin: "bitbucket-cloud-app", Branch: "main"}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) (data []map[string]any, next string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+path, nil)
		req.Header.Set("Authorization", "token "+SimSnykToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct {
			Data  []map[string]any
			Links struct{ Next string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return page.Data, page.Links.Next
	}
	attr := func(d map[string]any, k string) any { return d["attributes"].(map[string]any)[k] }

	s.SetTargetNames("o", TargetNamesBranch)
	if data, _ := get("/rest/orgs/o/targets?version=2024-10-15&limit=100"); attr(data[0], "display_name") != "ws/a(main)" {
		t.Errorf("branch form: %v", attr(data[0], "display_name"))
	}
	s.SetTargetNames("o", TargetNamesNone)
	if data, _ := get("/rest/orgs/o/targets?version=2024-10-15&limit=100"); attr(data[0], "display_name") != nil {
		t.Errorf("no-name form: %v", attr(data[0], "display_name"))
	}
	if data, _ := get("/rest/orgs/o/projects?version=2024-10-15&limit=100"); attr(data[0], "name") != "ws/a(main):package.json" {
		t.Errorf("no-name form: project %v", attr(data[0], "name"))
	}

	s.RepeatFirstPage("o", "projects", 2)
	ids := map[string]int{}
	pages := 0
	for path := "/rest/orgs/o/projects?version=2024-10-15&limit=10"; path != ""; pages++ {
		data, next := get(path)
		for _, d := range data {
			ids[d["id"].(string)]++
		}
		path = strings.TrimPrefix(next, "/rest")
		if path != "" {
			path = "/rest" + path
		}
	}
	if pages != 3 || len(ids) != 2 || ids[firstKey(ids)] != 3 {
		t.Errorf("repeated first page: %d pages, ids %v", pages, ids)
	}

	s.EndlessTargets("o")
	seen := map[string]bool{}
	path := "/rest/orgs/o/targets?version=2024-10-15&limit=100"
	for range 3 {
		data, next := get(path)
		for _, d := range data {
			seen[d["id"].(string)] = true
		}
		path = "/rest" + next
	}
	if len(seen) != 300 || s.Count("snyk.endless_pages") != 3 {
		t.Errorf("endless targets: %d distinct over 3 pages", len(seen))
	}
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
