package main

import (
	"bytes"
	"fmt"
	"os/exec"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// startBinary starts the real binary on e's environment.
func startBinary(t *testing.T, bin string, e *simEnv, extraEnv []string, args ...string) (*exec.Cmd, chan error, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = binaryEnv(e, extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, done, &out
}

// Two imports on one log directory sent 310 imports for 155 targets. The
// second run is now refused at once (exit 2, naming the first), a dry run
// still works beside it, and a first run killed with SIGKILL leaves no lock
// behind: the next run takes the directory and imports each target once.
func TestSecondImportOnALogDirectoryIsRefused(t *testing.T) {
	t.Parallel()
	if goruntime.GOOS == "windows" {
		t.Skip("SIGKILL: POSIX only")
	}
	bin := buildBinary(t, t.TempDir())
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{{Slug: "north", Name: "North", Repos: 20}}},
		Snyk:      sim.SnykConfig{PendingPolls: 2},
	})
	targets := e.Pipeline()
	want := expectedTargets(t, e)

	first, done, out := startBinary(t, bin, e, []string{"CONCURRENT_IMPORTS=2"}, "import", "--file="+targets, "--pollInterval=250ms")
	waitCounter(t, e.Sim, "snyk.imports", 2, 15*time.Second)

	second := e.Run("import", "--file="+targets)
	if second.Code != exitUsage {
		t.Fatalf("second import: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", second.Code, exitUsage, second.Stdout, second.Stderr)
	}
	for _, w := range []string{fmt.Sprintf("another bbimport import (pid %d", first.Process.Pid), "started ", e.LogPath, "--wait"} {
		if !strings.Contains(second.Stderr, w) {
			t.Errorf("refusal does not name %q:\n%s", w, second.Stderr)
		}
	}
	if r := e.Run("list:imported", "--orgId=x"); r.Code != exitUsage || !strings.Contains(r.Stderr, "another bbimport import") {
		t.Errorf("list:imported beside a running import: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := e.Run("import", "--file="+targets, "--dryRun"); r.Code != exitOK {
		t.Errorf("dry run beside a running import: exit %d (a dry run takes no lock)\n%s", r.Code, r.Stderr)
	}

	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	killedAt := e.Sim.Count("snyk.imports")
	if killedAt >= int64(len(want)) {
		t.Fatalf("the first run finished before the kill (%d imports):\n%s", killedAt, out)
	}
	e.MustRun(exitOK, "import", "--file="+targets)
	assertImportedOnce(t, e, want)
	if d := e.Sim.Count("snyk.duplicate_imports"); d != 0 {
		t.Errorf("%d duplicate imports; want 0", d)
	}
	t.Logf("killed after %d imports; %d in all for %d targets", killedAt, e.Sim.Count("snyk.imports"), len(want))
}

// Two orgs:create runs created 9 orgs for 5 rows, and the file kept 5. The
// second is refused; with --wait it runs after the first and creates
// nothing (it reuses the orgs by name).
func TestSecondOrgsCreateOnALogDirectoryIsRefused(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, t.TempDir())
	var ws []sim.WorkspaceSpec
	for i := range 5 {
		ws = append(ws, sim.WorkspaceSpec{Slug: fmt.Sprintf("ws-%d", i), Name: fmt.Sprintf("WS %d", i), Repos: 1})
	}
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: ws},
		Snyk:      sim.SnykConfig{Faults: sim.Faults{Latency: 150 * time.Millisecond}},
	})
	group := sim.SimSnykGroupID
	e.MustRun(exitOK, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	file := e.File("group-" + group + "-bitbucket-cloud-app-orgs.json")

	_, done, out := startBinary(t, bin, e, nil, "orgs:create", "--file="+file)
	waitCounter(t, e.Sim, "snyk.orgs_created", 1, 15*time.Second)
	r := e.Run("orgs:create", "--file="+file)
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "another bbimport orgs:create (pid ") {
		t.Errorf("second orgs:create: exit %d, want %d naming the first\n%s", r.Code, exitUsage, r.Stderr)
	}
	waiting := e.Run("orgs:create", "--file="+file, "--wait")
	if waiting.Code != exitOK {
		t.Errorf("orgs:create --wait: exit %d\n%s", waiting.Code, waiting.Stderr)
	}
	if err := <-done; err != nil {
		t.Fatalf("first orgs:create: %v\n%s", err, out)
	}
	if n := e.Sim.Count("snyk.orgs_created"); n != 5 {
		t.Errorf("%d orgs created for 5 rows; want 5", n)
	}
	orgs, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil || len(orgs) != 5 {
		t.Errorf("created-orgs file: %d orgs, %v; want 5", len(orgs), err)
	}
	if !strings.Contains(waiting.Stderr, "waiting: another bbimport orgs:create") {
		t.Errorf("--wait did not say whom it waits for:\n%s", waiting.Stderr)
	}
}

// The fault pass's `ulimit -f 40`: 155 sent, 33 recorded, 122 imported again
// by the next run. The real binary under a file-size limit now records every
// import it sends, stops starting imports at the first failed write (naming
// the directory and the cause), and the re-run imports each of the others
// once.
func TestImportUnderAFileSizeLimit(t *testing.T) {
	t.Parallel()
	if goruntime.GOOS == "windows" {
		t.Skip("ulimit: POSIX only")
	}
	bin := buildBinary(t, t.TempDir())
	var ws []sim.WorkspaceSpec
	for i := range 4 {
		ws = append(ws, sim.WorkspaceSpec{Slug: fmt.Sprintf("team-%d", i), Name: fmt.Sprintf("Team %d", i), Repos: 40})
	}
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: ws}})
	targets := e.Pipeline()
	want := expectedTargets(t, e)

	// 40 blocks of 512 bytes (sh counts in 512-byte blocks): ~60 lines.
	cmd := exec.Command("sh", "-c", `ulimit -f 40 && exec "$0" "$@"`, bin, "import", "--file="+targets, "--pollInterval=1ms")
	cmd.Env = binaryEnv(e, "CONCURRENT_IMPORTS=8")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("import under ulimit -f 40 succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "stopped starting imports after the resume log in "+e.LogPath+" could not be written") ||
		!strings.Contains(string(out), "file too large") {
		t.Errorf("output does not name the directory and the cause:\n%s", out)
	}
	sent := e.Sim.Count("snyk.imports")
	if n := countLines(t, e.File(importfiles.ImportedTargetsLog), importfiles.MsgTargetRequested); int64(n) != sent || sent == 0 || sent >= int64(len(want)) {
		t.Errorf("%d imports sent, %d recorded, of %d targets; want all sent recorded, and a stop midway", sent, n, len(want))
	}
	e.MustRun(exitOK, "import", "--file="+targets)
	assertImportedOnce(t, e, want)
	t.Logf("stopped after %d of %d imports; the re-run sent %d", sent, len(want), e.Sim.Count("snyk.imports")-sent)
}
