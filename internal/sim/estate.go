package sim

import (
	"fmt"
	"hash/fnv"
	"iter"
	"strings"
	"time"
)

// WorkspaceSpec describes one simulated Bitbucket workspace compactly. Its
// repositories are never stored: repository i is generated on demand from
// (workspace, i), so an estate of 200 workspaces × 250 repositories costs a
// few hundred bytes until a page is served.
//
// Counts larger than Repos are clamped. Forks, empty and private repositories
// are spread evenly over the indexes (each kind with its own phase), and
// updated_on times are spread over 2020-01-01..2026-01-01 in a shuffled order,
// so a `q=updated_on>…` filter picks repositories from every page.
type WorkspaceSpec struct {
	// Slug is the URL identifier (`acme-platform`).
	Slug string
	// Name is the display name; "" derives one from Slug ("Acme Platform").
	Name string
	// UUID is the braced workspace UUID; "" derives one from Slug.
	UUID string
	// Repos is the number of repositories.
	Repos int
	// Forks repositories have a `parent`.
	Forks int
	// Empty repositories have `mainbranch: null`.
	Empty int
	// Private repositories have `is_private: true`.
	Private int
	// Projects are project keys; repository i is in Projects[i%len(Projects)].
	// Empty means one project "PROJ" ("Untitled project") when the workspace
	// has repositories, and no project at all when it has none.
	Projects []string
	// EmptyProjects are further project keys that hold no repository: listed
	// by GET /2.0/workspaces/{workspace}/projects, matched by no repository.
	EmptyProjects []string
	// UpdatedOn overrides repository i's updated_on (nil = the default spread).
	UpdatedOn func(i int) time.Time
	// Unlisted workspaces are missing from GET /2.0/user/workspaces but can be
	// read by slug (a consumer told about a workspace with --workspace).
	Unlisted bool
	// ListStatus, when non-zero, is answered (with a Bitbucket error body) to
	// every GET /2.0/repositories/{this workspace} and
	// GET /2.0/workspaces/{this workspace}/projects: a workspace that is
	// listed but cannot be read (403, 404, 500...).
	ListStatus int

	// noProjects is set by normalized: no Projects were given and there is
	// no repository, so the workspace has no project at all.
	noProjects bool
}

// BitbucketRepo is one generated repository, as the simulator serves it.
// Tests use it to compute the listing they expect.
type BitbucketRepo struct {
	Workspace   string // workspace slug
	Index       int    // 0-based index in the workspace
	Slug        string // repo-0001
	Name        string // Repo 0001 (differs from Slug)
	FullName    string // workspace/slug
	UUID        string
	IsPrivate   bool
	IsFork      bool
	Parent      string // full_name of the parent when IsFork
	MainBranch  string // "" for an empty repository (mainbranch: null)
	Language    string
	ProjectKey  string
	ProjectName string
	ProjectUUID string
	CreatedOn   time.Time
	UpdatedOn   time.Time
	Size        int64
}

var (
	estateFrom      = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	estateTo        = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	estateLanguages = []string{"go", "java", "javascript", "python", "typescript", "c#", "ruby", ""}
)

// Estate builds n workspaces of reposEach repositories each, for benchmarks:
// slugs ws-001…, display names "Workspace 001"…, 10% forks, 5% empty, 75%
// private, four projects. Nothing is materialised up front.
func Estate(workspaces, reposEach int) []WorkspaceSpec {
	out := make([]WorkspaceSpec, workspaces)
	for i := range out {
		out[i] = WorkspaceSpec{
			Slug:     fmt.Sprintf("ws-%03d", i+1),
			Name:     fmt.Sprintf("Workspace %03d", i+1),
			Repos:    reposEach,
			Forks:    reposEach / 10,
			Empty:    reposEach / 20,
			Private:  reposEach * 3 / 4,
			Projects: []string{"CORE", "WEB", "DATA", "OPS"},
		}
	}
	return out
}

// FixtureWorkspaces is the small realistic default estate (used when
// BitbucketConfig.Workspaces is nil), for the demo and end-to-end tests:
//
//	acme-platform  "Acme Platform"    120 repos (6 forks, 4 empty), 3 projects
//	                                  and a 4th project, ARCHIVE, with no repository
//	acme-mobile    "Acme Mobile"       12 repos (2 forks, 1 empty)
//	data-science   "Data Science Lab"   3 repos
//	oss-mirrors    "OSS Mirrors"       25 repos, all public forks
//	legacy-sandbox "Legacy Sandbox"     0 repos
func FixtureWorkspaces() []WorkspaceSpec {
	return []WorkspaceSpec{
		{Slug: "acme-platform", Name: "Acme Platform", Repos: 120, Forks: 6, Empty: 4, Private: 100,
			Projects: []string{"PLAT", "WEB", "OPS"}, EmptyProjects: []string{"ARCHIVE"}},
		{Slug: "acme-mobile", Name: "Acme Mobile", Repos: 12, Forks: 2, Empty: 1, Private: 12,
			Projects: []string{"MOB"}},
		{Slug: "data-science", Name: "Data Science Lab", Repos: 3, Private: 2, Projects: []string{"DS"}},
		{Slug: "oss-mirrors", Name: "OSS Mirrors", Repos: 25, Forks: 25},
		{Slug: "legacy-sandbox", Name: "Legacy Sandbox"},
	}
}

