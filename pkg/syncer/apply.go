package syncer

import (
	"context"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// applier carries out one org's plan, in order: branch updates (so a
// re-import finds the projects on their branch and does not make new ones),
// imports (re-imports, new repositories, renames) through importer's pool,
// then deactivations and deletions, a rename's only once its import
// succeeded. Every write is logged as the original logs it.
type applier struct {
	s             *syncRun
	ctx           context.Context
	org           importfiles.CreatedOrg
	integrationID string
	plan          *Plan

	mu   sync.Mutex
	res  *OrgResult
	done map[int]bool // step index → succeeded
}

func (a *applier) run() {
	a.each(ActionUpdateBranch, func(i int, st *Step) bool {
		return a.writeAll(st, "branch", func(id string) error {
			return a.s.opts.Snyk.UpdateProjectBranch(a.ctx, a.org.OrgID, id, st.To)
		}, func(p ProjectRef) (string, string) { return p.Branch, st.To }, &a.res.ProjectsUpdated)
	})
	a.imports()
	for _, act := range []Action{ActionRename, ActionDeactivateDeleted, ActionDeactivateExcluded} {
		a.each(act, func(i int, st *Step) bool {
			if act == ActionRename && !a.done[i] {
				return false // the import under the new name did not succeed
			}
			return a.writeAll(st, "deactivate", func(id string) error {
				return a.s.opts.Snyk.DeactivateProject(a.ctx, a.org.OrgID, id)
			}, func(ProjectRef) (string, string) { return "active", "deactivated" }, &a.res.ProjectsDeactivated)
		})
	}
	a.each(ActionDeleteDeleted, func(i int, st *Step) bool {
		return a.writeAll(st, "delete", func(id string) error {
			return a.s.opts.Snyk.DeleteProject(a.ctx, a.org.OrgID, id)
		}, func(ProjectRef) (string, string) { return "active", "deleted" }, &a.res.ProjectsDeleted)
	})
}

// each runs fn on the steps of one action, one after another (each step's
// projects are written concurrently), and records the done ones.
func (a *applier) each(act Action, fn func(i int, st *Step) bool) {
	for i := range a.plan.Steps {
		st := &a.plan.Steps[i]
		if st.Action != act || a.ctx.Err() != nil {
			continue
		}
		ok := fn(i, st)
		a.mu.Lock()
		a.done[i] = ok
		if ok {
			a.res.Done[act]++
		}
		a.mu.Unlock()
	}
}

// writeAll writes every project of st with a bounded pool and logs each
// result; it reports whether all succeeded.
func (a *applier) writeAll(st *Step, update string, write func(id string) error, fromTo func(ProjectRef) (string, string), counter *int) bool {
	sem := make(chan struct{}, a.s.opts.WriteConcurrency)
	var wg sync.WaitGroup
	ok := true
	for _, p := range st.Projects {
		if a.ctx.Err() != nil {
			ok = false
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := write(p.ID)
			from, to := fromTo(p)
			a.mu.Lock()
			defer a.mu.Unlock()
			if err != nil {
				ok = false
				a.res.Failures = append(a.res.Failures, st.Workspace+"/"+st.Slug+": "+update+" project "+p.ID+": "+a.s.opts.errText(err))
				a.s.logLine(a.updateLine(false, p.ID, from, to, update, st.Target, err))
				return
			}
			*counter++
			a.s.logLine(a.updateLine(true, p.ID, from, to, update, st.Target, nil))
		})
	}
	wg.Wait()
	return ok
}

// updateLine writes the original's <orgId>.updated-projects.log line, or
// its <orgId>.failed-to-update-projects.log line (level 30 as well, as the
// original writes it).
func (a *applier) updateLine(ok bool, projectID, from, to, update string, target *TargetRef, err error) error {
	fields := []importfiles.LogField{
		{Key: "orgId", Value: a.org.OrgID}, {Key: "projectPublicId", Value: projectID},
		{Key: "from", Value: from}, {Key: "to", Value: to}, {Key: "update", Value: update},
		{Key: "dryRun", Value: "false"}, {Key: "target", Value: target},
	}
	if ok {
		return a.s.logs.Write(a.org.OrgID+UpdatedProjectsLogSuffix, importfiles.LevelInfo,
			`Snyk project "`+update+`" update completed`, fields...)
	}
	fields = append(fields, importfiles.LogField{Key: "error", Value: err.Error()})
	return a.s.logs.Write(a.org.OrgID+FailedToUpdateProjectsSuffix, importfiles.LevelInfo,
		`Snyk project "`+update+`" update failed`, fields...)
}

