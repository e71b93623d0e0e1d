package importer

import (
	"context"
	"iter"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
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

// Failure says why the target's import failed, in the words and by the
// rule of `import` (a job ended failed, or a log entry failed inside a
// complete job: jobFailure); "" when it succeeded.
func (o TargetOutcome) Failure() string {
	switch {
	case o.Err != nil:
		return o.Err.Error()
	case o.Job == nil || (o.Job.Status != snyk.JobComplete && o.Job.Status != snyk.JobFailed):
		return "the import job did not finish"
	}
	return jobFailure(o.Job)
}

// Projects are the ids of the projects the job reports imported
// (successful results; a re-import reports the projects it re-tested).
func (o TargetOutcome) Projects() []string {
	if o.Job == nil {
		return nil
	}
	var ids []string
	for _, l := range o.Job.Logs {
		for _, p := range l.Projects {
			if id := lastPathSegment(p.ProjectURL); p.Success && id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
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
		src = importfiles.ReadTargets(o.File)
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
