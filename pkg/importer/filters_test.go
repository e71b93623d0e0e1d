package importer

import (
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
)

func TestRepoFilterQuery(t *testing.T) {
	since := time.Date(2024, 1, 1, 1, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name       string
		f          RepoFilter
		orgProject string
		want       string
	}{
		{"nothing", RepoFilter{}, "", ""},
		{"client-side only", RepoFilter{SkipForks: true, Include: []string{"a/*"}, Exclude: []string{"b"}}, "", ""},
		{"private", RepoFilter{Visibility: VisibilityPrivate}, "", "is_private=true"},
		{"public", RepoFilter{Visibility: VisibilityPublic}, "", "is_private=false"},
		{"updated since, in UTC", RepoFilter{UpdatedSince: since}, "", "updated_on>2024-01-01T00:30:00+00:00"},
		{"one project", RepoFilter{Projects: []string{"PAY"}}, "", `project.key="PAY"`},
		{"projects OR-ed, deduplicated", RepoFilter{Projects: []string{"A", "B", "A"}}, "", `(project.key="A" OR project.key="B")`},
		{"org project", RepoFilter{}, "PAY", `project.key="PAY"`},
		{"quoted", RepoFilter{Projects: []string{`X"Y\Z`}}, "", `project.key="X\"Y\\Z"`},
		{"org project among the projects: the intersection", RepoFilter{Projects: []string{"A", "B"}}, "B", `project.key="B"`},
		{"everything", RepoFilter{Visibility: VisibilityPrivate, UpdatedSince: since, Projects: []string{"A", "B"}}, "C",
			`is_private=true AND updated_on>2024-01-01T00:30:00+00:00 AND (project.key="A" OR project.key="B") AND project.key="C"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Query(tt.orgProject); got != tt.want {
				t.Errorf("Query() =\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}

func TestRepoFilterValidate(t *testing.T) {
	tests := []struct {
		name string
		f    RepoFilter
		ok   bool
	}{
		{"zero", RepoFilter{}, true},
		{"good globs", RepoFilter{Include: []string{"ws/*", "api-?"}, Exclude: []string{"*/[a-c]*"}}, true},
		{"bad include", RepoFilter{Include: []string{"ws/[a"}}, false},
		{"bad exclude", RepoFilter{Exclude: []string{"["}}, false},
		{"bad visibility", RepoFilter{Visibility: "internal"}, false},
		{"empty project", RepoFilter{Projects: []string{" "}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestRepoMatcherSkip(t *testing.T) {
	since := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	base := bitbucket.Repository{Slug: "api", Workspace: "acme", MainBranch: "main", IsPrivate: true,
		UpdatedOn: since.Add(time.Hour), Project: bitbucket.Project{Key: "PAY"}}
	with := func(mod func(r *bitbucket.Repository)) bitbucket.Repository {
		r := base
		mod(&r)
		return r
	}
	tests := []struct {
		name       string
		f          RepoFilter
		orgProject string
		repo       bitbucket.Repository
		want       SkipReason // "" = kept
	}{
		{"kept", RepoFilter{}, "", base, ""},
		{"empty skipped by default", RepoFilter{}, "", with(func(r *bitbucket.Repository) { r.MainBranch = "" }), SkipEmpty},
		{"empty kept on request", RepoFilter{IncludeEmptyRepos: true}, "", with(func(r *bitbucket.Repository) { r.MainBranch = "" }), ""},
		{"fork kept by default", RepoFilter{}, "", with(func(r *bitbucket.Repository) { r.IsFork = true }), ""},
		{"fork skipped", RepoFilter{SkipForks: true}, "", with(func(r *bitbucket.Repository) { r.IsFork = true }), SkipFork},
		{"include matches workspace/repo", RepoFilter{Include: []string{"acme/a*"}}, "", base, ""},
		{"include misses", RepoFilter{Include: []string{"acme/web*"}}, "", base, SkipNotIncluded},
		{"include other workspace", RepoFilter{Include: []string{"other/*"}}, "", base, SkipNotIncluded},
		{"glob without slash matches slug", RepoFilter{Include: []string{"ap?"}}, "", base, ""},
		{"case-insensitive", RepoFilter{Include: []string{"ACME/API"}}, "", base, ""},
		{"exclude", RepoFilter{Exclude: []string{"*/api"}}, "", base, SkipExcluded},
		{"exclude wins over include", RepoFilter{Include: []string{"acme/*"}, Exclude: []string{"api"}}, "", base, SkipExcluded},
		{"private only keeps private", RepoFilter{Visibility: VisibilityPrivate}, "", base, ""},
		{"public only", RepoFilter{Visibility: VisibilityPublic}, "", base, SkipVisibility},
		{"updated after since", RepoFilter{UpdatedSince: since}, "", base, ""},
		{"not updated since", RepoFilter{UpdatedSince: since}, "", with(func(r *bitbucket.Repository) { r.UpdatedOn = since }), SkipNotUpdated},
		{"updated unknown trusts server", RepoFilter{UpdatedSince: since}, "", with(func(r *bitbucket.Repository) { r.UpdatedOn = time.Time{} }), ""},
		{"project listed", RepoFilter{Projects: []string{"OPS", "PAY"}}, "", base, ""},
		{"project not listed", RepoFilter{Projects: []string{"OPS"}}, "", base, SkipProject},
		{"org project", RepoFilter{}, "OPS", base, SkipProject},
		{"project unknown trusts server", RepoFilter{Projects: []string{"OPS"}}, "", with(func(r *bitbucket.Repository) { r.Project = bitbucket.Project{} }), ""},
		{"first reason wins", RepoFilter{SkipForks: true, Exclude: []string{"*"}}, "", with(func(r *bitbucket.Repository) { r.IsFork = true; r.MainBranch = "" }), SkipFork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.Validate(); err != nil {
				t.Fatal(err)
			}
			m := newRepoMatcher(tt.f, tt.orgProject)
			got, skip := m.skip("acme", &tt.repo)
			if skip != (tt.want != "") || got != tt.want {
				t.Errorf("skip() = %q, %v; want %q", got, skip, tt.want)
			}
		})
	}
}
