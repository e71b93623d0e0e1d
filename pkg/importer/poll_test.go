package importer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// impPollSnyk answers GetImportJob from a script.
type impPollSnyk struct {
	impFakeSnyk
	mu     sync.Mutex
	script []func() (*snyk.ImportJob, error)
	times  []time.Time
}

func (s *impPollSnyk) GetImportJob(ctx context.Context, location string) (*snyk.ImportJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = append(s.times, time.Now())
	i := min(len(s.times)-1, len(s.script)-1)
	return s.script[i]()
}

func impPending() (*snyk.ImportJob, error) { return &snyk.ImportJob{Status: snyk.JobPending}, nil }
func impStatus(st string) func() (*snyk.ImportJob, error) {
	return func() (*snyk.ImportJob, error) { return &snyk.ImportJob{ID: "j", Status: st}, nil }
}
func impFail(err error) func() (*snyk.ImportJob, error) {
	return func() (*snyk.ImportJob, error) { return nil, err }
}

func TestPollJob(t *testing.T) {
	tests := []struct {
		name    string
		script  []func() (*snyk.ImportJob, error)
		timeout time.Duration
		status  string // of the job returned
		errText string // else the error
		polls   int    // -1: at least 2
	}{
		{"complete at once", []func() (*snyk.ImportJob, error){impStatus(snyk.JobComplete)}, time.Second, snyk.JobComplete, "", 1},
		{"pending then complete", []func() (*snyk.ImportJob, error){impPending, impPending, impPending, impStatus(snyk.JobComplete)}, time.Second, snyk.JobComplete, "", 4},
		{"failed is final", []func() (*snyk.ImportJob, error){impPending, impStatus(snyk.JobFailed)}, time.Second, snyk.JobFailed, "", 2},
		{"transient errors retried", []func() (*snyk.ImportJob, error){impFail(&impStatusErr{503}), impFail(&impStatusErr{429}), impFail(errors.New("connection reset")), impStatus(snyk.JobComplete)}, time.Second, snyk.JobComplete, "", 4},
		{"empty answer retried", []func() (*snyk.ImportJob, error){impFail(nil), impStatus(snyk.JobComplete)}, time.Second, snyk.JobComplete, "", 2},
		{"404 is permanent", []func() (*snyk.ImportJob, error){impPending, impFail(&impStatusErr{404})}, time.Second, "", "404", 2},
		{"401 is permanent", []func() (*snyk.ImportJob, error){impFail(&impStatusErr{401})}, time.Second, "", "401", 1},
		{"timeout while pending", []func() (*snyk.ImportJob, error){impPending}, 30 * time.Millisecond, "", "did not finish within the poll timeout", -1},
		{"timeout keeps the last error", []func() (*snyk.ImportJob, error){impFail(&impStatusErr{502})}, 30 * time.Millisecond, "", "last error: snyk: 502", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &impPollSnyk{script: tt.script}
			polls := newPolls(pollsConfig{floor: time.Millisecond, max: 4 * time.Millisecond})
			job, err := pollJob(t.Context(), s, "loc", polls, time.Now(), tt.timeout)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error = %v, want %q", err, tt.errText)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if job.Status != tt.status {
				t.Errorf("status = %s, want %s", job.Status, tt.status)
			}
			if n := len(s.times); (tt.polls >= 0 && n != tt.polls) || (tt.polls < 0 && n < 2) {
				t.Errorf("polls = %d, want %d", n, tt.polls)
			}
		})
	}
}

// TestPollJobSchedule: polls of one job come no sooner than the floor
// apart and no later than max, and stop at the answer that finishes it.
func TestPollJobSchedule(t *testing.T) {
	script := []func() (*snyk.ImportJob, error){}
	for range 12 {
		script = append(script, impPending)
	}
	s := &impPollSnyk{script: append(script, impStatus(snyk.JobComplete))}
	floor, maxWait := 5*time.Millisecond, 40*time.Millisecond
	polls := newPolls(pollsConfig{floor: floor, max: maxWait})
	start := time.Now()
	if _, err := pollJob(t.Context(), s, "loc", polls, start, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(s.times) != 13 {
		t.Fatalf("%d polls, want 13", len(s.times))
	}
	prev := start
	for i, at := range s.times {
		gap := at.Sub(prev)
		if gap < floor {
			t.Errorf("poll %d came %v after the one before; want no sooner than %v", i+1, gap, floor)
		}
		if gap > maxWait+50*time.Millisecond {
			t.Errorf("poll %d came %v after the one before; want within %v (and a tick)", i+1, gap, maxWait)
		}
		prev = at
	}
	polls.mu.Lock()
	waiting, jobs := polls.waiting, len(polls.jobs)
	polls.mu.Unlock()
	if waiting != 0 || jobs != 0 {
		t.Errorf("schedule not empty after the job: %d waiting, %d jobs", waiting, jobs)
	}
	// The loop ends at its next look, a tick at most.
	for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
		polls.mu.Lock()
		running := polls.running
		polls.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the schedule's loop still runs with no job waiting")
		}
	}
}