// normalized fills the derived fields.
func (w WorkspaceSpec) normalized() WorkspaceSpec {
	if w.Name == "" {
		w.Name = estateDisplayName(w.Slug)
	}
	if w.UUID == "" {
		w.UUID = estateUUID("workspace", w.Slug)
	}
	if w.Repos < 0 {
		w.Repos = 0
	}
	w.Forks = min(max(w.Forks, 0), w.Repos)
	w.Empty = min(max(w.Empty, 0), w.Repos)
	w.Private = min(max(w.Private, 0), w.Repos)
	if len(w.Projects) == 0 {
		w.Projects = []string{"PROJ"}
		w.noProjects = w.Repos == 0
	}
	return w
}

// ProjectKeys are the workspace's projects in listing order: Projects
// (without repeats) then EmptyProjects. A workspace without repositories and
// without explicit Projects has none.
func (w WorkspaceSpec) ProjectKeys() []string {
	w = w.normalized()
	return w.projectKeys()
}

// projectKeys is ProjectKeys on an already normalised spec.
func (w *WorkspaceSpec) projectKeys() []string {
	var out []string
	seen := map[string]bool{}
	add := func(keys []string) {
		for _, k := range keys {
			if k != "" && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	if !w.noProjects {
		add(w.Projects)
	}
	add(w.EmptyProjects)
	return out
}

// RepoAt generates repository i (0 ≤ i < Repos) of the workspace.
func (w WorkspaceSpec) RepoAt(i int) BitbucketRepo {
	w = w.normalized()
	return w.repoAt(i)
}

// AllRepos yields every repository of the workspace in listing order.
func (w WorkspaceSpec) AllRepos() iter.Seq[BitbucketRepo] {
	w = w.normalized()
	return func(yield func(BitbucketRepo) bool) {
		for i := 0; i < w.Repos; i++ {
			if !yield(w.repoAt(i)) {
				return
			}
		}
	}
}

// repoAt is RepoAt on an already normalised spec.
func (w *WorkspaceSpec) repoAt(i int) BitbucketRepo {
	n := w.Repos
	slug := fmt.Sprintf("repo-%04d", i+1)
	h := estateHash(w.Slug, slug)
	key := w.Projects[i%len(w.Projects)]
	r := BitbucketRepo{
		Workspace:   w.Slug,
		Index:       i,
		Slug:        slug,
		Name:        fmt.Sprintf("Repo %04d", i+1),
		FullName:    w.Slug + "/" + slug,
		UUID:        estateUUID("repository", w.Slug+"/"+slug),
		IsPrivate:   estateSpread(i, n, w.Private, 0),
		IsFork:      estateSpread(i, n, w.Forks, n/3),
		Language:    estateLanguages[h%uint64(len(estateLanguages))],
		ProjectKey:  key,
		ProjectName: estateProjectName(key),
		ProjectUUID: estateUUID("project", w.Slug+"/"+key),
		Size:        int64(h%50_000_000) + 40_000,
	}
	if r.IsFork {
		r.Parent = "upstream-oss/" + slug
	}
	if !estateSpread(i, n, w.Empty, 2*n/3) {
		r.MainBranch = "main"
		if h%4 == 0 {
			r.MainBranch = "master"
		}
	}
	if w.UpdatedOn != nil {
		r.UpdatedOn = w.UpdatedOn(i).UTC()
	} else {
		span := estateTo.Sub(estateFrom)
		rank := estateShuffle(i, n)
		r.UpdatedOn = estateFrom.Add(time.Duration(float64(span) * float64(rank) / float64(max(n, 1)))).
			Add(time.Duration(h%1_000_000) * time.Microsecond).Truncate(time.Microsecond)
	}
	r.CreatedOn = r.UpdatedOn.Add(-time.Duration(h%(3*365*24)) * time.Hour)
	return r
}

// spread reports whether index i of n is one of k marked indexes, spread
// evenly and shifted by phase. Exactly k of the n indexes are marked.
func estateSpread(i, n, k, phase int) bool {
	if k <= 0 || n <= 0 {
		return false
	}
	j := (i + phase) % n
	return (j+1)*k/n > j*k/n
}

// shuffle is a deterministic permutation of 0..n-1.
func estateShuffle(i, n int) int {
	if n <= 1 {
		return 0
	}
	p := 7919
	if n%p == 0 {
		p = 7927
	}
	return (i * p) % n
}

func estateHash(parts ...string) uint64 {
	f := fnv.New64a()
	for _, p := range parts {
		_, _ = f.Write([]byte(p))
		_, _ = f.Write([]byte{0})
	}
	return f.Sum64()
}

// simUUID is a deterministic braced UUID for (kind, id).
func estateUUID(kind, id string) string {
	a, b := estateHash(kind, id), estateHash(id, kind)
	return fmt.Sprintf("{%08x-%04x-4%03x-%04x-%012x}",
		uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// displayName turns a slug into a display name: "acme-platform" → "Acme Platform".
func estateDisplayName(slug string) string {
	words := strings.FieldsFunc(slug, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	if len(words) == 0 {
		return slug
	}
	return strings.Join(words, " ")
}

func estateProjectName(key string) string {
	if key == "PROJ" {
		return "Untitled project"
	}
	return "Project " + key
}
