//go:build windows

package safefile

import (
	"io/fs"
	"os"
	"syscall"
)

// Windows opens no FIFO by name in a directory and has no O_NOFOLLOW: the
// Lstat before the open and the Stat of the open file stand alone. Owners
// and modes are ACLs, not checked here.
const (
	oNoFollow = 0
	oNonblock = 0
	hasModes  = false
)

func isLinkLoop(error) bool { return false }

func linkCount(f *os.File, _ fs.FileInfo) (uint64, error) {
	var info syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(syscall.Handle(f.Fd()), &info); err != nil {
		return 0, err
	}
	return uint64(info.NumberOfLinks), nil
}

func ownerOf(fs.FileInfo) (owner, me uint32, ok bool) { return 0, 0, false }
