package importfiles

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// AheadLog is a log whose lines are written ahead: before a request that
// changes something is sent (an import kick-off, an org creation), room for
// its line is reserved on disk, as blank space past the last line; once the
// server accepts, the line is written over that space and fsynced. Writing
// over space the file already has cannot fail for want of room, so a full
// disk or a file-size limit stops the run at a reservation, before anything
// is sent that the next run could not see. Lines stay contiguous (the
// space is a pool at the end, lines are written at the end in the order
// they come), and Close truncates what is left of it; a killed run leaves
// only newlines there, blank lines that every reader, the original's
// included, skips, and that the next open trims.
//
// The file is written at offsets the log tracks (not O_APPEND): the
// per-directory lock makes this run its only writer. The first failure is
// sticky: every later reservation returns it.
type AheadLog struct {
	path string

	mu          sync.Mutex
	f           LogHandle
	end         int64 // end of the last line
	size        int64 // end of the file: end plus the reserved pool
	outstanding int64 // room promised to reservations not yet filled
	err         error
}

// Slot is the room reserved for one line.
type Slot struct{ n int64 }

// OpenAheadLog opens (creating) path for written-ahead lines; blank space a
// killed run left at the end is trimmed, and a last line it left
// half-written is finished with a newline.
func OpenAheadLog(open OpenFunc, path string) (*AheadLog, error) {
	f, err := open.open(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	l := &AheadLog{path: path, f: f}
	if err := l.trimTail(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// trimTail sets end and size past the last line: trailing newlines beyond
// the first after it are cut.
func (l *AheadLog) trimTail() error {
	st, err := l.f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	end := size
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := l.f.ReadAt(buf[:n], end-n); err != nil {
			return err
		}
		i := len(buf[:n]) - 1
		for i >= 0 && buf[i] == '\n' {
			i--
		}
		if i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end < size {
		if err := l.f.Truncate(end); err != nil {
			return err
		}
	}
	l.end, l.size = end, end
	if end > 0 {
		return l.write([]byte{'\n'}) // ends the last line (anew if it was whole)
	}
	return nil
}

// grow makes the pool hold need bytes beyond end and what is promised;
// l.mu is held.
func (l *AheadLog) grow(need int64) error {
	if l.err != nil {
		return l.err
	}
	short := l.end + l.outstanding + need - l.size
	if short <= 0 {
		return nil
	}
	n, err := l.f.WriteAt(bytes.Repeat([]byte{'\n'}, int(short)), l.size)
	l.size += int64(n)
	if err == nil && int64(n) < short {
		err = fmt.Errorf("short write (%d of %d bytes)", n, short)
	}
	if err != nil {
		return l.fail(err)
	}
	return nil
}

// write writes b at end, into the pool or past it; l.mu is held.
func (l *AheadLog) write(b []byte) error {
	n, err := l.f.WriteAt(b, l.end)
	l.end += int64(n)
	l.size = max(l.size, l.end)
	if err == nil && n < len(b) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(b))
	}
	if err != nil {
		return l.fail(err)
	}
	return nil
}

// Reserve makes room for a line of up to n bytes.
func (l *AheadLog) Reserve(n int) (Slot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.grow(int64(n)); err != nil {
		return Slot{}, err
	}
	l.outstanding += int64(n)
	return Slot{n: int64(n)}, nil
}

// Release gives back the room of a line that will not be written (the
// request was refused, or never answered).
func (l *AheadLog) Release(s Slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outstanding -= s.n
}

// Fill writes line (ending in a newline) into reserved room and fsyncs.
// Room reserved before a failure is still filled: its request was sent,
// and writing it needs no new space (unless the line is longer than the
// room, which only a Location far longer than Snyk's would make).
func (l *AheadLog) Fill(s Slot, line []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outstanding -= s.n
	if err := l.write(line); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return l.fail(err)
	}
	return nil
}

// Append reserves room for line and fills it.
func (l *AheadLog) Append(line []byte) error {
	s, err := l.Reserve(len(line))
	if err != nil {
		return err
	}
	return l.Fill(s, line)
}

// fail records err as the first failure, if none yet; l.mu is held.
func (l *AheadLog) fail(err error) error {
	err = fmt.Errorf("write %s: %w", l.path, err)
	if l.err == nil {
		l.err = err
	}
	return err
}

// Close gives back the unused pool and closes the file.
func (l *AheadLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	if l.size > l.end {
		if err := l.f.Truncate(l.end); err != nil {
			errs = append(errs, fmt.Errorf("truncate %s: %w", l.path, err))
		}
	}
	if err := l.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close %s: %w", l.path, err))
	}
	return errors.Join(errs...)
}

// CheckWritableDir fails when dir does not take a new file, before anything
// is sent whose record could not be kept.
func CheckWritableDir(open OpenFunc, dir string) error {
	name := filepath.Join(dir, ".bbimport-write-check-"+rand.Text()[:10])
	f, err := open.open(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	_ = f.Close()
	return os.Remove(name)
}
