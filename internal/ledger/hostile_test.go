package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/safefile"
)

// slotLine is a ledger line for the slot of t in an hour's window.
func slotLine(t time.Time, count string) string {
	return strconv.FormatInt(NewWindow(time.Hour).slotOf(t), 10) + " " + count + "\n"
}

const hourHead = header + "\nwindow=3600000 slot=6000\n"

// Counts a stranger wrote are corruption, whatever they would make the
// budget do: a sum that wraps negative admitted without end (6 requests at a
// limit of 2/h), a count of 10^12 parked the run for an hour.
func TestFileCountsAreUntrusted(t *testing.T) {
	t.Parallel()
	now := time.Now()
	big := strconv.FormatInt(1<<62, 10)
	tests := []struct {
		name    string
		max     int
		content string
		want    string
	}{
		{"sum past 2^63", 2, hourHead + slotLine(now, big) + slotLine(now.Add(-time.Minute), big) + slotLine(now.Add(-2*time.Minute), big), "requests in one slot, over the limit of 2"},
		{"sum past 2^63, no limit known", 0, hourHead + slotLine(now, big) + slotLine(now.Add(-time.Minute), big), "over the limit of 2147483647"},
		{"a count of 10^12", 1000, hourHead + slotLine(now, "1000000000000"), "1000000000000 requests in one slot, over the limit of 1000"},
		{"counts over the limit together", 1000, hourHead + slotLine(now, "600") + slotLine(now.Add(-time.Minute), "600"), "1200 requests in the window, over the limit of 1000"},
		{"a negative count", 1000, hourHead + slotLine(now, "-5"), "is not a slot and a count"},
		{"a slot twice", 1000, hourHead + slotLine(now, "1") + slotLine(now, "1"), "appears twice"},
		{"not a slot start", 1000, hourHead + "1234 1\n", "is not a slot and a count"},
		{"a slot in the future", 1000, hourHead + slotLine(now.Add(2*time.Hour), "1"), "in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Open(t.TempDir(), "bitbucket", "consumer", time.Hour, Max(tt.max))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := os.WriteFile(f.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			ok, used, _, err := f.Admit(now, max(tt.max, 2))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Admit = %v, used %d, %v; want an error saying %q", ok, used, err, tt.want)
			}
			if !errors.Is(err, errCorrupt) && !errors.Is(err, errFuture) {
				t.Errorf("%v is neither corrupt nor from the future", err)
			}
			if _, err := f.Used(now); err == nil {
				t.Error("Used trusted the file")
			}
		})
	}
}

// A ledger that is not a small regular file of this user's is refused at
// once: a FIFO hung the run, /dev/zero and a 6 GB sparse file ran it out of
// memory.
func TestFileRefusesWhatIsNotALedger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		plant func(t *testing.T, path string)
		kind  safefile.Kind
	}{
		{"symlink to /dev/zero", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Skip(err)
			}
		}, safefile.Symlink},
		{"6 GB sparse file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 6<<30); err != nil {
				t.Skip(err)
			}
		}, safefile.TooLarge},
		{"hard link", func(t *testing.T, path string) {
			other := filepath.Join(filepath.Dir(path), "imported-targets.log")
			if err := os.WriteFile(other, []byte(hourHead), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(other, path); err != nil {
				t.Skip(err)
			}
		}, safefile.HardLinked},
		{"open to others", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(hourHead), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o666); err != nil {
				t.Fatal(err)
			}
		}, safefile.OpenToOthers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Open(t.TempDir(), "snyk", "token owner", time.Minute, Max(1500))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tt.plant(t, f.Path())
			_, _, _, err = f.Admit(time.Now(), 1500)
			var refused *safefile.Error
			if !errors.As(err, &refused) || refused.Kind != tt.kind {
				t.Fatalf("Admit: %v; want a refusal of kind %d", err, tt.kind)
			}
		})
	}
}

// A lock file planted as a link is not created through: nothing appears
// outside the state directory.
func TestOpenRefusesALinkedLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Open(dir, "bitbucket", "consumer", time.Hour, Max(10))
	if err != nil {
		t.Fatal(err)
	}
	path := f.Path()
	f.Close()
	os.Remove(path + ".lock")
	outside := filepath.Join(t.TempDir(), "created-outside")
	if err := os.Symlink(outside, path+".lock"); err != nil {
		t.Skip(err)
	}
	if _, err := Open(dir, "bitbucket", "consumer", time.Hour, Max(10)); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Open: %v; want the link refused", err)
	}
	if _, err := os.Lstat(outside); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was created through the link: %v", err)
	}
}

