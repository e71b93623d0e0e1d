package sim

import (
	"testing"
	"time"
)

func TestWorkspaceSpecCounts(t *testing.T) {
	for _, spec := range []WorkspaceSpec{
		{Slug: "a", Repos: 1000, Forks: 100, Empty: 50, Private: 750, Projects: []string{"X", "Y"}},
		{Slug: "b", Repos: 7, Forks: 7, Empty: 1, Private: 0},
		{Slug: "c", Repos: 3, Forks: 9, Empty: -1},
		{Slug: "d"},
	} {
		n := spec.normalized()
		forks, empty, private := 0, 0, 0
		slugs := map[string]bool{}
		var minT, maxT time.Time
		for r := range spec.AllRepos() {
			if r.IsFork != (r.Parent != "") {
				t.Fatalf("%s: fork without parent", r.FullName)
			}
			if r.IsFork {
				forks++
			}
			if r.MainBranch == "" {
				empty++
			}
			if r.IsPrivate {
				private++
			}
			if r.Slug == r.Name || slugs[r.Slug] {
				t.Fatalf("slug %q name %q", r.Slug, r.Name)
			}
			slugs[r.Slug] = true
			if r.CreatedOn.After(r.UpdatedOn) {
				t.Fatalf("%s created after updated", r.FullName)
			}
			if minT.IsZero() || r.UpdatedOn.Before(minT) {
				minT = r.UpdatedOn
			}
			if r.UpdatedOn.After(maxT) {
				maxT = r.UpdatedOn
			}
			if r != spec.RepoAt(r.Index) {
				t.Fatal("RepoAt differs from AllRepos")
			}
		}
		if len(slugs) != n.Repos || forks != n.Forks || empty != n.Empty || private != n.Private {
			t.Errorf("%s: repos %d forks %d empty %d private %d; want %+v", spec.Slug, len(slugs), forks, empty, private, n)
		}
		if n.Repos > 100 && maxT.Sub(minT) < 4*365*24*time.Hour {
			t.Errorf("%s: updated_on spread only %v", spec.Slug, maxT.Sub(minT))
		}
	}
}

func TestFixtureAndEstate(t *testing.T) {
	fx := FixtureWorkspaces()
	if len(fx) != 5 {
		t.Fatalf("%d fixture workspaces", len(fx))
	}
	var empty, big, forks, emptyRepos int
	for _, w := range fx {
		n := w.normalized()
		if n.Name == n.Slug {
			t.Errorf("%s: name equals slug", n.Slug)
		}
		if n.Repos == 0 {
			empty++
		}
		if n.Repos > 100 {
			big++
		}
		forks += n.Forks
		emptyRepos += n.Empty
	}
	if empty == 0 || big == 0 || forks == 0 || emptyRepos == 0 {
		t.Fatalf("fixture lacks a case: empty %d big %d forks %d emptyRepos %d", empty, big, forks, emptyRepos)
	}

	est := Estate(200, 250)
	if len(est) != 200 || est[199].Slug != "ws-200" || est[0].Repos != 250 {
		t.Fatalf("estate %+v", est[199])
	}
	s := New(Config{Bitbucket: BitbucketConfig{Workspaces: est}})
	if s.ExpectedRepositories("ws-123") != 250 || len(s.BitbucketWorkspaces()) != 200 {
		t.Fatal("estate server")
	}
	if s.BitbucketWorkspaces()[0].UUID == "" {
		t.Fatal("derived UUID missing")
	}
	if got := estateDisplayName("acme-platform"); got != "Acme Platform" {
		t.Fatalf("display name %q", got)
	}
}
