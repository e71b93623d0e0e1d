package importer

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
)

// When a job is polled: every job a pool waits on is polled by one
// scheduler (Polls), which spends on polls what the Snyk budget has left
// after everything else, and spends it on the jobs most likely to have
// finished since their last poll.
//
// The chance that a job finished comes from the durations of the jobs
// seen to finish in this run (their ages at the poll that found them done
// and at the one before), mixed with a prior that expects a job of age a
// to run about as long again (survival τ/(a+τ), τ twenty floors) until
// there are some. A job is due when the time a finished job would already
// have waited for its poll (the chance it finished since its last poll ×
// half that time) reaches a small share of its age, and at the latest a
// tenth of its age after its last poll: jobs at an age where many
// finished are polled often, the others as their age alone says.
//
// Due jobs are released most likely first, at the rate the budget leaves
// them: its limit a window less what everything else sent in its window,
// a steady pace (and while more than half the window is free, its room
// all but at once), never more than the window has room for, none while
// other requests or earlier polls wait at the budget, and never sooner than
// Floor apart for one job (the floor when the budget is idle) nor later
// than Max. So polls coarsen as the budget fills with other work. Polls
// then wait at the budget behind every request that does not defer
// (kick-offs, the other stages).

// Defaults of the poll schedule.
const (
	// DefaultPollInitial is the shortest wait between two polls of a job,
	// and before its first: what a job waits when the budget is idle.
	DefaultPollInitial = 500 * time.Millisecond
	// DefaultPollMax is the longest wait between two polls of a job.
	DefaultPollMax = 30 * time.Second
)

// Constants of the schedule.
const (
	// priorScale is τ of the prior survival τ/(a+τ), in floors (10 s at
	// the default floor): before any job of the run finished, a job is
	// expected to run about as long again as it has, and τ sets how fast
	// the first polls thin out. In floors, so a schedule scaled in time
	// (a benchmark's) keeps its shape.
	priorScale = 20
	// priorWeight is how many finished jobs the prior counts as.
	priorWeight = 1
	// durationsKept is how many of the latest job durations the estimate
	// uses: the jobs of a run change as it goes (orgs, repository sizes).
	durationsKept = 256
	// dueShare: a job is due when a finished job would have waited for
	// its poll this share of its age, or floorShare of the floor.
	dueShare   = 0.0001
	floorShare = 50
	// ageShare: a job is due at the latest after this share of its age.
	ageShare = 10
	// spareKept and spareTime: a budget with more than a spareKept-th of
	// its window free lets polls spend the rest in a spareTime-th of it.
	spareKept = 2
	spareTime = 60
	// deferReserve: polls leave this share of the limit to the other
	// requests (as httpx's budget does for every deferrable request).
	deferReserve = 50
)

// PollSchedule is the schedule in force, for a debug line: the waits'
// bounds, the rate of polls the budget leaves now, and what it is read
// from.
type PollSchedule struct {
	// Floor and Max bound the wait between two polls of one job.
	Floor, Max time.Duration
	// Rate is the polls a second all jobs may share now; +Inf when nothing
	// bounds them (no budget known, no cap).
	Rate float64
	// Cap is ImportOptions.PollShare's bound on Rate, polls a second (0: none).
	Cap float64
	// Budget is the Snyk budget as read (Limit 0: not known).
	Budget httpx.Load
	// Jobs are the jobs being polled; Seen the durations known and Median
	// theirs.
	Jobs, Seen int
	Median     time.Duration
}

