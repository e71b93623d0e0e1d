package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/rs/zerolog"
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

	stage    importer.Stage
	total    int
	counters map[importer.Counter]int
	order    []importer.Counter
	started  time.Time
	live     bool      // the bar is on the terminal
	drawn    time.Time // when the bar was last drawn
	spin     int
	stop     chan struct{}
	stopped  chan struct{}
}

func newProgress(t *terminal, tty bool, log zerolog.Logger, interval time.Duration) *progress {
	return &progress{term: t, tty: tty && t != nil, log: log, interval: interval, now: time.Now}
}

// stageUnit is what a stage's total counts, and mainCounters are the
// counters that move toward it (the importer reports "failed" next to "orgs"
// for a failed org, so only "orgs" counts there).
func stageUnit(stage importer.Stage) (unit importer.Counter, main []importer.Counter) {
	switch stage {
	case importer.StageImport:
		return importer.CounterTargets, []importer.Counter{importer.CounterCompleted, importer.CounterFailed, importer.CounterSkipped}
	case importer.StageOrgsData:
		return importer.CounterWorkspaces, []importer.Counter{importer.CounterWorkspaces}
	default: // orgs:create, import:data, list:imported, sync
		return importer.CounterOrgs, []importer.Counter{importer.CounterOrgs}
	}
}

func (p *progress) isMain(counter importer.Counter) bool {
	_, main := stageUnit(p.stage)
	return slices.Contains(main, counter)
}

// Start implements importer.Progress.
func (p *progress) Start(stage importer.Stage, total int) {
	p.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage, p.total = stage, total
	p.counters, p.order = map[importer.Counter]int{}, nil
	p.started = p.now()
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	if p.tty {
		p.live = true
		p.drawLocked()
		// Redrawn a few times a second even when nothing moves, so the
		// elapsed time and the spinner show the run is alive.
		go p.tick(barRedraw, p.redraw, p.stop, p.stopped)
		return
	}
	go p.tick(p.interval, p.logLine, p.stop, p.stopped)
}

// barRedraw is how often the bar is redrawn: often enough to look live,
// rarely enough to cost nothing over a slow SSH session.
const barRedraw = 100 * time.Millisecond

// Add implements importer.Progress.
func (p *progress) Add(counter importer.Counter, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counters == nil {
		return
	}
	if _, ok := p.counters[counter]; !ok {
		p.order = append(p.order, counter)
	}
	p.counters[counter] += n
	if !p.live {
		return
	}
	// The first unit done is drawn at once (it brings the first rate);
	// after that at most one redraw per barRedraw.
	if done, _ := p.doneLocked(); (done == n && p.isMain(counter)) || p.now().Sub(p.drawn) >= barRedraw {
		p.drawLocked()
	}
}

// Done implements importer.Progress. It removes the bar (the summary that
// follows on stdout says it all) or stops the periodic lines.
func (p *progress) Done() {
	p.mu.Lock()
	stop, stopped := p.stop, p.stopped
	p.stop, p.stopped = nil, nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
	p.mu.Lock()
	if p.live {
		p.live = false
		p.term.clearBar()
	}
	p.mu.Unlock()
}

func (p *progress) tick(every time.Duration, f func(), stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f()
		}
	}
}

func (p *progress) redraw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		p.spin++
		p.drawLocked()
	}
}

// logLine is one CI progress line, with the counters as fields.
func (p *progress) logLine() {
	p.mu.Lock()
	line, elapsed := p.lineLocked(), p.now().Sub(p.started)
	stage, total := p.stage, p.total
	fields := make(map[string]any, len(p.counters))
	for k, v := range p.counters {
		fields[strings.ReplaceAll(string(k), " ", "_")] = v
	}
	p.mu.Unlock()
	ev := p.log.Info().Str("stage", string(stage)).Str("elapsed", humanDuration(elapsed)).Fields(fields)
	if total >= 0 {
		ev = ev.Int("total", total)
	}
	ev.Msg(line)
}

// doneLocked is how many units of the stage's total are finished, and how
// many of those were real work (not skipped), for the rate.
func (p *progress) doneLocked() (done, worked int) {
	_, main := stageUnit(p.stage)
	for _, m := range main {
		done += p.counters[m]
		if m != importer.CounterSkipped {
			worked += p.counters[m]
		}
	}
	return done, worked
}

// fractionLocked is how far the bar is, 0..1 (0 for an unknown total).
func (p *progress) fractionLocked() float64 {
	if p.total <= 0 {
		return 0
	}
	done, _ := p.doneLocked()
	return min(float64(done)/float64(p.total), 1)
}

// othersLocked renders the counters in the order they first moved,
// "completed 78, failed 12, kicked off 105".
func (p *progress) othersLocked() string {
	return p.countersText(p.order)
}

func (p *progress) countersText(order []importer.Counter) string {
	_, main := stageUnit(p.stage)
	parts := make([]string, 0, len(order))
	for _, name := range order {
		if len(main) == 1 && name == main[0] {
			continue // already the headline count
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, p.counters[name]))
	}
	return strings.Join(parts, ", ")
}

