package safefile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Rules say what a file must be. The zero value is the rule for files that
// bbimport writes: no symbolic link, a regular file, one name, any size,
// any owner.
type Rules struct {
	// FollowLinks opens the file a symbolic link names (a certificate
	// bundle a person pointed a variable at); that file must still pass.
	FollowLinks bool
	// SharedInode allows more than one hard link: for files only read.
	SharedInode bool
	// MaxSize refuses a larger file, and bounds what ReadFile reads; 0 means
	// no limit.
	MaxSize int64
	// Private: the file must belong to this user and give no permission to
	// group or others, where the system has owners and modes (a stranger's
	// file in a shared directory could feed us counts, or read a key).
	Private bool
}

// Kind is why a file was refused.
type Kind int

// Kinds of Error.
const (
	Symlink Kind = iota + 1
	NotRegular
	HardLinked
	TooLarge
	NotOwned
	OpenToOthers
	Replaced
	NotDirectory
)

// Error is a file refused by its Rules. Its text says what the file is and
// why bbimport will not use it; what to do is the caller's to say.
type Error struct {
	Path string
	Kind Kind
	// Target is a symbolic link's target; Type names what a file that is
	// not regular is ("a named pipe (FIFO)", "a character device").
	Target, Type string
	Links        uint64
	Size, Max    int64
	Owner, User  uint32
	Mode         fs.FileMode
}

func (e *Error) Error() string {
	switch e.Kind {
	case Symlink:
		return fmt.Sprintf("%s is a symbolic link (to %q); bbimport does not follow links there", e.Path, e.Target)
	case NotRegular:
		return fmt.Sprintf("%s is %s, not a regular file", e.Path, e.Type)
	case HardLinked:
		return fmt.Sprintf("%s has %d names (hard links); bbimport uses a file only under one name, since a write would change the other names' content too", e.Path, e.Links)
	case TooLarge:
		return fmt.Sprintf("%s is %s, over the %s such a file can be", e.Path, Size(e.Size), Size(e.Max))
	case NotOwned:
		return fmt.Sprintf("%s belongs to user %d, not to this user (%d)", e.Path, e.Owner, e.User)
	case OpenToOthers:
		return fmt.Sprintf("%s is open to other users (mode %s); bbimport keeps such a file private (0600)", e.Path, e.Mode.Perm())
	case Replaced:
		return fmt.Sprintf("%s was replaced while it was being opened", e.Path)
	case NotDirectory:
		return fmt.Sprintf("%s is %s, not a directory", e.Path, e.Type)
	}
	return e.Path + ": refused"
}

