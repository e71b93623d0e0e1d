package bitbucket_test

// Issue 13: the client against the simulator's published (strict) shapes,
// and against its lenient knobs, with the same results.

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// TestSimulator_WorkspaceNames: /2.0/user/workspaces items without `name`
// (the spec's form, the simulator's default) list with an empty Name, and
// GetWorkspace reads it; with names listed, the listing has them. Either
// way the names are the same.
func TestSimulator_WorkspaceNames(t *testing.T) {
	named := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: sevenWorkspaces(), WorkspaceAccessNames: true}})
	plain := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: sevenWorkspaces()}})
	cn := newSimClient(t, named, sim.DefaultBitbucketClientSecret)
	cp := newSimClient(t, plain, sim.DefaultBitbucketClientSecret)
	want := map[string]string{}
	for ws, err := range cn.ListWorkspacesIter(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		want[ws.Slug] = ws.Name
	}
	got := map[string]string{}
	for ws, err := range cp.ListWorkspacesIter(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if ws.Name != "" || ws.UUID == "" {
			t.Errorf("listed %+v, want no name and a uuid", ws)
		}
		full, err := cp.GetWorkspace(t.Context(), ws.Slug)
		if err != nil {
			t.Fatal(err)
		}
		got[ws.Slug] = full.Name
	}
	if len(want) != len(sevenSizes) || want["ws-250"] != "Workspace 250" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("names = %v, want %v", got, want)
	}
	if n := named.Count("bitbucket.requests"); n != 1 {
		t.Errorf("requests with names listed = %d, want 1", n)
	}
	if n := plain.Count("bitbucket.requests.workspace"); n != int64(len(sevenSizes)) {
		t.Errorf("GET /2.0/workspaces/{slug} = %d, want %d", n, len(sevenSizes))
	}
}

// TestSimulator_PageLenFallback: a listing whose pagelen=100 is refused with
// 400 is asked once more with 50 (workspaces, repositories, projects), and
// later listings start at 50; a smaller cap still fails after one retry.
func TestSimulator_PageLenFallback(t *testing.T) {
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: sevenWorkspaces(), WorkspaceAccessNames: true, MaxPageLen: 50}})
	var warnings []string
	var mu sync.Mutex
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret, bitbucket.WithWarnFunc(func(m string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, m)
	}))
	got := listAll(t, t.Context(), c)
	var wantPages int64
	for _, n := range sevenSizes {
		if got[fmt.Sprintf("ws-%d", n)] != n {
			t.Errorf("ws-%d: %d repositories", n, got[fmt.Sprintf("ws-%d", n)])
		}
		wantPages += int64(max(1, (n+49)/50))
	}
	for p, err := range c.ListProjectsIter(t.Context(), "ws-250") {
		if err != nil {
			t.Fatalf("ListProjectsIter: %v (%v)", err, p)
		}
	}
	// One refused request per listing kind (workspaces, repositories,
	// projects), not one per workspace.
	if n := s.Count("bitbucket.400"); n != 3 {
		t.Errorf("400 answers = %d, want 3", n)
	}
	if n := s.Count("bitbucket.repositories_pages"); n != wantPages {
		t.Errorf("repository pages = %d, want %d", n, wantPages)
	}
	if len(warnings) != 3 || !strings.Contains(warnings[0], "pagelen=100") || !strings.Contains(warnings[0], "50 per page") {
		t.Errorf("warnings = %q", warnings)
	}

	s = startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{MaxPageLen: 25}})
	c = newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	for _, err := range c.ListWorkspacesIter(t.Context()) {
		if err == nil || !strings.Contains(err.Error(), "pagelen=100") || !strings.Contains(err.Error(), "400") {
			t.Errorf("err = %v, want the 400 for pagelen=100", err)
		}
		break
	}
	if n := s.Count("bitbucket.400"); n != 2 {
		t.Errorf("400 answers = %d, want 2 (100, then 50 once)", n)
	}
}
