package importer

import (
	"strings"

	"github.com/bbimport/bbimport/pkg/snyk"
)

// jobFailure says whether a finished import job failed and why: the job
// itself ended `failed`, or a log entry carries `status: failed` inside a
// `complete` job (often with `projects: []`). Snyk reports each target's
// result in its log entry, so a complete job is not a successful import on
// its own; both forms make the target retried by the next run. The message
// is "" when the job succeeded.
func jobFailure(job *snyk.ImportJob) string {
	if job.Status == snyk.JobFailed {
		return "import job failed"
	}
	var names []string
	for _, l := range job.Logs {
		if l.Status == snyk.JobFailed {
			names = append(names, l.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "import job complete, but its log entry for " + strings.Join(names, ", ") + " failed"
}
