// Package ledger records when requests were sent with one credential, so that
// every bbimport process spending that credential's budget (one after
// another, or several at once in the same state directory) can count what the
// API's owner counts: requests in a rolling window.
//
// A ledger holds counts per slot of window/Slots, not one time per request,
// so its size is bounded by the window whatever the limit (a limit of a
// million per hour costs the same 600 lines as one of a thousand). A request
// is counted for as long as any part of its slot is inside the window, which
// is up to one slot longer than the server counts it: the error is on the
// safe side.
package ledger

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Slots is how many slots one window is divided into.
const Slots = 600

// FutureTolerance is how far ahead of this machine's clock a recorded slot
// may be before the ledger is called "from the future": a clock set back, or
// a directory shared with a machine whose clock runs ahead. Either way its
// counts cannot be placed in our window.
const FutureTolerance = time.Minute

// errFuture is wrapped by the error for a ledger with slots ahead of the
// clock by more than FutureTolerance.
var errFuture = errors.New("the ledger records requests in the future (is the clock right?)")

// Window is the counts of one window: slot start (Unix ms) → requests. The
// zero value is not usable; use NewWindow.
type Window struct {
	window, slot time.Duration
	counts       map[int64]int
}

// NewWindow returns an empty Window of the given length.
func NewWindow(window time.Duration) *Window {
	slot := max(window/Slots, time.Millisecond)
	return &Window{window: window, slot: slot, counts: map[int64]int{}}
}

func (w *Window) slotOf(t time.Time) int64 {
	ms := t.UnixMilli()
	s := w.slot.Milliseconds()
	return ms - ((ms%s)+s)%s
}

// prune drops the slots that lie wholly before the window ending at now.
func (w *Window) prune(now time.Time) {
	cut := now.Add(-w.window).UnixMilli()
	for start := range w.counts {
		if start+w.slot.Milliseconds() <= cut {
			delete(w.counts, start)
		}
	}
}

// check reports errFuture for a slot later than now + FutureTolerance, and
// a corrupt count when the window ending at now holds more than max
// requests (max > 0): max is the largest limit any process sharing the
// file could hold, so no process wrote such a count.
func (w *Window) check(now time.Time, max int) error {
	limit := now.Add(FutureTolerance).UnixMilli()
	for start := range w.counts {
		if start > limit {
			return fmt.Errorf("%w: a slot starts at %s, %s ahead", errFuture,
				time.UnixMilli(start).UTC().Format(time.RFC3339), time.UnixMilli(start).Sub(now).Round(time.Second))
		}
	}
	if used := w.Used(now); max > 0 && used > max {
		return corrupt("%d requests in the window, over the limit of %d", used, max)
	}
	return nil
}

// Used is the number of requests in the window ending at now. The sum
// saturates rather than wrap: a count that wrapped negative would admit
// without end.
func (w *Window) Used(now time.Time) int {
	w.prune(now)
	n := 0
	for _, c := range w.counts {
		if c > math.MaxInt-n {
			return math.MaxInt
		}
		n += c
	}
	return n
}

// Admit records one request at now when fewer than limit are in the window,
// and reports true. Otherwise it records nothing and returns when the oldest
// slot leaves the window: the earliest time another request may go. used is
// the count before this request.
func (w *Window) Admit(now time.Time, limit int) (ok bool, used int, next time.Time) {
	used = w.Used(now)
	if used < limit {
		w.counts[w.slotOf(now)]++
		return true, used, time.Time{}
	}
	return false, used, w.freeAt(now, used-limit+1)
}

// freeAt is when at least n requests will have left the window.
func (w *Window) freeAt(now time.Time, n int) time.Time {
	starts := w.starts()
	left := 0
	for _, s := range starts {
		left += w.counts[s]
		if left >= n {
			return time.UnixMilli(s).Add(w.slot + w.window)
		}
	}
	return now.Add(w.window)
}

func (w *Window) starts() []int64 {
	starts := make([]int64, 0, len(w.counts))
	for s := range w.counts {
		starts = append(starts, s)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	return starts
}
