//go:build unix

package ledger

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockWait bounds the wait for another process's lock: a process stopped
// with the lock held (Ctrl-Z, a frozen container) must not hang every
// worker of this one, which cannot be interrupted inside flock. After it the
// caller treats the ledger as unusable and paces on its own.
const lockWait = 5 * time.Second

// lockFile takes an exclusive advisory lock, waiting up to lockWait for
// other processes.
func lockFile(f *os.File) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case err == syscall.EINTR:
			continue
		case err != syscall.EWOULDBLOCK:
			return err
		case time.Now().After(deadline):
			return fmt.Errorf("another process has held the lock for over %s", lockWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tryLockFile takes the lock only if nobody holds it.
func tryLockFile(f *os.File) bool {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err == nil
		}
	}
}

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
