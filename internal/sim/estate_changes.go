package sim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Estate changes between runs, for sync tests: a knob (Server.ChangeEstate)
// renames, deletes and adds repositories, changes default branches and adds
// manifests, on top of the generated estate. Changes apply to the listing,
// to GET /2.0/repositories/{workspace}/{repo_slug} and (manifests) to what a
// Snyk import of the repository finds.

// EstateChange is one batch of changes to one workspace's repositories,
// each named by its current slug.
type EstateChange struct {
	Workspace string
	// Rename maps a slug to its new slug; the UUID stays.
	Rename map[string]string
	// Delete removes repositories: gone from the listing, 404 when read.
	Delete []string
	// Branch changes a repository's main branch (updated_on is unchanged:
	// Atlassian does not say whether a settings change moves it).
	Branch map[string]string
	// AddManifest adds manifest paths to a repository (a push: updated_on
	// moves to now); a Snyk import of it then finds them too.
	AddManifest map[string][]string
	// New appends this many repositories (not forks, main branch "main",
	// updated now), slugs continuing the workspace's numbering.
	New int
}

// estateOverlay holds every workspace's changes; the zero value is ready.
type estateOverlay struct {
	mu sync.Mutex
	ws map[string]*wsOverlay // by workspace slug
}

type wsOverlay struct {
	added      int
	slug       map[int]string // index → slug after renames
	deleted    map[int]bool
	branch     map[int]string
	updated    map[int]time.Time
	manifests  map[int][]string
	listStatus int // 0: the spec's ListStatus
}

