package importer

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// Visibility restricts import:data to private or public repositories.
type Visibility string

// Visibilities.
const (
	VisibilityAny     Visibility = ""
	VisibilityPrivate Visibility = "private"
	VisibilityPublic  Visibility = "public"
)

// SkipReason says why import:data left a repository out. The values are
// stable words for summaries.
type SkipReason string

// Reasons a repository is skipped, in the order they are checked.
const (
	// SkipVisibility: not of the requested visibility (normally filtered by
	// Bitbucket already through q=is_private=…).
	SkipVisibility SkipReason = "visibility"
	// SkipNotUpdated: not updated since UpdatedSince (normally filtered by
	// Bitbucket already through q=updated_on>…).
	SkipNotUpdated SkipReason = "not-updated-since"
	// SkipProject: not in one of the requested projects, or not in the org's
	// project (normally filtered by Bitbucket already through q=project.key=…).
	SkipProject SkipReason = "project"
	// SkipFork: a fork (Bitbucket reports a parent) with SkipForks on.
	SkipFork SkipReason = "fork"
	// SkipEmpty: no main branch, so nothing to import.
	SkipEmpty SkipReason = "empty"
	// SkipExcluded: matches an Exclude glob.
	SkipExcluded SkipReason = "excluded"
	// SkipNotIncluded: Include globs are given and none matches.
	SkipNotIncluded SkipReason = "not-included"
)

// RepoFilter selects which repositories become import targets. The zero
// value keeps every repository that has a main branch.
//
// Visibility, UpdatedSince and Projects are sent to Bitbucket as a BBQL q=
// expression so fewer pages are fetched, and are checked again client-side;
// the rest is client-side only.
type RepoFilter struct {
	// SkipForks drops forks (repositories with a parent).
	SkipForks bool
	// IncludeEmptyRepos keeps repositories without a main branch (their
	// target has no branch). The default, false, skips them.
	IncludeEmptyRepos bool
	// Include and Exclude are path.Match globs on "workspace/repo" (slugs,
	// matched case-insensitively); a glob without a slash matches the
	// repository slug in any workspace. Exclude wins over Include; with no
	// Include every repository is included.
	Include []string
	Exclude []string
	// Visibility keeps only private or only public repositories.
	Visibility Visibility
	// UpdatedSince keeps only repositories updated after this instant.
	UpdatedSince time.Time
	// Projects keeps only repositories of these Bitbucket project keys.
	Projects []string
}

// Validate checks the globs and the visibility.
func (f RepoFilter) Validate() error {
	switch f.Visibility {
	case VisibilityAny, VisibilityPrivate, VisibilityPublic:
	default:
		return fmt.Errorf("visibility %q: want %q or %q", f.Visibility, VisibilityPrivate, VisibilityPublic)
	}
	for _, globs := range [][]string{f.Include, f.Exclude} {
		for _, g := range globs {
			if _, err := path.Match(strings.ToLower(g), ""); err != nil {
				return fmt.Errorf("glob %q: %w", g, err)
			}
		}
	}
	for _, k := range f.Projects {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("empty project key")
		}
	}
	return nil
}

// bbqlTimeLayout is how dates are written in BBQL: RFC 3339 in UTC with a
// numeric offset. Atlassian's filtering examples write the offset
// (`2023-06-05T14:00:00-07:00`) and a public report shows Bitbucket refusing
// the `Z` form ("Illegal character in input: 'Z'"); the offset form is valid
// RFC 3339 either way (docs/api-notes.md).
const bbqlTimeLayout = "2006-01-02T15:04:05-07:00"

// Query builds the BBQL expression for GET /2.0/repositories/{workspace}?q=
// from the server-side filters, plus orgProject (the project key of an org
// made per project; "" for none). Terms are joined by AND; several project
// keys are one parenthesised OR. An org's project that is one of
// f.Projects is the only project term (the intersection). An empty string
// means no q at all. Example:
//
//	is_private=true AND updated_on>2024-01-01T00:00:00+00:00 AND (project.key="A" OR project.key="B")
func (f RepoFilter) Query(orgProject string) string {
	if orgProject != "" && slices.Contains(f.Projects, orgProject) {
		f.Projects = nil
	}
	var terms []string
	switch f.Visibility {
	case VisibilityPrivate:
		terms = append(terms, "is_private=true")
	case VisibilityPublic:
		terms = append(terms, "is_private=false")
	}
	if !f.UpdatedSince.IsZero() {
		terms = append(terms, "updated_on>"+f.UpdatedSince.UTC().Format(bbqlTimeLayout))
	}
	if t := projectTerm(f.Projects); t != "" {
		terms = append(terms, t)
	}
	if orgProject != "" {
		terms = append(terms, projectTerm([]string{orgProject}))
	}
	return strings.Join(terms, " AND ")
}

func projectTerm(keys []string) string {
	var ors []string
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		ors = append(ors, "project.key="+bbqlString(k))
	}
	switch len(ors) {
	case 0:
		return ""
	case 1:
		return ors[0]
	default:
		return "(" + strings.Join(ors, " OR ") + ")"
	}
}

// bbqlString quotes a BBQL string literal.
func bbqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// repoMatcher applies a RepoFilter to one org's repositories.
type repoMatcher struct {
	f          RepoFilter
	include    []string
	exclude    []string
	projects   map[string]bool
	orgProject string
}

func newRepoMatcher(f RepoFilter, orgProject string) *repoMatcher {
	m := &repoMatcher{f: f, orgProject: orgProject}
	for _, g := range f.Include {
		m.include = append(m.include, strings.ToLower(g))
	}
	for _, g := range f.Exclude {
		m.exclude = append(m.exclude, strings.ToLower(g))
	}
	if len(f.Projects) > 0 {
		m.projects = map[string]bool{}
		for _, k := range f.Projects {
			m.projects[k] = true
		}
	}
	return m
}

// skip says whether repo (of the workspace slug ws) is left out, and why.
// Fields Bitbucket did not send (zero UpdatedOn, empty project key) do not
// cause a skip: the server-side q already applied those filters.
func (m *repoMatcher) skip(ws string, repo *bitbucket.Repository) (SkipReason, bool) {
	f := &m.f
	if (f.Visibility == VisibilityPrivate && !repo.IsPrivate) || (f.Visibility == VisibilityPublic && repo.IsPrivate) {
		return SkipVisibility, true
	}
	if !f.UpdatedSince.IsZero() && !repo.UpdatedOn.IsZero() && !repo.UpdatedOn.After(f.UpdatedSince) {
		return SkipNotUpdated, true
	}
	if key := repo.Project.Key; key != "" {
		if (m.projects != nil && !m.projects[key]) || (m.orgProject != "" && key != m.orgProject) {
			return SkipProject, true
		}
	}
	if f.SkipForks && repo.IsFork {
		return SkipFork, true
	}
	if !f.IncludeEmptyRepos && repo.MainBranch == "" {
		return SkipEmpty, true
	}
	if len(m.include) > 0 || len(m.exclude) > 0 {
		full := strings.ToLower(ws + "/" + repo.Slug)
		slug := strings.ToLower(repo.Slug)
		if globsMatch(m.exclude, full, slug) {
			return SkipExcluded, true
		}
		if len(m.include) > 0 && !globsMatch(m.include, full, slug) {
			return SkipNotIncluded, true
		}
	}
	return "", false
}

func globsMatch(globs []string, full, slug string) bool {
	for _, g := range globs {
		subject := full
		if !strings.Contains(g, "/") {
			subject = slug
		}
		if ok, _ := path.Match(g, subject); ok {
			return true
		}
	}
	return false
}
