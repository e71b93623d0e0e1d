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
	return bitbucket.Repository{Workspace: "ws", Slug: slug, UUID: uuidOf(slug), MainBranch: branch, UpdatedOn: updated}
}

func uuidOf(slug string) string { return "{" + slug + "-uuid}" }

// proj is a project of the target "t-<repoSlug>" named "ws/<repoSlug>".
func proj(id, repoSlug, file, branch string) snyk.Project {
	return snyk.Project{ID: id, Name: "ws/" + repoSlug + ":" + file, Origin: "bitbucket-cloud-app", Type: "npm",
		TargetFile: file, Branch: branch, Status: "active", TargetID: "t-" + repoSlug, Created: t0.Format(time.RFC3339)}
}

func inactive(p snyk.Project) snyk.Project { p.Status = "inactive"; return p }

// stateOf records repos as listed before, each with its target "t-<slug>".
func stateOf(repos ...bitbucket.Repository) *State {
	s := &State{Version: stateVersion, Repositories: map[string]RepoState{}}
	for _, r := range repos {
		s.Repositories[normUUID(r.UUID)] = RepoState{Workspace: r.Workspace, Slug: r.Slug, Branch: r.MainBranch,
			UpdatedOn: r.UpdatedOn, Targets: []string{"t-" + r.Slug}}
	}
	return s
}

func listing(repos ...bitbucket.Repository) []*Listing {
	return []*Listing{{Workspace: "ws", Repos: repos}}
}

