//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

const (
	oNoFollow = syscall.O_NOFOLLOW
	oNonblock = syscall.O_NONBLOCK
	hasModes  = true
)

// isLinkLoop: O_NOFOLLOW met a symbolic link (ELOOP; EMLINK on some BSDs).
func isLinkLoop(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

func linkCount(_ *os.File, st fs.FileInfo) (uint64, error) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Nlink), nil
	}
	return 1, nil
}

func ownerOf(st fs.FileInfo) (owner, me uint32, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return s.Uid, uint32(os.Geteuid()), true
}