// String describes the schedule in one line.
func (p PollSchedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import polls: %d job(s), each polled when it has likely finished", p.Jobs)
	if p.Seen > 0 {
		fmt.Fprintf(&b, " (by %d job durations seen in this run, median %s)", p.Seen, p.Median.Round(time.Millisecond))
	} else {
		b.WriteString(" (no job finished yet: by its age)")
	}
	fmt.Fprintf(&b, ", at most every %s and at least every %s", p.Floor, p.Max)
	switch {
	case math.IsInf(p.Rate, 1):
		b.WriteString("; no budget bounds them")
	default:
		fmt.Fprintf(&b, "; %.1f polls/s free for them now", p.Rate)
	}
	if p.Budget.Limit > 0 {
		fmt.Fprintf(&b, " (%d of %d Snyk requests used in the last %s", p.Budget.Used, p.Budget.Limit, p.Budget.Window)
		if p.Budget.Waiting > 0 {
			fmt.Fprintf(&b, ", %d request(s) waiting first", p.Budget.Waiting)
		}
		b.WriteString(")")
	}
	if p.Cap > 0 {
		fmt.Fprintf(&b, "; capped at %.1f/s (the poll share)", p.Cap)
	}
	return b.String()
}

// pollsConfig configures newPolls.
type pollsConfig struct {
	floor, max time.Duration
	// capRate bounds the polls a second (0: no cap).
	capRate float64
	// load reads the Snyk budget (nil: not known).
	load func() httpx.Load
	// report hears the schedule in force when it changes (nil: nobody).
	report func(PollSchedule)
	now    func() time.Time
}

// Polls schedules the polls of the jobs of one pool, or of several that
// share it (sync's imports, one pool per org). It is safe for concurrent
// use; its loop runs while some job waits for its poll.
type Polls struct {
	cfg pollsConfig

	mu       sync.Mutex
	jobs     []*polledJob // every job being polled
	waiting  int          // of them, those waiting for their turn
	running  bool         // the loop runs
	wake     chan struct{}
	tokens   float64
	refilled time.Time
	// durations are the latest durations seen (a ring), sorted the sorted
	// copy the estimate reads.
	durations []time.Duration
	next      int
	sorted    []time.Duration
	// sent are the times polls were let go, within the budget's window.
	sent []time.Time
	// reported is the schedule last reported, and when.
	reported   PollSchedule
	reportedAt time.Time
}

// polledJob is one job's place in the schedule.
type polledJob struct {
	start time.Time // Snyk answered the kick-off
	last  time.Time // the middle of the last poll (start before the first)
	// prevAge is the job's age at the last poll that found it pending.
	prevAge time.Duration
	ready   chan struct{}
	waiting bool
}

func newPolls(cfg pollsConfig) *Polls {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.floor <= 0 {
		cfg.floor = DefaultPollInitial
	}
	if cfg.max <= 0 {
		cfg.max = DefaultPollMax
	}
	cfg.max = max(cfg.max, cfg.floor)
	return &Polls{cfg: cfg, wake: make(chan struct{}, 1)}
}

// add starts scheduling a job whose kick-off Snyk answered at start.
func (p *Polls) add(start time.Time) *polledJob {
	j := &polledJob{start: start, last: start, ready: make(chan struct{}, 1)}
	p.mu.Lock()
	p.jobs = append(p.jobs, j)
	p.mu.Unlock()
	return j
}

// remove ends a job's schedule.
func (p *Polls) remove(j *polledJob) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if j.waiting {
		j.waiting = false
		p.waiting--
	}
	if i := slices.Index(p.jobs, j); i >= 0 {
		p.jobs = slices.Delete(p.jobs, i, i+1)
	}
}

// wait returns when j may be polled, or with ctx's error.
func (p *Polls) wait(ctx interface {
	Done() <-chan struct{}
	Err() error
}, j *polledJob) error {
	p.mu.Lock()
	j.waiting = true
	p.waiting++
	if !p.running {
		p.running = true
		go p.loop()
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case <-j.ready:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		if j.waiting {
			j.waiting = false
			p.waiting--
		}
		p.mu.Unlock()
		select {
		case <-j.ready: // released meanwhile: its turn is lost
		default:
		}
		return ctx.Err()
	}
}

