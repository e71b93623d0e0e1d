package importer

import (
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// Pool is what imports running at once share: the slots of their workers
// (a target holds one from its kick-off to its last poll) and the poll
// scheduler. Import makes its own; sync, which imports for several orgs
// at once, gives every org's Import the same one, so the run keeps to one
// Concurrency and one schedule.
type Pool struct {
	slots chan struct{}
	polls *Polls

	// ahead is the resume log, written ahead: one AheadLog per file, as it
	// writes at offsets it tracks, shared by the imports running at once
	// and closed when the last of them ends.
	mu    sync.Mutex
	ahead *importfiles.AheadLog
	users int
}

// openAhead opens the resume log at path for one more import, or shares
// the one open.
func (p *Pool) openAhead(open importfiles.OpenFunc, path string) (*importfiles.AheadLog, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ahead == nil {
		a, err := importfiles.OpenAheadLog(open, path)
		if err != nil {
			return nil, err
		}
		p.ahead = a
	}
	p.users++
	return p.ahead, nil
}

// closeAhead ends one import's use of the resume log; the last closes it.
func (p *Pool) closeAhead() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users--; p.users > 0 || p.ahead == nil {
		return nil
	}
	err := p.ahead.Close()
	p.ahead = nil
	return err
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