// The name is a keyed hash: the same identity in another state directory
// (another key) gets another name, no name is the old unkeyed hash, and the
// key is this user's alone.
func TestNameIsKeyed(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	names := map[string]string{}
	for _, dir := range []string{a, a, b} {
		f, err := Open(dir, "snyk", "ab", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if prev, ok := names[dir]; ok && prev != filepath.Base(f.Path()) {
			t.Errorf("the same directory named the ledger %s, then %s", prev, f.Path())
		}
		names[dir] = filepath.Base(f.Path())
	}
	if names[a] == names[b] {
		t.Errorf("two keys gave one name %s", names[a])
	}
	sum := sha256.Sum256([]byte("snyk\x00ab\x00" + strconv.FormatInt(time.Minute.Milliseconds(), 10)))
	for _, n := range names {
		if strings.Contains(n, hex.EncodeToString(sum[:8])) {
			t.Errorf("%s is the unkeyed hash of the identity", n)
		}
	}
	st, err := os.Stat(filepath.Join(a, KeyFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key %v, %v; want mode 0600", st, err)
	}
}

// A key that is not this user's private key is refused, not used: whoever
// planted it could hash guesses with it.
func TestOpenRefusesABadKey(t *testing.T) {
	t.Parallel()
	for name, plant := range map[string]func(path string) error{
		"readable by others": func(p string) error {
			if err := os.WriteFile(p, []byte(strings.Repeat("A", 52)+"\n"), 0o600); err != nil {
				return err
			}
			return os.Chmod(p, 0o644)
		},
		"not a key":   func(p string) error { return os.WriteFile(p, []byte("hello\n"), 0o600) },
		"a symlink":   func(p string) error { return os.Symlink("/etc/hostname", p) },
		"a directory": func(p string) error { return os.Mkdir(p, 0o700) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := plant(filepath.Join(dir, KeyFileName)); err != nil {
				t.Skip(err)
			}
			if f, err := Open(dir, "snyk", "ab", time.Minute); err == nil {
				f.Close()
				t.Fatal("Open used the key")
			}
		})
	}
}

// Opening a ledger deletes the state directory's stale files: ledgers
// whose last write left their window, ledgers named the old unkeyed way,
// lock files of ledgers long gone and temporary files of crashed writes.
// A fresh ledger, one in use, and other files stay.
func TestOpenPrunesStaleFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	// Ledgers of other identities, written by earlier runs.
	mk := func(identity string, window time.Duration, age time.Duration) string {
		f, err := Open(dir, "snyk", identity, window)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, _, _, err := f.Admit(now.Add(-age), 10); err != nil {
			t.Fatal(err)
		}
		back := now.Add(-age)
		os.Chtimes(f.Path(), back, back)
		return filepath.Base(f.Path())
	}
	fresh := mk("fresh", time.Hour, 10*time.Minute)
	minuteOld := mk("rotated", time.Minute, 2*time.Minute)
	dayOld := mk("day", time.Hour, 26*time.Hour)
	inUse := mk("in use", time.Minute, 5*time.Minute)
	user, err := Open(dir, "snyk", "in use", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	if !tryLockFile(user.lock) {
		t.Skip("no file locks here")
	}
	plant := func(name string, age time.Duration) {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o600)
		back := now.Add(-age)
		os.Chtimes(p, back, back)
	}
	legacy := "bbimport-snyk-0123456789abcdef.ledger"
	plant(legacy, time.Minute)
	orphan := "bbimport-bitbucket-" + strings.Repeat("ab", 16) + ".ledger.lock"
	plant(orphan, 2*time.Hour)
	crashed := "." + fresh + ".tmp-abcdefghij"
	plant(crashed, 2*time.Hour)
	plant("imported-targets.log", 48*time.Hour)

	f, err := Open(dir, "snyk", "this run", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unlockFile(user.lock)
	exists := func(n string) bool { _, err := os.Lstat(filepath.Join(dir, n)); return err == nil }
	for _, n := range []string{fresh, fresh + ".lock", inUse, inUse + ".lock", "imported-targets.log", KeyFileName} {
		if !exists(n) {
			t.Errorf("%s was deleted", n)
		}
	}
	for _, n := range []string{minuteOld, minuteOld + ".lock", dayOld, legacy, legacy + ".lock", orphan, crashed} {
		if exists(n) {
			t.Errorf("%s was kept", n)
		}
	}
}

// A process whose lock file was deleted by a pruning process (its ledger
// looked stale there) locks the file the directory names from then on,
// so it and every later process still exclude each other.
func TestLockFollowsAReplacedLockFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Open(dir, "bitbucket", "consumer", time.Hour, Max(10))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(f.Path() + ".lock"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.Admit(time.Now(), 10); err != nil {
		if strings.Contains(err.Error(), "no file locking") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if !stillNamed(f.lock) {
		t.Error("the ledger still locks a deleted lock file")
	}
}
