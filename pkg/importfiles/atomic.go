package importfiles

import (
	"fmt"
	"io"
	"os"

	"github.com/bbimport/bbimport/internal/safefile"
)

// WriteFileAtomic writes a file so that a reader sees either the old content
// or the whole new content, never a half-written file: it writes a temp file
// in the same directory, fsyncs it and renames it over path. The file gets
// mode 0666 less the umask, as a log or any other program's output would
// (os.CreateTemp's 0600 made them private, and a fixed 0644 ignored a umask
// of 077); the rename replaces a symbolic link at path, never its target.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	tmp, err := safefile.CreateTemp(path, 0o666)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
