package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/dirlock"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// Files and servers bbimport does not control (issue 19): each may slow a
// run, never hang it, crash it or make it overspend. The rows about a
// process (hang, memory) run the release binary: hostile_unix_test.go.

// ledgerOf is the one ledger of api in the state directory (a keyed name:
// found, not computed).
func ledgerOf(t *testing.T, state, api string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(state, "bbimport-"+api+"-*.ledger"))
	if len(matches) != 1 {
		all, _ := os.ReadDir(state)
		t.Fatalf("%d %s ledgers in %s: %v", len(matches), api, state, all)
	}
	return matches[0]
}

// hostileLedgerEnv is an estate of six workspaces whose orgs:data
// --skipEmptyOrgs takes 7 Bitbucket requests, after one run that created the
// state directory's key and ledgers.
func hostileLedgerEnv(t *testing.T) (e *simEnv, state string) {
	t.Helper()
	e = newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: sim.Estate(6, 3)}})
	state = t.TempDir()
	e.Set("BBIMPORT_STATE_DIR", state)
	e.MustRun(exitOK, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--skipEmptyOrgs")
	return e, state
}

// Ledger counts are a stranger's input: a sum past 2^63 wrapped negative and
// admitted without end (6 requests at a limit of 2/h), a count of 10^12 at a
// limit of 1,000 parked the run for an hour ("1,000,000,000,000 of 1,000
// used"). Each is one warning and the fallback pacing now.
func TestHostileLedgerCounts(t *testing.T) {
	t.Parallel()
	slot := func(count string) string {
		// The slot of now in the window the run counts in (an hour and 36 s
		// in slots of 6.06 s), written the way the ledger writes it.
		ms := time.Now().UnixMilli()
		return strconv.FormatInt(ms-ms%6060, 10) + " " + count + "\n"
	}
	const head = "bbimport request ledger v1\nwindow=3636000 slot=6060\n"
	big := strconv.FormatInt(1<<62, 10)

	t.Run("sum past 2^63 at 2 an hour", func(t *testing.T) {
		t.Parallel()
		e, state := hostileLedgerEnv(t)
		ms := time.Now().UnixMilli() - time.Now().UnixMilli()%6060
		wrap := head
		for i := range 3 {
			wrap += strconv.FormatInt(ms-int64(i)*6060, 10) + " " + big + "\n"
		}
		if err := os.WriteFile(ledgerOf(t, state, "bitbucket"), []byte(wrap), 0o600); err != nil {
			t.Fatal(err)
		}
		e.Set("BITBUCKET_RATE_LIMIT", "2")
		before := e.Sim.Count("bitbucket.requests")
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		r := e.RunContext(ctx, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--skipEmptyOrgs")
		if n := e.Sim.Count("bitbucket.requests") - before; n > 2 {
			t.Errorf("%d Bitbucket requests in 3 s at a limit of 2 an hour (exit %d)", n, r.Code)
		}
		if n := strings.Count(r.Stderr, "request ledger cannot be used"); n != 1 || !strings.Contains(r.Stderr, "over the limit of") {
			t.Errorf("%d fallback warnings, want 1 saying the count is over the limit:\n%s", n, r.Stderr)
		}
	})
	t.Run("a count of 10^12 at 1,000 an hour", func(t *testing.T) {
		t.Parallel()
		e, state := hostileLedgerEnv(t)
		if err := os.WriteFile(ledgerOf(t, state, "bitbucket"), []byte(head+slot("1000000000000")), 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r := e.MustRun(exitOK, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--skipEmptyOrgs")
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("took %s: parked on the count", d)
		}
		if strings.Contains(r.Stderr, "1,000,000,000,000") || strings.Count(r.Stderr, "request ledger cannot be used") != 1 {
			t.Errorf("want one fallback warning and no wait on the count:\n%s", r.Stderr)
		}
	})
}

// A ledger's lock file planted as a link to elsewhere is not created
// through: one warning, the fallback pacing, nothing outside the directory.
func TestHostileLedgerLockLink(t *testing.T) {
	t.Parallel()
	e, state := hostileLedgerEnv(t)
	lock := ledgerOf(t, state, "bitbucket") + ".lock"
	outside := filepath.Join(t.TempDir(), "created-outside")
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, lock); err != nil {
		t.Skip(err)
	}
	r := e.MustRun(exitOK, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	if n := strings.Count(r.Stderr, "cannot keep a request ledger"); n != 1 || !strings.Contains(r.Stderr, "symbolic link") {
		t.Errorf("%d warnings, want 1 naming the link:\n%s", n, r.Stderr)
	}
	if _, err := os.Lstat(outside); !os.IsNotExist(err) {
		t.Errorf("a file was created through the link: %v", err)
	}
}

// .bbimport.lock hard-linked to imported-targets.log: taking and releasing
// the lock truncated the resume log (155 duplicate imports, exit 0, and
// every later run imported everything again). The lock is refused, nothing
// is sent, the log keeps every byte, and the next run skips everything.
func TestHostileLockHardLinkedToTheResumeLog(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	targets := e.Pipeline()
	e.MustRun(exitOK, "import", "--file="+targets)
	imports := e.Sim.Count("snyk.imports")
	resume := e.File(importfiles.ImportedTargetsLog)
	before, err := os.ReadFile(resume)
	if err != nil {
		t.Fatal(err)
	}
	lock := e.File(dirlock.FileName)
	os.Remove(lock)
	if err := os.Link(resume, lock); err != nil {
		t.Skip(err)
	}
	r := e.Run("import", "--file="+targets)
	if r.Code == exitOK {
		t.Errorf("exit 0 with the lock file another file's second name")
	}
	wantContains(t, finalLine(t, r.Stderr), ".bbimport.lock has 2 names (hard links)", "fix: remove it if it is a lock file")
	if after, _ := os.ReadFile(resume); string(after) != string(before) {
		t.Errorf("the resume log changed: %d bytes, was %d", len(after), len(before))
	}
	os.Remove(lock)
	e.MustRun(exitOK, "import", "--file="+targets)
	if n := e.Sim.Count("snyk.imports"); n != imports {
		t.Errorf("%d imports sent again", n-imports)
	}
}

// An import job's poll answered 302 to another origin kept 15 workers
// polling until --pollTimeout (885 polls in 120 s, 0 of 155 done): an
// unusable poll is now a failed target at once, like an unusable Location.
func TestHostilePollRedirect(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()},
		Snyk:      sim.SnykConfig{PollRedirect: "https://elsewhere.bbimport-test.invalid/v1/jobs/1"},
	})
	targets := e.Pipeline()
	n := len(expectedTargets(t, e))
	start := time.Now()
	r := e.MustRun(exitPartial, "import", "--file="+targets, "--pollTimeout=2h")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s", d)
	}
	if polls := e.Sim.Count("snyk.polls"); polls != int64(n) {
		t.Errorf("%d polls for %d targets, want one each", polls, n)
	}
	wantContains(t, finalLine(t, r.Stderr), "poll: HTTP 302")
	logs, _ := filepath.Glob(e.File("*" + importfiles.FailedPollsLogSuffix))
	var failed strings.Builder
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		failed.Write(b)
	}
	wantContains(t, failed.String(), "a redirect to https://elsewhere.bbimport-test.invalid that bbimport does not follow")
	if got := countLines(t, e.File(importfiles.ImportedTargetsLog), importfiles.MsgTargetFailed); got != n {
		t.Errorf("%d targets logged failed, want %d", got, n)
	}
}

// A targets file with two "targets" keys imported the last for bbimport
// while jq showed the first: now it is an error naming the key, and nothing
// is sent.
func TestHostileTargetsFileWithTwoKeys(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	targets := e.Pipeline()
	data, err := os.ReadFile(targets)
	if err != nil {
		t.Fatal(err)
	}
	twice := strings.Replace(string(data), "{\n  \"targets\": [", "{\n  \"targets\": [],\n  \"targets\": [", 1)
	if err := os.WriteFile(targets, []byte(twice), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.Run("import", "--file="+targets)
	if r.Code == exitOK {
		t.Fatal("exit 0")
	}
	wantContains(t, finalLine(t, r.Stderr), `duplicate key "targets"`, "keep one")
	if n := e.Sim.Count("snyk.imports"); n != 0 {
		t.Errorf("%d imports sent", n)
	}
}
