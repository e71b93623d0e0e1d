package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/ledger"
)

// budgetRecorder is a recorder that also keeps budget reports.
type budgetRecorder struct {
	recorder
	waits     []BudgetWait
	fallbacks []error
	spent     []*RateLimitWaitError
}

func (r *budgetRecorder) BudgetWait(w BudgetWait) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, w)
}

func (r *budgetRecorder) BudgetFallback(_ string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fallbacks = append(r.fallbacks, err)
}

func (r *budgetRecorder) RateLimitWaitSpent(e *RateLimitWaitError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spent = append(r.spent, e)
}

func (r *budgetRecorder) counts() (waits, fallbacks, limited int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waits), len(r.fallbacks), len(r.limited)
}

// windowServer answers 200 (or what answer says) and keeps every arrival
// time, so a test can count the requests in any window.
type windowServer struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []time.Time
}

func newWindowServer(t *testing.T, answer func(n int, w http.ResponseWriter) bool) *windowServer {
	t.Helper()
	s := &windowServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.arrivals = append(s.arrivals, time.Now())
		n := len(s.arrivals)
		s.mu.Unlock()
		if answer != nil && answer(n, w) {
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *windowServer) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]time.Time(nil), s.arrivals...)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func budgetClient(t *testing.T, b *Budget, obs Observer, extra func(*Options)) *Client {
	t.Helper()
	opts := Options{API: "bitbucket", Budget: b, Observer: obs, RetryMax: 2,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
	if extra != nil {
		extra(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func getAll(t *testing.T, c *Client, url string, n, workers int) []int {
	t.Helper()
	statuses := make([]int, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				resp, err := c.Get(url)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			}
		})
	}
	wg.Wait()
	return statuses
}

// TestBudgetFreshRunsAtFullSpeed: with the budget unspent, 200 requests
// under a limit of 1,000 an hour go without any limiter wait; the
// token bucket it replaces would have held back all but 250 of 1,000, and
// here would have paced nothing only because 200 < 250, so the limit is 300:
// the bucket's burst would be 75.
func TestBudgetFreshRunsAtFullSpeed(t *testing.T) {
	t.Parallel()
	srv := newWindowServer(t, nil)
	dir := t.TempDir()
	f, err := ledger.Open(dir, "bitbucket", "consumer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	rec := &budgetRecorder{}
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 300, Window: time.Hour, Ledger: f, Observer: rec})
	c := budgetClient(t, b, rec, nil)
	getAll(t, c, srv.URL, 200, 8)
	if waits, fallbacks, _ := rec.counts(); waits != 0 || fallbacks != 0 {
		t.Errorf("%d wait reports, %d fallbacks on a fresh budget", waits, fallbacks)
	}
	// A paced request would wait 12 s (an hour ÷ 300); a second is room for
	// a loaded machine's scheduling, not a pace.
	for _, e := range rec.Exchanges() {
		if e.Wait > time.Second {
			t.Fatalf("an exchange waited %s for the limiter on a fresh budget", e.Wait)
		}
	}
	if n, _ := f.Used(time.Now()); n != 200 {
		t.Errorf("ledger holds %d, want 200", n)
	}
}

// TestBudgetFullWaitsAndSaysSoOnce: a limit of 5 per 400 ms and 15 requests
// from 5 workers: the server never sees more than 5 in any 400 ms, and the
// wait is reported once per episode, not once per worker.
func TestBudgetFullWaitsAndSaysSoOnce(t *testing.T) {
	t.Parallel()
	srv := newWindowServer(t, nil)
	rec := &budgetRecorder{}
	const window = 400 * time.Millisecond
	f, err := ledger.Open(t.TempDir(), "bitbucket", "consumer", CountWindow(window))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 5, Window: window, Ledger: f, Observer: rec})
	c := budgetClient(t, b, rec, nil)
	getAll(t, c, srv.URL, 15, 5)
	if got := maxInWindow(srv.times(), window); got > 5 {
		t.Errorf("server saw %d requests in one window, limit 5", got)
	}
	waits, _, _ := rec.counts()
	if waits < 1 || waits > 4 {
		t.Errorf("%d wait reports, want one per episode (1..4)", waits)
	}
	rec.mu.Lock()
	w := rec.waits[0]
	rec.mu.Unlock()
	if w.API != "bitbucket" || w.Used != 5 || w.Limit != 5 || w.Window != window || w.Next.IsZero() || !w.Shared {
		t.Errorf("wait report %+v", w)
	}
}

