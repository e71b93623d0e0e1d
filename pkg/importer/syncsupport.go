package importer

import (
	"context"
	"io"
	"iter"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// What sync (pkg/syncer) shares with the stages of this package, so the two
// keep one filter, one integration lookup, one log envelope and one import
// pool.

// TargetOutcome is how one target of an [ImportOptions.Targets] run ended:
// Err when Snyk did not accept it or its job could not be polled to an end,
// else the finished Job (complete or failed). Targets not started because
// the run was interrupted get no outcome.
type TargetOutcome struct {
	Location string
	Job      *snyk.ImportJob
	Err      error
}

// Succeeded reports a job that completed with at least one project
// imported, or with no project result at all (Snyk found nothing new).
func (o TargetOutcome) Succeeded() bool {
	if o.Err != nil || o.Job == nil || o.Job.Status != snyk.JobComplete {
		return false
	}
	results, ok := false, false
	for _, l := range o.Job.Logs {
		for _, p := range l.Projects {
			results = true
			ok = ok || p.Success
		}
	}
	return ok || !results
}

// outcome reports a target's end to ImportOptions.OnTarget.
func (r *importRun) outcome(it ImportTarget, o TargetOutcome) {
	if r.opts.OnTarget != nil {
		r.opts.OnTarget(it, o)
	}
}

// targets is the run's source of targets: Targets, else the targets file,
// less the targets of other shards (counted in others if it is not nil).
func (o *ImportOptions) targets(others *int) iter.Seq2[ImportTarget, error] {
	src := o.Targets
	if src == nil {
		src = ReadTargets(o.File)
	}
	return o.Shard.Targets(src, others)
}

// RepoMatcher applies a [RepoFilter] client-side, as import:data does after
// Bitbucket's q= (sync lists whole workspaces, so deletions can be told
// from filtered-out repositories, and filters here).
type RepoMatcher struct{ m *repoMatcher }

// NewRepoMatcher is the matcher of f for an org holding the whole workspace
// (orgProject "") or one project.
func NewRepoMatcher(f RepoFilter, orgProject string) RepoMatcher {
	return RepoMatcher{newRepoMatcher(f, orgProject)}
}

// Skip says whether repo of workspace ws is left out, and why.
func (m RepoMatcher) Skip(ws string, repo *bitbucket.Repository) (SkipReason, bool) {
	return m.m.skip(ws, repo)
}

// ResolveIntegrationID finds an org's integration id as import:data does:
// integrationType, else the source's candidates, from the row then from
// GET /org/{orgId}/integrations.
func ResolveIntegrationID(ctx context.Context, s Snyk, org CreatedOrg, source, integrationType string) (string, error) {
	return resolveIntegrationID(ctx, s, org, source, integrationType)
}

// LogField is one field of a log line, written in order.
type LogField struct {
	Key   string
	Value any
}

// Bunyan levels of [LogFiles.Write].
const (
	LevelInfo  = levelInfo
	LevelError = levelError
)

// LogFiles writes JSON-lines logs in the original's bunyan envelope under a
// logger name of the caller's (sync writes "snyk:sync-org-projects" and
// "sync" lines as the original). Safe for concurrent use.
type LogFiles struct{ l *logFiles }

// NewLogFiles opens nothing until the first line of each file.
func NewLogFiles(dir, loggerName string, now func() time.Time) *LogFiles {
	l := newLogFiles(dir, "", 0, now)
	l.name = loggerName
	return &LogFiles{l}
}

// Write appends one line to the named file of the directory.
func (f *LogFiles) Write(name string, level int, msg string, fields ...LogField) error {
	lf := make([]logField, len(fields))
	for i, x := range fields {
		lf[i] = logField{x.Key, x.Value}
	}
	return f.l.write(name, level, msg, lf...)
}

// Close closes every file written.
func (f *LogFiles) Close() error { return f.l.Close() }

// WriteFileAtomic writes path via a temp file in its directory, fsync and
// rename (SPEC §3).
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	return writeFileAtomic(path, write)
}

// NewBitbucketTarget is the import target {owner, name, branch} of a
// Bitbucket Cloud repository (branch left out when empty).
func NewBitbucketTarget(owner, name, branch string) Target {
	var t Target
	t.setString("owner", owner)
	t.setString("name", name)
	if branch != "" {
		t.setString("branch", branch)
	}
	return t
}