// Size writes a byte count for people: 512 bytes, 32 KiB, 6.0 GiB.
func Size(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1<<20 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// errTruncate: truncating on open would happen before the checks.
var errTruncate = errors.New("safefile: O_TRUNC is not allowed")

// Open opens path as os.OpenFile does (creating it with perm, less the
// umask, when flag has O_CREATE), when the file passes r; otherwise it
// returns an *Error and leaves the file as it was.
func Open(path string, flag int, perm fs.FileMode, r Rules) (*os.File, error) {
	if flag&os.O_TRUNC != 0 {
		return nil, errTruncate
	}
	// A file replaced between the check of its name and the open (a
	// ledger renamed over by another process) is checked again.
	for tries := 1; ; tries++ {
		f, err := r.open(path, flag, perm)
		var se *Error
		if tries < 3 && errors.As(err, &se) && se.Kind == Replaced {
			continue
		}
		return f, err
	}
}

func (r Rules) open(path string, flag int, perm fs.FileMode) (*os.File, error) {
	before, err := r.stat(path)
	switch {
	case err == nil:
		// Before opening: opening a FIFO blocks until a writer comes, and
		// opening a device may act on it.
		if err := r.checkType(path, before); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		before = nil
	default:
		return nil, err
	}
	oflag := flag | oNonblock
	if !r.FollowLinks {
		oflag |= oNoFollow
	}
	f, err := os.OpenFile(path, oflag, perm)
	if err != nil {
		if isLinkLoop(err) && !r.FollowLinks {
			// A link planted between the check and the open.
			if st, lerr := os.Lstat(path); lerr == nil {
				if cerr := r.checkType(path, st); cerr != nil {
					return nil, cerr
				}
			}
		}
		return nil, err
	}
	if err := r.checkOpen(path, f, before); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the whole file at path when it passes r, through r's size
// limit (a file that grows past it while read is refused too).
func ReadFile(path string, r Rules) ([]byte, error) {
	f, err := Open(path, os.O_RDONLY, 0, r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var src io.Reader = f
	if r.MaxSize > 0 {
		src = io.LimitReader(f, r.MaxSize+1)
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return nil, err
	}
	if r.MaxSize > 0 && int64(len(data)) > r.MaxSize {
		return nil, &Error{Path: path, Kind: TooLarge, Size: int64(len(data)), Max: r.MaxSize}
	}
	return data, nil
}

// Publish writes data to path only if path does not exist, so that a reader
// sees the whole content or no file, and two processes publishing at once
// agree on one content: the data goes to a new temporary file, synced, which
// is then linked to path (a link never replaces what is there). It reports
// whether this call created path; false with a nil error means another
// process (or an earlier run) got there first, and what is there is to be
// read, through Open's checks.
func Publish(path string, data []byte, perm fs.FileMode) (created bool, err error) {
	f, err := CreateTemp(path, perm)
	if err != nil {
		return false, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return false, err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Mkdir makes the directory path (its parent must exist) unless it is
// there, and refuses a path that is a symbolic link or not a directory: a
// subdirectory bbimport writes into, planted as a link, would have it
// write elsewhere.
func Mkdir(path string, perm fs.FileMode) error {
	err := os.Mkdir(path, perm)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		return err
	}
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return nil
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return &Error{Path: path, Kind: Symlink, Target: target}
	}
	return &Error{Path: path, Kind: NotDirectory, Type: typeName(st.Mode())}
}

// CreateTemp creates a new file next to path, named "."+base+".tmp-"+random,
// with perm less the umask (os.CreateTemp's is always 0600). The name is
// new (O_EXCL): nothing planted there is opened or followed.
func CreateTemp(path string, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+TempInfix+rand.Text()[:10])
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("could not create a temporary file")
}

// TempInfix is in the name of every file CreateTemp makes.
const TempInfix = ".tmp-"

func (r Rules) stat(path string) (fs.FileInfo, error) {
	if r.FollowLinks {
		return os.Stat(path)
	}
	return os.Lstat(path)
}

// checkType refuses a symbolic link and anything but a regular file.
func (r Rules) checkType(path string, st fs.FileInfo) error {
	mode := st.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return &Error{Path: path, Kind: Symlink, Target: target}
	case !mode.IsRegular():
		return &Error{Path: path, Kind: NotRegular, Type: typeName(mode)}
	}
	return nil
}

// checkOpen checks the open file itself: what the name pointed at before
// may have been swapped since.
func (r Rules) checkOpen(path string, f *os.File, before fs.FileInfo) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := r.checkType(path, st); err != nil {
		return err
	}
	if before != nil && !os.SameFile(before, st) {
		return &Error{Path: path, Kind: Replaced}
	}
	if !r.SharedInode {
		n, err := linkCount(f, st)
		if err != nil {
			return err
		}
		if n > 1 {
			return &Error{Path: path, Kind: HardLinked, Links: n}
		}
	}
	if r.MaxSize > 0 && st.Size() > r.MaxSize {
		return &Error{Path: path, Kind: TooLarge, Size: st.Size(), Max: r.MaxSize}
	}
	if r.Private {
		if owner, me, ok := ownerOf(st); ok && owner != me {
			return &Error{Path: path, Kind: NotOwned, Owner: owner, User: me}
		}
		if hasModes && st.Mode().Perm()&0o077 != 0 {
			return &Error{Path: path, Kind: OpenToOthers, Mode: st.Mode()}
		}
	}
	return nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}
