//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/sim"
)

// The rows of issue 19 about a process (a hang, memory) run the real binary
// (built as the other subprocess tests build it, sharing their compile),
// each under a time bound and an address-space limit (ulimit -v): what
// hung, or grew to gigabytes, must end at once, in bounded memory.

// addressSpace bounds every run below: a Go binary reserves about 780 MiB
// of address space before it allocates anything, so this leaves it some
// 250 MiB of heap. /dev/zero read to the end, or 50 bodies of 32 MiB held
// at once (1.94 GB resident before), cannot fit.
const addressSpace = 1 << 30

type boundedResult struct {
	Code           int
	Stdout, Stderr string
	Elapsed        time.Duration
	MaxRSS         int64 // bytes
}

// runBounded runs bin with args and env under ulimit -v addressSpace,
// failing the test if it is still running after limit.
func runBounded(t *testing.T, bin string, env []string, limit time.Duration, args ...string) boundedResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	// A cgo build (where a C compiler is found) starts threads whose stacks
	// come from the address space, sized by the stack limit (8 MiB each by
	// default), and glibc reserves 64 MiB of it per thread for malloc
	// arenas: keep both small, as the static release build has neither.
	script := fmt.Sprintf(`ulimit -s 1024 && ulimit -v %d && exec "$0" "$@"`, addressSpace>>10)
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, bin}, args...)...)
	cmd.Env = append(env, "MALLOC_ARENA_MAX=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := boundedResult{Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("bbimport %s still running after %s (killed)\nstderr:\n%s", args[0], limit, lastLines(r.Stderr, 20))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = ru.Maxrss << 10
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if strings.Contains(r.Stderr, "fatal error: out of memory") || strings.Contains(r.Stderr, "goroutine ") {
		t.Fatalf("bbimport %s crashed (exit %d):\n%s", args[0], r.Code, firstLines(r.Stderr, 30))
	}
	t.Logf("bbimport %s: exit %d in %s (CPU %s), max RSS %d MiB", args[0], r.Code, r.Elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), r.MaxRSS>>20)
	return r
}

func TestHostileProcesses(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, t.TempDir())

	// A state directory whose Bitbucket ledger is not a ledger: a FIFO hung
	// the run for ever (Ctrl-C did not stop it); /dev/zero behind a link
	// and a 6 GB sparse file ran it out of memory (2 GB after 17 s;
	// instantly). Each is one warning and the fallback pacing, at once.
	for name, plant := range map[string]func(t *testing.T, path string){
		"ledger is a FIFO": func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skip(err)
			}
		},
		"ledger links to /dev/zero": func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		},
		"ledger is a 6 GB sparse file": func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 6<<30); err != nil {
				t.Skip(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, state := hostileLedgerEnv(t)
			ledger := ledgerOf(t, state, "bitbucket")
			if err := os.Remove(ledger); err != nil {
				t.Fatal(err)
			}
			plant(t, ledger)
			r := runBounded(t, bin, binaryEnv(e), 30*time.Second, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--skipEmptyOrgs")
			if r.Code != exitOK {
				t.Fatalf("exit %d\n%s", r.Code, lastLines(r.Stderr, 20))
			}
			if n := strings.Count(r.Stderr, "request ledger cannot be used"); n != 1 {
				t.Errorf("%d fallback warnings, want 1:\n%s", n, r.Stderr)
			}
		})
	}

	// A CA bundle variable naming a FIFO hung silently, /dev/zero ran out
	// of memory: exit 2 naming the variable, at once.
	fifo := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, variable, path, want string }{
		{"CA bundle is a FIFO", "BBIMPORT_EXTRA_CA_CERTS", fifo, "is a named pipe (FIFO), not a regular file"},
		{"CA bundle is /dev/zero", "NODE_EXTRA_CA_CERTS", "/dev/zero", "is a character device, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t, sim.Config{})
			r := runBounded(t, bin, binaryEnv(e, tc.variable+"="+tc.path), 30*time.Second, "orgs:data", "--groupId="+sim.SimSnykGroupID)
			if r.Code != exitUsage {
				t.Errorf("exit %d, want %d", r.Code, exitUsage)
			}
			wantContains(t, finalLine(t, r.Stderr), tc.variable+"="+tc.path+" cannot be used", tc.want)
		})
	}

	// Retry-After: 99999999 (or 3600) with --rateLimitWait=20s: the run
	// was still waiting at 100 s, each request up to an hour. The wait is
	// the run's, not each request's: a pause it cannot cover is not waited,
	// every target fails at once (the next run retries them), and the run
	// says why.
	for _, retryAfter := range []string{"99999999", "3600"} {
		t.Run("Retry-After "+retryAfter+" with --rateLimitWait=20s", func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{{Slug: "tight", Name: "Tight", Repos: 20}}}})
			targets := e.Pipeline()
			e.Sim.ThrottleSnyk(true, retryAfter)
			r := runBounded(t, bin, binaryEnv(e), 20*time.Second, "import", "--file="+targets, "--rateLimitWait=20s")
			if r.Code != exitPartial {
				t.Fatalf("exit %d, want %d (every target failed, retried next run)\n%s", r.Code, exitPartial, lastLines(r.Stderr, 20))
			}
			if r.Elapsed > 10*time.Second {
				t.Errorf("took %s with --rateLimitWait=20s and a pause past it: waited for it", r.Elapsed)
			}
			if n := strings.Count(r.Stderr, "past what is left of this run's --rateLimitWait of 20s"); n != 1 {
				t.Errorf("said %d times that the wait is spent, want once:\n%s", n, r.Stderr)
			}
			if n := e.Sim.Count("snyk.imports"); n != 0 {
				t.Errorf("%d imports accepted", n)
			}
		})
	}

	// 50 workers each given a 32 MiB poll answer held 1.94 GB: all bodies
	// in flight share one budget now, and the import finishes.
	t.Run("50 workers, 32 MiB poll bodies", func(t *testing.T) {
		t.Parallel()
		e := newSimEnv(t, sim.Config{
			Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{{Slug: "wide", Name: "Wide", Repos: 50}}},
			Snyk:      sim.SnykConfig{PollBodySize: httpx.MaxResponseBody},
		})
		targets := e.Pipeline()
		r := runBounded(t, bin, binaryEnv(e, "SNYK_RATE_LIMIT=1000000"), 2*time.Minute,
			"import", "--file="+targets, "--concurrency=50", "--pollInterval=100ms")
		if r.Code != exitOK {
			t.Fatalf("exit %d\n%s", r.Code, lastLines(r.Stderr, 20))
		}
		if n := e.Sim.Count("snyk.polls"); n < 50 {
			t.Errorf("%d polls, want at least one a target", n)
		}
	})
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
