package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/creack/pty"
)

// openPTY returns a pseudo-terminal whose terminal side is stderr for the
// code under test, and a function that closes it and returns everything
// that was written to it.
func openPTY(t *testing.T) (tty *os.File, output func() string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 160}); err != nil {
		t.Fatal(err)
	}
	var (
		buf  bytes.Buffer
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		_, _ = io.Copy(&buf, ptmx) // ends with EIO once tty is closed
	}()
	var once sync.Once
	output = func() string {
		once.Do(func() {
			_ = tty.Close()
			<-done
			_ = ptmx.Close()
		})
		return buf.String()
	}
	t.Cleanup(func() { output() })
	return tty, output
}

// runOnTTY runs the app like main does, with stderr on a pseudo-terminal and
// stdout in a buffer (as in `bbimport … > results.txt` in a terminal).
func (e *simEnv) runOnTTY(t *testing.T, args ...string) (r result, terminal string) {
	t.Helper()
	tty, output := openPTY(t)
	var stdout bytes.Buffer
	rt := newInvocation(&stdout, tty, e.getenv) // detects the TTY itself, as in main
	if !rt.StderrTTY {
		t.Fatal("newInvocation did not detect the pseudo-terminal")
	}
	rt.Tuning = e.Tuning
	rt.ProgressInterval = 20 * time.Millisecond
	r.Code = rt.run(t.Context(), append([]string{"bbimport"}, args...))
	r.Stdout = stdout.String()
	return r, output()
}

// slowImportEnv has a pipeline ready and import jobs slow enough (a few
// hundred ms in all) for progress to show.
func slowImportEnv(t *testing.T) (*simEnv, string) {
	t.Helper()
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{PendingPolls: 3, Faults: sim.Faults{Latency: 3 * time.Millisecond}}})
	e.Set("SNYK_RATE_LIMIT", "100000")
	return e, e.Pipeline()
}

var (
	// a log line in console format at the start of a line or right after
	// the bar's line was cleared: never glued to the bar.
	cleanLogLine = regexp.MustCompile(`(^|\n|\r\x1b\[2K|\r +\r)(\x1b\[\d+m)?\d\d:\d\d:\d\d(\x1b\[0m)? (\x1b\[[\d;]+m)?(INF|WRN|ERR|DBG)`)
	anyLogLine   = regexp.MustCompile(`\d\d:\d\d:\d\d(\x1b\[0m)? (\x1b\[[\d;]+m)?(INF|WRN|ERR|DBG)`)
)

// visibleLastLine is what a terminal shows on its last line after term:
// the text after the last line feed and carriage return, with a clear-line
// sequence emptying it.
func visibleLastLine(term string) string {
	if i := strings.LastIndex(term, "\n"); i >= 0 {
		term = term[i+1:]
	}
	if i := strings.LastIndex(term, "\r"); i >= 0 {
		term = term[i+1:]
	}
	if i := strings.LastIndex(term, "\x1b[2K"); i >= 0 {
		term = term[i+len("\x1b[2K"):]
	}
	return strings.TrimSpace(term)
}

// assertResultsOnly fails when stdout holds anything but result messages.
func assertResultsOnly(t *testing.T, stdout string) {
	t.Helper()
	for _, bad := range []string{"\r", "\x1b", `"level"`, " INF ", " DBG ", "targets/s", "orgs/s", "█"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("stdout holds %q; it must carry only results:\n%q", bad, stdout)
		}
	}
}

func TestTTY_liveBarOnStderr(t *testing.T) {
	t.Parallel()
	e, targets := slowImportEnv(t)
	r, term := e.runOnTTY(t, "import", "--file="+targets, "--concurrency=10")
	if r.Code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, term)
	}
	// The bar: stage, counters, count of total, rate, redrawn in place.
	if !regexp.MustCompile(`\rimport · [^\r\n]*completed \d+[^\r\n]* \d+% \|[^\r\n]*\| \(\d+/155, \d+ targets/(s|min|hr)\) \[`).MatchString(term) {
		t.Errorf("no live bar with counters, count of total and rate:\n%q", lastLines(term, 5))
	}
	if n := strings.Count(term, "\r"); n < 3 {
		t.Errorf("the bar was drawn %d times; want it redrawn in place", n)
	}
	// No periodic CI lines on a TTY: the bar says it.
	if strings.Contains(term, "import: ") && strings.Contains(term, "targets (") {
		t.Errorf("CI progress lines on a TTY:\n%q", term)
	}
	// The bar is gone at the end: the summary follows on stdout.
	if v := visibleLastLine(term); v != "" {
		t.Errorf("the bar was left on the terminal: %q", v)
	}
	wantContains(t, r.Stdout, "Imported ", "Processed 155 out of a total of 155 targets")
	assertResultsOnly(t, r.Stdout)
}

