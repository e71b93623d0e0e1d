package importer

import (
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
)

// Pool is what imports running at once share: the slots of their workers
// (a target holds one from its kick-off to its last poll) and the poll
// scheduler. Import makes its own; sync, which imports for several orgs
// at once, gives every org's Import the same one, so the run keeps to one
// --concurrency and one schedule.
type Pool struct {
	slots chan struct{}
	polls *Polls
}

// NewPool returns a pool of opts.Concurrency slots whose polls follow
// opts' schedule (PollInitial, PollMax, the PollShare cap) and the budget
// of opts.Snyk, when it can tell (a client sending through internal/httpx).
func NewPool(opts ImportOptions) *Pool {
	cfg := pollsConfig{floor: opts.PollInitial, max: opts.PollMax, report: opts.OnPollSchedule}
	if opts.PollShare > 0 && opts.SnykRateLimit > 0 {
		cfg.capRate = opts.PollShare * float64(opts.SnykRateLimit) / time.Minute.Seconds()
	}
	if b, ok := opts.Snyk.(budgeted); ok {
		cfg.load = b.Load
	}
	return &Pool{slots: make(chan struct{}, max(opts.Concurrency, 1)), polls: newPolls(cfg)}
}

// budgeted is a Snyk client that can say how much of its request budget
// is spent (*snyk.Client, through the HTTP stack it sends with).
type budgeted interface {
	Load() httpx.Load
}

// Schedule is the poll schedule in force now (Rate +Inf when nothing
// bounds the polls), for a debug line at the start of a run.
func (p *Pool) Schedule() PollSchedule {
	p.polls.mu.Lock()
	defer p.polls.mu.Unlock()
	return p.polls.schedule()
}
