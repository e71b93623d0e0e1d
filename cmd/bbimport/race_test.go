package main

import (
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestRaceEndToEnd50Workers is the end-to-end run at the highest
// concurrency, for `go test -race` (make test): the four stages, then import
// with --concurrency=50 over 285 targets whose jobs stay pending for two
// polls, so 50 workers share the HTTP stack, the limiter, the log files, the
// resume state and the progress counters at once. Every target is imported
// exactly once, at most 50 jobs were ever in flight, and enough were in
// flight together for the run to have been truly concurrent.
func TestRaceEndToEnd50Workers(t *testing.T) {
	t.Parallel()
	const workers = 50
	e := ftNewEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{
			{Slug: "race-one", Name: "Race One", Repos: 100, Empty: 5, Forks: 10},
			{Slug: "race-two", Name: "Race Two", Repos: 100, Empty: 5, Private: 50},
			{Slug: "race-three", Name: "Race Three", Repos: 100, Empty: 5, Projects: []string{"R", "A", "C", "E"}},
		}},
		Snyk: sim.SnykConfig{PendingPolls: 2, Faults: sim.Faults{Latency: 2 * time.Millisecond}},
	})
	targets := e.Pipeline()
	want := ftWant(t, e)
	if len(want) != 285 {
		t.Fatalf("%d targets, want 285", len(want))
	}
	start := time.Now()
	e.MustRun(exitOK, "import", "--file="+targets, "--concurrency=50")
	ftCheckExactlyOnce(t, e, want, nil)
	peak := e.Sim.Count("snyk.max_jobs_in_flight")
	if peak > workers || peak < workers/2 {
		t.Errorf("at most %d jobs in flight at once, want between %d and %d", peak, workers/2, workers)
	}
	if n := e.Sim.Count("snyk.jobs_complete"); n != int64(len(want)) {
		t.Errorf("%d jobs polled to completion, want %d", n, len(want))
	}
	// A re-run finds everything in the resume log and sends nothing.
	before := e.Sim.Count("snyk.requests")
	e.MustRun(exitOK, "import", "--file="+targets, "--concurrency=50")
	if n := e.Sim.Count("snyk.requests") - before; n != 0 {
		t.Errorf("the re-run sent %d Snyk requests, want 0", n)
	}
	t.Logf("285 targets with 50 workers in %s; peak %d jobs in flight", time.Since(start).Round(time.Millisecond), peak)
}
