package ledger

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWindowAdmit(t *testing.T) {
	t.Parallel()
	w := NewWindow(time.Hour)
	start := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, used, _ := w.Admit(start.Add(time.Duration(i)*time.Minute), 3); !ok || used != i {
			t.Fatalf("request %d refused (used %d)", i, used)
		}
	}
	ok, used, next := w.Admit(start.Add(10*time.Minute), 3)
	if ok || used != 3 {
		t.Fatalf("4th admitted: ok %v used %d", ok, used)
	}
	// The first request's slot (6 s) leaves the window an hour after it ends.
	if want := start.Add(time.Hour + 6*time.Second); !next.Equal(want) {
		t.Errorf("next = %s, want %s", next, want)
	}
	if ok, _, _ := w.Admit(next, 3); !ok {
		t.Error("refused at the announced time")
	}
	if n := len(w.counts); n > Slots+1 {
		t.Errorf("%d slots kept", n)
	}
}

func TestFileSharedByManyWriters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const limit = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 4 {
		// Independent Files on the same directory stand for processes:
		// each has its own lock file descriptor, so only flock excludes them.
		f, err := Open(dir, "bitbucket", "consumer-key", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		wg.Go(func() {
			for range 40 {
				ok, _, _, err := f.Admit(time.Now(), limit)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					admitted++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if admitted != limit {
		t.Errorf("admitted %d, want exactly %d", admitted, limit)
	}
	f, _ := Open(dir, "bitbucket", "consumer-key", time.Hour)
	defer f.Close()
	if n, err := f.Used(time.Now()); err != nil || n != limit {
		t.Errorf("Used = %d, %v", n, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "consumer-key") || strings.Contains(e.Name(), ".tmp") {
			t.Errorf("state dir holds %s", e.Name())
		}
	}
}

func TestFileUnusable(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"corrupt", "not a ledger\n", "not a bbimport request ledger"},
		{"bad line", header + "\nwindow=3600000 slot=6000\n12 abc\n", "is not a slot and a count"},
		{"truncated", header + "\n", "truncated"},
		{"future", header + "\nwindow=3600000 slot=6000\n" + futureSlot(now) + " 5\n", "in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := Open(dir, "snyk", "tok", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := os.WriteFile(f.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, _, err = f.Admit(now, 10)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if tt.name == "future" && !errors.Is(err, errFuture) {
				t.Errorf("not errFuture: %v", err)
			}
		})
	}
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes to read-only directories")
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if _, err := Open(dir, "snyk", "tok", time.Hour); err == nil {
			t.Fatal("Open succeeded in a read-only directory")
		}
	})
	t.Run("unwritable ledger", func(t *testing.T) {
		// Even root cannot rename a file over a non-empty directory.
		dir := t.TempDir()
		f, err := Open(dir, "snyk", "tok", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := os.MkdirAll(filepath.Join(f.Path(), "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := f.Admit(now, 10); err == nil {
			t.Fatal("Admit succeeded on an unwritable ledger")
		}
	})
}

func futureSlot(now time.Time) string {
	w := NewWindow(time.Hour)
	return strconv.FormatInt(w.slotOf(now.Add(2*time.Hour)), 10)
}

func TestOtherWindowStartsAfresh(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, _ := Open(dir, "snyk", "tok", time.Hour)
	defer f.Close()
	os.WriteFile(f.Path(), []byte(header+"\nwindow=60000 slot=100\n0 5\n"), 0o600)
	if n, err := f.Used(time.Now()); err != nil || n != 0 {
		t.Errorf("Used = %d, %v", n, err)
	}
}

func TestFileKeptPerWindow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	hour, err := Open(dir, "bitbucket", "consumer-key", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hour.Close() })
	longer, err := Open(dir, "bitbucket", "consumer-key", time.Hour+36*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { longer.Close() })
	if hour.Path() == longer.Path() {
		t.Fatalf("two windows share %s: each would replace the other's counts", hour.Path())
	}
	for range 3 {
		if _, _, _, err := hour.Admit(now, 10); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, err := longer.Admit(now, 10); err != nil {
		t.Fatal(err)
	}
	if n, err := hour.Used(now); err != nil || n != 3 {
		t.Errorf("the hour's ledger counts %d (%v) after the other window's admission, want 3", n, err)
	}
}

func TestFileEmptyIsAFreshCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Open(dir, "snyk", "token", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	// What a machine crash can leave after the unsynced rename.
	if err := os.WriteFile(f.Path(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, used, _, err := f.Admit(time.Now(), 5); err != nil || !ok || used != 0 {
		t.Errorf("Admit on an empty ledger = %v, %d, %v; want admitted as a fresh count", ok, used, err)
	}
}

// TestFileTakesBlocks: one process admitting 3,000 requests at a steady pace
// under a limit of 100,000 a minute reads and writes the file a few dozen
// times, not once a request; what its last block has left is given back at
// Close, so the file then counts exactly what was sent.
func TestFileTakesBlocks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Open(dir, "snyk", "token", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Close gives back on the real clock: the test's times are near it.
	start := time.Now()
	const n = 3000
	for i := range n {
		// 3,000 requests in 3 s.
		if ok, _, _, err := f.Admit(start.Add(time.Duration(i)*time.Millisecond), 100_000); !ok || err != nil {
			t.Fatalf("request %d: %v, %v", i, ok, err)
		}
	}
	if f.syncs > n/20 {
		t.Errorf("%d syncs for %d requests: the file is not taken in blocks", f.syncs, n)
	}
	end := start.Add(n * time.Millisecond)
	if used, err := f.Used(end); err != nil || used != n {
		t.Errorf("Used = %d, %v; want %d (the unsent block left out)", used, err, n)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := Open(dir, "snyk", "token", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if used, err := g.Used(end); err != nil || used != n {
		t.Errorf("after Close the file counts %d, %v; want %d", used, err, n)
	}
}

// TestFileBlocksNeverExceedTogether: three processes taking blocks from one
// file at a limit of 300 admit exactly 300 together, each until the file
// refuses it; a block never lets one process hold back what another could
// use for long, and never lets them together past the limit.
func TestFileBlocksNeverExceedTogether(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const limit = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	var files []*File
	for range 3 {
		f, err := Open(dir, "snyk", "token", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		wg.Go(func() {
			for range 10 * limit {
				ok, _, _, err := f.Admit(time.Now(), limit)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != limit {
		t.Errorf("admitted %d together, want exactly %d", admitted, limit)
	}
	for _, f := range files {
		f.Close()
	}
	g, _ := Open(dir, "snyk", "token", time.Minute)
	defer g.Close()
	if used, err := g.Used(time.Now()); err != nil || used != limit {
		t.Errorf("the file counts %d, %v; want %d", used, err, limit)
	}
}

// TestFileGivesBackAnExpiredBlock: a block's requests may be sent only
// within its time; what is left when it expires is given back at the next
// sync, so it stops counting against the other processes.
func TestFileGivesBackAnExpiredBlock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := Open(dir, "snyk", "token", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	// A quick pace first, so the blocks grow past one request.
	for i := range 200 {
		f.Admit(t0.Add(time.Duration(i)*time.Millisecond), 10_000)
	}
	if f.claim.left == 0 {
		t.Fatalf("no block held after 200 quick requests")
	}
	left := f.claim.left
	later := f.claim.until.Add(time.Millisecond)
	other, _ := Open(dir, "snyk", "token", time.Minute)
	defer other.Close()
	if used, _ := other.Used(t0.Add(200 * time.Millisecond)); used != 200+left {
		t.Errorf("another process sees %d, want the 200 sent and the %d of the block", used, left)
	}
	if ok, _, _, err := f.Admit(later, 10_000); !ok || err != nil {
		t.Fatalf("Admit after the block expired: %v, %v", ok, err)
	}
	// The expired block was given back; a new one was taken. (A third
	// process reads the file: other's count of a moment ago is an estimate.)
	third, _ := Open(dir, "snyk", "token", time.Minute)
	defer third.Close()
	if used, _ := third.Used(later); used != 201+f.claim.left {
		t.Errorf("after the expired block: another process sees %d, want %d", used, 201+f.claim.left)
	}
}

// TestFileCeilingIsTheMostAnyRunHolds: runs with different limits share a
// ledger (another setting, or a limit a server raised): a count above this
// run's limit but within the ceiling (the most any run could hold) is a
// budget spent, not corruption; above the ceiling it is corruption.
func TestFileCeilingIsTheMostAnyRunHolds(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dir := t.TempDir()
	high, err := Open(dir, "bitbucket", "consumer", time.Hour, Max(10_000))
	if err != nil {
		t.Fatal(err)
	}
	defer high.Close()
	// A run allowed 5,000 an hour (a raised limit) sends 3,000.
	for i := range 3000 {
		if ok, _, _, err := high.Admit(now, 5000); !ok || err != nil {
			t.Fatalf("request %d: %v, %v", i, ok, err)
		}
	}
	if err := high.Close(); err != nil {
		t.Fatal(err)
	}
	low, err := Open(dir, "bitbucket", "consumer", time.Hour, Max(10_000))
	if err != nil {
		t.Fatal(err)
	}
	defer low.Close()
	ok, used, next, err := low.Admit(now, 1000)
	if err != nil || ok || used != 3000 || next.IsZero() {
		t.Errorf("a run of 1,000 an hour after 3,000 sent: ok %v, used %d, next %v, %v; want a wait, no error", ok, used, next, err)
	}
	strict, err := Open(dir, "bitbucket", "consumer", time.Hour, Max(2000))
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	if _, _, _, err := strict.Admit(now, 1000); err == nil || !strings.Contains(err.Error(), "over the limit of 2000") {
		t.Errorf("3,000 under a ceiling of 2,000: %v, want corruption", err)
	}
}
