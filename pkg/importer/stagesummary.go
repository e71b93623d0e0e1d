package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// SummaryHistoryDir is the directory, under the log directory, that keeps
// every run's summary: <stage>-summary.json is only the latest, and a
// re-run (a resume, the next night's job) must not lose the failures of the
// run before.
const SummaryHistoryDir = "summaries"

// StageSummary is what every stage's summary file starts with. The stage's
// own figures follow it in the same JSON object (for import, the fields
// import-summary.json always had).
type StageSummary struct {
	Stage string `json:"stage"`
	// Outcome is "ok", "partial" (finished, some items failed), "failed",
	// "interrupted", "usage" or "auth"; ExitCode is the process's.
	Outcome  string `json:"outcome"`
	ExitCode int    `json:"exitCode"`
	// Error is the closing message of a failed run (secrets redacted).
	Error           string    `json:"error,omitempty"`
	Started         time.Time `json:"started"`
	Finished        time.Time `json:"finished"`
	DurationSeconds float64   `json:"durationSeconds"`
	// Output is the file the stage wrote, if any.
	Output string `json:"output,omitempty"`
	// Shard is the part of the estate the run covered, if any.
	Shard string `json:"shard,omitempty"`
	// Failures groups what failed by stage step and cause, largest first.
	Failures []FailureGroup `json:"failures"`
	// History is this run's own copy, relative to the log directory.
	History string `json:"history"`
}

// SummaryFileName is the latest summary of a stage: "import-summary.json",
// "orgs-data-summary.json" (no colon: file systems and CI artifact stores
// refuse it).
func SummaryFileName(stage string) string {
	return strings.ReplaceAll(stage, ":", "-") + "-summary.json"
}

// WriteStageSummary writes one run's summary twice, each atomically: as
// summaries/<stage>-<started, UTC>.json, which no later run touches, and as
// <stage>-summary.json, the latest. The object holds s's fields first, then
// detail's (a struct or nil) that s does not have. It returns the two paths.
func WriteStageSummary(dir string, s StageSummary, detail any) (latest, history string, err error) {
	histDir := filepath.Join(dir, SummaryHistoryDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("write the %s summary: %w", s.Stage, err)
	}
	if err := safefile.Mkdir(histDir, 0o755); err != nil {
		return "", "", fmt.Errorf("write the %s summary: %w", s.Stage, err)
	}
	base := strings.ReplaceAll(s.Stage, ":", "-") + "-" + s.Started.UTC().Format("20060102T150405.000Z")
	history = filepath.Join(histDir, base+".json")
	for n := 2; ; n++ {
		if _, err := os.Lstat(history); errors.Is(err, os.ErrNotExist) {
			break
		}
		history = filepath.Join(histDir, fmt.Sprintf("%s-%d.json", base, n))
	}
	s.History = filepath.Join(SummaryHistoryDir, filepath.Base(history))
	if s.Failures == nil {
		s.Failures = []FailureGroup{}
	}
	data, err := mergeObjects(s, detail)
	if err != nil {
		return "", "", fmt.Errorf("write the %s summary: %w", s.Stage, err)
	}
	write := func(w io.Writer) error { _, err := w.Write(data); return err }
	if err := importfiles.WriteFileAtomic(history, write); err != nil {
		return "", "", err
	}
	latest = filepath.Join(dir, SummaryFileName(s.Stage))
	if err := importfiles.WriteFileAtomic(latest, write); err != nil {
		return "", history, err
	}
	return latest, history, nil
}

// mergeObjects encodes first's fields, then those of second whose names
// first does not use, as one indented JSON object, keeping each struct's
// field order (a map would sort them).
func mergeObjects(first, second any) ([]byte, error) {
	var keys []string
	values := map[string]json.RawMessage{}
	for _, v := range []any{first, second} {
		if v == nil {
			continue
		}
		var raw bytes.Buffer
		enc := json.NewEncoder(&raw)
		enc.SetEscapeHTML(false) // causes read "<id>", not "\u003cid\u003e"
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(&raw)
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil, fmt.Errorf("summary detail %T is not a JSON object", v)
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := tok.(string)
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				return nil, err
			}
			if _, seen := values[key]; !seen {
				keys = append(keys, key)
				values[key] = val
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		name, _ := json.Marshal(k) // our own field names: nothing to escape
		b.Write(name)
		b.WriteString(":")
		b.Write(values[k])
	}
	b.WriteString("}")
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// FailureCause is how a failure's cause is named in summaries: an HTTP
// status ("HTTP 404"), "timeout", a network cause ("DNS name not found"),
// or the message with ids and names blanked out.
func FailureCause(err error) string { return errorCause(err) }

// GroupFailures counts failures by step and cause, largest first, keeping
// a few examples of each.
func GroupFailures(step string, failures []Failure) []FailureGroup {
	r := &ImportResult{}
	for _, f := range failures {
		r.addFailure(step, FailureCause(f.Err), f.Example)
	}
	r.sortFailures()
	return r.Failures
}

// Failure is one item that failed, for GroupFailures.
type Failure struct {
	Example string // what failed: an org name, a workspace slug
	Err     error
}