// On a TTY the log is human-readable, and a log line written while the bar
// is shown clears the bar's line first instead of being glued to it.
func TestTTY_humanLogsBesideTheBar(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Faults: sim.Faults{Latency: 2 * time.Millisecond, RateLimitEvery: 3}}})
	orgs := createdOrgs(t, e)
	r, term := e.runOnTTY(t, "import:data", "--orgsData="+orgs, "--logLevel=debug")
	if r.Code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, term)
	}
	if strings.Contains(term, `{"level"`) {
		t.Errorf("JSON log lines on a TTY:\n%q", lastLines(term, 3))
	}
	all, clean := len(anyLogLine.FindAllString(term, -1)), len(cleanLogLine.FindAllString(term, -1))
	if all < 10 {
		t.Fatalf("only %d log lines on the terminal:\n%q", all, term)
	}
	if clean != all {
		for _, m := range anyLogLine.FindAllStringIndex(term, -1) {
			lo := max(0, m[0]-80)
			if !cleanLogLine.MatchString(term[lo:m[1]]) {
				t.Logf("glued: %q", term[lo:m[1]])
			}
		}
		t.Errorf("%d of %d log lines are glued to the progress bar", all-clean, all)
	}
	if !strings.Contains(term, "INF") || !strings.Contains(term, "Bitbucket rate limit reached") {
		t.Errorf("no human-readable info line:\n%q", term)
	}
	if !regexp.MustCompile(`\rimport:data[^\r\n]*\d+% \|[^\r\n]*\(\d+/5, `).MatchString(term) {
		t.Errorf("no progress bar:\n%q", term)
	}
	wantContains(t, r.Stdout, "Found 155 targets", "Next: bbimport import --file=")
	assertResultsOnly(t, r.Stdout)
}

// --logFormat=json forces JSON lines on a TTY (for a terminal that tees to
// a log collector); the bar stays.
func TestTTY_logFormatJSONOnTTY(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	r, term := e.runOnTTY(t, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--logFormat=json", "--logLevel=debug")
	if r.Code != exitOK {
		t.Fatalf("exit %d\n%s", r.Code, term)
	}
	if !strings.Contains(term, `{"level":"debug"`) || anyLogLine.MatchString(term) {
		t.Errorf("want JSON lines on the TTY:\n%q", term)
	}
	assertResultsOnly(t, r.Stdout)
}

// Without a TTY (CI): no bar, no carriage returns, one info line per
// interval with the counts; stdout the same results.
func TestTTY_noTTYPeriodicLines(t *testing.T) {
	t.Parallel()
	e, targets := slowImportEnv(t)
	r := e.MustRun(0, "import", "--file="+targets, "--concurrency=10")
	if strings.Contains(r.Stderr, "\r") || strings.Contains(r.Stderr, "targets/s") {
		t.Errorf("a progress bar in a non-TTY log:\n%q", lastLines(r.Stderr, 3))
	}
	var ticks int
	for _, l := range debugLines(t, r.Stderr) {
		if l["stage"] == "import" && l["level"] == "info" {
			ticks++
			msg := l["message"].(string)
			if !regexp.MustCompile(`^import: \d+/155 targets \(\d+%\)`).MatchString(msg) {
				t.Errorf("progress line %q", msg)
			}
			if l["total"] != 155.0 {
				t.Errorf("progress line without total: %v", l)
			}
		}
	}
	if ticks == 0 {
		t.Errorf("no periodic progress line:\n%s", r.Stderr)
	}
	wantContains(t, r.Stdout, "Processed 155 out of a total of 155 targets")
	assertResultsOnly(t, r.Stdout)
}

// The built binary under a real pseudo-terminal, stdout redirected to a
// file: TTY detection is main's own (term.IsTerminal on os.Stderr), the file
// gets only results, the terminal gets human logs. The same command with
// stderr on a pipe logs JSON.
func TestTTY_binaryStdoutRedirected(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bbimport")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Faults: sim.Faults{RateLimitEvery: 4}}})
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TERM=xterm"}
	e.mu.Lock()
	for k, v := range e.Env {
		env = append(env, k+"="+v)
	}
	e.mu.Unlock()

	run := func(stderr io.Writer) (stdout string) {
		t.Helper()
		resultsPath := filepath.Join(t.TempDir(), "results.txt")
		f, err := os.Create(resultsPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, bin, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--skipEmptyOrgs")
		cmd.Env, cmd.Stdout, cmd.Stderr = env, f, stderr
		err = cmd.Run()
		_ = f.Close()
		if err != nil {
			var ee *exec.ExitError
			errors.As(err, &ee)
			t.Fatalf("bbimport: %v", err)
		}
		data, _ := os.ReadFile(resultsPath)
		return string(data)
	}

	tty, output := openPTY(t)
	results := run(tty)
	term := output()
	wantContains(t, results, " workspaces. Written the data to file: ", "Next: bbimport orgs:create --file=")
	assertResultsOnly(t, results)
	if strings.Count(results, "\n") != 2 {
		t.Errorf("results file has more than the two result lines:\n%s", results)
	}
	if !strings.Contains(term, "INF") || !strings.Contains(term, "Bitbucket rate limit reached") || strings.Contains(term, `{"level"`) {
		t.Errorf("terminal: want human-readable logs:\n%q", term)
	}

	var pipe bytes.Buffer
	results = run(&pipe)
	assertResultsOnly(t, results)
	if !strings.Contains(pipe.String(), `{"level":"info"`) || strings.Contains(pipe.String(), "\r") {
		t.Errorf("pipe: want JSON lines:\n%q", pipe.String())
	}
}
