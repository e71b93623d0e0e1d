package syncer

import (
	"context"
	"sync"
)

// ReposInFlight is the run's budget of repositories in flight: another org
// starts only while the orgs being synced hold fewer (so at most one org's
// worth more). Each org holds its picture (its Snyk targets and projects,
// its workspaces' listings, its state before and after) from its first
// read to its state saved, so the budget, not the estate or the number of
// its orgs, sets sync's memory. 8,000 keep Snyk's limit busy at its default
// (1,500 a minute) at hundreds of milliseconds a request: an org's reads
// go about fifteen a second at 200 ms (three listings side by side), eight
// orgs of 1,000 over a hundred. Far above the default limit the budget is
// the bound: docs/benchmarks.md measures both, and why 8,000 (larger, an
// estate of 10,000 would be held whole and the peak would grow with the
// estate up to the budget; smaller, sync slows at a raised limit).
const ReposInFlight = 8_000

// gate admits orgs within the budget of repositories in flight and a number
// of orgs at once. An org of unknown size (no state yet) counts as the
// average of the orgs sized so far, or a quarter of the budget before any;
// once its listings are read it counts as listed. Safe for concurrent use.
type gate struct {
	mu            sync.Mutex
	held, running int
	// sized and sizedRepos are the orgs whose size is known and their
	// repositories, for the size of an org not known yet.
	sized, sizedRepos int
	// changed is closed (and replaced) whenever an org leaves or shrinks.
	changed chan struct{}
}

func newGate() *gate { return &gate{changed: make(chan struct{})} }

// ticket is one org's place: the repositories it is counted for.
type ticket struct {
	g     *gate
	repos int
}

// guess is the size of an org with no state.
func (g *gate) guess() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sized == 0 {
		return ReposInFlight / 4
	}
	return g.sizedRepos / g.sized
}

// enter waits until an org of repos repositories may start: fewer than
// atOnce() orgs running and fewer than ReposInFlight repositories held, or
// nothing running (an org larger than the budget runs, alone with those
// started before it).
func (g *gate) enter(ctx context.Context, atOnce func() int, repos int) (*ticket, error) {
	for {
		g.mu.Lock()
		if g.running == 0 || g.running < max(atOnce(), 1) && g.held < ReposInFlight {
			g.running++
			g.held += repos
			g.mu.Unlock()
			return &ticket{g: g, repos: repos}, nil
		}
		wait := g.changed
		g.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// listed counts the org as the repositories its listings hold from now on.
func (t *ticket) listed(repos int) {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held += repos - t.repos
	if repos < t.repos {
		g.wake()
	}
	t.repos = repos
	g.sized++
	g.sizedRepos += repos
}

// leave ends the org: its repositories are no longer in flight.
func (t *ticket) leave() {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	g.held -= t.repos
	t.repos = 0
	g.wake()
}

func (g *gate) wake() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// acquire takes a slot of sem, or reports false once ctx is done: a
// request queued behind the org's bound when the run is cancelled is not
// started (its queue may be every step of an action).
func acquire(ctx context.Context, sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if ctx.Err() != nil { // both were ready: select chose at random
		<-sem
		return false
	}
	return true
}
