package importfiles

import (
	"io"
	"io/fs"

	"github.com/bbimport/bbimport/internal/safefile"
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

// OpenNoFollow opens path for writing, created if missing with mode 0666
// less the umask, when it is a regular file with one name: a symbolic link,
// a FIFO or a second name (hard link) planted in the log directory (a
// poisoned CI cache) would make bbimport write elsewhere, hang, or change
// another file; each is refused with a *safefile.Error.
func OpenNoFollow(path string, flag int) (LogHandle, error) {
	f, err := safefile.Open(path, flag, 0o666, safefile.Rules{})
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (o OpenFunc) open(path string, flag int) (LogHandle, error) {
	if o == nil {
		return OpenNoFollow(path, flag)
	}
	return o(path, flag)
}
