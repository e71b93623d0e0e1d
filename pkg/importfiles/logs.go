package importfiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Log files of `import` and `list:imported`, in the log directory. Per-org
// files are named `<orgId>` + the suffix.
const (
	ImportedTargetsLog  = "imported-targets.log"
	ImportJobResultsLog = "import-job-results.log"

	ImportJobsLogSuffix       = ".import-jobs.log"
	FailedImportsLogSuffix    = ".failed-imports.log"
	ImportedProjectsLogSuffix = ".imported-projects.log"
	FailedProjectsLogSuffix   = ".failed-projects.log"
	FailedPollsLogSuffix      = ".failed-polls.log"
)

// importLoggerName is the bunyan logger name the original writes in every
// import log line.
const importLoggerName = "snyk:import-projects-script"

// Bunyan levels.
const (
	LevelInfo  = 30
	LevelError = 50
)

// LogField is one record field of a log line, written in order.
type LogField struct {
	Key   string
	Value any
}

// LogFiles writes JSON-lines logs in the original's bunyan envelope
// (`name, hostname, pid, level, <fields>, msg, time, v`). Each file is opened
// once, in append mode, on its first line, and stays open until Close. Each
// line is one Write of a whole line to an unbuffered file, so it is on disk
// (in the page cache) as soon as write returns and lines of concurrent
// workers never interleave. Set the exported fields before the first
// line; then it is safe for concurrent use.
type LogFiles struct {
	// Logger is the bunyan logger name of every line (default the
	// original import script's; sync writes its own).
	Logger string
	// Open opens the files (nil: OpenNoFollow); tests make it fail.
	Open OpenFunc
	// Redact, if set, scrubs each line of every file but the resume log
	// (whose target fields must stay exact; its callers scrub its
	// errorMessage).
	Redact func(string) string

	dir      string
	hostname string
	pid      int
	now      func() time.Time

	mu     sync.Mutex
	files  map[string]*logFile
	closed bool
}

type logFile struct {
	mu sync.Mutex
	f  LogHandle
}

// NewLogFiles writes into dir with the import script's logger name; the
// hostname, pid and clock default to the process's. It opens nothing until a
// file's first line.
func NewLogFiles(dir, hostname string, pid int, now func() time.Time) *LogFiles {
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	if pid == 0 {
		pid = os.Getpid()
	}
	if now == nil {
		now = time.Now
	}
	return &LogFiles{dir: dir, Logger: importLoggerName, hostname: hostname, pid: pid, now: now, files: make(map[string]*logFile)}
}

var errLogsClosed = errors.New("log files already closed")

func (l *LogFiles) file(name string) (*logFile, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, errLogsClosed
	}
	if lf, ok := l.files[name]; ok {
		return lf, nil
	}
	f, err := l.Open.open(filepath.Join(l.dir, name), os.O_RDWR|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if err := endWithNewline(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	lf := &logFile{f: f}
	l.files[name] = lf
	return lf, nil
}

// Write appends one line to the named file.
func (l *LogFiles) Write(name string, level int, msg string, fields ...LogField) error {
	line, err := l.line(level, msg, fields)
	if err != nil {
		return fmt.Errorf("log %s: %w", name, err)
	}
	return l.WriteLine(name, line)
}

// WriteLine appends a rendered line to the named file.
func (l *LogFiles) WriteLine(name string, line []byte) error {
	if l.Redact != nil && name != ImportedTargetsLog {
		line = []byte(l.Redact(string(line)))
	}
	lf, err := l.file(name)
	if err != nil {
		return fmt.Errorf("log %s: %w", name, err)
	}
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if _, err := lf.f.Write(line); err != nil {
		return fmt.Errorf("log %s: %w", name, err)
	}
	return nil
}

// line renders one bunyan line, newline included.
func (l *LogFiles) line(level int, msg string, fields []LogField) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(256)
	b.WriteString(`{"name":`)
	writeJSONValue(&b, l.Logger)
	b.WriteString(`,"hostname":`)
	writeJSONValue(&b, l.hostname)
	b.WriteString(`,"pid":`)
	b.WriteString(strconv.Itoa(l.pid))
	b.WriteString(`,"level":`)
	b.WriteString(strconv.Itoa(level))
	for _, f := range fields {
		b.WriteByte(',')
		writeJSONValue(&b, f.Key)
		b.WriteByte(':')
		if err := writeJSONValue(&b, f.Value); err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Key, err)
		}
	}
	b.WriteString(`,"msg":`)
	writeJSONValue(&b, msg)
	b.WriteString(`,"time":`)
	writeJSONValue(&b, bunyanTime(l.now()))
	b.WriteString(`,"v":0}` + "\n")
	return b.Bytes(), nil
}

// bunyanTime formats t as JavaScript's Date#toISOString: UTC, milliseconds.
func bunyanTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// writeJSONValue appends v as compact JSON without HTML escaping (as
// JSON.stringify writes it).
func writeJSONValue(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// Close closes every file opened; later writes fail.
func (l *LogFiles) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for name, lf := range l.files {
		lf.mu.Lock()
		if err := lf.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", name, err))
		}
		lf.mu.Unlock()
	}
	return errors.Join(errs...)
}

// TargetLine writes an imported-targets.log line (the original's shape:
// target reduced to TargetKeys, plus `id` when it has one so that GitLab
// targets are told apart, locationUrl, orgId, integrationId, targetId).
// locationURL "" is written as null.
func (l *LogFiles) TargetLine(level int, msg string, it ImportTarget, locationURL string, extra ...LogField) error {
	line, err := l.RenderTargetLine(level, msg, it, locationURL, extra...)
	if err != nil {
		return fmt.Errorf("log %s: %w", ImportedTargetsLog, err)
	}
	return l.WriteLine(ImportedTargetsLog, line)
}

// RenderTargetLine renders the line TargetLine writes.
func (l *LogFiles) RenderTargetLine(level int, msg string, it ImportTarget, locationURL string, extra ...LogField) ([]byte, error) {
	var loc any
	if locationURL != "" {
		loc = locationURL
	}
	fields := append([]LogField{
		{"target", it.Target.resumeJSON()},
		{"locationUrl", loc},
		{"orgId", it.OrgID},
		{"integrationId", it.IntegrationID},
		{"targetId", it.Key()},
	}, extra...)
	return l.line(level, msg, fields)
}

// endWithNewline finishes a last line a killed run left half-written, so the
// first line appended now is not glued to it (and lost to the resume log).
func endWithNewline(f LogHandle) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte{'\n'})
	return err
}
