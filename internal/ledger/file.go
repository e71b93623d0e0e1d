package ledger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/safefile"
)

// File is the ledger of one credential in a state directory. It is safe for
// concurrent use by the goroutines of one process, and by several processes
// sharing the directory.
//
// Admission is decided in memory. The file is read and written (under an
// exclusive lock on a companion lock file, replaced atomically) only to
// take budget in small blocks: a sync records a block of requests this
// process has not sent yet (a claim), dated at the end of the short time
// it may send them in, and the requests of the block are then admitted
// without touching the file. A block is a few requests when the window has
// room and one when it is nearly full, so no process holds back budget
// another one could use; what a block has left when its time is up is
// given back at the next sync (or at Close). Every request any process
// sends is thus recorded in the file before it is sent, at a time no
// earlier than its own, and the processes sharing it never exceed the
// limit together.
//
// The directory is not trusted: every file is opened through safefile (no
// link followed, a regular private file with one name, the ledger read
// through maxFileSize) and the ledger's content is checked as input from a
// stranger (decode, check), so a planted FIFO, /dev/zero or a count that
// would wrap is an error at once, which the caller answers by pacing on
// its own.
type File struct {
	path   string
	window time.Duration
	max    int
	// ahead is how far a claim is dated ahead of the sync that takes it:
	// the time its requests may be sent in.
	ahead time.Duration

	mu   sync.Mutex
	lock *os.File
	// claim is this process's block: recorded in the file, not yet sent.
	claim claim
	// own is what this process recorded in the file (its blocks, less
	// what it gave back): the rest of the file's count is other
	// processes'.
	own *Window
	// seen is the window's count at the last sync (claims included) and
	// seenAt that sync's time: Used answers from them while they are
	// fresh.
	seen   int
	seenAt time.Time
	// admits counts admissions since the last sync, and rate (requests a
	// second) is what they came to: the next block is about what this
	// process sends in ahead.
	admits int
	rate   float64
	// syncs counts the file's reads (tests: how rarely it is touched).
	syncs int
}

// claim is a block of requests recorded in the file at slot (Unix ms) and
// not sent yet: left of them may still be sent before until, the slot's end.
type claim struct {
	slot  int64
	until time.Time
	left  int
}

// fileRules: ledgers and their locks are this user's alone.
var (
	fileRules = safefile.Rules{Private: true, MaxSize: maxFileSize}
	lockRules = safefile.Rules{Private: true, MaxSize: 4 << 10}
)

// Option configures Open.
type Option func(*File)

// Max says that no process sharing the ledger can admit more than n
// requests per window: the largest limit any of them could hold (its own
// setting, or the most the API grants, whichever is larger), so that
// processes with different limits, or one whose limit a server raised,
// share the file. A count above it was written by no such process (a
// stranger's file, a wrapped sum) and is corruption, not a reason to park
// the run for a window. Without it only counts no budget could hold are.
func Max(n int) Option { return func(f *File) { f.max = n } }

// Open opens (creating if needed) the ledger of identity for api in dir,
// counting requests in windows of the given length. It fails when the
// directory, its key or the lock file cannot be used: a ledger that cannot
// record is no ledger, and the caller falls back to pacing on its own.
// Ledgers of dir that no longer count anything are deleted on the way.
func Open(dir, api, identity string, window time.Duration, opts ...Option) (*File, error) {
	if window <= 0 {
		return nil, errors.New("ledger: the window must be positive")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	key, err := stateKey(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name(key, api, identity, window))
	lock, err := openLock(path)
	if err != nil {
		return nil, err
	}
	prune(dir, filepath.Base(path), time.Now())
	f := &File{path: path, window: window, lock: lock, ahead: claimAhead(window), own: NewWindow(window)}
	for _, o := range opts {
		o(f)
	}
	return f, nil
}

func openLock(ledger string) (*os.File, error) {
	f, err := safefile.Open(ledger+".lock", os.O_RDWR|os.O_CREATE, 0o600, lockRules)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return f, nil
}

// Path is the ledger file's path.
func (f *File) Path() string { return f.path }

// Close gives back what this process's block has left, then releases the
// lock file.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lock == nil {
		return nil
	}
	var err error
	if f.claim.left > 0 {
		err = f.update(time.Now(), func(w *Window) bool { return f.giveBack(w) })
	}
	err = errors.Join(err, f.lock.Close())
	f.lock = nil
	return err
}

// claimAhead is how far ahead of a sync its block is dated, for a window
// of the given length: at least a slot (so a block never expires within
// the slot it was taken in), a hundredth of the window up to a second
// otherwise. A block counts that much longer than its requests would:
// on the safe side, and too little to matter.
func claimAhead(window time.Duration) time.Duration {
	slot := max(window/Slots, time.Millisecond)
	return max(slot, min(time.Second, window/100))
}

// maxBlockShare bounds a block to this share of the limit, and, while
// another process records requests in the file too, blockRoom to that
// share of the room left in the window: near the limit blocks are then
// single requests, so no process is refused while the window has room.
const (
	maxBlockShare = 50
	blockRoom     = 8
)

