package syncer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

var (
	t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
)

func repo(slug, branch string, updated time.Time) bitbucket.Repository {
	return bitbucket.Repository{Workspace: "ws", Slug: slug, UUID: "{" + slug + "-uuid}", MainBranch: branch, UpdatedOn: updated}
}

func proj(id, repoSlug, file, branch string) snyk.Project {
	return snyk.Project{ID: id, Name: "ws/" + repoSlug + ":" + file, Origin: "bitbucket-cloud-app", Type: "npm",
		TargetFile: file, Branch: branch, Status: "active", TargetID: "t-" + repoSlug, Created: t0.Format(time.RFC3339)}
}

func stateOf(repos ...bitbucket.Repository) *State {
	s := &State{Version: stateVersion, Repositories: map[string]RepoState{}}
	for _, r := range repos {
		s.Repositories[stateKey(&r)] = RepoState{Workspace: r.Workspace, Slug: r.Slug, Branch: r.MainBranch, UpdatedOn: r.UpdatedOn}
	}
	return s
}

// summary renders a plan as "action ws/slug[<-old] [projects]" lines.
func summary(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		line := string(s.Action) + " " + s.Workspace + "/" + s.Slug
		if s.OldSlug != "" {
			line += "<-" + s.OldSlug
		}
		var ids []string
		for _, pr := range s.Projects {
			ids = append(ids, pr.ID)
		}
		if len(ids) > 0 {
			line += " [" + strings.Join(ids, ",") + "]"
		}
		if s.From != "" || s.To != "" {
			line += " " + s.From + ">" + s.To
		}
		out = append(out, line)
	}
	return out
}

func TestBuild(t *testing.T) {
	cases := []struct {
		name     string
		in       Input
		want     []string
		failedWS []string
	}{
		{
			name: "nothing changed",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "main")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t0)}}},
				State:    stateOf(repo("a", "main", t0))},
		},
		{
			name: "default branch changed: only the projects on another branch move",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "master"), proj("p2", "a", "pom.xml", "main"), proj("p3", "a", "go.mod", "")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t0)}}},
				State:    stateOf(repo("a", "master", t0))},
			want: []string{"update-branch ws/a [p1] master>main"},
		},
		{
			name: "updated since the last sync: re-import after the branch update",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "master")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t1)}}},
				State:    stateOf(repo("a", "master", t0))},
			want: []string{"update-branch ws/a [p1] master>main", "reimport ws/a >main"},
		},
		{
			name: "no state: updated after the newest project was made",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "main"), proj("p2", "b", "package.json", "main")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t1), repo("b", "main", t0.Add(-time.Hour))}}}},
			want: []string{"reimport ws/a >main"},
		},
		{
			name: "renamed: same uuid under a new slug, known from the state",
			in: Input{Projects: []snyk.Project{proj("p1", "old", "package.json", "main")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{{Workspace: "ws", Slug: "new", UUID: "{old-uuid}", MainBranch: "main", UpdatedOn: t0}}}},
				State:    stateOf(repo("old", "main", t0)), ImportNew: true},
			want: []string{"rename ws/new<-old [p1] >main"},
		},
		{
			name: "gone from a complete listing: a deletion candidate",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "gone", "pom.xml", "main")},
				Listings: []*Listing{{Workspace: "ws"}}},
			want: []string{"deactivate-deleted ws/gone [p1,p2]"},
		},
		{
			name: "gone, --onDeletedRepo=delete",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main")},
				Listings: []*Listing{{Workspace: "ws"}}, OnDeleted: OnDeletedDelete},
			want: []string{"delete-deleted ws/gone [p1]"},
		},
		{
			name: "gone, --onDeletedRepo=ignore",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main")},
				Listings: []*Listing{{Workspace: "ws"}}, OnDeleted: OnDeletedIgnore},
		},
		{
			name: "gone but every project inactive already: nothing, no request",
			in: Input{Projects: []snyk.Project{func() snyk.Project { p := proj("p1", "gone", "package.json", "main"); p.Status = "inactive"; return p }()},
				Listings: []*Listing{{Workspace: "ws"}}},
		},
		{
			name: "failed listing: nothing for its targets, the workspace is reported",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "a", "package.json", "master")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t1)}, Err: errors.New("503")}}, ImportNew: true},
			failedWS: []string{"ws:2"},
		},
		{
			name: "new repositories: imported with --importNew, forks/empty left to the filters",
			in: Input{Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("n1", "main", t0), repo("empty", "", t0), repo("skipme", "main", t0)}}},
				ImportNew: true, Skip: func(_ string, r *bitbucket.Repository) bool { return r.Slug == "skipme" }},
			want: []string{"import-new ws/n1 >main"},
		},
		{
			name: "new repositories without --importNew: reported only",
			in:   Input{Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("n1", "main", t0)}}}},
			want: []string{"new-not-imported ws/n1 >main"},
		},
		{
			name: "new repository already requested (resume log) and unchanged: not asked again",
			in: Input{Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("n1", "main", t0), repo("n2", "main", t1)}}},
				State: stateOf(repo("n1", "main", t0), repo("n2", "main", t0)), ImportNew: true,
				AlreadyRequested: func(owner, name, branch string) bool { return true }},
			want: []string{"import-new ws/n2 >main"},
		},
		{
			name: "excluded files: deactivated, the rest moves branch",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "test/package.json", "master"), proj("p2", "a", "package.json", "master")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t0)}}},
				State:    stateOf(repo("a", "main", t0)), Excluded: ExclusionMatcher([]string{"test"})},
			want: []string{"update-branch ws/a [p2] master>main", "deactivate-excluded ws/a [p1]"},
		},
		{
			name: "filtered-out repository: its projects are left alone",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "master")},
				Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t1)}}},
				Skip:     func(string, *bitbucket.Repository) bool { return true }},
		},
		{
			name: "sast projects are never touched",
			in: Input{Projects: []snyk.Project{func() snyk.Project { p := proj("p1", "gone", "", ""); p.Type = "sast"; return p }()},
				Listings: []*Listing{{Workspace: "ws"}}},
		},
		{
			name: "a target of a workspace not synced is ignored",
			in: Input{Projects: []snyk.Project{{ID: "p1", Name: "other/x:package.json", Status: "active", Type: "npm"}},
				Listings: []*Listing{{Workspace: "ws"}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Build(tc.in)
			if got := summary(p); !slices.Equal(got, tc.want) {
				t.Errorf("plan:\n got %q\nwant %q", got, tc.want)
			}
			var ws []string
			for _, w := range p.FailedWorkspaces {
				ws = append(ws, fmt.Sprintf("%s:%d", w.Workspace, w.Targets))
			}
			if !slices.Equal(ws, tc.failedWS) {
				t.Errorf("failed workspaces %v, want %v", ws, tc.failedWS)
			}
		})
	}
}

