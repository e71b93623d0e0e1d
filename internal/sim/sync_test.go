package sim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestSyncSupport: what `bbimport sync` relies on in the simulator — a
// re-import after a new manifest adds one project and keeps the others,
// targets are listed with their projects' relationships, and project
// branch update, deactivation and deletion are served and counted.
func TestSyncSupport(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{ProjectsPerTarget: 2})
	org, ints := c.createOrg("Sync Org")
	var repo sim.BitbucketRepo
	for _, r := range s.CurrentRepositories("acme-platform") {
		if r.MainBranch != "" {
			repo = r
			break
		}
	}
	c.pollUntilDone(c.importTarget(org, ints["bitbucket-cloud-app"], "acme-platform", repo.Slug, repo.MainBranch))
	first := s.SnykProjects(org)
	if len(first) != 2 {
		t.Fatalf("%d projects after the import, want 2", len(first))
	}
	if err := s.ChangeEstate(sim.EstateChange{Workspace: "acme-platform", AddManifest: map[string][]string{repo.Slug: {"svc/go.mod"}}}); err != nil {
		t.Fatal(err)
	}
	c.pollUntilDone(c.importTarget(org, ints["bitbucket-cloud-app"], "acme-platform", repo.Slug, repo.MainBranch))
	again := s.SnykProjects(org)
	if len(again) != 3 || again[0].ID != first[0].ID || again[1].ID != first[1].ID || again[2].TargetFile != "svc/go.mod" {
		t.Fatalf("after the re-import: %+v", again)
	}

	var targets struct {
		Data []struct {
			ID         string
			Attributes struct {
				DisplayName string `json:"display_name"`
			}
		}
	}
	c.decode(200, "GET", "/rest/orgs/"+org+"/targets?version=2024-10-15&limit=100", nil, &targets)
	if len(targets.Data) != 1 || targets.Data[0].Attributes.DisplayName != repo.FullName || targets.Data[0].ID != again[0].TargetID {
		t.Fatalf("targets %+v, projects' target %s", targets, again[0].TargetID)
	}
	var projects struct {
		Data []struct {
			Relationships struct {
				Target struct{ Data struct{ ID string } }
			}
		}
	}
	c.decode(200, "GET", "/rest/orgs/"+org+"/projects?version=2024-10-15&limit=100", nil, &projects)
	for _, p := range projects.Data {
		if p.Relationships.Target.Data.ID != targets.Data[0].ID {
			t.Errorf("project's target %q, want %q", p.Relationships.Target.Data.ID, targets.Data[0].ID)
		}
	}

	w0 := s.SnykWrites()
	p := again[0]
	c.decode(200, "PUT", "/v1/org/"+org+"/project/"+p.ID, map[string]string{"branch": "develop"}, nil)
	c.decode(200, "POST", "/api/v1/org/"+org+"/project/"+again[1].ID+"/deactivate", struct{}{}, nil)
	if st, _, _ := c.call("DELETE", "/rest/orgs/"+org+"/projects/"+again[2].ID+"?version=2024-10-15", nil); st != http.StatusNoContent {
		t.Fatalf("DELETE = %d", st)
	}
	if st, _, _ := c.call("DELETE", "/rest/orgs/"+org+"/projects/"+again[2].ID+"?version=2024-10-15", nil); st != http.StatusNotFound {
		t.Fatalf("second DELETE = %d, want 404", st)
	}
	got := s.SnykProjects(org)
	if len(got) != 2 || got[0].Branch != "develop" || got[1].Status != "inactive" {
		t.Fatalf("after the writes: %+v", got)
	}
	if n := s.SnykWrites() - w0; n != 3 {
		t.Errorf("SnykWrites moved by %d, want 3", n)
	}
	// The moved project is found on its new branch by a re-import: no
	// duplicate.
	c.pollUntilDone(c.importTarget(org, ints["bitbucket-cloud-app"], "acme-platform", repo.Slug, "develop"))
	if n := len(s.SnykProjects(org)); n != 4 { // package.json (moved), + pom.xml and go.mod on develop
		t.Errorf("%d projects after a re-import on develop, want 4", n)
	}
}

// TestEstateChanges: renames keep the uuid, deletions answer 404, new
// repositories are listed, and a workspace's status can fail and recover.
func TestEstateChanges(t *testing.T) {
	s := sim.New(sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{{Slug: "ws", Repos: 5}}}})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	uuids := s.RepoUUIDs("ws")
	err := s.ChangeEstate(sim.EstateChange{Workspace: "ws", Rename: map[string]string{"repo-0001": "one"},
		Delete: []string{"repo-0002"}, Branch: map[string]string{"repo-0003": "develop"}, New: 2})
	if err != nil {
		t.Fatal(err)
	}
	now := map[string]sim.BitbucketRepo{}
	for _, r := range s.CurrentRepositories("ws") {
		now[r.Slug] = r
	}
	if len(now) != 6 || now["one"].UUID != uuids["repo-0001"] || now["repo-0003"].MainBranch != "develop" ||
		now["repo-0006"].MainBranch != "main" || now["repo-0007"].IsFork {
		t.Fatalf("estate after the change: %+v", now)
	}
	if err := s.ChangeEstate(sim.EstateChange{Workspace: "ws", Delete: []string{"repo-0002"}}); err == nil {
		t.Error("deleting a repository twice: want an error")
	}
	tok := bbToken(t, ts.URL)
	get := func(path string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for path, want := range map[string]int{"/2.0/repositories/ws/one": 200, "/2.0/repositories/ws/repo-0001": 404,
		"/2.0/repositories/ws/repo-0002": 404, "/2.0/repositories/ws?pagelen=100": 200} {
		if got := get(path); got != want {
			t.Errorf("GET %s = %d, want %d", path, got, want)
		}
	}
	if err := s.SetWorkspaceListStatus("ws", 503); err != nil {
		t.Fatal(err)
	}
	if got := get("/2.0/repositories/ws?pagelen=100"); got != 503 {
		t.Errorf("failing workspace answered %d", got)
	}
	_ = s.SetWorkspaceListStatus("ws", 0)
	if got := get("/2.0/repositories/ws/one"); got != 200 {
		t.Errorf("healthy again: %d", got)
	}
}

// bbToken gets a consumer token from the simulated token endpoint.
func bbToken(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/site/oauth2/access_token",
		strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sim.DefaultBitbucketClientID, sim.DefaultBitbucketClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %d", err, resp.StatusCode)
	}
	return tok.AccessToken
}
