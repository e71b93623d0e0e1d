package ledger

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// header is the first line of a ledger file; the second names the window
// and slot lengths in milliseconds; then one "slotStartMs count" line each.
const header = "bbimport request ledger v1"

// File is the ledger of one credential in a state directory. It is safe for
// concurrent use by the goroutines of one process, and by several processes
// sharing the directory: every Admit holds an exclusive lock on a companion
// lock file while it reads, updates and atomically replaces the ledger.
type File struct {
	path   string
	window time.Duration

	mu   sync.Mutex
	lock *os.File
}

// name returns the file name of the ledger of one credential of api
// ("bitbucket", "snyk") counting in windows of the given length: a hash of
// the identity, never the identity itself, so the state directory tells
// nobody the consumer key or the token. The window is part of the hash:
// counts kept for another window do not fit ours, and two processes that
// count differently (another version, another setting) must not take turns
// replacing each other's file, each then seeing an almost empty budget.
func name(api, identity string, window time.Duration) string {
	sum := sha256.Sum256([]byte(api + "\x00" + identity + "\x00" + strconv.FormatInt(window.Milliseconds(), 10)))
	return "bbimport-" + api + "-" + hex.EncodeToString(sum[:8]) + ".ledger"
}

// Open opens (creating if needed) the ledger of identity for api in dir,
// counting requests in windows of the given length. It fails when the
// directory or the lock file cannot be written: a ledger that cannot record
// is no ledger, and the caller falls back to pacing on its own.
func Open(dir, api, identity string, window time.Duration) (*File, error) {
	if window <= 0 {
		return nil, errors.New("ledger: the window must be positive")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	path := filepath.Join(dir, name(api, identity, window))
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return &File{path: path, window: window, lock: lock}, nil
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
	if err := lockFile(f.lock); err != nil {
		return fmt.Errorf("ledger: locking %s: %w", f.lock.Name(), err)
	}
	defer unlockFile(f.lock)
	w, err := f.read()
	if err != nil {
		return err
	}
	if err := w.check(now); err != nil {
		return fmt.Errorf("ledger %s: %w", f.path, err)
	}
	if !fn(w) {
		return nil
	}
	return f.write(w)
}

func (f *File) read() (*Window, error) {
	w := NewWindow(f.window)
	data, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if len(data) == 0 {
		// The rename is atomic but not synced: after a crash of the machine
		// the file may be there with nothing in it. Nothing recorded is a
		// fresh count, not a corrupt one.
		return w, nil
	}
	bad := func(line int, what string) error {
		return fmt.Errorf("ledger %s: line %d: %s (delete the file to start a fresh count)", f.path, line, what)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		switch {
		case line == 1:
			if text != header {
				return nil, bad(line, "not a bbimport request ledger")
			}
			continue
		case line == 2:
			var wms, sms int64
			if _, err := fmt.Sscanf(text, "window=%d slot=%d", &wms, &sms); err != nil {
				return nil, bad(line, "no window and slot lengths")
			}
			if wms != f.window.Milliseconds() || sms != w.slot.Milliseconds() {
				// Written for another window (another version, another
				// setting): its counts do not fit ours, start afresh.
				return NewWindow(f.window), nil
			}
			continue
		}
		a, b, found := strings.Cut(text, " ")
		start, err1 := strconv.ParseInt(a, 10, 64)
		n, err2 := strconv.Atoi(b)
		if !found || err1 != nil || err2 != nil || n < 0 || start%w.slot.Milliseconds() != 0 {
			return nil, bad(line, fmt.Sprintf("%q is not a slot and a count", text))
		}
		w.counts[start] += n
	}
	if line < 2 {
		return nil, bad(line, "truncated")
	}
	return w, sc.Err()
}

// write replaces the ledger atomically: a reader (or a process that crashed
// halfway) sees the old file or the new one, never a mix.
func (f *File) write(w *Window) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s\nwindow=%d slot=%d\n", header, f.window.Milliseconds(), w.slot.Milliseconds())
	for _, s := range w.starts() {
		fmt.Fprintf(&buf, "%d %d\n", s, w.counts[s])
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), filepath.Base(f.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	_, werr := tmp.Write(buf.Bytes())
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
