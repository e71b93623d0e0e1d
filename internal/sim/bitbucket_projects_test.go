package sim

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// GET /2.0/workspaces/{workspace}/projects lists Projects then EmptyProjects,
// paginated like repositories, with fields= honoured and its own counters;
// a project of EmptyProjects matches no repository.
func TestBitbucketProjectListing(t *testing.T) {
	keys := []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"}
	s, base := newBB(t, BitbucketConfig{Workspaces: []WorkspaceSpec{
		{Slug: "ws", Repos: 30, Projects: keys, EmptyProjects: []string{"ARCHIVE", "A"}},
		{Slug: "bare"},
		{Slug: "bad", Repos: 3, ListStatus: http.StatusForbidden},
	}})
	auth := bbBearer(bbTokenFor(t, base))

	values, pages := bbListAll(t, base+"/2.0/workspaces/ws/projects?pagelen=5&fields=next,values.key,values.name", auth)
	var got []string
	for _, v := range values {
		got = append(got, v["key"].(string))
		if len(v) != 2 || v["name"] != estateProjectName(v["key"].(string)) {
			t.Errorf("project %v: want only key and name", v)
		}
	}
	want := append(slices.Clone(keys), "ARCHIVE")
	if !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	bbWantCount(t, s, "bitbucket.projects_pages", 3)
	bbWantCount(t, s, "bitbucket.projects_pages.ws", 3)
	bbWantCount(t, s, "bitbucket.requests.projects", 3)
	if got := (WorkspaceSpec{Slug: "ws", Repos: 30, Projects: keys, EmptyProjects: []string{"ARCHIVE", "A"}}).ProjectKeys(); !slices.Equal(got, want) {
		t.Errorf("ProjectKeys() = %v, want %v", got, want)
	}

	// The full object.
	r := bbDo(t, http.MethodGet, base+"/2.0/workspaces/ws/projects?pagelen=1", auth, nil)
	bbWantStatus(t, r, http.StatusOK)
	p := r.json(t)["values"].([]any)[0].(map[string]any)
	for _, k := range []string{"type", "key", "uuid", "name", "is_private", "links", "workspace", "created_on"} {
		if _, ok := p[k]; !ok {
			t.Errorf("project object lacks %q: %v", k, p)
		}
	}

	// The empty project holds no repository.
	q := url.QueryEscape(`project.key="ARCHIVE"`)
	r = bbDo(t, http.MethodGet, base+"/2.0/repositories/ws?pagelen=1&q="+q, auth, nil)
	bbWantStatus(t, r, http.StatusOK)
	if n := len(r.json(t)["values"].([]any)); n != 0 {
		t.Errorf("ARCHIVE holds %d repositories, want 0", n)
	}

	// No repositories and no explicit project: no project at all.
	values, _ = bbListAll(t, base+"/2.0/workspaces/bare/projects", auth)
	if len(values) != 0 {
		t.Errorf("bare workspace lists %d projects, want 0", len(values))
	}
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/workspaces/bad/projects", auth, nil), http.StatusForbidden)
	bbWantStatus(t, bbDo(t, http.MethodGet, base+"/2.0/workspaces/nope/projects", auth, nil), http.StatusNotFound)
}

func TestBitbucketProjectScope(t *testing.T) {
	_, base := newBB(t, BitbucketConfig{Scopes: "account repository"})
	auth := bbBearer(bbTokenFor(t, base))
	r := bbDo(t, http.MethodGet, base+"/2.0/workspaces/acme-platform/projects", auth, nil)
	bbWantStatus(t, r, http.StatusForbidden)
	if e := r.json(t)["error"].(map[string]any); e["detail"].(map[string]any)["required"].([]any)[0] != "project" {
		t.Errorf("403 body %s", r.body)
	}
}

// The fixture has a project without repositories, for orgPer=project.
func TestFixtureHasEmptyProject(t *testing.T) {
	for _, w := range FixtureWorkspaces() {
		if w.Slug == "acme-platform" {
			if got := w.ProjectKeys(); !slices.Equal(got, []string{"PLAT", "WEB", "OPS", "ARCHIVE"}) {
				t.Errorf("acme-platform projects = %v", got)
			}
			return
		}
	}
	t.Fatal("no acme-platform")
}