// pollsAt is a schedule on a clock the test moves, with jobs waiting.
func pollsAt(t *testing.T, cfg pollsConfig, now *time.Time) *Polls {
	t.Helper()
	cfg.now = func() time.Time { return *now }
	return newPolls(cfg)
}

// waitingJob adds a job kicked off at start, last polled at last, waiting
// for its turn (as wait leaves it, without the loop).
func waitingJob(p *Polls, start, last time.Time) *polledJob {
	j := p.add(start)
	j.last, j.prevAge = last, last.Sub(start)
	p.mu.Lock()
	j.waiting = true
	p.waiting++
	p.mu.Unlock()
	return j
}

func released(j *polledJob) bool {
	select {
	case <-j.ready:
		return true
	default:
		return false
	}
}

// TestPollsFollowTheDurationsSeen: once jobs of 20–60 s have been seen to
// finish, a job of 10 s polled 800ms ago waits (none finished that young,
// and a tenth of its age has not passed), a job of 40 s polled as long ago
// is polled, and with room for one poll only, the job most likely to have
// finished goes first. Before any job finished, a young job is polled at
// the floor.
func TestPollsFollowTheDurationsSeen(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	p := pollsAt(t, pollsConfig{floor: 500 * time.Millisecond, max: 30 * time.Second}, &now)

	fresh := waitingJob(p, now.Add(-600*time.Millisecond), now.Add(-600*time.Millisecond))
	p.mu.Lock()
	p.release(now)
	p.mu.Unlock()
	if !released(fresh) {
		t.Errorf("no duration seen yet: a job of 600ms was not polled at the 500ms floor")
	}
	p.remove(fresh)

	// Jobs of 20–60 s seen to finish.
	for d := 20 * time.Second; d <= time.Minute; d += 400 * time.Millisecond {
		j := p.add(now.Add(-d))
		j.prevAge = d
		p.polled(j, now, now, true)
		p.remove(j)
	}
	ago := 800 * time.Millisecond
	young := waitingJob(p, now.Add(-10*time.Second), now.Add(-ago))
	old := waitingJob(p, now.Add(-40*time.Second), now.Add(-ago))
	oldest := waitingJob(p, now.Add(-58*time.Second), now.Add(-ago))
	if l := p.lag(young, now); l >= 0.01 {
		t.Errorf("a job of 10 s is due (lag %g s, due at 10ms): no job finished that young", l)
	}
	if a, b := p.lag(old, now), p.lag(oldest, now); a <= 0 || b <= a {
		t.Errorf("lag at 40 s %g, at 58 s %g: want the job near the longest durations the likelier", a, b)
	}
	// Room for one poll.
	p.tokens = 1
	p.refilled = now
	p.cfg.capRate = 1e-9
	p.mu.Lock()
	p.release(now)
	p.mu.Unlock()
	if released(young) || released(old) || !released(oldest) {
		t.Errorf("with room for one poll, released young %v, old %v, oldest %v; want the oldest only", released(young), released(old), released(oldest))
	}
	p.cfg.capRate = 0
	p.mu.Lock()
	p.release(now)
	p.mu.Unlock()
	if released(young) || !released(old) {
		t.Errorf("with room: want the 40 s job polled and the 10 s one left")
	}
	// A tenth of its age on, the young job is polled whatever the
	// durations say.
	now = now.Add(300 * time.Millisecond)
	p.mu.Lock()
	p.release(now)
	p.mu.Unlock()
	if !released(young) {
		t.Errorf("a job of 10.3 s last polled 1.1 s ago was not polled")
	}
}

