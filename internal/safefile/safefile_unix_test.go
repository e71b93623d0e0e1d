//go:build unix

package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO or a device is refused at once: opening a FIFO to read blocks until
// a writer comes, and /dev/zero never ends.
func TestOpenRefusesFIFOAndDevices(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ledger")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path  string
		rules Rules
		kind  Kind
		text  string
	}{
		{fifo, Rules{}, NotRegular, "is a named pipe (FIFO), not a regular file"},
		{fifo, Rules{FollowLinks: true}, NotRegular, "named pipe"},
		{zero, Rules{}, Symlink, `(to "/dev/zero")`},
		{zero, Rules{FollowLinks: true, MaxSize: 1 << 20}, NotRegular, "is a character device"},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(tt.path, tt.rules); done <- err }()
		select {
		case err := <-done:
			if se := refusal(t, err, tt.kind); !strings.Contains(se.Error(), tt.text) {
				t.Errorf("%s: %q, want %q", tt.path, se, tt.text)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadFile(%s) still blocked after 10 s", tt.path)
		}
	}
}

func TestPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "ledger")
	write(t, p, "x", 0o600)
	if _, err := ReadFile(p, Rules{Private: true}); err != nil {
		t.Fatalf("own 0600 file refused: %v", err)
	}
	write(t, p, "x", 0o644)
	refusal(t, func() error { _, err := ReadFile(p, Rules{Private: true}); return err }(), OpenToOthers)
	if _, err := ReadFile(p, Rules{}); err != nil {
		t.Errorf("a log need not be private: %v", err)
	}
	if os.Geteuid() != 0 {
		return
	}
	write(t, p, "x", 0o600)
	if err := os.Chown(p, 4242, 4242); err != nil {
		t.Skip(err)
	}
	se := refusal(t, func() error { _, err := ReadFile(p, Rules{Private: true}); return err }(), NotOwned)
	if !strings.Contains(se.Error(), "belongs to user 4242") {
		t.Errorf("%q", se)
	}
}
