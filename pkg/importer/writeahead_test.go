package importer

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bbimport/bbimport/pkg/importfiles"
)

// readOnlyOpen refuses every file like a read-only file system.
func readOnlyOpen(path string, flag int) (importfiles.LogHandle, error) {
	return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EROFS}
}

// sizeCapOpen opens files whose size cannot pass limit bytes, as under
// `ulimit -f` (a write is cut there and fails with EFBIG).
func sizeCapOpen(limit int64) importfiles.OpenFunc {
	return func(path string, flag int) (importfiles.LogHandle, error) {
		f, err := importfiles.OpenNoFollow(path, flag)
		if err != nil {
			return nil, err
		}
		return &capFile{File: f.(*os.File), limit: limit}, nil
	}
}

type capFile struct {
	*os.File
	limit int64
}

func (f *capFile) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= f.limit {
		return f.File.WriteAt(p, off)
	}
	n := 0
	if room := f.limit - off; room > 0 {
		n, _ = f.File.WriteAt(p[:room], off)
	}
	return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.EFBIG}
}

func (f *capFile) Write(p []byte) (int, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size()+int64(len(p)) <= f.limit {
		return f.File.Write(p)
	}
	n := 0
	if room := f.limit - st.Size(); room > 0 {
		n, _ = f.File.Write(p[:room])
	}
	return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.EFBIG}
}

// A read-only log directory sent all 155 targets and recorded none.
func TestImportUnwritableLogDirSendsNothing(t *testing.T) {
	t.Parallel()
	e := newImpEnv(t, impRows(5)...)
	opts := e.opts()
	opts.openFile = readOnlyOpen
	res, err := Import(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), "the log directory "+e.logPath+" cannot be written, so nothing was sent to Snyk") ||
		!strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("error = %v; want one naming the directory and the cause", err)
	}
	if res != nil {
		t.Errorf("result = %+v; want nil", res)
	}
	if n := e.fake.importCalls(); n != 0 {
		t.Errorf("%d imports sent; want 0", n)
	}
}

func TestImportReadOnlyLogDirSendsNothing(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories; TestImportUnwritableLogDirSendsNothing covers it")
	}
	e := newImpEnv(t, impRows(5)...)
	if err := os.MkdirAll(e.logPath, 0o555); err != nil {
		t.Fatal(err)
	}
	_, err := Import(t.Context(), e.opts())
	if err == nil || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("error = %v", err)
	}
	if n := e.fake.importCalls(); n != 0 {
		t.Errorf("%d imports sent; want 0", n)
	}
}

// A full disk: 155 sent, 33 recorded, 122 imported again by the next run.
// Now every import sent is recorded, the run stops at the first failed
// write saying where and why, and the re-run sends each of the others once.
func TestImportFullDiskRecordsEverySentImport(t *testing.T) {
	t.Parallel()
	const targets = 40
	// A "requested" line is ~330 bytes, its reservation ~590.
	for _, limit := range []int64{0, 100, 600, 1500, 4000, 9000} {
		e := newImpEnv(t, impRows(targets)...)
		opts := e.opts()
		opts.openFile = sizeCapOpen(limit)
		res, err := Import(t.Context(), opts)
		if err == nil || !strings.Contains(err.Error(), "stopped starting imports after the resume log in "+e.logPath+" could not be written") ||
			!strings.Contains(err.Error(), "file too large") {
			t.Fatalf("limit %d: error = %v; want the stop naming the directory and the cause", limit, err)
		}
		logPath := filepath.Join(e.logPath, importfiles.ImportedTargetsLog)
		resume, lerr := importfiles.LoadResumeLog(logPath)
		if lerr != nil {
			t.Fatal(lerr)
		}
		if resume.Malformed != 0 {
			t.Errorf("limit %d: %d malformed resume lines", limit, resume.Malformed)
		}
		sent := e.fake.importedNames()
		t.Logf("limit %d: %d sent before the stop", limit, len(sent))
		if resume.Len() != len(sent) {
			t.Errorf("limit %d: %d imports sent, %d recorded; want all recorded", limit, len(sent), resume.Len())
		}
		if res.KickedOff != len(sent) || res.NotStarted != targets-len(sent) {
			t.Errorf("limit %d: kicked off %d, not started %d; want %d, %d", limit, res.KickedOff, res.NotStarted, len(sent), targets-len(sent))
		}
		if data, _ := os.ReadFile(logPath); bytes.Contains(data, []byte("\n\n")) {
			t.Errorf("limit %d: blank lines left in the resume log", limit)
		}

		// The disk has room again: the re-run sends exactly the others.
		opts.openFile = nil
		if _, err := Import(t.Context(), opts); err != nil {
			t.Fatalf("limit %d: re-run: %v", limit, err)
		}
		count := map[string]int{}
		for _, n := range e.fake.importedNames() {
			count[n]++
		}
		if len(count) != targets {
			t.Errorf("limit %d: %d targets imported over both runs; want %d", limit, len(count), targets)
		}
		for n, c := range count {
			if c != 1 {
				t.Errorf("limit %d: %s imported %d times", limit, n, c)
			}
		}
	}
}

// A killed run leaves the unused pool as newlines; the next open trims it
// and finishes a half-written line.
func TestAheadLogOpenTrimsAKilledRunsTail(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ before, after string }{
		{"", ""},
		{"\n\n\n", ""},
		{"{\"a\":1}\n\n\n\n", "{\"a\":1}\n{\"b\":2}\n"},
		{"{\"a\":1}\n{\"half", "{\"a\":1}\n{\"half\n{\"b\":2}\n"},
		{"{\"a\":\"é\"}", "{\"a\":\"é\"}\n{\"b\":2}\n"},
	} {
		path := filepath.Join(t.TempDir(), "x.log")
		if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := importfiles.OpenAheadLog(nil, path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := l.Reserve(100)
		if err != nil {
			t.Fatal(err)
		}
		if tt.after != "" {
			if err := l.Fill(s, []byte("{\"b\":2}\n")); err != nil {
				t.Fatal(err)
			}
		} else {
			l.Release(s)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != tt.after {
			t.Errorf("%q: file %q; want %q", tt.before, got, tt.after)
		}
	}
}

// After a failed reservation every later one fails with the same error,
// while room reserved before it is still filled.
func TestAheadLogFailureIsSticky(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.log")
	l, err := importfiles.OpenAheadLog(sizeCapOpen(150), path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	first, err := l.Reserve(100)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Reserve(100)
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("second reservation: %v; want EFBIG", err)
	}
	if _, again := l.Reserve(1); again == nil || again.Error() != err.Error() {
		t.Errorf("third reservation: %v; want the first failure again", again)
	}
	if err := l.Fill(first, []byte(strings.Repeat("x", 99)+"\n")); err != nil {
		t.Errorf("filling room reserved before the failure: %v", err)
	}
}
