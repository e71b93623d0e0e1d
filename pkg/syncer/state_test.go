package syncer

import (
	"os"
	"strings"
	"testing"
)

// A state file is input like any other: keys written twice are an error
// naming the key, and a FIFO or a link planted in its place is refused
// rather than read.
func TestLoadStateUntrusted(t *testing.T) {
	t.Parallel()
	for name, plant := range map[string]func(path string) error{
		"duplicate key": func(p string) error {
			return os.WriteFile(p, []byte(`{"version":1,"orgId":"o","repositories":{},"orgId":"p"}`), 0o644)
		},
		"symlink": func(p string) error { return os.Symlink("/etc/hostname", p) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := plant(StatePath(dir, "o")); err != nil {
				t.Skip(err)
			}
			if _, err := LoadState(dir, "o"); err == nil || !strings.Contains(err.Error(), map[string]string{"duplicate key": `duplicate key "orgId"`, "symlink": "symbolic link"}[name]) {
				t.Errorf("LoadState: %v", err)
			}
		})
	}
}
