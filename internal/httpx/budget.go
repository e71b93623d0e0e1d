package httpx

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/ledger"
	"golang.org/x/time/rate"
)

// Ledger counts the requests of one credential in a rolling window, possibly
// shared with other processes (*ledger.File). An error means the count
// cannot be trusted: the Budget warns once and paces on its own. Used may
// answer from a count a moment old: it is what Load reports, never what
// admits a request.
type Ledger interface {
	Admit(now time.Time, limit int) (ok bool, used int, next time.Time, err error)
	Used(now time.Time) (int, error)
}

// BudgetConfig configures NewBudget.
type BudgetConfig struct {
	// API labels reports: "bitbucket" or "snyk".
	API string
	// Limit requests in any Window; 0 or less means unlimited.
	Limit  int
	Window time.Duration
	// Ledger is the shared count, opened with CountWindow(Window); nil means this process's own count, and
	// the conservative WindowLimiter pacing beside it, because other
	// processes may be spending the same budget unseen.
	Ledger Ledger
	// Pause is how long every request of this API waits after a 429 that
	// names no Retry-After. 0 means exponential backoff with jitter from
	// PauseMin to PauseMax (Bitbucket, whose window is an hour: a fixed
	// pause would be either hammering or idling). Snyk REST answers 429
	// "until requests stop for the duration of the rate-limiting interval
	// (one minute)", so its pause is that minute.
	Pause              time.Duration
	PauseMin, PauseMax time.Duration
	// RateLimitWait is how long the whole run may wait for 429s: the time
	// the gate is closed, counted once however many requests wait at it.
	// While it lasts, a request refused with 429 waits at the gate and is
	// sent again (the server did not act on it, and a budget shared with
	// another job frees up in minutes). A pause it cannot cover is not
	// waited: the refused request's 429 is its answer, and requests that
	// meet the closed gate fail at once with a *RateLimitWaitError. 0 means
	// a 429 is the answer at once (the gate still closes for every other
	// request).
	RateLimitWait time.Duration
	// Name is the credential's name in reports (one of several of an API).
	Name string
	// Ceiling is how far an announced X-RateLimit-Limit may raise Limit
	// (announced.go): DefaultCeiling when nobody set the limit, the limit
	// itself when somebody did; 0 means announcements only lower it.
	Ceiling int
	// Class names a request's class (the same class shares a resource
	// group and its announced limit); nil: one class.
	Class func(*http.Request) string
	// Observer hears of waits and of the fallback when it is a
	// BudgetObserver, and of 429 pauses (RateLimited); nil means nobody.
	Observer Observer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// BudgetWait is reported once per wait episode: from the first request the
// budget holds back until one is let through again.
type BudgetWait struct {
	API string
	// Name is the credential's (BudgetConfig.Name).
	Name        string
	Used, Limit int
	// Announced: Limit is the server's (X-RateLimit-Limit), not the
	// configured one.
	Announced bool
	Window    time.Duration
	Next      time.Time // when the next request may go
	// Shared: the count is the ledger's, so it includes other processes.
	Shared bool
}

// BudgetObserver is implemented by an Observer that wants budget reports.
type BudgetObserver interface {
	BudgetWait(BudgetWait)
	// BudgetFallback is called once when the ledger fails and the budget
	// falls back to pacing on its own.
	BudgetFallback(api string, err error)
	// RateLimitWaitSpent is called once, when a 429 asks for a pause the
	// run's wait for 429s (BudgetConfig.RateLimitWait) cannot cover.
	RateLimitWaitSpent(*RateLimitWaitError)
}

// RateLimitWaitError is a request not sent because the API's 429 gate is
// closed longer than what is left of the run's wait for 429s
// (BudgetConfig.RateLimitWait).
type RateLimitWaitError struct {
	API string
	// Until is when the server lets requests in again (its Retry-After,
	// or the pause the budget chose).
	Until time.Time
	// Waited is how long the run has waited for 429s; Limit is
	// BudgetConfig.RateLimitWait.
	Waited, Limit time.Duration
}

func (e *RateLimitWaitError) Error() string {
	return fmt.Sprintf("%s rate limit: requests are refused until %s, past the run's wait for 429s (%s, of which %s spent)",
		e.API, e.Until.Format(time.RFC3339), e.Limit, e.Waited.Round(time.Millisecond))
}

// Load is how much of a budget is spent, for a caller that paces work it
// may defer (import polls).
type Load struct {
	// Used requests of Limit in the last Window, the window the budget
	// counts in (every process's, when the count is a shared ledger's);
	// Limit 0 means no limit.
	Used, Limit int
	Window      time.Duration
	// Waiting requests that do not defer wait for a slot, Deferred
	// requests that do; Paused says a 429 has closed the gate.
	Waiting, Deferred int
	Paused            bool
	// Latency is how long the API's answers take to start (a moving
	// average; 0 before the first).
	Latency time.Duration
}

// Budget admits requests while fewer than the limit were sent in the rolling
// window, so a fresh budget runs at full speed and one spent by an earlier
// run (recorded in the ledger) sends only what is left. It alone decides
// what a 429 means: it closes a gate that every worker of the API waits at
// (for Retry-After, else BudgetConfig.Pause or a backoff), lowers the
// effective limit for the rest of the window (the server counts more than
// we do: another tool, another job on the same credential), and says how
// long the refused request is sent again (holds).
type Budget struct {
	cfg BudgetConfig
	obs BudgetObserver

	mu       sync.Mutex
	store    Ledger        // the shared ledger, or memory after a fallback
	fallback *rate.Limiter // set when store is not shared
	shared   bool
	// waiting: this wait episode has been reported; it ends when a request
	// is let through with room to spare and nobody waiting for a slot.
	waiting bool
	waiters int
	// deferred counts the deferrable requests waiting for a slot.
	deferred int
	// pausedUntil is the 429 gate; streak counts 429s since the last
	// success, for the backoff without Retry-After.
	pausedUntil time.Time
	streak      int
	// lowered is the effective limit just after a 429 or a hint, climbing
	// back over the window until lowerUntil; probe lets one request past
	// it when a pause ends.
	lowered    int
	lowerUntil time.Time
	probe      bool
	announced  announcedLimits // X-RateLimit-Limit, per resource group
	// turn is closed when the last request that does not defer stops
	// waiting for a slot: deferrable requests wait for it.
	turn chan struct{}
	// heldUntil is the end of the last closed gate the run's wait for 429s
	// covers, and waited what the run has spent of it; spent says a pause
	// it could not cover was reported.
	heldUntil time.Time
	waited    time.Duration
	spent     bool
	// latency is a moving average of the time to an answer.
	latency time.Duration
}

// NewBudget returns a Budget; see BudgetConfig for the zero values.
func NewBudget(cfg BudgetConfig) *Budget {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PauseMin <= 0 {
		cfg.PauseMin = DefaultRetryWaitMin
	}
	if cfg.PauseMax < cfg.PauseMin {
		cfg.PauseMax = max(DefaultRetryWaitMax, cfg.PauseMin)
	}
	b := &Budget{cfg: cfg}
	b.obs, _ = cfg.Observer.(BudgetObserver)
	if cfg.Ledger != nil {
		b.store, b.shared = cfg.Ledger, true
	} else {
		b.useMemory()
	}
	return b
}

// unlimited: no limit was set, so only the 429 gate applies.
func (b *Budget) unlimited() bool { return b.cfg.Limit <= 0 || b.cfg.Window <= 0 }

func (b *Budget) useMemory() {
	b.store, b.shared = &memLedger{w: ledger.NewWindow(max(CountWindow(b.cfg.Window), time.Millisecond))}, false
	b.fallback = WindowLimiter(b.fallbackLimit(), b.cfg.Window)
}

// fallbackLimit is what this process's own pacing spreads: the highest
// limit in force, so that a limit a server announced raises it as it
// raises the shared count (each group's own limit is still its count's);
// b.mu is held or b is new.
func (b *Budget) fallbackLimit() int { return max(b.cfg.Limit, b.announced.highest()) }

// deferReserve is the share of the limit that requests which defer
// (Deferrable) leave to the others: a kick-off finds room at once even when
// polls have filled the window.
const deferReserve = 50

// Wait blocks until a request may be sent, and records it as sent. It
// returns at once when ctx is done, or when ctx's deadline comes before the
// next slot would (errSlotAfterDeadline), or with a *RateLimitWaitError
// when a 429's gate is closed longer than the run may wait. A request of a
// ctx marked Deferrable goes only while no other request waits for a slot
// and a reserve of the limit is left.
func (b *Budget) Wait(ctx context.Context) error {
	deferrable, class := isDeferrable(ctx), classFrom(ctx)
	for {
		now := b.cfg.Now()
		b.mu.Lock()
		gate, covered := b.pausedUntil, !b.pausedUntil.After(b.heldUntil) || b.cfg.RateLimitWait <= 0
		b.mu.Unlock()
		if now.Before(gate) {
			if !covered {
				return b.spentError()
			}
			if err := sleepUntil(ctx, gate, now); err != nil {
				return err
			}
			continue
		}
		b.mu.Lock()
		store, fallback, limit := b.store, b.fallback, b.limitAt(now, class)
		_, announced := b.announced.limit(class, 0)
		turn := b.turn
		b.mu.Unlock()
		if deferrable && turn != nil {
			// A request that does not defer is waiting for a slot: it goes first.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-turn:
			}
			continue
		}
		if fallback != nil {
			if err := fallback.Wait(ctx); err != nil {
				return err
			}
			now = b.cfg.Now()
			b.mu.Lock()
			closed := now.Before(b.pausedUntil)
			b.mu.Unlock()
			if closed {
				continue // a 429 closed the gate while this request waited for a token
			}
		}
		if b.unlimited() {
			return nil
		}
		admit := limit
		if deferrable {
			admit = max(limit-limit/deferReserve, 1)
		}
		ok, used, next, err := store.Admit(now, admit)
		if err != nil {
			b.fail(store, err)
			continue
		}
		if ok {
			b.mu.Lock()
			if !deferrable && b.waiters == 0 && used+1 < limit {
				b.waiting = false // room left and nobody queued: the budget is not full
			}
			if b.probe && limit > b.lowered {
				b.probe = false
			}
			b.mu.Unlock()
			return nil
		}
		if deferrable {
			b.mu.Lock()
			b.deferred++
			b.mu.Unlock()
			err := sleepUntil(ctx, next, now)
			b.mu.Lock()
			b.deferred--
			b.mu.Unlock()
			if err != nil {
				return err
			}
			continue
		}
		b.mu.Lock()
		report := !b.waiting
		b.waiting = true
		b.waiters++
		if b.turn == nil {
			b.turn = make(chan struct{})
		}
		b.mu.Unlock()
		if report && b.obs != nil {
			b.obs.BudgetWait(BudgetWait{API: b.cfg.API, Name: b.cfg.Name, Used: used, Limit: limit, Announced: announced,
				Window: b.cfg.Window, Next: next, Shared: b.shared})
		}
		err = sleepUntil(ctx, next, now)
		b.mu.Lock()
		b.waiters--
		if b.waiters == 0 && b.turn != nil {
			close(b.turn)
			b.turn = nil
		}
		b.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// Load reports how much of the budget is spent: the count of the last
// window as the ledger last saw it, the effective limit, and whether
// requests wait. It reads no file it has not read in the last moment.
func (b *Budget) Load() Load {
	now := b.cfg.Now()
	b.mu.Lock()
	l := Load{Window: CountWindow(b.cfg.Window), Waiting: b.waiters, Deferred: b.deferred, Paused: now.Before(b.pausedUntil), Latency: b.latency}
	store := b.store
	if !b.unlimited() {
		l.Limit = b.limitAt(now, "")
	}
	b.mu.Unlock()
	if l.Limit > 0 {
		if n, err := store.Used(now); err == nil {
			l.Used = n
		}
	}
	return l
}

// noteLatency adds one answer's time to the moving average Load reports.
func (b *Budget) noteLatency(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.latency == 0 {
		b.latency = d
		return
	}
	b.latency += (d - b.latency) / 8
}

// CountWindow is the window a budget counts requests in, for an API that
// counts in windows of w: longer, because the server counts a request when
// it arrives, after we let it go, and two requests a window apart here can
// arrive less than a window apart there when the first spent longer on the
// way (a new connection, a TLS handshake, a busy machine: under load we saw
// half a second). The margin is 1 % of the window but at least a second
// (an hour counts for 1 h 36 s, a minute for 61 s); only for windows under
// four seconds, which tests use, it is a quarter of the window.
// Every process sharing a ledger opens it with this length.
func CountWindow(w time.Duration) time.Duration {
	if w <= 0 {
		return w
	}
	return w + max(w/100, min(time.Second, w/4))
}

// limitAt is the effective limit at now for a request of class; b.mu is
// held. A lowered limit climbs back to the full one over the window, so
// the budget neither stalls for a whole window on an estimate nor jumps
// back to the pace that drew the 429.
func (b *Budget) limitAt(now time.Time, class string) int {
	limit, _ := b.announced.limit(class, b.cfg.Limit)
	if now.Before(b.lowerUntil) && b.lowered < limit {
		since := now.Sub(b.lowerUntil.Add(-b.cfg.Window))
		climb := float64(limit-b.lowered) * min(max(since.Seconds()/b.cfg.Window.Seconds(), 0), 1)
		limit = b.lowered + int(climb)
		if b.probe {
			limit++ // the pause is over: the server said a slot frees now
		}
	}
	return max(limit, 1)
}

// fail switches to this process's own count after a ledger error, once.
func (b *Budget) fail(store Ledger, err error) {
	b.mu.Lock()
	first := b.store == store && b.shared
	if first {
		b.useMemory()
	}
	b.mu.Unlock()
	if first && b.obs != nil {
		b.obs.BudgetFallback(b.cfg.API, err)
	}
}

// sleepUntil waits until t, or fails with ctx's error, or with
// errSlotAfterDeadline when ctx's deadline comes first.
func sleepUntil(ctx context.Context, t, now time.Time) error {
	d := t.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
		return fmt.Errorf("%w (%w)", errSlotAfterDeadline, context.DeadlineExceeded)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// holds reports whether a request refused with 429 waits at the gate and
// goes again rather than fail: whether the run's wait for 429s
// (RateLimitWait) covers the gate as it is now. It is the one place that
// decides how long 429s are waited out; observe spends the wait as gates
// close, each moment of a closed gate counted once however many requests
// wait at it.
func (b *Budget) holds() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg.RateLimitWait > 0 && !b.pausedUntil.After(b.heldUntil)
}

// spendWait extends the run's wait for 429s to cover the gate, or reports
// once that it cannot; b.mu is held. It returns the report to make.
func (b *Budget) spendWait(now time.Time) *RateLimitWaitError {
	if b.cfg.RateLimitWait <= 0 || !b.pausedUntil.After(b.heldUntil) {
		return nil
	}
	more := b.pausedUntil.Sub(maxTime(now, b.heldUntil))
	if b.waited+more <= b.cfg.RateLimitWait {
		b.waited += more
		b.heldUntil = b.pausedUntil
		return nil
	}
	if b.spent {
		return nil
	}
	b.spent = true
	return b.spentErrorLocked()
}

// spentError is the error of a request that meets a gate the run's wait
// does not cover.
func (b *Budget) spentError() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spentErrorLocked()
}

func (b *Budget) spentErrorLocked() *RateLimitWaitError {
	return &RateLimitWaitError{API: b.cfg.API, Until: b.pausedUntil, Waited: b.waited, Limit: b.cfg.RateLimitWait}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// observe reads what a response says of the budget: a 429 closes the gate
// for every worker and lowers the limit to what we had sent (the server
// counted that many and more); anything else resets the backoff;
// X-RateLimit-* hints lower the limit when they say less is left than we
// think.
func (b *Budget) observe(resp *http.Response) {
	now := b.cfg.Now()
	class := b.classOf(resp)
	h := parseRateHints(resp.Header, b.cfg.Window)
	limited := resp.StatusCode == http.StatusTooManyRequests
	used := -1 // only read from the ledger when something will use it
	if !b.unlimited() && (limited || h.remaining >= 0 || h.near) {
		if n, err := b.currentStore().Used(now); err == nil {
			used = n
		}
	}
	if !limited {
		b.mu.Lock()
		b.streak = 0
		b.applyHints(h, used, now, class)
		b.mu.Unlock()
		return
	}
	b.mu.Lock()
	pause, _, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case ok:
		pause = min(max(pause, b.cfg.PauseMin), MaxRetryAfter)
	case b.cfg.Pause > 0:
		pause = b.cfg.Pause
	default:
		pause = jittered(b.cfg.PauseMin, b.cfg.PauseMax, b.streak)
	}
	b.streak++
	until := now.Add(pause)
	reopened := !now.Before(b.pausedUntil) // not a 429 of a request sent before the gate closed
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	// A pause that short says the server's count frees almost at once: a
	// burst or a blip, not a budget we misjudged, so the limit stays.
	if used >= 0 && !b.unlimited() && pause >= b.cfg.Window/60 {
		b.lowered = max(min(used, b.limitAt(now, class)), 1)
		b.lowerUntil = now.Add(b.cfg.Window)
		b.probe = true
	}
	b.applyHints(h, used, now, class)
	spent := b.spendWait(now)
	// A pause the run will not wait is said by the spent report, not as
	// a wait.
	waits := b.cfg.RateLimitWait <= 0 || !b.pausedUntil.After(b.heldUntil)
	b.mu.Unlock()
	if reopened && waits && b.cfg.Observer != nil {
		b.cfg.Observer.RateLimited(b.cfg.API, pause, resp.StatusCode)
	}
	if spent != nil && b.obs != nil {
		b.obs.RateLimitWaitSpent(spent)
	}
}

func (b *Budget) currentStore() Ledger {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.store
}

// applyHints sets the limit of the request's group from X-RateLimit-Limit
// and lowers the effective one from the other hints; b.mu is held. used < 0
// means the count is unknown.
func (b *Budget) applyHints(h rateHints, used int, now time.Time, class string) {
	if b.unlimited() {
		return
	}
	if h.limit > 0 {
		b.announced.set(class, h.resource, h.limit, b.cfg.Limit, b.cfg.Ceiling)
		if paced := WindowLimiter(b.fallbackLimit(), b.cfg.Window); b.fallback != nil && paced.Limit() != b.fallback.Limit() {
			// A new limiter: a larger burst is no token more in the old
			// one. The window's count still bounds what goes.
			b.fallback = paced
		}
	}
	if used < 0 {
		return
	}
	capAt := -1
	if h.remaining >= 0 {
		capAt = used + h.remaining
	}
	if h.near {
		// Bitbucket: under 20 % of the quota is left.
		limit, _ := b.announced.limit(class, b.cfg.Limit)
		if c := used + limit/5; capAt < 0 || c < capAt {
			capAt = c
		}
	}
	if capAt < 0 {
		return
	}
	if !now.Before(b.lowerUntil) || capAt < b.limitAt(now, class) {
		b.lowered = max(capAt, 1)
		b.lowerUntil = now.Add(b.cfg.Window)
	}
}

// memLedger is a Ledger of this process alone.
type memLedger struct {
	mu sync.Mutex
	w  *ledger.Window
}

func (m *memLedger) Admit(now time.Time, limit int) (bool, int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok, used, next := m.w.Admit(now, limit)
	return ok, used, next, nil
}

func (m *memLedger) Used(now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.w.Used(now), nil
}
