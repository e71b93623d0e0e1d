package httpx

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestWindowLimiterSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limit     int
		window    time.Duration
		burst     int
		perWindow float64
	}{
		{1000, time.Hour, 250, 750},
		{1500, time.Minute, 375, 1125},
		{3, time.Minute, 1, 2},
		{1, time.Hour, 1, 1},
	}
	for _, tt := range tests {
		l := WindowLimiter(tt.limit, tt.window)
		perWindow := float64(l.Limit()) * tt.window.Seconds()
		if l.Burst() != tt.burst || perWindow < tt.perWindow-1e-6 || perWindow > tt.perWindow+1e-6 {
			t.Errorf("WindowLimiter(%d, %s): burst %d, refill %.3f per window; want %d, %.0f",
				tt.limit, tt.window, l.Burst(), perWindow, tt.burst, tt.perWindow)
		}
	}
	for _, l := range []*rate.Limiter{WindowLimiter(0, time.Hour), WindowLimiter(-1, time.Hour), WindowLimiter(10, 0)} {
		if l.Limit() != rate.Inf {
			t.Errorf("limit %v, want rate.Inf for a non-positive limit or window", l.Limit())
		}
	}
}

// A greedy client on a simulated clock never gets more than limit requests
// into any rolling window.
func TestWindowLimiterNeverExceedsWindow(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{2, 7, 100, 1000} {
		const window = time.Hour
		l := WindowLimiter(limit, window)
		start := time.Now()
		var admitted []time.Time
		for at := start; at.Before(start.Add(4 * window)); at = at.Add(time.Second) {
			for l.AllowN(at, 1) {
				admitted = append(admitted, at)
			}
		}
		if got := maxInWindow(admitted, window); got > limit {
			t.Errorf("limit %d: %d requests in one rolling hour", limit, got)
		}
		// The budget is also used: the burst, then the refill every hour.
		if want := l.Burst() + 3*int(float64(l.Limit())*window.Seconds()); len(admitted) < want {
			t.Errorf("limit %d: only %d requests in 4 hours, want at least %d", limit, len(admitted), want)
		}
	}
}

// maxInWindow is the largest number of sorted times within any half-open
// interval of length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// Fifty goroutines sharing one limiter stay within its budget, both where
// requests leave the stack and where they reach the server.
func TestLimiterSharedAcrossGoroutines(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sent, seen []time.Time
	record := func(ts *[]time.Time) {
		mu.Lock()
		*ts = append(*ts, time.Now())
		mu.Unlock()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { record(&seen) }))
	t.Cleanup(srv.Close)
	base := srv.Client().Transport
	wire := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		record(&sent)
		return base.RoundTrip(req)
	})

	const limit, window, workers = 40, 500 * time.Millisecond, 50 // burst 10, 60/s after
	// Without a ledger the budget paces with WindowLimiter(limit, window).
	c, _ := newTestClient(t, Options{Budget: NewBudget(BudgetConfig{API: "bitbucket", Limit: limit, Window: window}), Transport: wire})
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	sort.Slice(sent, func(i, j int) bool { return sent[i].Before(sent[j]) })
	sort.Slice(seen, func(i, j int) bool { return seen[i].Before(seen[j]) })
	// Timestamps taken after the limiter releases a request can bunch up
	// under load (a delayed goroutine records late), so a sliding-window
	// count of them is not a sound bound; only the count from the start is.
	if len(sent) != workers {
		t.Errorf("%d requests left the stack, want %d", len(sent), workers)
	}
	// Arrivals only ever come later than releases, so counting from before
	// the first release gives a bound no scheduling jitter can break: by time
	// d after start, at most burst + rate·d requests have reached the server.
	for _, d := range []time.Duration{0, 100 * time.Millisecond, 250 * time.Millisecond, 400 * time.Millisecond} {
		n := sort.Search(len(seen), func(i int) bool { return seen[i].Sub(start) >= d })
		if budget := 10 + int(60*d.Seconds()) + 1; n > budget {
			t.Errorf("%d requests reached the server in the first %s, want at most %d", n, d, budget)
		}
	}
	// The last of 40 tokens beyond the burst of 10 comes after 39/60 s.
	if min := 39 * time.Second / 60; elapsed < min-20*time.Millisecond {
		t.Errorf("%d requests done in %s, faster than the limiter allows (%s)", workers, elapsed, min)
	}
}
