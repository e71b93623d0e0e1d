package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress renders a stage's counters: a live bar on a TTY, or one info log
// line every interval otherwise (CI logs stay readable and small). It
// implements importer.Progress. Everything goes to stderr; stdout carries
// only the results.
type progress struct {
	mu       sync.Mutex
	term     *terminal
	tty      bool // a live bar; else a log line every interval
	log      zerolog.Logger
	interval time.Duration
	now      func() time.Time

	stage    string
	total    int
	counters map[string]int
	order    []string
	started  time.Time
	bar      *progressbar.ProgressBar
	stop     chan struct{}
	stopped  chan struct{}
}

func newProgress(t *terminal, tty bool, log zerolog.Logger, interval time.Duration) *progress {
	return &progress{term: t, tty: tty && t != nil, log: log, interval: interval, now: time.Now}
}

// stageUnit is what a stage's total counts, and mainCounters are the
// counters that move toward it (the importer reports "failed" next to "orgs"
// for a failed org, so only "orgs" counts there).
func stageUnit(stage string) (unit string, main []string) {
	switch stage {
	case "import":
		return "targets", []string{"completed", "failed", "skipped"}
	case "orgs:data":
		return "workspaces", []string{"workspaces"}
	default: // orgs:create, import:data, list:imported
		return "orgs", []string{"orgs"}
	}
}

func (p *progress) isMain(counter string) bool {
	_, main := stageUnit(p.stage)
	for _, m := range main {
		if m == counter {
			return true
		}
	}
	return false
}

// Start implements importer.Progress.
func (p *progress) Start(stage string, total int) {
	p.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage, p.total = stage, total
	p.counters, p.order = map[string]int{}, nil
	p.started = p.now()
	if p.tty {
		unit, _ := stageUnit(stage)
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.term.barWriter()),
			progressbar.OptionSetDescription(stage),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetRenderBlankState(true),
		)
		return
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go p.tick(p.stop, p.stopped)
}

// Add implements importer.Progress.
func (p *progress) Add(counter string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counters == nil {
		return
	}
	if _, ok := p.counters[counter]; !ok {
		p.order = append(p.order, counter)
	}
	p.counters[counter] += n
	if p.bar != nil {
		p.bar.Describe(p.describeLocked())
		if p.isMain(counter) {
			_ = p.bar.Add(n)
		}
	}
}

// Done implements importer.Progress. It removes the bar (the summary that
// follows on stdout says it all) or stops the periodic lines.
func (p *progress) Done() {
	p.mu.Lock()
	stop, stopped := p.stop, p.stopped
	p.stop, p.stopped = nil, nil
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Exit()
		p.bar = nil
		p.term.clearBar()
	}
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
}

func (p *progress) tick(stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			line, elapsed := p.lineLocked(), p.now().Sub(p.started)
			stage, total := p.stage, p.total
			fields := make(map[string]any, len(p.counters))
			for k, v := range p.counters {
				fields[strings.ReplaceAll(k, " ", "_")] = v
			}
			p.mu.Unlock()
			ev := p.log.Info().Str("stage", stage).Str("elapsed", humanDuration(elapsed)).Fields(fields)
			if total >= 0 {
				ev = ev.Int("total", total)
			}
			ev.Msg(line)
		}
	}
}

// doneLocked is how many units of the stage's total are finished, and how
// many of those were real work (not skipped), for the rate.
func (p *progress) doneLocked() (done, worked int) {
	_, main := stageUnit(p.stage)
	for _, m := range main {
		done += p.counters[m]
		if m != "skipped" {
			worked += p.counters[m]
		}
	}
	return done, worked
}

// othersLocked renders the counters in the order they first moved,
// "completed 78, failed 12, kicked off 105".
func (p *progress) othersLocked() string {
	_, main := stageUnit(p.stage)
	parts := make([]string, 0, len(p.order))
	for _, name := range p.order {
		if len(main) == 1 && name == main[0] {
			continue // already the headline count
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, p.counters[name]))
	}
	return strings.Join(parts, ", ")
}

// lineLocked is one CI progress line:
//
//	import: 90/155 targets (58%); completed 78, failed 12, kicked off 105; 25.6/s, about 2s left
func (p *progress) lineLocked() string {
	unit, _ := stageUnit(p.stage)
	done, worked := p.doneLocked()
	var b strings.Builder
	b.WriteString(p.stage + ": ")
	if p.total >= 0 {
		pct := 100
		if p.total > 0 {
			pct = done * 100 / p.total
		}
		fmt.Fprintf(&b, "%d/%d %s (%d%%)", done, p.total, unit, pct)
	} else {
		fmt.Fprintf(&b, "%d %s so far", done, unit)
	}
	if others := p.othersLocked(); others != "" {
		b.WriteString("; " + others)
	}
	if elapsed := p.now().Sub(p.started).Seconds(); elapsed >= 1 && worked > 0 {
		rate := float64(worked) / elapsed
		fmt.Fprintf(&b, "; %.1f/s", rate)
		if p.total > 0 && done < p.total {
			eta := time.Duration(float64(p.total-done) / rate * float64(time.Second))
			b.WriteString(", about " + humanDuration(eta) + " left")
		}
	}
	return b.String()
}

// describeLocked is the bar's description: the stage and its counters, cut
// to fit the terminal so the bar never wraps (a wrapped line cannot be
// redrawn in place).
func (p *progress) describeLocked() string {
	d := p.stage
	if others := p.othersLocked(); others != "" {
		d += " · " + others
	}
	max := p.term.width() - 60 // bar, count, rate and times take about 60 columns
	if max < 12 {
		max = 12
	}
	if r := []rune(d); len(r) > max {
		d = string(r[:max-1]) + "…"
	}
	return d
}

// terminal serialises stderr: log lines come from many goroutines. On a
// TTY the progress bar redraws one line in place with \r; a log line
// written meanwhile would land in the middle of it. So every log line first
// clears the bar's line, is written whole, and the bar is drawn again below
// it.
type terminal struct {
	mu  sync.Mutex
	w   io.Writer
	bar string // what the bar last drew on its line; "" when none
	// cols overrides the detected width (tests).
	cols int
}

// Write writes one log line (zerolog writes one event per call).
func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != "" {
		_, _ = io.WriteString(t.w, "\r\033[2K")
	}
	n, err := t.w.Write(p)
	if t.bar != "" {
		_, _ = io.WriteString(t.w, "\r"+t.bar)
	}
	return n, err
}

// barWriter is the writer the progress bar draws with.
func (t *terminal) barWriter() io.Writer { return barWriter{t} }

type barWriter struct{ t *terminal }

func (b barWriter) Write(p []byte) (int, error) {
	t := b.t
	t.mu.Lock()
	defer t.mu.Unlock()
	// The visible line is what follows the last carriage return.
	s := t.bar + string(p)
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		s = s[i+1:]
	}
	t.bar = strings.TrimRight(s, " ")
	return t.w.Write(p)
}

// clearBar erases the bar's line for good.
func (t *terminal) clearBar() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != "" {
		_, _ = io.WriteString(t.w, "\r\033[2K")
	}
	t.bar = ""
}

// width is the terminal's width in columns (80 when unknown).
func (t *terminal) width() int {
	if t != nil && t.cols > 0 {
		return t.cols
	}
	if t != nil {
		if f, ok := t.w.(*os.File); ok {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				return w
			}
		}
	}
	return 80
}
