package routing

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// Client is one credential's Bitbucket client (*bitbucket.Client
// satisfies it).
type Client interface {
	ListWorkspacesIter(ctx context.Context) iter.Seq2[bitbucket.Workspace, error]
	ListRepositoriesIter(ctx context.Context, workspace string, opts *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error]
	ListProjectsIter(ctx context.Context, workspace string) iter.Seq2[bitbucket.Project, error]
	GetRepository(ctx context.Context, workspace, slug string) (bitbucket.Repository, error)
	GetWorkspace(ctx context.Context, workspace string) (bitbucket.Workspace, error)
}

// Member is one credential of the run.
type Member struct {
	// Name is what the user calls it; empty for a run's only credential.
	Name string
	Kind credential.Kind
	// Workspaces are the slugs it serves, as its user pinned them; empty:
	// found by discovery.
	Workspaces []string
	// Open builds its client, on first use: a credential the run needs
	// nothing of sends nothing and opens no budget.
	Open func() (Client, error)
}

// Case is what the router learnt of what a credential serves.
type Case int

// The cases.
const (
	// Unasked: the run needed nothing of the credential.
	Unasked Case = iota
	// Pinned: its user named its workspaces.
	Pinned
	// Listed: GET /2.0/user/workspaces listed one or more.
	Listed
	// ListedNone: GET /2.0/user/workspaces answered an empty listing.
	ListedNone
	// Refused: GET /2.0/user/workspaces answered a refusal (Found.Err),
	// as it may for an app user and does for an access token.
	Refused
)

// Found is what one credential serves, and how that was learnt.
type Found struct {
	Name string
	Kind credential.Kind
	Case Case
	// Workspaces are the slugs it serves (pinned or listed), in order.
	Workspaces []string
	// Err is the refusal (Refused).
	Err error
	// Used: the run sent requests with it (or built its client to).
	Used bool
}

// discoveryConcurrency bounds the credentials asked at once, and the
// pinned workspaces verified at once.
const discoveryConcurrency = 16

// Router sends each workspace's requests with the credential that serves
// it. It is safe for concurrent use.
type Router struct {
	members []*member
	// pinned maps a lower-cased slug to the member that pinned it.
	pinned map[string]*member
	// only is the run's selection of workspaces (Workspaces).
	only []string
	// probed keeps each verified workspace's first repository (or none)
	// for the same question asked once more (probeAnswer).
	probed map[string][]bitbucket.Repository

	mu sync.Mutex
	// running is closed when the discovery under way ends; done: it
	// finished (with err) and is not run again.
	running chan struct{}
	done    bool
	err     error
}

type member struct {
	Member
	open    sync.Once
	client  Client
	openErr error
	used    atomic.Bool

	// Set by discovery (Router.mu held to read once done).
	found  Found
	listed []bitbucket.Workspace
}

// New checks the members: at least one, and no workspace pinned by two.
// only, if set, is the run's selection of workspaces (the command's
// workspace list): with a single credential that names none of its own,
// it is what that credential serves.
func New(members []Member, only []string) (*Router, error) {
	if len(members) == 0 {
		return nil, errors.New("routing: no Bitbucket credential")
	}
	r := &Router{pinned: map[string]*member{}, probed: map[string][]bitbucket.Repository{}}
	for _, m := range members {
		if m.Open == nil {
			return nil, fmt.Errorf("routing: credential %q has no client", m.Name)
		}
		r.members = append(r.members, &member{Member: m, found: Found{Name: m.Name, Kind: m.Kind}})
	}
	if len(r.members) == 1 && len(r.members[0].Workspaces) == 0 {
		r.members[0].Workspaces = only
	} else {
		r.only = dedupe(only)
	}
	for _, m := range r.members {
		m.Workspaces = dedupe(m.Workspaces)
		for _, ws := range m.Workspaces {
			key := strings.ToLower(ws)
			if other := r.pinned[key]; other != nil {
				return nil, fmt.Errorf("routing: workspace %q is pinned to both %q and %q", ws, other.Name, m.Name)
			}
			r.pinned[key] = m
		}
		if len(m.Workspaces) > 0 {
			m.found.Case, m.found.Workspaces = Pinned, m.Workspaces
		}
	}
	return r, nil
}

