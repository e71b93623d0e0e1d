package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// refusal fails the test unless err is an *Error of kind k.
func refusal(t *testing.T, err error, k Kind) *Error {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) || se.Kind != k {
		t.Fatalf("error = %v, want a refusal of kind %d", err, k)
	}
	return se
}

func write(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		rules Rules
		flag  int
		want  Kind
		text  string
	}{
		{"symlink", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "bundle"), "x", 0o644)
			p := filepath.Join(dir, "link")
			if err := os.Symlink("bundle", p); err != nil {
				t.Skip(err)
			}
			return p
		}, Rules{}, os.O_RDONLY, Symlink, `is a symbolic link (to "bundle")`},
		{"symlink to create through", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "x.lock")
			if err := os.Symlink(filepath.Join(dir, "elsewhere"), p); err != nil {
				t.Skip(err)
			}
			return p
		}, Rules{}, os.O_RDWR | os.O_CREATE, Symlink, "symbolic link"},
		{"directory", func(t *testing.T, dir string) string { return dir }, Rules{}, os.O_RDONLY, NotRegular, "is a directory, not a regular file"},
		{"hard link", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "imported-targets.log")
			write(t, p, "line\n", 0o644)
			if err := os.Link(p, filepath.Join(dir, ".bbimport.lock")); err != nil {
				t.Skip(err)
			}
			return filepath.Join(dir, ".bbimport.lock")
		}, Rules{}, os.O_RDWR | os.O_CREATE, HardLinked, "has 2 names (hard links)"},
		{"too large", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "sparse")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(6 << 30); err != nil { // sparse: no disk used
				t.Skip(err)
			}
			return p
		}, Rules{MaxSize: 32 << 10}, os.O_RDONLY, TooLarge, "is 6.0 GiB, over the 32 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := tt.setup(t, dir)
			f, err := Open(p, tt.flag, 0o666, tt.rules)
			if err == nil {
				f.Close()
			}
			se := refusal(t, err, tt.want)
			if !strings.Contains(se.Error(), tt.text) {
				t.Errorf("error %q, want %q in it", se, tt.text)
			}
		})
	}
}

func TestOpenWhatPasses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	write(t, bundle, "pem", 0o644)
	link := filepath.Join(dir, "ca.pem")
	if err := os.Symlink(bundle, link); err != nil {
		t.Skip(err)
	}
	if err := os.Link(bundle, filepath.Join(dir, "other-name.pem")); err != nil {
		t.Skip(err)
	}
	// A certificate bundle: through a link, under two names, read only.
	data, err := ReadFile(link, Rules{FollowLinks: true, SharedInode: true, MaxSize: 3})
	if err != nil || string(data) != "pem" {
		t.Fatalf("ReadFile = %q, %v", data, err)
	}
	// A new file is created, and opened again.
	p := filepath.Join(dir, "new.log")
	for range 2 {
		f, err := Open(p, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666, Rules{})
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("x")
		f.Close()
	}
	if b, _ := os.ReadFile(p); string(b) != "xx" {
		t.Errorf("content %q", b)
	}
	if _, err := Open(p, os.O_RDWR|os.O_TRUNC, 0, Rules{}); !errors.Is(err, errTruncate) {
		t.Errorf("O_TRUNC: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), Rules{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestPublish(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	created, err := Publish(p, []byte("first"), 0o600)
	if err != nil || !created {
		t.Fatalf("Publish = %v, %v", created, err)
	}
	created, err = Publish(p, []byte("second"), 0o600)
	if err != nil || created {
		t.Fatalf("second Publish = %v, %v; want false, nil", created, err)
	}
	if b, err := ReadFile(p, Rules{Private: true}); err != nil || string(b) != "first" {
		t.Errorf("content %q, %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	// A planted link at the name is not written through.
	planted := filepath.Join(dir, "planted")
	if err := os.Symlink(filepath.Join(dir, "outside"), planted); err != nil {
		t.Skip(err)
	}
	if created, err := Publish(planted, []byte("k"), 0o600); created || err != nil {
		t.Errorf("Publish over a link = %v, %v", created, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "outside")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Publish wrote through a link: %v", err)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{12: "12 bytes", 32 << 10: "32 KiB", 1536: "1.5 KiB", 16 << 20: "16 MiB", 6 << 30: "6.0 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMkdir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "summaries")
	for range 2 {
		if err := Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "linked")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Skip(err)
	}
	refusal(t, Mkdir(link, 0o755), Symlink)
	file := filepath.Join(dir, "file")
	write(t, file, "x", 0o644)
	if se := refusal(t, Mkdir(file, 0o755), NotDirectory); !strings.HasSuffix(se.Error(), "is a file, not a directory") {
		t.Errorf("%q", se)
	}
}