// polled records a poll of j sent at sent and answered at answered; done
// says it found the job finished, whose duration then joins the estimate.
func (p *Polls) polled(j *polledJob, sent, answered time.Time, done bool) {
	mid := sent.Add(answered.Sub(sent) / 2)
	p.mu.Lock()
	defer p.mu.Unlock()
	age := mid.Sub(j.start)
	if !done {
		j.last, j.prevAge = mid, age
		return
	}
	// It ended between the two polls: the middle is the best guess.
	d := max(j.prevAge+(age-j.prevAge)/2, 0)
	if len(p.durations) < durationsKept {
		p.durations = append(p.durations, d)
	} else {
		p.durations[p.next] = d
		p.next = (p.next + 1) % durationsKept
	}
	p.sorted = append(p.sorted[:0], p.durations...)
	slices.Sort(p.sorted)
}

// loop releases due jobs while any waits.
func (p *Polls) loop() {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
		case <-p.wake:
		}
		p.mu.Lock()
		if p.waiting == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		again, report := p.release(p.cfg.now())
		p.mu.Unlock()
		if report != nil && p.cfg.report != nil {
			p.cfg.report(*report)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(again)
	}
}

// release lets the due jobs poll, most likely finished first, as far as
// the rate allows; it returns when to look again and the schedule to
// report, if it changed. p.mu is held.
func (p *Polls) release(now time.Time) (time.Duration, *PollSchedule) {
	sched := p.schedule()
	tick := min(max(p.cfg.floor/4, time.Millisecond), 100*time.Millisecond)
	if !p.refilled.IsZero() && !math.IsInf(sched.Rate, 1) {
		burst := max(1, sched.Rate*p.cfg.floor.Seconds())
		p.tokens = min(burst, p.tokens+sched.Rate*now.Sub(p.refilled).Seconds())
	}
	p.refilled = now
	report := p.toReport(sched, now)
	l := sched.Budget
	if l.Waiting > 0 || l.Deferred > 0 || l.Paused {
		// The budget serves the others first, or polls already wait at it:
		// more would queue there, where the likeliest goes no sooner.
		return tick, report
	}
	// No more polls than the window has room for.
	room := math.Inf(1)
	if l.Limit > 0 {
		room = float64(l.Limit - l.Limit/deferReserve - l.Used)
	}
	type due struct {
		j       *polledJob
		overdue bool
		score   float64
	}
	var ready []due
	again := tick
	for _, j := range p.jobs {
		if !j.waiting {
			continue
		}
		since := now.Sub(j.last)
		if since < p.cfg.floor {
			again = min(again, p.cfg.floor-since)
			continue
		}
		score := p.lag(j, now)
		age := now.Sub(j.start)
		// Never later than a tenth of its age (the schedule before this
		// one): what the durations seen say is a reason to poll sooner,
		// never much later, so jobs unlike those seen are still noticed.
		if since >= min(max(p.cfg.floor, age/ageShare), p.cfg.max) || score >= max(p.cfg.floor.Seconds()/floorShare, dueShare*age.Seconds()) {
			ready = append(ready, due{j, since >= p.cfg.max, score})
		}
	}
	sort.Slice(ready, func(a, b int) bool {
		if ready[a].overdue != ready[b].overdue {
			return ready[a].overdue
		}
		return ready[a].score > ready[b].score
	})
	for _, d := range ready {
		if room--; room < 0 {
			break
		}
		if !math.IsInf(sched.Rate, 1) {
			if p.tokens < 1 {
				if sched.Rate > 0 {
					again = min(again, max(time.Duration((1-p.tokens)/sched.Rate*float64(time.Second)), time.Millisecond))
				}
				break
			}
			p.tokens--
		}
		d.j.waiting = false
		p.waiting--
		p.sent = append(p.sent, now)
		d.j.ready <- struct{}{}
	}
	return max(again, time.Millisecond), report
}

