//go:build unix

package importfiles

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Generated files were 0644 whatever the umask (logs honoured it). Not
// parallel: the umask belongs to the whole process.
func TestFilesHonourUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()

	summary := filepath.Join(dir, "x-summary.json")
	if err := WriteFileAtomic(summary, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err }); err != nil {
		t.Fatal(err)
	}
	logs := NewLogFiles(dir, "h", 1, nil)
	if err := logs.Write("x.log", LevelInfo, "m"); err != nil {
		t.Fatal(err)
	}
	logs.Close()
	for _, p := range []string{summary, filepath.Join(dir, "x.log")} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %o; want 600 under umask 077", filepath.Base(p), got)
		}
	}
	syscall.Umask(0o022)
	if err := WriteFileAtomic(summary, func(w io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(summary); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %o; want 644 under umask 022", st.Mode().Perm())
	}
}