// imports runs the plan's re-imports, new imports and renames through
// importer's pool (shared resume log and import logs); which of them to
// send was decided by the planner, so the pool does not skip by the resume
// log (a re-import is a target already imported).
func (a *applier) imports() {
	opts := a.s.opts
	byKey := map[string]int{}
	var targets []importfiles.ImportTarget
	var globs *string
	if g := joinGlobs(opts.ExclusionGlobs); g != "" {
		globs = &g
	}
	for i := range a.plan.Steps {
		st := &a.plan.Steps[i]
		switch {
		case st.Action == ActionReimport, st.Action == ActionImportNew:
		case st.Action == ActionRename && !st.Imported:
		case st.Action == ActionRename:
			a.mu.Lock()
			a.done[i] = true // imported by an earlier run: only the deactivation is left
			a.mu.Unlock()
			continue
		default:
			continue
		}
		it := importfiles.ImportTarget{OrgID: a.org.OrgID, IntegrationID: a.integrationID,
			Target: importfiles.NewBitbucketTarget(st.Workspace, st.Slug, st.To), ExclusionGlobs: globs}
		byKey[it.Key()] = i
		targets = append(targets, it)
	}
	if len(targets) == 0 || a.ctx.Err() != nil {
		return
	}
	a.s.importsRan = true
	_, err := importer.Import(a.ctx, importer.ImportOptions{
		Snyk: opts.Snyk, LogPath: opts.LogPath, Concurrency: opts.Concurrency,
		PollInitial: opts.PollInitial, PollMax: opts.PollMax, PollTimeout: opts.PollTimeout,
		Now: opts.Now, Progress: opts.Progress, NoSummary: true, IgnoreResumeLog: true, ErrorText: opts.ErrorText,
		Targets: func(yield func(importfiles.ImportTarget, error) bool) {
			for _, t := range targets {
				if !yield(t, nil) {
					return
				}
			}
		},
		OnTarget: func(it importfiles.ImportTarget, out importer.TargetOutcome) { a.imported(byKey[it.Key()], out) },
	})
	if err != nil && a.ctx.Err() == nil {
		a.mu.Lock()
		a.res.Failures = append(a.res.Failures, "imports: "+a.s.opts.errText(err))
		a.mu.Unlock()
	}
}

// imported records one import's end and logs its projects as the
// original's "import" updates.
func (a *applier) imported(i int, out importer.TargetOutcome) {
	st := &a.plan.Steps[i]
	target := st.Target
	if target == nil || st.Action == ActionRename {
		target = &TargetRef{DisplayName: st.Workspace + "/" + st.Slug, Origin: a.s.opts.Source}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ok := out.Succeeded()
	a.done[i] = ok
	if ok {
		a.res.Done[st.Action]++
	}
	if out.Job != nil {
		for _, l := range out.Job.Logs {
			for _, p := range l.Projects {
				if p.Success {
					a.res.ProjectsImported++
					a.s.logLine(a.updateLine(true, lastSegment(p.ProjectURL), p.TargetFile, p.ProjectURL, "import", target, nil))
				}
			}
		}
	}
	if !ok {
		msg := "the import job failed"
		if out.Err != nil {
			msg = out.Err.Error()
		}
		a.res.Failures = append(a.res.Failures, st.Workspace+"/"+st.Slug+": "+string(st.Action)+": "+msg)
		a.s.logLine(a.s.failed.Write(a.org.OrgID+FailedToSyncTargetLogSuffix, importfiles.LevelError, "Failed to sync target",
			importfiles.LogField{Key: "orgId", Value: a.org.OrgID}, importfiles.LogField{Key: "target", Value: target},
			importfiles.LogField{Key: "errorMessage", Value: msg}))
	}
}

func joinGlobs(globs []string) string {
	var out []string
	for _, g := range globs {
		for _, part := range strings.Split(g, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return strings.Join(out, ",")
}

func lastSegment(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}