// Admit admits one request at now if fewer than limit are in the window
// ending at now (see Window.Admit), counting every process's. It answers
// from this process's block while it lasts; otherwise it syncs with the
// file, gives back an expired block and takes a new one. An error means
// the ledger could not be read or written (corrupt, read-only, from the
// future): the request was not recorded and the caller must pace without
// it. used is the count before this request (an estimate between syncs).
func (f *File) Admit(now time.Time, limit int) (ok bool, used int, next time.Time, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lock == nil {
		return false, 0, time.Time{}, errors.New("ledger: closed")
	}
	if c := &f.claim; c.left > 0 && now.Before(c.until) {
		c.left--
		f.admits++
		return true, f.seen - c.left - 1, time.Time{}, nil
	}
	err = f.update(now, func(w *Window) bool {
		changed := f.giveBack(w)
		used = w.Used(now)
		if used >= limit {
			next = w.freeAt(now, used-limit+1)
			return changed
		}
		ok = true
		f.admits++
		k := f.blockSize(now, limit, used, used > f.own.Used(now))
		slot := w.slotOf(now.Add(f.ahead))
		w.counts[slot] += k
		f.own.counts[slot] += k
		f.claim = claim{slot: slot, until: time.UnixMilli(slot).Add(w.slot), left: k - 1}
		return true
	})
	if err != nil {
		return false, 0, time.Time{}, err
	}
	return ok, used, next, nil
}

// blockSize is the next block: what this process sent in ahead at its
// recent pace, within maxBlockShare of the limit and the room left (a
// blockRoom share of it when others share the file). f.mu is held.
func (f *File) blockSize(now time.Time, limit, used int, shared bool) int {
	if !f.seenAt.IsZero() {
		// A burst right after a sync must not look like an endless pace.
		dt := max(now.Sub(f.seenAt), f.ahead/4)
		f.rate = (f.rate + float64(f.admits)/dt.Seconds()) / 2
	}
	f.admits = 0
	k := int(f.rate*f.ahead.Seconds()) + 1
	room := limit - used
	if shared {
		room /= blockRoom
	}
	return max(min(k, limit/maxBlockShare, room), 1)
}

// giveBack takes what this process's block has left out of w; it reports
// whether w changed. f.mu is held.
func (f *File) giveBack(w *Window) bool {
	c := f.claim
	f.claim = claim{}
	if c.left <= 0 {
		return false
	}
	if n := f.own.counts[c.slot] - c.left; n > 0 {
		f.own.counts[c.slot] = n
	} else {
		delete(f.own.counts, c.slot)
	}
	n, ok := w.counts[c.slot]
	if !ok {
		return false
	}
	if n <= c.left {
		delete(w.counts, c.slot)
	} else {
		w.counts[c.slot] = n - c.left
	}
	return true
}

// Used is the number of requests the ledger holds in the window ending at
// now, this process's unsent block left out. It answers from the last sync
// while that is younger than a sixtieth of the window (a second of a
// minute), else reads the file: an estimate for pacing, not admission.
func (f *File) Used(now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lock == nil {
		return 0, errors.New("ledger: closed")
	}
	if !f.seenAt.IsZero() && now.Sub(f.seenAt) < max(f.ahead, f.window/60) && !now.Before(f.seenAt) {
		return f.seen - f.claim.left, nil
	}
	n := 0
	err := f.update(now, func(w *Window) bool {
		changed := false
		if !now.Before(f.claim.until) {
			changed = f.giveBack(w)
		}
		n = w.Used(now)
		return changed
	})
	return n - f.claim.left, err
}

// update runs fn on the ledger's window under the lock, and writes the
// window back when fn reports a change; f.mu is held. The window's count
// after fn is what Used answers from until the next sync.
func (f *File) update(now time.Time, fn func(*Window) bool) error {
	f.syncs++
	if err := f.lockHeld(); err != nil {
		return err
	}
	defer unlockFile(f.lock)
	w, err := f.read()
	if err != nil {
		return err
	}
	if err := w.check(now, f.max); err != nil {
		return fmt.Errorf("ledger %s: %w", f.path, err)
	}
	if fn(w) {
		if err := f.write(w); err != nil {
			return err
		}
	}
	f.seen, f.seenAt = w.Used(now), now
	return nil
}

// lockHeld takes the lock on the lock file the directory names now: a
// process that pruned this ledger (stale to it, not yet to us) deleted the
// lock file while holding it, and a lock on the old file would exclude
// nobody who opens the new one.
func (f *File) lockHeld() error {
	for range 5 {
		if err := lockFile(f.lock); err != nil {
			return fmt.Errorf("ledger: locking %s: %w", f.lock.Name(), err)
		}
		if stillNamed(f.lock) {
			return nil
		}
		unlockFile(f.lock)
		_ = f.lock.Close()
		lock, err := openLock(f.path)
		if err != nil {
			f.lock = nil
			return err
		}
		f.lock = lock
	}
	return fmt.Errorf("ledger: the lock file %s keeps being replaced", f.lock.Name())
}

// stillNamed reports whether the open file is still the one its name
// points at.
func stillNamed(file *os.File) bool {
	open, err1 := file.Stat()
	named, err2 := os.Lstat(file.Name())
	return err1 == nil && err2 == nil && os.SameFile(open, named)
}

func (f *File) read() (*Window, error) {
	data, err := safefile.ReadFile(f.path, fileRules)
	if errors.Is(err, fs.ErrNotExist) {
		return NewWindow(f.window), nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err) // the error names the file
	}
	if len(data) == 0 {
		// The rename is atomic but not synced: after a crash of the machine
		// the file may be there with nothing in it. Nothing recorded is a
		// fresh count, not a corrupt one.
		return NewWindow(f.window), nil
	}
	w, err := decode(data, f.window, f.max)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w (delete the file to start a fresh count)", f.path, err)
	}
	return w, nil
}

// write replaces the ledger atomically: a reader (or a process that crashed
// halfway) sees the old file or the new one, never a mix. The temporary
// file is new (O_EXCL, mode 0600) and the rename replaces whatever the name
// was, a planted link included, never writing through it.
func (f *File) write(w *Window) error {
	tmp, err := safefile.CreateTemp(f.path, 0o600)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	_, werr := tmp.Write(encode(w))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ledger: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
