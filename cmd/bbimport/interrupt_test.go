package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// buildBinary builds ./cmd/bbimport into dir and returns its path.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bbimport")
	if goruntime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binaryEnv is the real binary's environment: the harness's variables (the
// simulator's URLs and fake credentials) plus what the go tool chain and
// the OS need, nothing else from the test's environment.
func binaryEnv(e *simEnv, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	e.mu.Lock()
	for k, v := range e.Env {
		env = append(env, k+"="+v)
	}
	e.mu.Unlock()
	return append(env, extra...)
}

// waitCounter waits until the simulator's counter reaches n (or fails the
// test after limit).
func waitCounter(t *testing.T, s *sim.Server, name string, n int64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for s.Count(name) < n {
		if time.Now().After(deadline) {
			t.Fatalf("counter %s = %d after %s, want ≥ %d (counters %v)", name, s.Count(name), limit, n, s.Counters())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInterruptResume: the real binary's import, interrupted mid-run by
// SIGINT (and SIGTERM) while jobs are being polled and most targets are not
// started, exits 130 within 10 s and says how to resume; the re-run imports
// every remaining target and nothing twice. Jobs are pending for one poll
// and complete on the second; the binary's first poll comes after
// --pollInterval=250ms (1 s by default), so a job takes ~750 ms.
func TestInterruptResume(t *testing.T) {
	t.Parallel()
	if goruntime.GOOS == "windows" {
		t.Skip("signals: POSIX only")
	}
	bin := buildBinary(t, t.TempDir())
	// The targets come from the in-process app, one run at a time (urfave/cli
	// keeps global state: two apps must not run at once in one process);
	// the binaries then run in parallel.
	type setup struct {
		e       *simEnv
		targets string
		want    map[string]bool
	}
	var setups []setup
	// SIGTERM meets a slower Snyk: import POSTs are on their way when it
	// comes, and must still be logged.
	for _, latency := range []time.Duration{10 * time.Millisecond, 60 * time.Millisecond} {
		e := newSimEnv(t, sim.Config{
			Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{
				{Slug: "north", Name: "North Team", Repos: 24},
				{Slug: "south", Name: "South Team", Repos: 24},
			}},
			Snyk: sim.SnykConfig{PendingPolls: 1, Faults: sim.Faults{Latency: latency}},
		})
		start := time.Now()
		targets := e.Pipeline()
		t.Logf("pipeline with Snyk latency %s: %s", latency, time.Since(start).Round(time.Millisecond))
		want := expectedTargets(t, e)
		if len(want) != 48 {
			t.Fatalf("want 48 targets, got %d", len(want))
		}
		setups = append(setups, setup{e, targets, want})
	}
	for i, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			testInterruptResume(t, bin, sig, setups[i].e, setups[i].targets, setups[i].want)
		})
	}
}

func testInterruptResume(t *testing.T, bin string, sig syscall.Signal, e *simEnv, targets string, want map[string]bool) {
	// First run: 4 workers; interrupted once the first jobs have completed
	// and their workers have kicked off the next ones (in flight, pending
	// for ~750 ms), with ~40 targets not started.
	cmd := exec.Command(bin, "import", "--file="+targets, "--pollInterval=250ms")
	cmd.Env = binaryEnv(e, "CONCURRENT_IMPORTS=4")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitCounter(t, e.Sim, "snyk.imports", 6, 15*time.Second)
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Fatalf("interrupted import: %v, want exit %d\nstdout:\n%s\nstderr:\n%s", err, exitInterrupted, stdout.String(), stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("import still running 10 s after %s\nstdout:\n%s\nstderr:\n%s", sig, stdout.String(), stderr.String())
	}
	t.Logf("%s: exited %s after the signal", sig, time.Since(sent).Round(time.Millisecond))

	// The process waited for every import POST it had sent (the grace), so
	// Snyk has no job the resume log does not know about.
	imports := e.Sim.Count("snyk.imports")
	inFlight := e.Sim.Count("snyk.jobs_in_flight") // accepted, never polled to the end
	if imports >= int64(len(want)) || inFlight == 0 || e.Sim.Count("snyk.jobs_complete") == 0 {
		t.Fatalf("not interrupted mid-run: %d jobs created of %d targets, %d in flight", imports, len(want), inFlight)
	}
	if !strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Errorf("stderr does not say how to resume:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "Interrupted:") || !strings.Contains(stdout.String(), "accepted by Snyk were still running") {
		t.Errorf("stdout does not sum up the interrupted run (targets not started, jobs still running):\n%s", stdout.String())
	}
	// Every job Snyk accepted is in the resume log (flushed before exit).
	if n := countLines(t, e.File(importfiles.ImportedTargetsLog), importfiles.MsgTargetRequested); n != int(imports) {
		t.Errorf("imported-targets.log has %d %q lines, Snyk created %d jobs", n, importfiles.MsgTargetRequested, imports)
	}
	if _, err := os.Stat(e.File(importer.ImportSummaryFile)); err != nil {
		t.Errorf("no import summary after the interrupt: %v", err)
	}

	// The re-run (all remaining targets at once) completes.
	re := exec.Command(bin, "import", "--file="+targets, "--pollInterval=250ms")
	re.Env = binaryEnv(e, "CONCURRENT_IMPORTS=50")
	out, err := re.CombinedOutput()
	if err != nil {
		t.Fatalf("re-run: %v\n%s", err, out)
	}
	assertImportedOnce(t, e, want)
	// The contract: no target imported twice beyond the jobs in flight at
	// the interrupt. bbimport logs each job as Snyk accepts it, so it does
	// better: none at all.
	dups, redundant := e.Sim.Count("snyk.duplicate_imports"), e.Sim.Count("snyk.redundant_imports")
	if dups > inFlight || redundant > inFlight {
		t.Errorf("duplicate imports %d, redundant %d: more than the %d jobs in flight at the interrupt", dups, redundant, inFlight)
	}
	if dups != 0 {
		t.Errorf("duplicate imports = %d, want 0", dups)
	}
	if !bytes.Contains(out, []byte("were skipped")) {
		t.Errorf("re-run output:\n%s", out)
	}
}

// countLines counts the lines of a file containing s.
func countLines(t *testing.T, path, s string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
