package importer

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// ImportSummaryFile is written in the log directory at the end of `import`.
const ImportSummaryFile = "import-summary.json"

// Failure stages of FailureGroup.Stage.
const (
	StageKickOff = "kick-off" // the import POST failed: retried next run
	StagePoll    = "poll"     // the job could not be polled to an end: retried next run
	StageJob     = "job"      // the job ended `failed`: retried next run
	StageProject = "project"  // a project of a complete job failed
)

// ImportResult is what an `import` run did. Every target of the file ends
// in exactly one of Skipped, Duplicates, KickOffFailures, KickedOff or
// NotStarted.
type ImportResult struct {
	File    string `json:"file"`
	LogPath string `json:"logPath"`
	DryRun  bool   `json:"dryRun,omitempty"`

	// Targets is the number of rows in the targets file (of this shard's
	// orgs, when Shard is set).
	Targets int `json:"targets"`
	// Shard is the part of the estate this run imported ("2/5"), and
	// OtherShards the rows of the file left to the other parts.
	Shard       string `json:"shard,omitempty"`
	OtherShards int    `json:"otherShards,omitempty"`
	// Skipped targets were already imported per imported-targets.log.
	Skipped int `json:"skipped"`
	// Duplicates are rows whose target appeared earlier in the same file.
	Duplicates int `json:"duplicates"`
	// KickedOff imports were accepted by Snyk (201 + Location).
	KickedOff int `json:"kickedOff"`
	// KickOffFailures are imports Snyk did not accept; logged in
	// <orgId>.failed-imports.log and retried next run.
	KickOffFailures int `json:"kickOffFailures"`
	// NotStarted targets were not attempted because the run was interrupted.
	NotStarted int `json:"notStarted"`

	// JobsComplete and JobsFailed are jobs polled to `complete` / `failed`.
	JobsComplete int `json:"jobsComplete"`
	JobsFailed   int `json:"jobsFailed"`
	// PollFailures are jobs that could not be polled to an end (error or
	// PollTimeout); logged in <orgId>.failed-polls.log.
	PollFailures int `json:"pollFailures"`
	// JobsUnfinished were kicked off but still being polled when the run was
	// interrupted; the next run skips them (Snyk accepted them).
	JobsUnfinished int `json:"jobsUnfinished"`

	// ProjectsImported and ProjectsFailed count the projects of finished jobs.
	ProjectsImported int `json:"projectsImported"`
	ProjectsFailed   int `json:"projectsFailed"`

	// ResumeLogLines and ResumeLogMalformed describe imported-targets.log as
	// read at the start.
	ResumeLogLines     int `json:"resumeLogLines"`
	ResumeLogMalformed int `json:"resumeLogMalformed"`
	// LogErrors counts log lines that could not be written.
	LogErrors int `json:"logErrors"`

	Interrupted bool          `json:"interrupted"`
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"-"`

	// Failures groups every failure by stage and cause, largest first.
	Failures []FailureGroup `json:"failures"`
	// StillFailed is what is not in Snyk yet across runs (nil for a dry
	// run, or when the logs could not be read).
	StillFailed *StillFailed `json:"stillFailed,omitempty"`

	// Sample holds, for a dry run, the first targets that would be imported.
	Sample []ImportTarget `json:"-"`
	// WouldImport is, for a dry run, how many targets would be imported;
	// Plan is the file listing them all.
	WouldImport int    `json:"-"`
	Plan        string `json:"-"`
}

// FailureGroup counts failures of one stage with one cause.
type FailureGroup struct {
	Stage string `json:"stage"`
	// Cause is an HTTP status ("HTTP 429"), "timeout", "network error",
	// "job failed", or the error message with identifiers blanked out.
	Cause string `json:"cause"`
	Count int    `json:"count"`
	// Examples are the keys of the first few targets that failed so.
	Examples []string `json:"examples,omitempty"`
}

// Failed reports whether any target, job or project failed (exit code 3).
func (r *ImportResult) Failed() bool {
	return r.KickOffFailures+r.JobsFailed+r.PollFailures+r.ProjectsFailed > 0
}

const maxFailureExamples = 3

// addFailure counts one failure; the caller holds the result lock.
func (r *ImportResult) addFailure(stage, cause, example string) {
	for i := range r.Failures {
		g := &r.Failures[i]
		if g.Stage == stage && g.Cause == cause {
			g.Count++
			if len(g.Examples) < maxFailureExamples && example != "" {
				g.Examples = append(g.Examples, example)
			}
			return
		}
	}
	g := FailureGroup{Stage: stage, Cause: cause, Count: 1}
	if example != "" {
		g.Examples = []string{example}
	}
	r.Failures = append(r.Failures, g)
}

func (r *ImportResult) sortFailures() {
	slices.SortStableFunc(r.Failures, func(a, b FailureGroup) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Stage, b.Stage); c != 0 {
			return c
		}
		return cmp.Compare(a.Cause, b.Cause)
	})
}

// importSummary is the content of import-summary.json.
type importSummary struct {
	*ImportResult
	Finished        time.Time `json:"finished"`
	DurationSeconds float64   `json:"durationSeconds"`
	Failed          bool      `json:"failed"`
}

// writeImportSummary writes import-summary.json atomically in dir.
func writeImportSummary(dir string, r *ImportResult) error {
	s := importSummary{
		ImportResult:    r,
		Finished:        r.Started.Add(r.Duration),
		DurationSeconds: r.Duration.Seconds(),
		Failed:          r.Failed(),
	}
	if s.Failures == nil {
		s.Failures = []FailureGroup{}
	}
	return importfiles.WriteFileAtomic(filepath.Join(dir, ImportSummaryFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(s)
	})
}

// statusCoder is implemented by API errors that carry an HTTP status.
type statusCoder interface{ HTTPStatus() int }

var statusInText = regexp.MustCompile(`(?i)\b(?:status(?: code)?|http)[ :=]*([1-5][0-9][0-9])\b`)

// errorStatus returns the HTTP status an error carries, or 0.
func errorStatus(err error) int {
	var sc statusCoder
	if errors.As(err, &sc) {
		return sc.HTTPStatus()
	}
	if m := statusInText.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var (
	reUUID   = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	reURL    = regexp.MustCompile(`https?://[^\s"']+`)
	reNumber = regexp.MustCompile(`\b[0-9]+\b`)
	reQuoted = regexp.MustCompile(`"[^"]*"`)
)