// summary renders a plan as "action ws/slug[<-old] [projects] from>to" lines.
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
	t.Parallel()
	renamed := bitbucket.Repository{Workspace: "ws", Slug: "new", UUID: uuidOf("old"), MainBranch: "main", UpdatedOn: t0}
	gone := func(days int, ids ...string) *State {
		s := stateOf(repo("gone", "main", t0))
		rs := s.Repositories[uuidOf("gone")]
		rs.Gone = &Gone{Confirmed: t0, Deactivated: t0, Projects: ids}
		s.Repositories[uuidOf("gone")] = rs
		_ = days
		return s
	}
	cases := []struct {
		name     string
		in       Input
		want     []string
		failedWS []string
		pending  int
	}{
		{
			name: "nothing changed",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "main")},
				Listings: listing(repo("a", "main", t0)), State: stateOf(repo("a", "main", t0))},
		},
		{
			name: "default branch changed: only the projects on another branch move",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "master"), proj("p2", "a", "pom.xml", "main"), proj("p3", "a", "go.mod", "")},
				Listings: listing(repo("a", "main", t0)), State: stateOf(repo("a", "master", t0))},
			want: []string{"update-branch ws/a [p1] master>main"},
		},
		{
			name: "updated since the last sync: re-import after the branch update",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "master")},
				Listings: listing(repo("a", "main", t1)), State: stateOf(repo("a", "master", t0))},
			want: []string{"update-branch ws/a [p1] master>main", "reimport ws/a >main"},
		},
		{
			name: "no state: matched by name, updated after the newest project was made",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "main"), proj("p2", "b", "package.json", "main")},
				Listings: listing(repo("a", "main", t1), repo("b", "main", t0.Add(-time.Hour)))},
			want: []string{"reimport ws/a >main"},
		},
		{
			name: "renamed: the uuid the state recorded for the target, listed under a new slug",
			in: Input{Projects: []snyk.Project{proj("p1", "old", "package.json", "main")},
				Listings: listing(renamed), State: stateOf(repo("old", "main", t0)), ImportNew: true},
			want: []string{"rename ws/new<-old [p1] >main"},
		},
		{
			name: "renamed, migrated state (no target links): matched by the name it had",
			in: Input{Projects: []snyk.Project{proj("p1", "old", "package.json", "main")},
				Listings: listing(renamed), State: func() *State {
					s := stateOf(repo("old", "main", t0))
					rs := s.Repositories[uuidOf("old")]
					rs.Targets = nil
					s.Repositories[uuidOf("old")] = rs
					return s
				}(), ImportNew: true},
			want: []string{"rename ws/new<-old [p1] >main"},
		},
		{
			name: "renamed, the new name imported already: only the old projects go",
			in: Input{Projects: []snyk.Project{proj("p1", "old", "package.json", "main"), proj("p2", "new", "package.json", "main")},
				Listings: listing(renamed), State: stateOf(repo("old", "main", t0))},
			want: []string{"rename ws/new<-old [p1] >main"},
		},
		{
			name: "gone from a complete listing that had it before: a deletion candidate",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "gone", "pom.xml", "main")},
				Listings: listing(), State: stateOf(repo("gone", "main", t0))},
			want: []string{"deactivate-deleted ws/gone [p1,p2]"},
		},
		{
			name: "gone, never listed before: unmatched, not deleted",
			in: Input{Projects: []snyk.Project{proj("p0", "a", "package.json", "main"), proj("p1", "gone", "package.json", "main")},
				Listings: listing(repo("a", "main", t0)), State: stateOf(repo("a", "main", t0))},
			want: []string{"unmatched ws/gone"},
		},
		{
			name: "gone, first sync ever: unmatched, not deleted",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main")},
				Listings: listing()},
			want: []string{"unmatched ws/gone"},
		},
		{
			name: "gone, --onDeletedRepo=delete: deactivated first",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main")},
				Listings: listing(), State: stateOf(repo("gone", "main", t0)), OnDeleted: OnDeletedDelete},
			want: []string{"deactivate-deleted ws/gone [p1]"},
		},
		{
			name: "gone, delete, deactivated by this sync a week ago: deleted",
			in: Input{Projects: []snyk.Project{inactive(proj("p1", "gone", "package.json", "main"))}, Now: t0.Add(DefaultDeleteAfter),
				Listings: listing(), State: gone(7, "p1"), OnDeleted: OnDeletedDelete},
			want: []string{"delete-deleted ws/gone [p1]"},
		},
		{
			name: "gone, delete, deactivated 6 days ago: waits",
			in: Input{Projects: []snyk.Project{inactive(proj("p1", "gone", "package.json", "main"))}, Now: t0.Add(6 * 24 * time.Hour),
				Listings: listing(), State: gone(6, "p1"), OnDeleted: OnDeletedDelete},
			pending: 1,
		},
		{
			name: "gone, delete, deactivated by someone else: never deleted",
			in: Input{Projects: []snyk.Project{inactive(proj("p1", "gone", "package.json", "main"))}, Now: t1.Add(30 * 24 * time.Hour),
				Listings: listing(), State: gone(30), OnDeleted: OnDeletedDelete},
		},
		{
			name: "gone, --onDeletedRepo=ignore",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main")},
				Listings: listing(), State: stateOf(repo("gone", "main", t0)), OnDeleted: OnDeletedIgnore},
		},
		{
			name: "gone but every project inactive already: nothing, no request",
			in: Input{Projects: []snyk.Project{inactive(proj("p1", "gone", "package.json", "main"))},
				Listings: listing(), State: stateOf(repo("gone", "main", t0))},
		},
		{
			name: "names that are no slug: unmatched, never a deletion",
			in: Input{Projects: []snyk.Project{{ID: "p1", Name: "ws/a(main):package.json", Status: "active", Type: "npm", TargetID: "t1"}},
				Targets:  []snyk.Target{{ID: "t1", DisplayName: "ws/a (archived)"}},
				Listings: listing(repo("a", "main", t0))},
			// Its repository looks new: reported (imported with --importNew,
			// which makes it a target found by bbimport's own import).
			want: []string{"new-not-imported ws/a >main", "unmatched ws/a (archived)"},
		},
		{
			name: "recorded as one repository, named like another now: unmatched",
			in: Input{Projects: []snyk.Project{proj("p1", "b", "package.json", "main")},
				Listings: listing(repo("b", "main", t0)), State: func() *State {
					s := stateOf()
					s.Repositories[uuidOf("x")] = RepoState{Workspace: "ws", Slug: "x", Targets: []string{"t-b"}}
					return s
				}()},
			want: []string{"unmatched ws/b"},
		},
		{
			name: "gone, its name another repository's now, target name no slug: unmatched, not deleted",
			in: Input{Projects: []snyk.Project{{ID: "p1", Name: "ws/a(main):package.json", Status: "active", Type: "npm", TargetID: "t-a"}},
				Targets:  []snyk.Target{{ID: "t-a", DisplayName: "ws/a(main)"}},
				Listings: listing(bitbucket.Repository{Workspace: "ws", Slug: "a", UUID: uuidOf("b"), MainBranch: "main"}),
				State:    stateOf(repo("a", "main", t0), repo("b", "main", t0)), OnDeleted: OnDeletedDelete},
			want: []string{"new-not-imported ws/a >main", "unmatched ws/a"},
		},
		{
			name: "a target found by bbimport's own import result, whatever its name",
			in: Input{Projects: []snyk.Project{{ID: "p1", Name: "ws/a(main):package.json", Status: "active", Type: "npm", TargetID: "t1", Branch: "master"}},
				Targets: []snyk.Target{{ID: "t1", DisplayName: "ws/a(main)"}}, Listings: listing(repo("a", "main", t0)),
				State: &State{Repositories: map[string]RepoState{uuidOf("a"): {Workspace: "ws", Slug: "a", Branch: "main", UpdatedOn: t0, Imported: []string{"p1"}}}}},
			want: []string{"update-branch ws/a [p1] master>main"},
		},
		{
			name: "failed listing: nothing for its targets, the workspace is reported",
			in: Input{Projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "a", "package.json", "master")},
				Listings: []*Listing{{Workspace: "ws", Err: errors.New("503")}}, State: stateOf(repo("gone", "main", t0), repo("a", "main", t0)), ImportNew: true},
			failedWS: []string{"ws:2"},
		},
		{
			name: "new repositories: imported, forks/empty left to the filters",
			in: Input{Listings: listing(repo("n1", "main", t0), repo("empty", "", t0), repo("skipme", "main", t0)),
				ImportNew: true, Skip: func(_ string, r *bitbucket.Repository) bool { return r.Slug == "skipme" }},
			want: []string{"import-new ws/n1 >main"},
		},
		{
			name: "new repositories without --importNew: reported only",
			in:   Input{Listings: listing(repo("n1", "main", t0))},
			want: []string{"new-not-imported ws/n1 >main"},
		},
		{
			name: "a repository whose target's projects are all inactive is not new",
			in: Input{Projects: []snyk.Project{inactive(proj("p1", "a", "package.json", "main"))},
				Listings: listing(repo("a", "main", t0)), ImportNew: true},
		},
		{
			name: "new repository already requested (resume log) and unchanged: not asked again",
			in: Input{Listings: listing(repo("n1", "main", t0), repo("n2", "main", t1)),
				State: stateOf(repo("n1", "main", t0), repo("n2", "main", t0)), ImportNew: true,
				AlreadyRequested: func(owner, name, branch string) bool { return true }},
			want: []string{"import-new ws/n2 >main"},
		},
		{
			name: "excluded files: deactivated, the rest moves branch",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "test/package.json", "master"), proj("p2", "a", "package.json", "master")},
				Listings: listing(repo("a", "main", t0)), State: stateOf(repo("a", "main", t0)), Excluded: ExclusionMatcher([]string{"test"})},
			want: []string{"update-branch ws/a [p2] master>main", "deactivate-excluded ws/a [p1]"},
		},
		{
			name: "filtered-out repository: its projects are left alone",
			in: Input{Projects: []snyk.Project{proj("p1", "a", "package.json", "master")},
				Listings: listing(repo("a", "main", t1)), Skip: func(string, *bitbucket.Repository) bool { return true }},
		},
		{
			name: "sast projects are never touched",
			in: Input{Projects: []snyk.Project{func() snyk.Project { p := proj("p1", "gone", "", ""); p.Type = "sast"; return p }()},
				Listings: listing(), State: stateOf(repo("gone", "main", t0))},
		},
		{
			name: "a target of a workspace not synced is ignored",
			in: Input{Projects: []snyk.Project{{ID: "p1", Name: "other/x:package.json", Status: "active", Type: "npm"}},
				Listings: listing()},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
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
			if len(p.PendingDeletes) != tc.pending {
				t.Errorf("pending deletions %+v, want %d", p.PendingDeletes, tc.pending)
			}
			for _, s := range p.Steps {
				if s.Removes() && !s.Unconfirmed && (s.Action == ActionDeactivateDeleted || s.Action == ActionDeleteDeleted) {
					t.Errorf("%s planned as proven before any confirmation", s.Action)
				}
			}
		})
	}
}

