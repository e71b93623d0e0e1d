package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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
			job, err := pollJob(t.Context(), s, "loc", time.Millisecond, 4*time.Millisecond, tt.timeout)
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

// TestPollJobSchedule: the first poll after the floor, then each after a
// tenth of the job's age, never sooner than the floor nor later than max.
func TestPollJobSchedule(t *testing.T) {
	script := []func() (*snyk.ImportJob, error){}
	for range 12 {
		script = append(script, impPending)
	}
	s := &impPollSnyk{script: append(script, impStatus(snyk.JobComplete))}
	floor, maxWait := 5*time.Millisecond, 12*time.Millisecond
	start := time.Now()
	if _, err := pollJob(t.Context(), s, "loc", floor, maxWait, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	sched := PollSchedule{Floor: floor, Max: maxWait}
	prev := start
	for i, at := range s.times {
		want := sched.next(prev.Sub(start))
		if i == 0 {
			want = floor
		}
		if gap := at.Sub(prev); gap < want {
			t.Errorf("poll %d came %v after the one before; want no sooner than %v", i+1, gap, want)
		}
		prev = at
	}
	if total := s.times[len(s.times)-1].Sub(start); total > 2*time.Second {
		t.Errorf("took %v", total)
	}
}

// TestPollScheduleWaits: the waits of the schedule and the floor the poll
// share sets.
func TestPollScheduleWaits(t *testing.T) {
	tests := []struct {
		name      string
		opts      ImportOptions
		floor     time.Duration
		maxWait   time.Duration
		ages      []time.Duration
		wantWaits []time.Duration
	}{
		{"defaults, rate limit unknown", ImportOptions{Concurrency: 15}, 2 * time.Second, 30 * time.Second,
			[]time.Duration{0, 10 * time.Second, 35 * time.Second, 100 * time.Second, time.Hour},
			[]time.Duration{2 * time.Second, 2 * time.Second, 3500 * time.Millisecond, 10 * time.Second, 30 * time.Second}},
		// 15 workers, 10% of 1,500/min = 150 polls/min: one poll per
		// worker every 6 s.
		{"defaults, SNYK_RATE_LIMIT 1500", ImportOptions{Concurrency: 15, SnykRateLimit: 1500}, 6 * time.Second, 30 * time.Second,
			[]time.Duration{0, 59 * time.Second, 61 * time.Second, time.Hour},
			[]time.Duration{6 * time.Second, 6 * time.Second, 6100 * time.Millisecond, 30 * time.Second}},
		{"one worker: the 2 s floor binds", ImportOptions{Concurrency: 1, SnykRateLimit: 1500}, 2 * time.Second, 30 * time.Second, nil, nil},
		{"share above the cap: the budget wins", ImportOptions{Concurrency: 50, SnykRateLimit: 60}, 500 * time.Second, 500 * time.Second,
			[]time.Duration{0, time.Hour}, []time.Duration{500 * time.Second, 500 * time.Second}},
		{"explicit interval and share", ImportOptions{Concurrency: 50, SnykRateLimit: 1_000_000, PollShare: 1, PollInitial: time.Millisecond, PollMax: time.Second},
			3 * time.Millisecond, time.Second, []time.Duration{0, 100 * time.Millisecond}, []time.Duration{3 * time.Millisecond, 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.opts.PollSchedule()
			if p.Floor != tt.floor || p.Max != tt.maxWait {
				t.Errorf("floor %v, max %v; want %v, %v (%s)", p.Floor, p.Max, tt.floor, tt.maxWait, p)
			}
			for i, age := range tt.ages {
				if got := p.next(age); got != tt.wantWaits[i] {
					t.Errorf("next(%v) = %v; want %v", age, got, tt.wantWaits[i])
				}
			}
		})
	}
	want := "import jobs polled every max(6s, 10% of the job's age), at most every 30s; polls limited to 10% of 1500 requests/min: 15 workers × 1m ÷ 150/min = 6s between polls of one job"
	if got := (ImportOptions{Concurrency: 15, SnykRateLimit: 1500}).PollSchedule().String(); got != want {
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
	_, err := pollJob(ctx, s, "loc", time.Millisecond, 5*time.Millisecond, time.Hour)
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
