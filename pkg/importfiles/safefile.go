package importfiles

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// LogHandle is what the stages need of an open log file; *os.File is one.
// Tests substitute a handle that fails like a full disk.
type LogHandle interface {
	io.Writer
	io.WriterAt
	io.ReaderAt
	Stat() (fs.FileInfo, error)
	Sync() error
	Truncate(size int64) error
	Close() error
	Name() string
}

// OpenFunc opens a file the way os.OpenFile does; nil means OpenNoFollow.
type OpenFunc func(path string, flag int) (LogHandle, error)

// SymlinkError is a log or output file that is a symbolic link. bbimport
// never writes through one: a link planted in the log directory (a poisoned
// CI cache) would make it append to, or replace, a file elsewhere.
type SymlinkError struct {
	Path   string
	Target string
}

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link (to %q); bbimport does not write through links", e.Path, e.Target)
}

// OpenNoFollow opens path for writing, created if missing with mode 0666
// less the umask, refusing a symbolic link (O_NOFOLLOW where the system has
// it, an Lstat check everywhere) and anything but a regular file.
func OpenNoFollow(path string, flag int) (LogHandle, error) {
	if err := checkNotLink(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|oNoFollow, 0o666)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			// Planted between the check and the open.
			if lerr := checkNotLink(path); lerr != nil {
				return nil, lerr
			}
		}
		return nil, err
	}
	return f, nil
}

// checkNotLink returns a *SymlinkError when path is a symbolic link, an
// error when it is something else than a regular file, nil when it is a
// regular file or does not exist.
func checkNotLink(path string) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return &SymlinkError{Path: path, Target: target}
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s); bbimport writes only regular files there", path, st.Mode().Type())
	}
	return nil
}

func (o OpenFunc) open(path string, flag int) (LogHandle, error) {
	if o == nil {
		return OpenNoFollow(path, flag)
	}
	return o(path, flag)
}