// errorCause classifies an error for FailureGroup.Cause.
func errorCause(err error) string {
	if errors.Is(err, errPollTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if s := errorStatus(err); s != 0 {
		return "HTTP " + strconv.Itoa(s)
	}
	var spent *httpx.RateLimitWaitError
	if errors.As(err, &spent) {
		// Not sent: a 429's pause was past the run's wait. Grouped with
		// the 429s that were.
		return "HTTP 429"
	}
	if ne, ok := httpx.AsNetError(err); ok {
		return ne.Kind.String() // "DNS name not found", "certificate not trusted", …
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne):
		if ne.Timeout() {
			return "timeout"
		}
		return "network error"
	}
	return messageClass(err.Error())
}

// MessageClass is the cause of an error message as failures are grouped by
// it: ids, URLs, numbers and quoted values blanked out.
func MessageClass(msg string) string { return messageClass(msg) }

// messageClass blanks the variable parts (ids, URLs, numbers, quoted
// values) of a message so that equal causes group together.
func messageClass(msg string) string {
	msg = strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	msg = reUUID.ReplaceAllString(msg, "<id>")
	msg = reURL.ReplaceAllString(msg, "<url>")
	msg = reQuoted.ReplaceAllString(msg, `"…"`)
	msg = reNumber.ReplaceAllString(msg, "<n>")
	msg = redact.CutRunes(msg, 160) // between tokens: no secret cut in half
	if msg == "" {
		msg = "unknown error"
	}
	return msg
}
