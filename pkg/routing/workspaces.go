package routing

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// DiscoveryError is credentials that could not say which workspaces they
// serve (GET /2.0/user/workspaces refused them) and name none: their
// workspaces would be missing from the run.
type DiscoveryError struct {
	Refused []Found
}

func (e *DiscoveryError) Error() string {
	parts := make([]string, len(e.Refused))
	for i, f := range e.Refused {
		parts[i] = describe(f) + " cannot list its workspaces, so which it serves is unknown: " + f.Err.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the refusals.
func (e *DiscoveryError) Unwrap() []error {
	out := make([]error, len(e.Refused))
	for i, f := range e.Refused {
		out[i] = f.Err
	}
	return out
}

// CredentialsRejected is false: the credentials work, they cannot list
// (an answer the 401 inside does not change).
func (e *DiscoveryError) CredentialsRejected() bool { return false }

// Problem is Error: the refusals' requests are part of it.
func (e *DiscoveryError) Problem() string { return e.Error() }

// Details is empty.
func (e *DiscoveryError) Details() string { return "" }

// Problem is Error.
func (e *UnservedError) Problem() string { return e.Error() }

// Details is empty.
func (e *UnservedError) Details() string { return "" }

// UnservedError is workspaces no credential of the run serves: none pinned
// them and none that listed has them (Refused are the credentials whose
// listing was refused, which might).
type UnservedError struct {
	Workspaces []string
	Refused    []Found
}

func (e *UnservedError) Error() string {
	s := fmt.Sprintf("no Bitbucket credential of the run serves workspace %s", strings.Join(quoted(e.Workspaces), ", "))
	if len(e.Refused) > 0 {
		names := make([]string, len(e.Refused))
		for i, f := range e.Refused {
			names[i] = describe(f)
		}
		s += " (" + strings.Join(names, ", ") + " could not list its workspaces)"
	}
	return s
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// describe names a credential in an error.
func describe(f Found) string {
	if f.Name == "" {
		return "the credential"
	}
	return fmt.Sprintf("credential %q", f.Name)
}

// Workspaces are the workspaces of the run (orgs:data): each credential's
// pinned workspaces, each verified with one request (its first repository
// page of one item: the credential can list it), and the workspaces the
// others list, once each, in the credentials' order. With a selection
// (New's only) only those, each served by some credential: the pinned ones
// among them verified, the others found by discovery. A credential that
// pinned nothing and whose listing was refused is a *DiscoveryError when
// the run needs it (no selection, or a selected workspace left unserved);
// one that listed nothing serves nothing (Found says so).
func (r *Router) Workspaces(ctx context.Context) ([]bitbucket.Workspace, error) {
	var pins []pin
	unpinned := false
	for _, m := range r.members {
		for _, ws := range m.Workspaces {
			if len(r.only) == 0 || containsFold(r.only, ws) {
				pins = append(pins, pin{m, ws})
			}
		}
	}
	for _, s := range r.only {
		unpinned = unpinned || r.pinned[strings.ToLower(s)] == nil
	}
	if len(r.only) == 0 || unpinned {
		if err := r.Discover(ctx); err != nil {
			return nil, err
		}
	}
	if err := each(ctx, len(pins), func(ctx context.Context, i int) error { return pins[i].verify(ctx, r) }); err != nil {
		return nil, err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bitbucket.Workspace
	seen := map[string]bool{}
	add := func(ws bitbucket.Workspace) {
		if k := strings.ToLower(ws.Slug); !seen[k] {
			seen[k] = true
			out = append(out, ws)
		}
	}
	for _, p := range pins {
		add(bitbucket.Workspace{Slug: p.ws, Name: p.ws})
	}
	for _, m := range r.members {
		for _, ws := range m.listed {
			add(ws)
		}
	}
	refused := r.refusedLocked()
	if len(r.only) == 0 {
		if len(refused) > 0 {
			return nil, &DiscoveryError{Refused: refused}
		}
		return out, nil
	}
	var picked []bitbucket.Workspace
	var unserved []string
	for _, s := range r.only {
		i := indexFold(out, s)
		if i < 0 {
			unserved = append(unserved, s)
			continue
		}
		picked = append(picked, out[i])
	}
	if len(unserved) > 0 {
		return nil, &UnservedError{Workspaces: unserved, Refused: refused}
	}
	return picked, nil
}

func indexFold(list []bitbucket.Workspace, slug string) int {
	for i, ws := range list {
		if strings.EqualFold(ws.Slug, slug) {
			return i
		}
	}
	return -1
}

// pin is one pinned workspace of a member.
type pin struct {
	m  *member
	ws string
}

// verify asks for the workspace's first repository with its credential:
// one request that fails (404, 403) when the credential cannot list it.
// Its answer is kept for the same question asked next (orgs:data's
// probe of an empty workspace), so a pinned workspace still costs one
// request there.
func (p pin) verify(ctx context.Context, r *Router) error {
	c, err := p.m.clientOf()
	if err != nil {
		return r.memberErr(p.m, err)
	}
	var first []bitbucket.Repository
	for repo, err := range c.ListRepositoriesIter(ctx, p.ws, &bitbucket.RepositoryListOptions{PageLen: 1}) {
		if err != nil {
			return r.memberErr(p.m, fmt.Errorf("check workspace %q: %w", p.ws, err))
		}
		first = append(first, repo)
		break
	}
	r.mu.Lock()
	r.probed[strings.ToLower(p.ws)] = first
	r.mu.Unlock()
	return nil
}

// probeAnswer is the kept answer of a pinned workspace's verification when
// opts asks the same (the first repository, no query), once.
func (r *Router) probeAnswer(workspace string, opts *bitbucket.RepositoryListOptions) ([]bitbucket.Repository, bool) {
	if opts == nil || opts.PageLen != 1 || opts.Query != "" {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	key := strings.ToLower(workspace)
	first, ok := r.probed[key]
	delete(r.probed, key)
	return first, ok
}

// ListWorkspacesIter yields Workspaces (pkg/importer's Bitbucket).
func (r *Router) ListWorkspacesIter(ctx context.Context) iter.Seq2[bitbucket.Workspace, error] {
	return func(yield func(bitbucket.Workspace, error) bool) {
		list, err := r.Workspaces(ctx)
		if err != nil {
			yield(bitbucket.Workspace{}, err)
			return
		}
		for _, ws := range list {
			if !yield(ws, nil) {
				return
			}
		}
	}
}

// ListRepositoriesIter lists a workspace's repositories with the
// credential that serves it.
func (r *Router) ListRepositoriesIter(ctx context.Context, workspace string, opts *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	return func(yield func(bitbucket.Repository, error) bool) {
		if first, ok := r.probeAnswer(workspace, opts); ok {
			for _, repo := range first {
				yield(repo, nil)
			}
			return
		}
		_, c, err := r.Client(ctx, workspace)
		if err != nil {
			yield(bitbucket.Repository{}, err)
			return
		}
		for repo, err := range c.ListRepositoriesIter(ctx, workspace, opts) {
			if !yield(repo, err) {
				return
			}
		}
	}
}

// ListProjectsIter lists a workspace's projects with the credential that
// serves it.
func (r *Router) ListProjectsIter(ctx context.Context, workspace string) iter.Seq2[bitbucket.Project, error] {
	return func(yield func(bitbucket.Project, error) bool) {
		_, c, err := r.Client(ctx, workspace)
		if err != nil {
			yield(bitbucket.Project{}, err)
			return
		}
		for p, err := range c.ListProjectsIter(ctx, workspace) {
			if !yield(p, err) {
				return
			}
		}
	}
}

// GetRepository reads one repository with the credential that serves its
// workspace.
func (r *Router) GetRepository(ctx context.Context, workspace, slug string) (bitbucket.Repository, error) {
	_, c, err := r.Client(ctx, workspace)
	if err != nil {
		return bitbucket.Repository{}, err
	}
	return c.GetRepository(ctx, workspace, slug)
}

// GetWorkspace reads one workspace with the credential that serves it.
func (r *Router) GetWorkspace(ctx context.Context, workspace string) (bitbucket.Workspace, error) {
	_, c, err := r.Client(ctx, workspace)
	if err != nil {
		return bitbucket.Workspace{}, err
	}
	return c.GetWorkspace(ctx, workspace)
}
