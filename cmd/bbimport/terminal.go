package main

import (
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

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
