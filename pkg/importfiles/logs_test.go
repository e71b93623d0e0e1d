package importfiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLogFilesConcurrentWholeLines(t *testing.T) {
	dir := t.TempDir()
	l := NewLogFiles(dir, "h", 7, func() time.Time { return time.Unix(0, 0) })
	const workers, perWorker = 16, 40
	big := strings.Repeat("x", 8<<10) // lines larger than a pipe buffer still land whole
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				name := "a.log"
				if i%2 == 1 {
					name = "b.log"
				}
				if err := l.Write(name, LevelInfo, "m", LogField{Key: "w", Value: w}, LogField{Key: "i", Value: i}, LogField{Key: "big", Value: big}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(l.files) != 2 {
		t.Errorf("%d files open, want 2 (one handle per file)", len(l.files))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Write("a.log", LevelInfo, "late"); !errors.Is(err, errLogsClosed) {
		t.Errorf("write after Close: %v", err)
	}
	total := 0
	for _, name := range []string{"a.log", "b.log"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		for _, line := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: torn line (%d bytes): %v", name, len(line), err)
			}
		}
		total += len(lines)
	}
	if total != workers*perWorker {
		t.Errorf("%d lines, want %d", total, workers*perWorker)
	}
}

func TestLogFilesAppendAndEnvelope(t *testing.T) {
	dir := t.TempDir()
	writeImpFile(t, dir, "x.log", "old line\n")
	l := NewLogFiles(dir, "host-1", 42, func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC) })
	if err := l.Write("x.log", LevelError, "Failed <&>", LogField{Key: "url", Value: "https://a/b?c=1&d=2"}, LogField{Key: "n", Value: nil}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "x.log"))
	want := "old line\n" +
		`{"name":"snyk:import-projects-script","hostname":"host-1","pid":42,"level":50,"url":"https://a/b?c=1&d=2","n":null,"msg":"Failed <&>","time":"2024-01-02T03:04:05.006Z","v":0}` + "\n"
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
}

func TestLogFilesDefaults(t *testing.T) {
	l := NewLogFiles(t.TempDir(), "", 0, nil)
	host, _ := os.Hostname()
	if l.hostname != host || l.pid != os.Getpid() || l.now == nil {
		t.Errorf("defaults: %q %d", l.hostname, l.pid)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLogFilesOpenError(t *testing.T) {
	dir := t.TempDir()
	l := NewLogFiles(filepath.Join(dir, "missing", "dir"), "h", 1, nil)
	defer l.Close()
	err := l.Write("a.log", LevelInfo, "m")
	if err == nil || !strings.Contains(err.Error(), "a.log") {
		t.Errorf("error = %v", err)
	}
}

func TestImportBunyanTime(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2020, 10, 26, 14, 53, 20, 234e6, time.UTC), "2020-10-26T14:53:20.234Z"},
		{time.Date(2020, 10, 26, 14, 53, 20, 0, time.FixedZone("CET", 3600)), "2020-10-26T13:53:20.000Z"},
		{time.Date(2020, 1, 1, 0, 0, 0, 999999999, time.UTC), "2020-01-01T00:00:00.999Z"},
	} {
		if got := bunyanTime(tc.t); got != tc.want {
			t.Errorf("bunyanTime(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
	_ = fmt.Sprint()
}