// TestBuildCountsUniqueProjects: the guard's base and the removals count
// each project once.
func TestBuildCountsUniqueProjects(t *testing.T) {
	t.Parallel()
	p := Build(Input{Projects: []snyk.Project{proj("p1", "gone", "a/package.json", "main"), proj("p2", "gone", "package.json", "main"),
		proj("p3", "a", "package.json", "main"), proj("p3", "a", "package.json", "main")},
		Listings: listing(repo("a", "main", t0)), State: stateOf(repo("a", "main", t0), repo("gone", "main", t0))})
	if p.Removals != 2 || p.ActiveProjects != 3 {
		t.Fatalf("removals %d of %d, want 2 of 3", p.Removals, p.ActiveProjects)
	}
}

func TestExclusionMatcher(t *testing.T) {
	t.Parallel()
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

// TestLimit: 0 and 0% allow none; only an explicit limit may empty an org;
// the default is 10 % of the org, never all of it.
func TestLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		active int
		want   int
	}{
		{"25", 100, 25}, {"10%", 100, 10}, {"0", 100, 0}, {"0%", 100, 0}, {"100%", 100, 100}, {"2.5%", 100, 3},
		{"100%", 5, 5}, {"5", 5, 5}, {"0%", 5, 0},
	} {
		l, err := ParseLimit(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := l.Of(tc.active); got != tc.want {
			t.Errorf("%s of %d: %d, want %d", tc.in, tc.active, got, tc.want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "101%", "abc%"} {
		if _, err := ParseLimit(bad); err == nil || !strings.Contains(err.Error(), "MaxDeactivate") {
			t.Errorf("%q: error %v, want one naming the field", bad, err)
		}
	}
	for active, want := range map[int]int{1: 0, 5: 1, 10: 1, 11: 2, 1000: 100} {
		if got := DefaultLimit.Of(active); got != want {
			t.Errorf("default limit of %d: %d, want %d", active, got, want)
		}
	}
}

func TestValidateGlobs(t *testing.T) {
	t.Parallel()
	for _, ok := range [][]string{nil, {"test,ci"}, {"a,", "**/fixtures/*"}} {
		if err := ValidateGlobs(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range [][]string{{"[a"}, {strings.Repeat("x", 101)}, {"a,b,c,d,e,f,g,h,i,j,k"}} {
		if err := ValidateGlobs(bad); err == nil || !strings.Contains(err.Error(), "{ExclusionGlobs}") && !strings.Contains(err.Error(), "ExclusionGlobs") {
			t.Errorf("%q: error %v, want one naming the field", bad, err)
		}
	}
}
