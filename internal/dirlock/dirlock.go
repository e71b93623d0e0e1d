package dirlock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/safefile"
)

// FileName is the lock file in the locked directory.
const FileName = ".bbimport.lock"

// pollInterval is how often a waiting Acquire tries again.
const pollInterval = 200 * time.Millisecond

// Lock is a held directory lock.
type Lock struct {
	f    *os.File
	path string
}

// HeldError is the refusal of Acquire without wait: another process holds
// the lock. Its fields come from the holder's info and may be zero when the
// holder had not written them yet (or is an older bbimport).
type HeldError struct {
	Path    string
	PID     int
	Host    string
	Command string
	Started time.Time
}

func (e *HeldError) Error() string {
	who := "another bbimport"
	if e.Command != "" {
		who += " " + e.Command
	}
	var details []string
	if e.PID != 0 {
		details = append(details, fmt.Sprintf("pid %d", e.PID))
	}
	if e.Host != "" {
		details = append(details, "on "+e.Host)
	}
	if !e.Started.IsZero() {
		details = append(details, "started "+e.Started.UTC().Format(time.RFC3339))
	}
	if len(details) > 0 {
		who += " (" + strings.Join(details, ", ") + ")"
	}
	return fmt.Sprintf("%s is using the log directory %s (lock %s)", who, filepath.Dir(e.Path), e.Path)
}

// holder is what the lock file says about its holder.
type holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
}

// Acquire locks dir for command (a name shown to a second run). When another
// process holds the lock it returns a *HeldError at once, or, with wait,
// tries again until the lock is free or ctx is done (then ctx's error). The
// lock file must be a regular file with one name (safefile): taking and
// releasing the lock write its first bytes, which through a hard link, a
// symbolic link or a FIFO would change, or wait on, another file.
func Acquire(ctx context.Context, dir, command string, wait bool) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := safefile.Open(path, os.O_RDWR|os.O_CREATE, 0o666, lockRules)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the log directory %s: %w", dir, err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("cannot lock the log directory %s: %w", dir, err)
		}
		if ok {
			break
		}
		if !wait {
			held := readHolder(path)
			_ = f.Close()
			return nil, held
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	l := &Lock{f: f, path: path}
	if err := l.writeHolder(command); err != nil {
		_ = l.Release()
		return nil, fmt.Errorf("cannot lock the log directory %s: %w", dir, err)
	}
	return l, nil
}

// lockRules: the lock file is small (the holder's record); anything larger
// is not ours.
var lockRules = safefile.Rules{MaxSize: 64 << 10}

// holderSize is the record's length: the holder's JSON padded with spaces.
// Writing the same length in place, taking and releasing alike, means the
// lock never truncates its file: an older, longer record would leave a tail
// after the JSON, which readers ignore.
const holderSize = 512

func (l *Lock) writeHolder(command string) error {
	host, _ := os.Hostname()
	b, err := json.Marshal(holder{PID: os.Getpid(), Host: host, Command: command, Started: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	_, err = l.f.WriteAt(padded(b), 0)
	return err
}

// padded is b followed by spaces and a newline, holderSize bytes at least.
func padded(b []byte) []byte {
	rec := append(b, bytes.Repeat([]byte{' '}, max(holderSize-len(b)-1, 0))...)
	return append(rec, '\n')
}

// readHolder reads the holder's info. The holder writes it just after it
// gets the lock, so an empty file is read again briefly before giving up.
func readHolder(path string) *HeldError {
	e := &HeldError{Path: path}
	for range 10 {
		b, err := safefile.ReadFile(path, lockRules)
		var h holder
		// The first JSON value: what follows it is padding.
		if err == nil && json.NewDecoder(bytes.NewReader(b)).Decode(&h) == nil {
			e.PID, e.Host, e.Command, e.Started = h.PID, h.Host, h.Command, h.Started
			return e
		}
		time.Sleep(10 * time.Millisecond)
	}
	return e
}

// Release gives the lock up; the holder info is blanked first (spaces over
// the record, not a truncation), so a stale file never names a process that
// is gone. Releasing twice is a no-op.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	_, werr := f.WriteAt(padded(nil), 0)
	uerr := unlock(f)
	cerr := f.Close()
	return errors.Join(werr, uerr, cerr)
}

// Path is the lock file.
func (l *Lock) Path() string { return l.path }
