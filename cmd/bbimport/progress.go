package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
)

// progress renders a stage's counters: a live bar on a TTY, or one info log
// line every interval otherwise (CI logs stay readable and small).
type progress struct {
	mu       sync.Mutex
	tty      bool
	w        io.Writer
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

func newProgress(w io.Writer, tty bool, log zerolog.Logger, interval time.Duration) *progress {
	return &progress{w: w, tty: tty, log: log, interval: interval, now: time.Now}
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
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(stage),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSpinnerType(14),
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
		p.bar.Describe(p.stage + " " + p.summaryLocked())
		if p.isMainCounter(counter) {
			_ = p.bar.Add(n)
		}
	}
}

// isMainCounter picks the counter that moves the bar: the one that counts
// toward the stage's total.
func (p *progress) isMainCounter(counter string) bool {
	switch counter {
	case "completed", "failed", "repositories", "workspaces", "orgs", "targets":
		return true
	}
	return false
}

// Done implements importer.Progress.
func (p *progress) Done() {
	p.mu.Lock()
	stop, stopped := p.stop, p.stopped
	p.stop, p.stopped = nil, nil
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
		p.bar = nil
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
			line, elapsed := p.summaryLocked(), p.now().Sub(p.started)
			stage, total := p.stage, p.total
			p.mu.Unlock()
			ev := p.log.Info().Str("stage", stage).Str("elapsed", humanDuration(elapsed))
			if total >= 0 {
				ev = ev.Int("total", total)
			}
			ev.Msg(stage + ": " + line)
		}
	}
}

// summaryLocked renders the counters, with a rate for the main one.
func (p *progress) summaryLocked() string {
	parts := make([]string, 0, len(p.order))
	names := append([]string(nil), p.order...)
	sort.SliceStable(names, func(i, j int) bool { return p.isMainCounter(names[i]) && !p.isMainCounter(names[j]) })
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %d", name, p.counters[name]))
	}
	if elapsed := p.now().Sub(p.started).Seconds(); elapsed >= 1 {
		done := 0
		for _, name := range p.order {
			if p.isMainCounter(name) {
				done += p.counters[name]
			}
		}
		rate := float64(done) / elapsed
		parts = append(parts, fmt.Sprintf("%.1f/s", rate))
		if p.total > 0 && rate > 0 && done < p.total {
			eta := time.Duration(float64(p.total-done) / rate * float64(time.Second))
			parts = append(parts, "ETA "+humanDuration(eta))
		}
	}
	return strings.Join(parts, ", ")
}