// schedule is the schedule in force: the rate the budget leaves, capped.
// p.mu is held.
func (p *Polls) schedule() PollSchedule {
	now := p.cfg.now()
	s := PollSchedule{Floor: p.cfg.floor, Max: p.cfg.max, Rate: math.Inf(1), Cap: p.cfg.capRate,
		Jobs: len(p.jobs), Seen: len(p.sorted)}
	if n := len(p.sorted); n > 0 {
		s.Median = p.sorted[n/2]
	}
	if p.cfg.load != nil {
		s.Budget = p.cfg.load()
		if l := s.Budget; l.Limit > 0 && l.Window > 0 {
			// The budget's pace less what everything else sends (kick-offs,
			// other stages, other processes): the window's count less this
			// schedule's own polls in it. A steady pace near the limit, not
			// the room left now, which swings as the window rolls: polls
			// that follow it come in bursts and gaps. While more than half
			// of the window is free (a fresh budget), the room above half
			// in a sixtieth of the window (a second of a minute), if more.
			w := l.Window.Seconds()
			most := l.Limit - l.Limit/deferReserve
			others := l.Used - p.sentIn(now, l.Window)
			spare := most - l.Limit/spareKept - l.Used
			s.Rate = max(float64(most-others)/w, float64(spare)*spareTime/w, 0)
		}
	}
	if p.cfg.capRate > 0 {
		s.Rate = min(s.Rate, p.cfg.capRate)
	}
	return s
}

// sentIn is how many polls were let go in the window ending at now, the
// older forgotten. p.mu is held.
func (p *Polls) sentIn(now time.Time, window time.Duration) int {
	i := sort.Search(len(p.sent), func(k int) bool { return now.Sub(p.sent[k]) < window })
	p.sent = p.sent[i:]
	return len(p.sent)
}

// toReport returns s when it differs enough from the schedule last
// reported (the rate by a quarter, the first time, or a minute on), else
// nil; it is reported at most every 5 s. p.mu is held.
func (p *Polls) toReport(s PollSchedule, now time.Time) *PollSchedule {
	if p.cfg.report == nil {
		return nil
	}
	last := p.reported
	first := p.reportedAt.IsZero()
	since := now.Sub(p.reportedAt)
	changed := math.IsInf(s.Rate, 1) != math.IsInf(last.Rate, 1) ||
		math.Abs(s.Rate-last.Rate) > 0.25*max(last.Rate, 1) || s.Seen > 0 && last.Seen == 0
	if !first && (since < 5*time.Second || !changed && since < time.Minute) {
		return nil
	}
	p.reported, p.reportedAt = s, now
	return &s
}

// lag is how long, in seconds, a job that finished since j's last poll has
// waited for the next on average: the chance it finished since then times
// half the time since. p.mu is held.
func (p *Polls) lag(j *polledJob, now time.Time) float64 {
	a0, a1 := j.last.Sub(j.start), now.Sub(j.start)
	s0 := p.survival(a0)
	q := 1.0
	if s0 > 0 {
		q = 1 - p.survival(a1)/s0
	}
	return q * (a1 - a0).Seconds() / 2
}

// survival is the chance that a job runs longer than a: the durations seen
// (interpolated between them) mixed with the prior. p.mu is held.
func (p *Polls) survival(a time.Duration) float64 {
	tau := priorScale * p.cfg.floor.Seconds()
	prior := tau / (max(a, 0).Seconds() + tau)
	n := len(p.sorted)
	if n == 0 {
		return prior
	}
	// How many durations are at most a, interpolated between neighbours.
	i := sort.Search(n, func(k int) bool { return p.sorted[k] > a })
	rank := float64(i)
	if i > 0 && i < n {
		lo, hi := p.sorted[i-1], p.sorted[i]
		if hi > lo {
			rank = float64(i-1) + float64(a-lo)/float64(hi-lo)
		}
	}
	empirical := 1 - rank/float64(n)
	return (priorWeight*prior + float64(n)*empirical) / float64(priorWeight+n)
}
