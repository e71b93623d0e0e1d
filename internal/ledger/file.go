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
// sharing the directory: every Admit holds an exclusive lock on a companion
// lock file while it reads, updates and atomically replaces the ledger.
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

	mu   sync.Mutex
	lock *os.File
}

// fileRules: ledgers and their locks are this user's alone.
var (
	fileRules = safefile.Rules{Private: true, MaxSize: maxFileSize}
	lockRules = safefile.Rules{Private: true, MaxSize: 4 << 10}
)

// Option configures Open.
type Option func(*File)

// Max says that no process sharing the ledger admits more than n requests
// per window: a count above it is corruption (a stranger's file, or a run
// with a higher limit, whose count this one cannot follow), not a reason to
// park the run for a window. Without it only counts no budget could hold
// are.
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
	f := &File{path: path, window: window, lock: lock}
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

// Close releases the lock file.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lock == nil {
		return nil
	}
	err := f.lock.Close()
	f.lock = nil
	return err
}

// Admit records one request at now if the ledger holds fewer than limit in
// the window ending at now (see Window.Admit). An error means the ledger
// could not be read or written (corrupt, read-only, from the future): the
// request was not recorded and the caller must pace without it.
func (f *File) Admit(now time.Time, limit int) (ok bool, used int, next time.Time, err error) {
	err = f.update(now, func(w *Window) bool {
		ok, used, next = w.Admit(now, limit)
		return ok
	})
	return ok, used, next, err
}

// Used is the number of requests the ledger holds in the window ending at now.
func (f *File) Used(now time.Time) (int, error) {
	n := 0
	err := f.update(now, func(w *Window) bool { n = w.Used(now); return false })
	return n, err
}

// update runs fn on the ledger's window under the lock, and writes the
// window back when fn reports a change.
func (f *File) update(now time.Time, fn func(*Window) bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lock == nil {
		return errors.New("ledger: closed")
	}
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
	if !fn(w) {
		return nil
	}
	return f.write(w)
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