// TestBudgetSharedAcrossProcesses: two clients with their own ledger File
// on one state directory (two processes, as far as the ledger knows) never
// send more than the limit together in any window.
func TestBudgetSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	srv := newWindowServer(t, nil)
	dir := t.TempDir()
	const window, limit = 500 * time.Millisecond, 8
	var wg sync.WaitGroup
	for range 2 {
		f, err := ledger.Open(dir, "bitbucket", "consumer", CountWindow(window))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		rec := &budgetRecorder{}
		c := budgetClient(t, NewBudget(BudgetConfig{API: "bitbucket", Limit: limit, Window: window, Ledger: f, Observer: rec}), rec, nil)
		wg.Go(func() { getAll(t, c, srv.URL, 20, 4) })
		t.Cleanup(func() {
			if _, fb, _ := rec.counts(); fb != 0 {
				t.Errorf("fallbacks: %v", rec.fallbacks)
			}
		})
	}
	wg.Wait()
	ts := srv.times()
	if len(ts) != 40 {
		t.Fatalf("server saw %d requests, want 40", len(ts))
	}
	if got := maxInWindow(ts, window); got > limit {
		t.Errorf("server saw %d requests in one window, limit %d", got, limit)
	}
}

// TestBudget429PausesEveryWorker: one 429 without Retry-After closes the
// gate for all eight workers for the API's pause, so the server sees no
// burst of 429s and nothing at all during the pause; the wait is reported
// once, and the request that got it is retried and succeeds.
func TestBudget429PausesEveryWorker(t *testing.T) {
	t.Parallel()
	var refused atomic.Int64
	srv := newWindowServer(t, func(n int, w http.ResponseWriter) bool {
		time.Sleep(5 * time.Millisecond)
		if n == 10 {
			refused.Add(1)
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	rec := &budgetRecorder{}
	const pause = 300 * time.Millisecond
	b := NewBudget(BudgetConfig{API: "snyk", Limit: 10_000, Window: time.Minute, Pause: pause, Observer: rec, RateLimitWait: time.Minute})
	c := budgetClient(t, b, rec, func(o *Options) { o.API = "snyk" })
	statuses := getAll(t, c, srv.URL, 40, 8)
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("request %d ended %d", i, s)
		}
	}
	ts := srv.times()
	t429 := ts[9]
	quiet := 0
	for _, at := range ts {
		if d := at.Sub(t429); d > 50*time.Millisecond && d < pause-20*time.Millisecond {
			quiet++
		}
	}
	if quiet != 0 {
		t.Errorf("%d requests arrived during the pause", quiet)
	}
	if _, _, limited := rec.counts(); limited != 1 {
		t.Errorf("RateLimited reported %d times, want once", limited)
	}
	if got := rec.Limited(); len(got) == 1 && got[0].Wait != pause {
		t.Errorf("reported pause %s, want %s", got[0].Wait, pause)
	}
}

// TestBudget429RetriedForATime: with RateLimitWait, a 429 storm is sent
// again for that long whatever RetryMax says, and ends with the last 429,
// said once; other failures keep the RetryMax count.
func TestBudget429RetriedForATime(t *testing.T) {
	t.Parallel()
	srv, hits := statusServer(t, "slow down", http.StatusTooManyRequests)
	// A short window, so the limit lowered by each 429 climbs back fast.
	rec := &budgetRecorder{}
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 1000, Window: 200 * time.Millisecond, PauseMin: time.Millisecond, PauseMax: 5 * time.Millisecond,
		RateLimitWait: 150 * time.Millisecond, Observer: rec})
	c := budgetClient(t, b, rec, nil)
	start := time.Now()
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != 429 || took < 140*time.Millisecond || hits.Load() <= 3 {
		t.Errorf("status %d after %s and %d attempts, want 429 after about 150ms and more than RetryMax+1", resp.StatusCode, took, hits.Load())
	}
	rec.mu.Lock()
	spent := rec.spent
	rec.mu.Unlock()
	if len(spent) != 1 || spent[0].Limit != 150*time.Millisecond || spent[0].Waited > 150*time.Millisecond {
		t.Errorf("spent reports %+v, want one of a 150ms wait", spent)
	}

	srv5, hits5 := statusServer(t, "down", http.StatusServiceUnavailable)
	c5 := budgetClient(t, NewBudget(BudgetConfig{API: "bitbucket", RateLimitWait: time.Minute}), nil, nil)
	resp, err = c5.Get(srv5.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits5.Load() != 3 {
		t.Errorf("503 tried %d times, want RetryMax+1 = 3", hits5.Load())
	}
}

