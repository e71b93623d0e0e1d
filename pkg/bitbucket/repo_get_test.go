package bitbucket_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// TestGetRepositoryAndUUIDs: the listing carries each repository's uuid, a
// renamed repository keeps it, and its old slug answers 404.
func TestGetRepositoryAndUUIDs(t *testing.T) {
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{{Slug: "ws", Repos: 3}}}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	ctx := t.Context()
	before := s.RepoUUIDs("ws")
	if err := s.ChangeEstate(sim.EstateChange{Workspace: "ws", Rename: map[string]string{"repo-0001": "renamed"}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for r, err := range c.ListRepositoriesIter(ctx, "ws", nil) {
		if err != nil {
			t.Fatal(err)
		}
		got[r.Slug] = r.UUID
	}
	if got["renamed"] == "" || got["renamed"] != before["repo-0001"] {
		t.Errorf("renamed repository's uuid %q, want %q", got["renamed"], before["repo-0001"])
	}
	r, err := c.GetRepository(ctx, "ws", "renamed")
	if err != nil || r.UUID != before["repo-0001"] || r.Slug != "renamed" || r.MainBranch == "" {
		t.Errorf("GetRepository(renamed) = %+v, %v", r, err)
	}
	if _, err := c.GetRepository(ctx, "ws", "repo-0001"); !bitbucket.IsNotFound(err) {
		t.Errorf("old slug: %v, want a 404", err)
	}
}

// TestIsRepositoryGone: only Bitbucket's own JSON 404 about the repository
// says it is gone; a 404 about the workspace or the URL, a proxy's page or
// another status says nothing about it.
func TestIsRepositoryGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		ctype  string
		body   string
		want   bool
	}{
		{404, "application/json", `{"type":"error","error":{"message":"You may not have access to this repository or it no longer exists in this workspace. If you think this repository exists and you have access, make sure you are authenticated."}}`, true},
		{404, "application/json; charset=utf-8", `{"type":"error","error":{"message":"Repository acme/{0e9f} not found"}}`, true},
		{404, "application/json", `{"type":"error","error":{"message":"No workspace with identifier 'acme'."}}`, false},
		{404, "application/json", `{"type":"error","error":{"message":"Resource not found","detail":"There is no API hosted at this URL.\n\nFor information about our API's, please refer to the documentation at: https://developer.atlassian.com/bitbucket/api/2/reference/"}}`, false},
		{404, "text/html", `<html><body><h1>404 Not Found</h1></body></html>`, false},
		{404, "application/json", `{"message":"repository not found"}`, false},
		{410, "application/json", `{"type":"error","error":{"message":"Repository acme/x not found"}}`, false},
		{403, "application/json", `{"type":"error","error":{"message":"You may not have access to this repository"}}`, false},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.ctype}}, Body: io.NopCloser(strings.NewReader(tc.body))}
		if got := bitbucket.IsRepositoryGone(bitbucket.CheckResponse(resp)); got != tc.want {
			t.Errorf("%d %s: gone=%v, want %v", tc.status, tc.body, got, tc.want)
		}
	}
}
