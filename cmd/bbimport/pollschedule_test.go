package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestImport_PollScheduleNoticesJobsPromptly: jobs running 5–60 s, time
// scaled ×0.02 (so 100 ms–1.2 s, the 2 s floor 40 ms, and SNYK_RATE_LIMIT
// 1,500/min ×50): every job is noticed within the larger of the floor the
// poll share sets (15 workers × 1 min ÷ 10 % of the limit: 6 s, scaled
// 120 ms) and a tenth of its running time, plus a little for the
// machine; the polls stay within their share; the debug log says the
// schedule.
func TestImport_PollScheduleNoticesJobsPromptly(t *testing.T) {
	// Serial: it measures how late each job is noticed (within 100 ms of
	// its bound) and polls per minute of wall time, which other tests
	// sharing the two cores would skew.
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	const scale = 0.02
	scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: sim.Estate(3, 20)},
		Snyk:      sim.SnykConfig{JobDurations: sim.JobDurations{Min: scaled(5 * time.Second), Max: scaled(time.Minute)}},
	})
	targets := e.Pipeline()
	e.Tuning.PollInitial, e.Tuning.PollMax = 0, 0 // the flags below, as an operator would set them
	limit := int(1500 / scale)
	e.Set("SNYK_RATE_LIMIT", strconv.Itoa(limit))

	start := time.Now()
	r := e.MustRun(0, "--logLevel=debug", "import", "--file="+targets, "--concurrency=15",
		"--pollInterval="+scaled(2*time.Second).String(), "--pollShare=10")
	wall := time.Since(start)

	wantLine := "import jobs polled every max(120ms, 10% of the job's age), at most every 30s; polls limited to 10% of 75000 requests/min: 15 workers × 1m ÷ 7500/min = 120ms between polls of one job"
	if !strings.Contains(r.Stderr, wantLine) {
		t.Errorf("stderr lacks the schedule line %q:\n%s", wantLine, r.Stderr)
	}
	jobs := e.Sim.SnykJobs()
	if n := e.Sim.Count("snyk.jobs_complete"); len(jobs) < 50 || n != int64(len(jobs)) {
		t.Fatalf("%d jobs, %d complete; want the estate's 50-odd, all complete", len(jobs), n)
	}
	// Slack: one poll's round trip and timer lateness on a loaded machine.
	const slack = 100 * time.Millisecond
	floor := scaled(6 * time.Second)
	var sum, lateSum time.Duration
	for _, j := range jobs {
		bound := max(floor, j.Duration/10) + slack
		if j.Late <= 0 || j.Late > bound {
			t.Errorf("job of %v noticed %v after it ended; want within %v", j.Duration, j.Late, bound)
		}
		sum += j.Duration
		lateSum += j.Late
	}
	polls := e.Sim.Count("snyk.polls")
	perMinute := float64(polls) / wall.Minutes()
	if budget := 0.1 * float64(limit); perMinute > budget {
		t.Errorf("%d polls in %v = %.0f/min; want at most 10%% of %d = %.0f/min", polls, wall, perMinute, limit, budget)
	}
	ideal := sum / 15
	t.Logf("wall %v, ideal Σ durations ÷ 15 = %v (ratio %.2f); mean lateness %v; %.2f polls per target",
		wall.Round(time.Millisecond), ideal.Round(time.Millisecond), float64(ideal)/float64(wall),
		(lateSum / time.Duration(len(jobs))).Round(time.Millisecond), float64(polls)/float64(len(jobs)))
}