func dedupe(slugs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range slugs {
		s = strings.TrimSpace(s)
		if k := strings.ToLower(s); s != "" && !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// clientOf opens the member's client once.
func (m *member) clientOf() (Client, error) {
	m.open.Do(func() {
		m.client, m.openErr = m.Open()
		m.used.Store(true)
	})
	return m.client, m.openErr
}

// solo: one credential that names no workspace serves every workspace,
// without being asked which (the run of one credential, as before).
func (r *Router) solo() bool {
	return len(r.members) == 1 && len(r.members[0].Workspaces) == 0
}

// Found reports, per credential in order, what it serves and how that was
// learnt, as far as the run needed to know.
func (r *Router) Found() []Found {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Found, len(r.members))
	for i, m := range r.members {
		out[i] = m.found
		out[i].Used = m.used.Load()
	}
	return out
}

// Names are the credentials' names, in order.
func (r *Router) Names() []string {
	out := make([]string, len(r.members))
	for i, m := range r.members {
		out[i] = m.Name
	}
	return out
}

// Client is the client of the credential serving workspace, and that
// credential's name.
func (r *Router) Client(ctx context.Context, workspace string) (string, Client, error) {
	m, err := r.serving(ctx, workspace)
	if err != nil {
		return "", nil, err
	}
	c, err := m.clientOf()
	return m.Name, c, err
}

// serving finds the member that serves workspace: the one that pinned it,
// the only one, or among those whose listing has it the one listing the
// fewest workspaces (a consumer owned by the workspace rather than an
// administrator's token that sees forty), the first on a tie.
func (r *Router) serving(ctx context.Context, workspace string) (*member, error) {
	if m := r.pinned[strings.ToLower(workspace)]; m != nil {
		return m, nil
	}
	if r.solo() {
		return r.members[0], nil
	}
	if err := r.Discover(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var best *member
	for _, m := range r.members {
		if m.found.Case != Listed || !containsFold(m.found.Workspaces, workspace) {
			continue
		}
		if best == nil || len(m.found.Workspaces) < len(best.found.Workspaces) {
			best = m
		}
	}
	if best == nil {
		return nil, &UnservedError{Workspaces: []string{workspace}, Refused: r.refusedLocked()}
	}
	return best, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (r *Router) refusedLocked() []Found {
	var out []Found
	for _, m := range r.members {
		if m.found.Case == Refused {
			out = append(out, m.found)
		}
	}
	return out
}

// Discover asks every credential that pinned nothing which workspaces it
// sees (GET /2.0/user/workspaces, all pages), all at once, once per run.
// A refusal is a Found of the credential, not an error; an error is a
// failure that says nothing of what it serves (a 5xx, a rejected token
// exchange, the network), after which nothing was learnt.
func (r *Router) Discover(ctx context.Context) error {
	for {
		r.mu.Lock()
		if r.done {
			err := r.err
			r.mu.Unlock()
			return err
		}
		if wait := r.running; wait != nil {
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		run := make(chan struct{})
		r.running = run
		r.mu.Unlock()
		err := r.discover(ctx)
		r.mu.Lock()
		// A discovery its caller gave up on is run again by the next.
		if err == nil || ctx.Err() == nil {
			r.done, r.err = true, err
		}
		r.running = nil
		r.mu.Unlock()
		close(run)
		return err
	}
}

func (r *Router) discover(ctx context.Context) error {
	var ask []*member
	for _, m := range r.members {
		if len(m.Workspaces) == 0 {
			ask = append(ask, m)
		}
	}
	found := make([]Found, len(ask))
	listed := make([][]bitbucket.Workspace, len(ask))
	err := each(ctx, len(ask), func(ctx context.Context, i int) error {
		m := ask[i]
		f := Found{Name: m.Name, Kind: m.Kind}
		c, err := m.clientOf()
		if err != nil {
			return r.memberErr(m, err)
		}
		for ws, err := range c.ListWorkspacesIter(ctx) {
			if err != nil {
				if !refusal(m.Kind, err) {
					return r.memberErr(m, err)
				}
				f.Case, f.Err, f.Workspaces, listed[i] = Refused, err, nil, nil
				break
			}
			if ws.Slug == "" || containsFold(f.Workspaces, ws.Slug) {
				continue
			}
			f.Workspaces = append(f.Workspaces, ws.Slug)
			listed[i] = append(listed[i], ws)
		}
		if f.Case != Refused {
			f.Case = Listed
			if len(f.Workspaces) == 0 {
				f.Case = ListedNone
			}
		}
		found[i] = f
		return nil
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	for i, m := range ask {
		m.found, m.listed = found[i], listed[i]
	}
	r.mu.Unlock()
	return nil
}

// memberErr names the credential in an error when the run has several and
// the error does not name it already (an answer to its request does).
func (r *Router) memberErr(m *member, err error) error {
	if len(r.members) == 1 || m.Name == "" || named(err) {
		return err
	}
	return fmt.Errorf("credential %q: %w", m.Name, err)
}

func named(err error) bool {
	if e, ok := errors.AsType[*bitbucket.ErrorResponse](err); ok && e.AuthName != "" {
		return true
	}
	if e, ok := errors.AsType[*bitbucket.RateLimitError](err); ok && e.AuthName != "" {
		return true
	}
	e, ok := errors.AsType[*credential.TokenError](err)
	return ok && e.Name != ""
}

// refusal reports an answer of GET /2.0/user/workspaces that says the
// credential may not list workspaces there, rather than that it failed: a
// 4xx other than 429, and for a consumer's app user even a 401 (its token
// was just minted, and renewed once on a 401 already). Any other
// credential's 401 is the credential rejected: an access token answered
// 401 is more often a wrong token (or an API token sent without its
// e-mail) than a listing Bitbucket keeps from it. A refused token exchange
// is the credential failing, never a refusal of the listing.
func refusal(k credential.Kind, err error) bool {
	if _, ok := errors.AsType[*credential.TokenError](err); ok {
		return false
	}
	sc, ok := errors.AsType[interface {
		error
		HTTPStatus() int
	}](err)
	if !ok {
		return false
	}
	switch st := sc.HTTPStatus(); {
	case st == 401:
		return k == credential.BitbucketConsumer
	case st == 429:
		return false
	default:
		return st >= 400 && st < 500
	}
}

// each runs fn for 0..n-1, at most discoveryConcurrency at once, and
// returns the first error (the others are cancelled).
func each(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, discoveryConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
