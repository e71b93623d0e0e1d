package bitbucket_test

import (
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
