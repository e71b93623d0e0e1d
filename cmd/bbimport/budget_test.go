package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestBudgetTwoRunsShareTheLedger: two import:data runs at once with one
// consumer and one state directory (two in-process runs, each with its own
// ledger File, so only the file lock and the shared file keep them apart)
// never exceed the simulator's rolling-window limit together: no 429.
func TestBudgetTwoRunsShareTheLedger(t *testing.T) {
	const window = 2 * time.Second
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate(),
		RateLimitPerToken: 6, RateLimitWindow: window}})
	e.Tuning.BitbucketWindow = window
	e.Set("BITBUCKET_RATE_LIMIT", "6")
	state := t.TempDir()
	e.Set("BBIMPORT_STATE_DIR", state)
	g := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--groupId="+g)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	orgs := e.File("snyk-created-orgs.json")
	var wg sync.WaitGroup
	for range 2 {
		// Each its own log directory (the log-directory lock would keep
		// them apart otherwise), one state directory.
		logs := t.TempDir()
		wg.Go(func() { e.MustRun(0, "import:data", "--orgsData="+orgs, "--logPath="+logs) })
	}
	wg.Wait()
	if n := e.Sim.Count("bitbucket.429"); n != 0 {
		t.Errorf("the simulator answered %d 429s: the runs spent more than the budget together (%v)", n, e.Sim.Counters())
	}
	entries, _ := os.ReadDir(state)
	found := false
	for _, en := range entries {
		if strings.Contains(en.Name(), sim.DefaultBitbucketClientID) {
			t.Errorf("ledger file name holds the consumer id: %s", en.Name())
		}
		found = found || strings.HasSuffix(en.Name(), ".ledger")
	}
	if !found {
		t.Errorf("no ledger in %s: %v", state, entries)
	}
}

// TestBudgetUnusableLedgerFallsBack: a corrupt ledger or one from the future
// is one warning, and the run goes on with the conservative pacing.
func TestBudgetUnusableLedgerFallsBack(t *testing.T) {
	for name, content := range map[string]string{
		"corrupt": "this is not a ledger\n",
		"future":  "bbimport request ledger v1\nwindow=3636000 slot=6060\n" + futureMs() + " 5\n",
	} {
		t.Run(name, func(t *testing.T) {
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
			state := t.TempDir()
			e.Set("BBIMPORT_STATE_DIR", state)
			e.Set("SNYK_TOKEN", "") // orgs:data on Bitbucket alone: one ledger
			g := sim.SimSnykGroupID
			// Write every ledger the run could open as the bad content.
			r := e.MustRun(0, "orgs:data", "--groupId="+g)
			entries, _ := os.ReadDir(state)
			for _, en := range entries {
				if strings.HasSuffix(en.Name(), ".ledger") {
					os.WriteFile(filepath.Join(state, en.Name()), []byte(content), 0o644)
				}
			}
			r = e.MustRun(0, "orgs:data", "--groupId="+g)
			if n := strings.Count(r.Stderr, "request ledger cannot be used"); n != 1 {
				t.Errorf("%d fallback warnings, want 1:\n%s", n, r.Stderr)
			}
		})
	}
}

func futureMs() string {
	ms := time.Now().Add(3 * time.Hour).UnixMilli()
	return strconv.FormatInt(ms-ms%6060, 10)
}

// TestBudgetSnykLimitBelowOurs: another job shares the Snyk token, so Snyk
// answers 429 below SNYK_RATE_LIMIT, with and without Retry-After: every
// target is imported, exit 0, and the wait is reported.
func TestBudgetSnykLimitBelowOurs(t *testing.T) {
	for _, retryAfter := range []bool{true, false} {
		t.Run(map[bool]string{true: "Retry-After", false: "no Retry-After"}[retryAfter], func(t *testing.T) {
			e := ftNewEnv(t, sim.Config{
				Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{{Slug: "delta", Name: "Delta Team", Repos: 28}}},
				Snyk:      sim.SnykConfig{RateLimitPerMinute: 10, RateLimitWindow: time.Second, RateLimitRetryAfter: retryAfter},
			})
			e.Tuning.SnykPause = time.Second // the sim's window, as Snyk's pause is its minute
			targets := e.Pipeline()
			want := ftWant(t, e)
			r := e.MustRun(exitOK, "import", "--file="+targets, "--concurrency=8")
			ftCheckExactlyOnce(t, e, want, nil)
			if e.Sim.Count("snyk.429") == 0 {
				t.Fatalf("Snyk never answered 429: %v", e.Sim.Counters())
			}
			if !strings.Contains(r.Stderr, "Snyk rate limit reached") || !strings.Contains(r.Stderr, "waits for 429s for up to") {
				t.Errorf("the wait was not reported:\n%s", r.Stderr)
			}
		})
	}
}