// TestPollsRateFromTheBudget: near the limit the polls may spend the
// budget's pace (its limit, less a fiftieth kept for the others, a window)
// less what everything else sent in its window (the window's count less
// the schedule's own polls); while more than half of the window is free,
// the room above half in a sixtieth of the window; --pollShare caps either;
// none go while other requests wait for the budget or a 429 has closed it.
func TestPollsRateFromTheBudget(t *testing.T) {
	load := httpx.Load{Used: 500, Limit: 1500, Window: time.Minute}
	tests := []struct {
		name     string
		load     httpx.Load
		capRate  float64
		wantRate float64
	}{
		{"a third used: the room above half in a second", load, 0, 1500 - 30 - 750 - 500},
		{"near the limit: the pace less the others", httpx.Load{Used: 1200, Limit: 1500, Window: time.Minute}, 0, (1500 - 30 - 1200) / 60.0},
		{"full", httpx.Load{Used: 1480, Limit: 1500, Window: time.Minute}, 0, 0},
		{"capped", load, 2.5, 2.5},
		{"no budget known", httpx.Load{}, 0, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolls(pollsConfig{capRate: tt.capRate, load: func() httpx.Load { return tt.load }})
			if got := p.schedule().Rate; math.Abs(got-tt.wantRate) > 1e-9 && !(math.IsInf(got, 1) && math.IsInf(tt.wantRate, 1)) {
				t.Errorf("rate %g, want %g", got, tt.wantRate)
			}
		})
	}
	// 400 of 1,300 are the schedule's own polls of the last minute.
	now := time.Now()
	busy := httpx.Load{Used: 1300, Limit: 1500, Window: time.Minute}
	p := pollsAt(t, pollsConfig{load: func() httpx.Load { return busy }}, &now)
	for i := range 400 {
		p.sent = append(p.sent, now.Add(-time.Duration(i)*100*time.Millisecond))
	}
	p.sent = append([]time.Time{now.Add(-2 * time.Minute)}, p.sent...) // left the window
	slices.SortFunc(p.sent, func(a, b time.Time) int { return a.Compare(b) })
	if got, want := p.schedule().Rate, (1500-30-900)/60.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("with 400 own polls in the window: rate %g, want %g", got, want)
	}
	now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, l := range []httpx.Load{{Limit: 1500, Window: time.Minute, Waiting: 2}, {Limit: 1500, Window: time.Minute, Paused: true}} {
		p := pollsAt(t, pollsConfig{load: func() httpx.Load { return l }}, &now)
		j := waitingJob(p, now.Add(-time.Minute), now.Add(-time.Minute))
		p.mu.Lock()
		p.release(now)
		p.mu.Unlock()
		if released(j) {
			t.Errorf("load %+v: a poll went before the requests the budget serves first", l)
		}
	}
	want := "import polls: 0 job(s), each polled when it has likely finished (no job finished yet: by its age), at most every 500ms and at least every 30s; 220.0 polls/s free for them now (500 of 1500 Snyk requests used in the last 1m0s); capped at 2.5/s (the poll share)"
	p = newPolls(pollsConfig{capRate: 2.5, load: func() httpx.Load { return load }})
	s := p.schedule()
	s.Rate = 220
	if got := s.String(); got != want {
		t.Errorf("String() = %q\nwant %q", got, want)
	}
}

func TestPollJobCancel(t *testing.T) {
	s := &impPollSnyk{script: []func() (*snyk.ImportJob, error){impPending}}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	_, err := pollJob(ctx, s, "loc", newPolls(pollsConfig{floor: time.Millisecond, max: 5 * time.Millisecond}), time.Now(), time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v", d)
	}
}

func TestImportErrorCause(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&impStatusErr{429}, "HTTP 429"},
		{fmt.Errorf("kick-off: %w", &impStatusErr{500}), "HTTP 500"},
		{errors.New("unexpected status code: 502 Bad Gateway"), "HTTP 502"},
		{fmt.Errorf("%w (2h0m0s); last error: %w", errPollTimeout, &impStatusErr{503}), "timeout"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New(`org 9f1c0e2a-1b2c-4d5e-8f90-123456789abc: project "foo" not found at https://x/y/1`), `org <id>: project "…" not found at <url>`},
		{errors.New("tried 3 times\nsecond line"), "tried <n> times"},
		{errors.New(""), "unknown error"},
	}
	for _, tt := range tests {
		if got := errorCause(tt.err); got != tt.want {
			t.Errorf("errorCause(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// loadSnyk is a Snyk client that reports its budget's load.
type loadSnyk struct {
	impFakeSnyk
	load httpx.Load
}

func (s *loadSnyk) Load() httpx.Load { return s.load }

// TestOrgsAtOnce: enough orgs at once to spend the Snyk budget as fast as
// it allows at the latency its answers take, twice over, within 4..50; 8
// while nothing is known; the most when the budget has no limit.
func TestOrgsAtOnce(t *testing.T) {
	minute := time.Minute
	tests := []struct {
		name string
		s    Snyk
		want int
	}{
		{"a client that cannot tell", &impFakeSnyk{}, 8},
		{"no answer yet", &loadSnyk{load: httpx.Load{Limit: 1500, Window: minute}}, 8},
		// A fresh budget: 1,500 in an eighth of a minute at 200 ms → 80.
		{"fresh budget, 200 ms", &loadSnyk{load: httpx.Load{Limit: 1500, Window: minute, Latency: 200 * time.Millisecond}}, 50},
		// Full: the limit's own pace, 25 a second at 200 ms, twice → 10.
		{"full budget, 200 ms", &loadSnyk{load: httpx.Load{Used: 1500, Limit: 1500, Window: minute, Latency: 200 * time.Millisecond}}, 10},
		{"fresh budget, 5 ms", &loadSnyk{load: httpx.Load{Limit: 1500, Window: minute, Latency: 5 * time.Millisecond}}, 4},
		{"no limit", &loadSnyk{load: httpx.Load{Latency: time.Millisecond}}, 50},
	}
	for _, tt := range tests {
		if got := OrgsAtOnce(tt.s); got != tt.want {
			t.Errorf("%s: %d orgs at once, want %d", tt.name, got, tt.want)
		}
	}
}
