package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestImport_PollScheduleNoticesJobsPromptly: jobs running 5–60 s, time
// scaled ×0.02 (so 100 ms–1.2 s, the 500 ms floor 10 ms, Snyk's minute
// 1.2 s) against a simulator that enforces SNYK_RATE_LIMIT (1,500 per
// scaled minute) at the default settings: every job is noticed soon after
// it ends (on average within a scaled second), no poll draws a 429, and the
// debug log says the schedule in force.
func TestImport_PollScheduleNoticesJobsPromptly(t *testing.T) {
	// Serial: it measures how late each job is noticed, which other tests
	// sharing the two cores would skew.
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	const scale = 0.02
	scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	const limit = 1500
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: sim.Estate(3, 20)},
		Snyk: sim.SnykConfig{JobDurations: sim.JobDurations{Min: scaled(5 * time.Second), Max: scaled(time.Minute)},
			RateLimitPerMinute: limit, RateLimitWindow: scaled(time.Minute)},
	})
	targets := e.Pipeline()
	e.Tuning.PollInitial, e.Tuning.PollMax = 0, scaled(30*time.Second) // the floor from the flag below, as an operator would set it
	e.Tuning.SnykWindow = scaled(time.Minute)
	e.Set("SNYK_RATE_LIMIT", strconv.Itoa(limit))

	start := time.Now()
	r := e.MustRun(0, "--logLevel=debug", "import", "--file="+targets, "--concurrency=15",
		"--pollInterval="+scaled(500*time.Millisecond).String())
	wall := time.Since(start)

	if !strings.Contains(r.Stderr, "import polls: ") || !strings.Contains(r.Stderr, "polls/s free for them now") {
		t.Errorf("stderr lacks the schedule in force:\n%s", r.Stderr)
	}
	jobs := e.Sim.SnykJobs()
	if n := e.Sim.Count("snyk.jobs_complete"); len(jobs) < 50 || n != int64(len(jobs)) {
		t.Fatalf("%d jobs, %d complete; want the estate's 50-odd, all complete", len(jobs), n)
	}
	if n := e.Sim.Count("snyk.429"); n != 0 {
		t.Errorf("Snyk answered %d 429s: the polls went past the budget", n)
	}
	var sum, lateSum time.Duration
	for _, j := range jobs {
		if j.Late <= 0 {
			t.Errorf("job of %v never noticed", j.Duration)
		}
		sum += j.Duration
		lateSum += j.Late
	}
	// A scaled second, and a little for the machine.
	mean := lateSum / time.Duration(len(jobs))
	if bound := scaled(time.Second) + 20*time.Millisecond; mean > bound {
		t.Errorf("jobs noticed %v after they ended on average; want within %v", mean, bound)
	}
	polls := e.Sim.Count("snyk.polls")
	ideal := sum / 15
	t.Logf("wall %v, ideal Σ durations ÷ 15 = %v (ratio %.2f); mean lateness %v; %.2f polls per target",
		wall.Round(time.Millisecond), ideal.Round(time.Millisecond), float64(ideal)/float64(wall),
		mean.Round(time.Millisecond), float64(polls)/float64(len(jobs)))
}