// TestBudget429WaitIsTheRuns: RateLimitWait bounds the run's waiting for
// 429s, not each request's. One worker's sequential requests (sync's
// confirmations) each refused once with a pause of 40ms: the first three
// pauses fit a wait of 130ms and each is waited once; the fourth does not,
// so its 429 is the answer at once and the gate it closed turns the next
// request away without sending it (a *RateLimitWaitError), said once.
// Eight workers refused together by one pause spend it once.
func TestBudget429WaitIsTheRuns(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	// Every other arrival is refused: each request's first send gets a 429.
	srv := newWindowServer(t, func(i int, w http.ResponseWriter) bool {
		n.Add(1)
		if i%2 == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	rec := &budgetRecorder{}
	const pause = 40 * time.Millisecond
	b := NewBudget(BudgetConfig{API: "bitbucket", Pause: pause, RateLimitWait: 130 * time.Millisecond, Observer: rec})
	c := budgetClient(t, b, rec, nil)
	var statuses []int
	var last error
	for range 5 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			last = err
			break
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	if want := []int{200, 200, 200, 429}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	var spent *RateLimitWaitError
	if !errors.As(last, &spent) || spent.Limit != 130*time.Millisecond || spent.Waited != 3*pause {
		t.Errorf("fifth request: %v, want a RateLimitWaitError after 3 pauses waited", last)
	}
	if got := n.Load(); got != 7 {
		t.Errorf("server saw %d requests, want 7 (the fifth is not sent)", got)
	}
	rec.mu.Lock()
	reports := len(rec.spent)
	rec.mu.Unlock()
	if reports != 1 {
		t.Errorf("%d spent reports, want 1", reports)
	}

	// Eight workers, one pause: the wait is spent once.
	var refused atomic.Int64
	srv8 := newWindowServer(t, func(i int, w http.ResponseWriter) bool {
		if i <= 8 {
			refused.Add(1)
			time.Sleep(5 * time.Millisecond)
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	b8 := NewBudget(BudgetConfig{API: "bitbucket", Pause: 100 * time.Millisecond, RateLimitWait: 150 * time.Millisecond})
	c8 := budgetClient(t, b8, nil, nil)
	for i, s := range getAll(t, c8, srv8.URL, 8, 8) {
		if s != 200 {
			t.Errorf("worker %d ended %d, want 200 after one shared pause", i, s)
		}
	}
	if b8.waited > 150*time.Millisecond {
		t.Errorf("the run's 429 wait is %s for one shared pause of 100ms", b8.waited)
	}
}

// TestBudgetLowersAfter429: after a 429 the budget admits no more than it
// had sent when refused (the server counts more than we do), plus one probe
// when the pause ends, climbing back to the full limit over the window.
func TestBudgetLowersAfter429(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 110, Window: 100 * time.Second, Pause: 2 * time.Second, Now: clock})
	for range 10 {
		if err := b.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	b.observe(&http.Response{StatusCode: 429, Header: http.Header{}})
	if got := b.pausedUntil.Sub(now); got != 2*time.Second {
		t.Fatalf("pause %s, want 2s", got)
	}
	limitAt := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.limitAt(now, "")
	}
	now = now.Add(2 * time.Second)
	if got := limitAt(); got != 13 {
		t.Errorf("limit after the pause %d, want 13 (10 sent, 2%% of the way back, one probe)", got)
	}
	if err := b.Wait(t.Context()); err != nil { // the probe
		t.Fatal(err)
	}
	if got := limitAt(); got != 12 {
		t.Errorf("limit after the probe %d, want 12", got)
	}
	now = now.Add(48 * time.Second)
	if got := limitAt(); got != 60 {
		t.Errorf("limit half a window on %d, want 60", got)
	}
	now = now.Add(50 * time.Second)
	if got := limitAt(); got != 110 {
		t.Errorf("limit a window later %d, want 110", got)
	}
}

// failingLedger fails every call, as a corrupt or read-only ledger does.
type failingLedger struct{ calls atomic.Int64 }

func (f *failingLedger) Admit(time.Time, int) (bool, int, time.Time, error) {
	f.calls.Add(1)
	return false, 0, time.Time{}, errors.New("ledger x: line 1: not a bbimport request ledger")
}
func (f *failingLedger) Used(time.Time) (int, error) { return 0, errors.New("corrupt") }

// TestBudgetLedgerFailureFallsBack: a ledger that fails is reported once
// and replaced by this process's own count and the token bucket pacing: a
// limit of 8 per second lets 2 through at once (burst) and no more than 8 in
// any second.
func TestBudgetLedgerFailureFallsBack(t *testing.T) {
	t.Parallel()
	srv := newWindowServer(t, nil)
	bad := &failingLedger{}
	rec := &budgetRecorder{}
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 8, Window: time.Second, Ledger: bad, Observer: rec})
	c := budgetClient(t, b, rec, nil)
	getAll(t, c, srv.URL, 6, 3)
	if _, fallbacks, _ := rec.counts(); fallbacks != 1 {
		t.Errorf("%d fallback reports, want 1", fallbacks)
	}
	if bad.calls.Load() != 1 {
		t.Errorf("failed ledger asked %d times, want once", bad.calls.Load())
	}
	if got := maxInWindow(srv.times(), time.Second); got > 8 {
		t.Errorf("%d requests in one second, limit 8", got)
	}
	if ts := srv.times(); ts[len(ts)-1].Sub(ts[0]) < 300*time.Millisecond {
		t.Errorf("6 requests in %s: the fallback did not pace (burst 2, 6 per second)", ts[len(ts)-1].Sub(ts[0]))
	}
}

// TestCredentialAfterBudget: the credential is asked for after the budget
// wait, so a request that queued past its token's renewal leaves with a
// newer one: tokens live 1 s (renewed after 800 ms), and the second request
// waits 1 s.
func TestCredentialAfterBudget(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ExpiresIn = 1 })
	var mu sync.Mutex
	var bearers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		bearers = append(bearers, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 1, Window: time.Second})
	c := budgetClient(t, b, nil, func(o *Options) { o.Credential = ts.Consumer(t, nil) })
	getAll(t, c, srv.URL, 2, 1)
	mu.Lock()
	defer mu.Unlock()
	if len(bearers) != 2 || bearers[0] == bearers[1] {
		t.Errorf("requests carried %v, want a token minted after the wait for the second", bearers)
	}
}

