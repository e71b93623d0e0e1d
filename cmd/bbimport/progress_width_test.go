package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/creack/pty"
	"github.com/rs/zerolog"
)

var ansiCSI = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// barFrames returns each bar drawing written to a terminal, escape codes
// removed: the text between a carriage return and the next \r or \n that
// starts with the stage name.
func barFrames(term, stage string) []string {
	var frames []string
	for _, seg := range strings.FieldsFunc(term, func(r rune) bool { return r == '\r' || r == '\n' }) {
		seg = ansiCSI.ReplaceAllString(seg, "")
		if strings.HasPrefix(seg, stage+" ") && strings.Contains(seg, "(") {
			frames = append(frames, seg)
		}
	}
	return frames
}

// The live bar never wraps at 80 columns (a wrapped line cannot be redrawn
// in place: the terminal scrolls on every redraw), shows no estimate before
// there is a rate, and keeps one unit.
func TestTTY_barFits80Columns(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{PendingPolls: 3, FailJobEvery: 9, FailProjectEvery: 4,
		Faults: sim.Faults{Latency: 3 * time.Millisecond}}})
	e.Set("SNYK_RATE_LIMIT", "100000")
	targets := e.Pipeline()

	tty, output := openPTY(t)
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	rt := newInvocation(&stdout, tty, e.getenv)
	rt.Tuning = e.Tuning
	if got := rt.setupOutput().term.width(); got != 80 {
		t.Fatalf("terminal width %d, want 80", got)
	}
	code := rt.run(t.Context(), []string{"bbimport", "import", "--file=" + targets, "--concurrency=10"})
	term := output()
	if code != exitPartial {
		t.Fatalf("exit %d\n%s", code, lastLines(term, 5))
	}
	frames := barFrames(term, "import")
	if len(frames) < 3 {
		t.Fatalf("%d bar frames:\n%q", len(frames), lastLines(term, 5))
	}
	t.Logf("frames at 80 columns, first and last:\n%s\n%s", frames[0], frames[len(frames)-1])
	units := map[string]bool{}
	for _, f := range frames {
		if n := utf8.RuneCountInString(f); n >= 80 {
			t.Errorf("a %d-column bar on an 80-column terminal: %q", n, f)
		}
		if strings.Contains(f, "0s:0s") || (strings.Contains(f, "left]") && !strings.Contains(f, "targets/")) {
			t.Errorf("an estimate without a rate: %q", f)
		}
		for _, m := range regexp.MustCompile(`targets/(\w+)`).FindAllStringSubmatch(f, -1) {
			units[m[1]] = true
		}
	}
	if len(units) != 1 || !units["s"] {
		t.Errorf("rate units %v, want only targets/s", units)
	}
	if !strings.Contains(strings.Join(frames, "\n"), "failed") {
		t.Errorf("no frame shows the failed counter:\n%s", strings.Join(frames, "\n"))
	}
}

// Every width from very narrow to wide gets a line that fits, and the
// times give way before the count does.
func TestProgress_barLineFits(t *testing.T) {
	t.Parallel()
	clock := apitest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newProgress(&terminal{w: &bytes.Buffer{}, cols: 80}, false, zerolog.Nop(), time.Hour)
	p.now = clock.Now
	p.Start("import", 155_000)
	defer p.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	if got := p.barLineLocked(80); !strings.HasSuffix(got, "(0/155000) [0s]") || strings.Contains(got, "left") {
		t.Errorf("before anything is done: %q", got)
	}
	for _, c := range []importer.Counter{"kicked off", "completed", "failed", "skipped", "projects imported", "projects failed"} {
		p.counters[c] = 12345
		p.order = append(p.order, c)
	}
	clock.Advance(90 * time.Second)
	for _, w := range []int{20, 40, 60, 80, 100, 200} {
		got := p.barLineLocked(w)
		if n := utf8.RuneCountInString(got); n >= max(w, 21) {
			t.Errorf("width %d: %d columns: %q", w, n, got)
		}
		if !strings.Contains(got, "37035/155000") && w >= 40 {
			t.Errorf("width %d: the count is gone: %q", w, got)
		}
		if w >= 100 && !strings.Contains(got, "targets/s) [1m30s, ~") {
			t.Errorf("width %d: no rate and estimate: %q", w, got)
		}
	}
}
