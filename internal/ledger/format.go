package ledger

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// header is the first line of a ledger file; the second names the window
// and slot lengths in milliseconds; then one "slotStartMs count" line each.
const header = "bbimport request ledger v1"

// maxFileSize bounds a ledger file. What bbimport writes is at most
// Slots+1 lines of a slot start and a count, about 15 KiB at a count of
// ten million a slot; anything larger was not written by it (a 6 GB sparse
// file, /dev/zero behind a link) and is not read.
const maxFileSize = 32 << 10

// maxCount bounds a slot's count whatever the limit: far above any budget,
// far below where the sum of the Slots+1 slots a window holds could wrap.
const maxCount = math.MaxInt32

// errCorrupt matches (errors.Is) every error about a ledger's content: the
// caller stops trusting the file and paces on its own.
var errCorrupt = errors.New("corrupt ledger")

// corruptError is what is wrong with a ledger's content.
type corruptError struct{ msg string }

func (e *corruptError) Error() string        { return e.msg }
func (e *corruptError) Is(target error) bool { return target == errCorrupt }

func corrupt(format string, args ...any) error {
	return &corruptError{msg: fmt.Sprintf(format, args...)}
}

// encode is the file content of w.
func encode(w *Window) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s\nwindow=%d slot=%d\n", header, w.window.Milliseconds(), w.slot.Milliseconds())
	for _, s := range w.starts() {
		fmt.Fprintf(&buf, "%d %d\n", s, w.counts[s])
	}
	return buf.Bytes()
}

// decode reads a ledger file's content as untrusted input: whoever can write
// the state directory wrote it. Every count must fit a budget of max
// requests per window (max <= 0: no limit is known), every slot must be a
// slot of this window's length and appear once. A file written for another
// window length is a fresh count (its counts do not fit ours); so is an
// empty one (see read). The content is checked against the clock by check.
func decode(data []byte, window time.Duration, max int) (*Window, error) {
	w := NewWindow(window)
	bad := func(line int, format string, args ...any) error {
		return corrupt("line %d: %s", line, fmt.Sprintf(format, args...))
	}
	limit := int64(maxCount)
	if max > 0 {
		limit = min(int64(max), limit)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		switch line {
		case 1:
			if text != header {
				return nil, bad(line, "not a bbimport request ledger")
			}
			continue
		case 2:
			var wms, sms int64
			if _, err := fmt.Sscanf(text, "window=%d slot=%d", &wms, &sms); err != nil {
				return nil, bad(line, "no window and slot lengths")
			}
			if wms != window.Milliseconds() || sms != w.slot.Milliseconds() {
				// Written for another window (another version, another
				// setting): its counts do not fit ours, start afresh.
				return NewWindow(window), nil
			}
			continue
		}
		a, b, found := strings.Cut(text, " ")
		start, err1 := strconv.ParseInt(a, 10, 64)
		n, err2 := strconv.ParseInt(b, 10, 64)
		switch {
		case !found || err1 != nil || err2 != nil || n < 0 || start%w.slot.Milliseconds() != 0:
			return nil, bad(line, "%.40q is not a slot and a count", text)
		case n > limit:
			return nil, bad(line, "%d requests in one slot, over the limit of %d", n, limit)
		}
		if _, dup := w.counts[start]; dup {
			return nil, bad(line, "slot %d appears twice", start)
		}
		w.counts[start] = int(n)
	}
	if err := sc.Err(); err != nil {
		return nil, corrupt("line %d: %v", line+1, err)
	}
	if line < 2 {
		return nil, bad(line, "truncated")
	}
	return w, nil
}
