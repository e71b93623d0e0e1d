//go:build !unix

package ledger

import (
	"errors"
	"os"
)

// lockFile fails where no advisory file lock is available: without it two
// processes could both admit the last request of the budget, so the caller
// falls back to pacing on its own rather than trust a shared count.
func lockFile(*os.File) error {
	return errors.New("no file locking on this platform")
}

func tryLockFile(*os.File) bool { return false }

func unlockFile(*os.File) {}
