package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestBudgetTwoProcessesShareTheLedger: two real bbimport processes run
// import:data at once with one consumer and one state directory, against
// one simulator that enforces a rolling window of seconds. Together they
// need more than the limit, so one of them must wait for the window to
// slide: they never exceed the limit (0 simulator 429s), one says it waits,
// and both finish with every target. Only the ledger file and its flock
// keep the two processes apart.
func TestBudgetTwoProcessesShareTheLedger(t *testing.T) {
	t.Parallel()
	if goruntime.GOOS == "windows" {
		t.Skip("the ledger's lock is flock: POSIX only")
	}
	const (
		window = 3 * time.Second
		limit  = 15
		// 4 workspaces of 250 repositories: 12 repository pages a run.
		workspaces, repos, pages = 4, 250, 12
	)
	bin := buildBinary(t, t.TempDir())
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{
		Workspaces:        sim.Estate(workspaces, repos),
		RateLimitPerToken: limit, RateLimitWindow: window,
		Faults: sim.Faults{Latency: 20 * time.Millisecond},
	}})
	e.Tuning.BitbucketWindow = window
	e.Set("BITBUCKET_RATE_LIMIT", "15")
	state := t.TempDir()
	e.Set("BBIMPORT_STATE_DIR", state)
	g := sim.SimSnykGroupID
	// The set-up spends from the same budget and ledger (one workspace
	// page), in process.
	e.MustRun(0, "orgs:data", "--groupId="+g)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	orgs := e.File("snyk-created-orgs.json")
	before := e.Sim.Count("bitbucket.requests")

	type result struct {
		logs           string
		err            error
		stdout, stderr bytes.Buffer
	}
	runs := make([]*result, 2)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range runs {
		// Each its own log directory (the log-directory lock would keep
		// them apart otherwise), one state directory.
		r := &result{logs: t.TempDir()}
		runs[i] = r
		cmd := exec.Command(bin, "import:data", "--orgsData="+orgs, "--skipEmptyRepos=false")
		cmd.Env = binaryEnv(e, "SNYK_LOG_PATH="+r.logs, testingWindowEnv+"="+window.String())
		cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
		wg.Go(func() { r.err = cmd.Run() })
	}
	wg.Wait()
	elapsed := time.Since(start)

	waited := 0
	for i, r := range runs {
		if r.err != nil {
			t.Fatalf("run %d: %v\nstderr:\n%s", i+1, r.err, r.stderr.String())
		}
		if strings.Contains(r.stderr.String(), "Bitbucket budget: ") {
			waited++
		}
		targets := filepath.Join(r.logs, "bitbucket-cloud-app-import-targets.json")
		if n := countLines(t, targets, `"orgId"`); n != workspaces*repos {
			t.Errorf("run %d: %d targets in %s, want %d", i+1, n, targets, workspaces*repos)
		}
	}
	if n := e.Sim.Count("bitbucket.429"); n != 0 {
		t.Errorf("the simulator answered %d 429s: the processes spent more than the budget together (%v)", n, e.Sim.Counters())
	}
	if n := e.Sim.Count("bitbucket.requests") - before; n != 2*pages {
		t.Errorf("%d Bitbucket requests by the two runs, want %d", n, 2*pages)
	}
	// 1 + 24 requests against 15 a window: at least one run must have
	// waited for the first requests to leave the window.
	if waited == 0 {
		t.Errorf("no run waited for the budget (%s in all; %d said so): the limit did not bind, so the test proves nothing", elapsed.Round(time.Millisecond), waited)
	}
}