func TestBuildCountsRemovals(t *testing.T) {
	p := Build(Input{Projects: []snyk.Project{proj("p1", "gone", "a/package.json", "main"), proj("p2", "gone", "package.json", "main"),
		proj("p3", "a", "package.json", "main")},
		Listings: []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t0)}}}})
	if p.Removals != 2 || p.ActiveProjects != 3 {
		t.Fatalf("removals %d of %d, want 2 of 3", p.Removals, p.ActiveProjects)
	}
}

func TestExclusionMatcher(t *testing.T) {
	m := ExclusionMatcher([]string{"test, ,ci", "**/fixtures/*.json", "docs/*", ""})
	for file, want := range map[string]bool{
		"test/package.json":         true,
		"a/test/pom.xml":            true,
		"acme-test/go.mod":          false,
		"src/services/package.json": false, // the original's substring match excluded it ("ci")
		"ci/package.json":           true,
		"x/fixtures/a.json":         true,
		"fixtures/a.json":           true,
		"docs/package.json":         true,
		"a/docs/package.json":       false,
		"package.json":              false,
	} {
		if got := m(file); got != want {
			t.Errorf("%s: excluded=%v, want %v", file, got, want)
		}
	}
	if ExclusionMatcher([]string{"", " , "}) != nil {
		t.Error("empty entries only: want no matcher (the original's trailing comma excluded everything)")
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]int{"25": 25, "10%": 10, "0": 0, "100%": 100, "2.5%": 3} {
		l, err := ParseLimit(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := l.Of(100); got != want {
			t.Errorf("%s of 100: %d, want %d", in, got, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "101%", "abc%"} {
		if _, err := ParseLimit(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	if got := DefaultLimit.Of(20); got != defaultMaxDeactivateFloor {
		t.Errorf("default limit of a small org: %d, want the floor %d", got, defaultMaxDeactivateFloor)
	}
}

func TestNextState(t *testing.T) {
	prev := stateOf(repo("a", "main", t0), repo("old", "main", t0), repo("gone", "main", t0), repo("b", "main", t0))
	listings := []*Listing{{Workspace: "ws", Repos: []bitbucket.Repository{repo("a", "main", t1),
		{Workspace: "ws", Slug: "new", UUID: "{old-uuid}", MainBranch: "main"}, repo("b", "main", t1), repo("n", "main", t1)}}}
	plan := &Plan{Steps: []Step{
		{Action: ActionReimport, Workspace: "ws", Slug: "a"},
		{Action: ActionRename, Workspace: "ws", Slug: "new", OldSlug: "old"},
		{Action: ActionDeactivateDeleted, Workspace: "ws", Slug: "gone"},
		{Action: ActionReimport, Workspace: "ws", Slug: "b"},
		{Action: ActionImportNew, Workspace: "ws", Slug: "n"},
	}}
	// a and the deletion succeeded; the rename, b's re-import and n failed.
	next := nextState(prev, "org", t1, listings, plan, map[int]bool{0: true, 2: true})
	got := map[string]string{}
	for _, rs := range next.Repositories {
		got[rs.Slug] = rs.UpdatedOn.Format(time.DateOnly)
	}
	want := map[string]string{"a": "2025-01-02", "old": "2025-01-01", "b": "2025-01-01"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("state %v, want %v", got, want)
	}
}

func TestValidateGlobs(t *testing.T) {
	for _, ok := range [][]string{nil, {"test,ci"}, {"a,", "**/fixtures/*"}} {
		if err := ValidateGlobs(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range [][]string{{"[a"}, {strings.Repeat("x", 101)}, {"a,b,c,d,e,f,g,h,i,j,k"}} {
		if err := ValidateGlobs(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// saveAs writes s as org's state file in dir (tests).
func (s *State) saveAs(dir, org string) error {
	s.OrgID = org
	return s.Save(dir)
}