// rateLocked is the rate of real work per second and the time left, once
// there is a rate to speak of: one unit done, after at least minElapsed.
// Before that there is no estimate at all, rather than a made-up one.
func (p *progress) rateLocked(minElapsed time.Duration) (rate float64, left time.Duration, ok bool) {
	done, worked := p.doneLocked()
	elapsed := p.now().Sub(p.started)
	if elapsed < minElapsed || elapsed <= 0 || worked == 0 {
		return 0, 0, false
	}
	rate = float64(worked) / elapsed.Seconds()
	left = -1
	if p.total > 0 && done < p.total {
		left = time.Duration(float64(p.total-done) / rate * float64(time.Second))
	}
	return rate, left, true
}

// lineLocked is one CI progress line:
//
//	import: 90/155 targets (58%); completed 78, failed 12, kicked off 105; 25.6/s, about 2s left
func (p *progress) lineLocked() string {
	unit, _ := stageUnit(p.stage)
	done, _ := p.doneLocked()
	var b strings.Builder
	b.WriteString(string(p.stage) + ": ")
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
	// A line every 10 s: wait for a second of work before a rate.
	if rate, left, ok := p.rateLocked(time.Second); ok {
		fmt.Fprintf(&b, "; %.1f/s", rate)
		if left >= 0 {
			b.WriteString(", about " + humanDuration(left) + " left")
		}
	}
	return b.String()
}

// describeLocked is the bar's description: the stage and its counters,
// those that count toward the total first (the end is what gets cut on a
// narrow terminal).
func (p *progress) describeLocked() string {
	_, main := stageUnit(p.stage)
	order := make([]importer.Counter, 0, len(p.order))
	for _, name := range p.order {
		if slices.Contains(main, name) {
			order = append(order, name)
		}
	}
	for _, name := range p.order {
		if !slices.Contains(main, name) {
			order = append(order, name)
		}
	}
	d := string(p.stage)
	if others := p.countersText(order); others != "" {
		d += " · " + others
	}
	return d
}

// barLineLocked is the live bar, fitted to width columns:
//
//	import · kicked off 105, completed 78  58% |███████     | (90/155, 26 targets/s) [3s, ~2s left]
//
// The rate is always per second (a stage never flips units), and the
// bracket shows only the elapsed time until there is a rate to estimate
// from. It is cut to width-1 columns, never more: a line that wraps cannot
// be redrawn in place, and the terminal would scroll on every redraw. What
// gives way first is the description, then the bar, then the times.
func (p *progress) barLineLocked(width int) string {
	unit, _ := stageUnit(p.stage)
	done, _ := p.doneLocked()
	elapsed := (p.now().Sub(p.started) / time.Second * time.Second).String()
	count := fmt.Sprintf("%d %s", done, unit)
	if p.total >= 0 {
		count = fmt.Sprintf("%d/%d", done, p.total)
	}
	times := "[" + elapsed + "]"
	if rate, left, ok := p.rateLocked(0); ok {
		count += ", " + formatRate(rate) + " " + string(unit) + "/s"
		if left >= 0 {
			times = "[" + elapsed + ", ~" + max(left, time.Second).Round(time.Second).String() + " left]"
		}
	}
	count = "(" + count + ")"
	head := ""
	if p.total > 0 {
		head = fmt.Sprintf("%3d%% ", int(p.fractionLocked()*100))
	} else {
		head = string(spinner[p.spin%len(spinner)]) + " "
	}
	desc := p.describeLocked()
	maxw := max(width-1, 10)
	// What gives way, in order: the bar shrinks, then goes (the percentage
	// stays), then the description is cut, then the times go.
	type layout struct {
		bar   int
		times bool
	}
	layouts := []layout{{20, true}, {8, true}, {0, true}, {0, false}}
	if p.total <= 0 {
		layouts = []layout{{0, true}, {0, false}}
	}
	build := func(l layout, desc string) string {
		bar := ""
		if l.bar > 0 {
			filled := int(p.fractionLocked()*float64(l.bar) + 0.5)
			bar = "|" + strings.Repeat("█", filled) + strings.Repeat(" ", l.bar-filled) + "| "
		}
		line := desc + " " + head + bar + count
		if l.times {
			line += " " + times
		}
		return line
	}
	for _, l := range layouts {
		if line := build(l, desc); l.times && runeLen(line) <= maxw {
			return line
		}
	}
	for _, l := range layouts[len(layouts)-2:] {
		room := maxw - runeLen(build(l, ""))
		if room >= minDesc+len(p.stage) || !l.times {
			return fitText(build(l, fitText(desc, max(room, 0))), maxw)
		}
	}
	return fitText(build(layout{}, string(p.stage)), maxw)
}

// minDesc is the narrowest description worth showing.
const minDesc = 8

var spinner = []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

func formatRate(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f", r)
	case r >= 1:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// fitText cuts s to n columns, marking the cut with "…".
func fitText(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// drawLocked redraws the bar in place: back to the start of the line, the
// line, and erase what a longer earlier line left to the right.
func (p *progress) drawLocked() {
	p.drawn = p.now()
	_, _ = io.WriteString(p.term.barWriter(), "\r"+p.barLineLocked(p.term.width())+"\x1b[K")
}