// ChangeEstate applies c. A slug that names no current repository is an
// error (nothing of c is applied then).
func (s *Server) ChangeEstate(c EstateChange) error {
	st := s.bb
	ws := st.workspace(c.Workspace)
	if ws == nil {
		return fmt.Errorf("sim: no workspace %q", c.Workspace)
	}
	o := &st.overlay
	o.mu.Lock()
	defer o.mu.Unlock()
	w := o.of(ws.Slug)
	find := func(slug string) (int, error) {
		for _, i := range w.visible(ws) {
			if strings.EqualFold(w.slugOf(ws, i), slug) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("sim: workspace %s has no repository %q", ws.Slug, slug)
	}
	type op func()
	var ops []op
	now := st.cfg.Now().UTC().Truncate(time.Microsecond)
	for old, nu := range c.Rename {
		i, err := find(old)
		if err != nil {
			return err
		}
		ops = append(ops, func() { w.slug[i] = nu })
	}
	for _, slug := range c.Delete {
		i, err := find(slug)
		if err != nil {
			return err
		}
		ops = append(ops, func() { w.deleted[i] = true })
	}
	for slug, b := range c.Branch {
		i, err := find(slug)
		if err != nil {
			return err
		}
		ops = append(ops, func() { w.branch[i] = b })
	}
	for slug, files := range c.AddManifest {
		i, err := find(slug)
		if err != nil {
			return err
		}
		ops = append(ops, func() {
			w.manifests[i] = append(w.manifests[i], files...)
			w.updated[i] = now
		})
	}
	for _, f := range ops {
		f()
	}
	for range c.New {
		i := ws.Repos + w.added
		w.added++
		w.updated[i] = now
	}
	return nil
}

// SetWorkspaceListStatus makes every listing and repository read of a
// workspace answer status (0 restores the spec's ListStatus): a workspace
// that fails for one run and is healthy the next.
func (s *Server) SetWorkspaceListStatus(workspace string, status int) error {
	ws := s.bb.workspace(workspace)
	if ws == nil {
		return fmt.Errorf("sim: no workspace %q", workspace)
	}
	o := &s.bb.overlay
	o.mu.Lock()
	o.of(ws.Slug).listStatus = status
	o.mu.Unlock()
	return nil
}

// CurrentRepositories lists a workspace's repositories as the listing
// serves them now (changes applied).
func (s *Server) CurrentRepositories(workspace string) []BitbucketRepo {
	ws := s.bb.workspace(workspace)
	if ws == nil {
		return nil
	}
	n, at := s.bb.repos(ws)
	out := make([]BitbucketRepo, n)
	for i := range out {
		out[i] = at(i)
	}
	return out
}

func (o *estateOverlay) of(slug string) *wsOverlay {
	if o.ws == nil {
		o.ws = map[string]*wsOverlay{}
	}
	w := o.ws[slug]
	if w == nil {
		w = &wsOverlay{slug: map[int]string{}, deleted: map[int]bool{}, branch: map[int]string{},
			updated: map[int]time.Time{}, manifests: map[int][]string{}}
		o.ws[slug] = w
	}
	return w
}

// visible are the indexes of the repositories that exist, in listing order.
func (w *wsOverlay) visible(ws *WorkspaceSpec) []int {
	var out []int
	for i := range ws.Repos + w.added {
		if !w.deleted[i] {
			out = append(out, i)
		}
	}
	return out
}

func (w *wsOverlay) slugOf(ws *WorkspaceSpec, i int) string {
	if s, ok := w.slug[i]; ok {
		return s
	}
	return fmt.Sprintf("repo-%04d", i+1)
}

// repo is repository i with the changes applied.
func (w *wsOverlay) repo(ws *WorkspaceSpec, i int) BitbucketRepo {
	r := ws.repoAt(i)
	if i >= ws.Repos { // added: a plain new repository
		r.IsFork, r.Parent, r.MainBranch = false, "", "main"
	}
	if s, ok := w.slug[i]; ok {
		r.Slug, r.FullName = s, ws.Slug+"/"+s
	}
	if b, ok := w.branch[i]; ok {
		r.MainBranch = b
	}
	if t, ok := w.updated[i]; ok {
		r.UpdatedOn = t
	}
	return r
}

// repos is the workspace's current listing: n repositories, at(k) the k-th.
// Without changes it is the generated estate, built on demand.
func (st *bitbucketState) repos(ws *WorkspaceSpec) (n int, at func(int) BitbucketRepo) {
	o := &st.overlay
	o.mu.Lock()
	defer o.mu.Unlock()
	w := o.ws[ws.Slug]
	if w == nil || (w.added == 0 && len(w.slug) == 0 && len(w.deleted) == 0 && len(w.branch) == 0 && len(w.updated) == 0) {
		return ws.Repos, ws.repoAt
	}
	idx := w.visible(ws)
	repos := make([]BitbucketRepo, len(idx))
	for k, i := range idx {
		repos[k] = w.repo(ws, i)
	}
	return len(repos), func(k int) BitbucketRepo { return repos[k] }
}

// listStatus is the status every read of the workspace answers (0: none).
func (st *bitbucketState) listStatus(ws *WorkspaceSpec) int {
	o := &st.overlay
	o.mu.Lock()
	defer o.mu.Unlock()
	if w := o.ws[ws.Slug]; w != nil && w.listStatus != 0 {
		return w.listStatus
	}
	return ws.ListStatus
}

// extraManifests are the manifests AddManifest gave the repository
// owner/name, for the Snyk import. Safe to call with the Snyk lock held
// (the overlay lock is never held while taking it).
func (st *bitbucketState) extraManifests(owner, name string) []string {
	ws := st.workspace(owner)
	if ws == nil {
		return nil
	}
	o := &st.overlay
	o.mu.Lock()
	defer o.mu.Unlock()
	w := o.ws[ws.Slug]
	if w == nil {
		return nil
	}
	for i, files := range w.manifests {
		if !w.deleted[i] && strings.EqualFold(w.slugOf(ws, i), name) {
			return slices.Clone(files)
		}
	}
	return nil
}

// getRepository is GET /2.0/repositories/{workspace}/{repo_slug}: the
// repository under its current slug or its {uuid}, else 404 (also for a
// renamed repository's old slug: the simulator does not redirect).
func (st *bitbucketState) getRepository(w http.ResponseWriter, r *http.Request, wsID, slug string) {
	st.s.add("bitbucket.repository_reads", 1)
	if st.s.throttles(w, "bitbucket.reads", "bitbucket") {
		return
	}
	if st.s.hostile.isProxied(wsID) {
		st.s.add("bitbucket.proxy_404", 1)
		proxyNotFound(w)
		return
	}
	ws := st.workspace(wsID)
	if ws == nil {
		st.apiError(w, http.StatusNotFound, "No workspace with identifier '"+wsID+"'.", nil, nil)
		return
	}
	if status := st.listStatus(ws); status != 0 {
		st.workspaceListError(w, status, wsID)
		return
	}
	var fields *bbFields
	if vs := r.URL.Query()["fields"]; len(vs) > 0 {
		fields = parseFields(strings.Join(vs, ","))
	}
	n, at := st.repos(ws)
	for k := range n {
		repo := at(k)
		if !strings.EqualFold(repo.Slug, slug) && !strings.EqualFold(repo.UUID, slug) {
			continue
		}
		var out any = bbRepoJSON(bbBase(r), ws, &repo, nil)
		if fields != nil {
			out = fields.apply(out.(map[string]any))
		}
		bbWriteJSON(w, http.StatusOK, out)
		return
	}
	st.apiError(w, http.StatusNotFound, "Repository "+url.PathEscape(ws.Slug)+"/"+url.PathEscape(slug)+" not found", nil, nil)
}

// RepoUUIDs maps each current slug of a workspace to its repository's UUID.
func (s *Server) RepoUUIDs(workspace string) map[string]string {
	out := map[string]string{}
	for _, r := range s.CurrentRepositories(workspace) {
		out[r.Slug] = r.UUID
	}
	return out
}
