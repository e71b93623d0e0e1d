package ledger

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/safefile"
)

// Stale files are deleted when a ledger is opened: a ledger whose last
// write is older than its window counts nothing (every request it holds has
// left the window), and without pruning every credential, window or
// version ever used would leave a file behind.
const (
	// staleAfter: older than any window a budget counts in, whatever the
	// file says of its own.
	staleAfter = 25 * time.Hour
	// orphanAfter: a lock file without its ledger, or a temporary file a
	// crash left, that long untouched belongs to no running process.
	orphanAfter = time.Hour
)

// prune deletes the stale ledgers of dir other than keep (this process's),
// each under its own lock so that no process writing it meanwhile loses its
// count, and the lock file with it (a waiting process notices, lockHeld).
// It is best effort: whatever cannot be read or locked now stays.
func prune(dir, keep string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(strings.TrimPrefix(n, "."), filePrefix) || !e.Type().IsRegular() ||
			strings.HasPrefix(strings.TrimPrefix(n, "."), keep) {
			continue
		}
		path := filepath.Join(dir, n)
		switch {
		case strings.HasPrefix(n, ".") && strings.Contains(n, fileSuffix+safefile.TempInfix) && old(e, now):
			_ = os.Remove(path)
		case ledgerName(n, 16):
			// Named by an unkeyed hash of the credential (bbimport before
			// the key): the name itself gives a short credential away.
			removeLocked(path, func(fs.FileInfo) bool { return true })
		case ledgerName(n, 32):
			removeLocked(path, func(st fs.FileInfo) bool { return stale(path, st, now) })
		case strings.HasSuffix(n, fileSuffix+".lock") && ledgerName(strings.TrimSuffix(n, ".lock"), 0):
			ledger := strings.TrimSuffix(path, ".lock")
			if _, err := os.Lstat(ledger); os.IsNotExist(err) && old(e, now) {
				removeLocked(ledger, func(fs.FileInfo) bool { return true })
			}
		}
	}
}

// ledgerName reports whether n is a ledger's name with a hash of hexLen
// digits (0: any length).
func ledgerName(n string, hexLen int) bool {
	rest, ok := strings.CutSuffix(strings.TrimPrefix(n, filePrefix), fileSuffix)
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || strings.Trim(rest[:i], "abcdefghijklmnopqrstuvwxyz") != "" {
		return false
	}
	h := rest[i+1:]
	return (hexLen == 0 || len(h) == hexLen) && h != "" && strings.Trim(h, "0123456789abcdef") == ""
}

func old(e fs.DirEntry, now time.Time) bool {
	info, err := e.Info()
	return err == nil && now.Sub(info.ModTime()) > orphanAfter
}

// stale reports whether the ledger at path, as st describes it, was last
// written longer ago than its window.
func stale(path string, st fs.FileInfo, now time.Time) bool {
	age := now.Sub(st.ModTime())
	if age > staleAfter {
		return true
	}
	data, err := safefile.ReadFile(path, fileRules)
	if err != nil {
		return false
	}
	var wms, sms int64
	_, rest, _ := strings.Cut(string(data), "\n")
	line, _, _ := strings.Cut(rest, "\n")
	if _, err := fmt.Sscanf(line, "window=%d slot=%d", &wms, &sms); err != nil || wms <= 0 {
		return false
	}
	return age > time.Duration(wms)*time.Millisecond
}

// removeLocked deletes the ledger at path and its lock file when isStale
// still says so under the ledger's lock, taken without waiting (a ledger
// in use is not stale).
func removeLocked(path string, isStale func(fs.FileInfo) bool) {
	lock, err := openLock(path)
	if err != nil {
		return
	}
	defer lock.Close()
	if !tryLockFile(lock) {
		return
	}
	defer unlockFile(lock)
	if !stillNamed(lock) {
		return
	}
	st, err := os.Lstat(path)
	switch {
	case os.IsNotExist(err):
	case err != nil || !st.Mode().IsRegular() || !isStale(st):
		return
	default:
		if os.Remove(path) != nil {
			return
		}
	}
	_ = os.Remove(lock.Name())
}
