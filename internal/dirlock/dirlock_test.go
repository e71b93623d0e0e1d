package dirlock

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/safefile"
)

func TestSecondAcquireIsRefusedNamingTheHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := Acquire(t.Context(), dir, "import", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(t.Context(), dir, "orgs:create", false)
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Acquire: %v; want a *HeldError", err)
	}
	host, _ := os.Hostname()
	if held.PID != os.Getpid() || held.Host != host || held.Command != "import" || time.Since(held.Started) > time.Minute {
		t.Errorf("holder %+v; want this process, this host, import, just now", held)
	}
	for _, want := range []string{"another bbimport import (pid ", "on " + host, "started ", dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not name %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	again, err := Acquire(t.Context(), dir, "import", false)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	again.Release()
}

func TestAcquireWaits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := Acquire(t.Context(), dir, "import", false)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		first.Release()
	}()
	start := time.Now()
	second, err := Acquire(t.Context(), dir, "import", true)
	if err != nil {
		t.Fatalf("waiting Acquire: %v", err)
	}
	defer second.Release()
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("got the lock after %v, before the holder released it", d)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, dir, "import", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting Acquire with a deadline: %v; want DeadlineExceeded", err)
	}
}

func TestAcquireRefusesASymlinkedLockFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Symlink(t.TempDir()+"/elsewhere", dir+"/"+FileName); err != nil {
		t.Skip(err)
	}
	if _, err := Acquire(t.Context(), dir, "import", false); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Acquire: %v; want a refusal naming the link", err)
	}
}

// A lock file that is another file of the directory under a second name
// (.bbimport.lock hard-linked to imported-targets.log) is refused, and the
// other file keeps every byte: taking and releasing the lock truncated the
// resume log before, and every later run imported everything again.
func TestAcquireRefusesAHardLinkedLockFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "imported-targets.log")
	const lines = `{"msg":"Target requested for import"}` + "\n"
	if err := os.WriteFile(log, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(log, filepath.Join(dir, FileName)); err != nil {
		t.Skip(err)
	}
	_, err := Acquire(t.Context(), dir, "import", false)
	var refused *safefile.Error
	if !errors.As(err, &refused) || refused.Kind != safefile.HardLinked {
		t.Fatalf("Acquire: %v; want the hard link refused", err)
	}
	if b, _ := os.ReadFile(log); string(b) != lines {
		t.Errorf("the resume log was changed: %q", b)
	}
}

// The lock writes its record in place and blanks it on release: it never
// truncates, so nothing of a longer file before it is cut.
func TestLockNeverTruncates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	old := strings.Repeat("x", 2000) + "\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(t.Context(), dir, "import", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(t.Context(), dir, "sync", false)
	var held *HeldError
	if !errors.As(err, &held) || held.Command != "import" {
		t.Errorf("second Acquire: %v; want the holder's record read past the padding", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if len(b) != len(old) || strings.TrimSpace(string(b[:holderSize])) != "" || string(b[holderSize:]) != old[holderSize:] {
		t.Errorf("after release the file is %d bytes %q…; want %d, the record blanked in place", len(b), b[:min(len(b), 40)], len(old))
	}
}

// A holder killed with SIGKILL cannot release anything itself: the system
// does, and the next run gets the lock at once.
func TestKilledHolderLeavesNoStuckLock(t *testing.T) {
	if os.Getenv("DIRLOCK_HOLD") != "" {
		if _, err := Acquire(context.Background(), os.Getenv("DIRLOCK_HOLD"), "import", false); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderLeavesNoStuckLock$")
	cmd.Env = append(os.Environ(), "DIRLOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		t.Fatalf("helper: %q", line)
	}
	_, err = Acquire(t.Context(), dir, "import", false)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Errorf("while the helper runs: %v; want a HeldError naming pid %d", err, cmd.Process.Pid)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on unix
		t.Fatal(err)
	}
	cmd.Wait()
	l, err := Acquire(t.Context(), dir, "import", false)
	if err != nil {
		t.Fatalf("after SIGKILL: %v; want the lock", err)
	}
	l.Release()
}