// TestBudgetAnyLimit: the largest int is a limit like any other.
func TestBudgetAnyLimit(t *testing.T) {
	t.Parallel()
	srv := newWindowServer(t, nil)
	dir := t.TempDir()
	f, err := ledger.Open(dir, "snyk", "tok", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	c := budgetClient(t, NewBudget(BudgetConfig{API: "snyk", Limit: 1<<63 - 1, Window: time.Minute, Ledger: f}), nil, nil)
	if s := getAll(t, c, srv.URL, 5, 2); s[4] != 200 {
		t.Errorf("statuses %v", s)
	}
}

func TestParseRateHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		window time.Duration
		want   rateHints
	}{
		{"none", http.Header{}, time.Hour, rateHints{remaining: -1}},
		{"bitbucket", http.Header{"X-Ratelimit-Limit": {"1000"}, "X-Ratelimit-Nearlimit": {"true"}}, time.Hour, rateHints{limit: 1000, remaining: -1, near: true}},
		{"snyk buckets", http.Header{"X-Ratelimit-Limit": {"160, 160;w=1, 1620;w=60, 97200;w=3600"}}, time.Minute, rateHints{limit: 1620, remaining: -1}},
		{"snyk buckets, other window", http.Header{"X-Ratelimit-Limit": {"160, 160;w=1, 1620;w=60"}}, time.Hour, rateHints{remaining: -1}},
		{"remaining", http.Header{"Ratelimit-Remaining": {"12;w=60"}}, time.Minute, rateHints{remaining: 12}},
		{"garbage", http.Header{"X-Ratelimit-Limit": {"lots;w=x, ;;, -5"}, "X-Ratelimit-Nearlimit": {"maybe"}}, time.Hour, rateHints{remaining: -1}},
	}
	for _, tt := range tests {
		if got := parseRateHints(tt.header, tt.window); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestBudgetHints: X-RateLimit-Limit below ours lowers the limit for the
// run; a remaining count caps it at what we sent plus what is left.
func TestBudgetHints(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	b := NewBudget(BudgetConfig{API: "snyk", Limit: 1500, Window: time.Minute, Now: func() time.Time { return now }})
	for range 3 {
		if err := b.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	b.observe(&http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Limit": {"1620;w=60"}}})
	b.observe(&http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Limit": {"1000;w=60"}}})
	b.mu.Lock()
	got := b.limitAt(now, "")
	b.mu.Unlock()
	if got != 1000 {
		t.Errorf("limit %d after X-RateLimit-Limit 1000, want 1000", got)
	}
	b.observe(&http.Response{StatusCode: 200, Header: http.Header{"X-Ratelimit-Remaining": {"4"}}})
	b.mu.Lock()
	got = b.limitAt(now, "")
	b.mu.Unlock()
	if got != 7 {
		t.Errorf("limit %d with 3 sent and 4 remaining, want 7", got)
	}
}

// TestBudgetDeferrableYields: a Deferrable request (an import poll) goes
// only while a fiftieth of the limit is left for the others, and after any
// request that does not defer and waits for a slot; Load reports the count.
func TestBudgetDeferrableYields(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	f, err := ledger.Open(t.TempDir(), "snyk", "token", CountWindow(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := NewBudget(BudgetConfig{API: "snyk", Limit: 100, Window: time.Minute, Ledger: f, Now: func() time.Time { return now }})
	polls := Deferrable(t.Context())
	for i := range 98 {
		if err := b.Wait(polls); err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(polls, 20*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx); err == nil {
		t.Error("a poll took the two requests kept for the others")
	}
	if err := b.Wait(t.Context()); err != nil {
		t.Errorf("a kick-off: %v", err)
	}
	if l := b.Load(); l.Used != 99 || l.Limit != 100 || l.Window != CountWindow(time.Minute) {
		t.Errorf("load %+v, want 99 of 100 in %s", l, CountWindow(time.Minute))
	}

	// A full window of 200 ms and a limit of 1: a kick-off waits for the
	// next slot; a poll that comes after it goes a window after it (with a
	// limit of 2 both went in the same slot, and only the goroutines'
	// scheduling ordered their clocks).
	g, err := ledger.Open(t.TempDir(), "snyk", "token", CountWindow(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	full := NewBudget(BudgetConfig{API: "snyk", Limit: 1, Window: 200 * time.Millisecond, Ledger: g})
	if err := full.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	var kick, poll time.Time
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := full.Wait(t.Context()); err == nil {
			kick = time.Now()
		}
	})
	for full.Load().Waiting == 0 {
		time.Sleep(time.Millisecond)
	}
	wg.Go(func() {
		if err := full.Wait(Deferrable(t.Context())); err == nil {
			poll = time.Now()
		}
	})
	wg.Wait()
	if kick.IsZero() || poll.IsZero() || poll.Before(kick) {
		t.Errorf("kick-off let through at %v, the poll at %v: want the kick-off first", kick, poll)
	}
}
