package syncer

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// applier carries out one org's plan, in order: branch updates (so a
// re-import finds the projects on their branch and does not make new ones),
// imports (re-imports, new repositories, renames) through importer's pool,
// then deactivations and deletions, a rename's only once its import
// produced projects. Every write is logged as the original logs it.
type applier struct {
	s             *orgSync
	ctx           context.Context
	org           importfiles.CreatedOrg
	integrationID string
	plan          *Plan
	pic           *picture

	// sem bounds the org's project writes in flight, whichever steps they
	// are of.
	sem chan struct{}

	mu  sync.Mutex
	res *OrgResult
	out *outcome
	// renamed are, by step index, the projects the rename's import
	// produced (nil: it failed or produced none).
	renamed map[int][]string
	// seen are the projects the imports reported, counted once.
	seen map[string]bool
}

func (a *applier) run() {
	a.renamed, a.seen = map[int][]string{}, map[string]bool{}
	a.sem = make(chan struct{}, a.s.opts.WriteConcurrency)
	a.each(ActionUpdateBranch, func(i int, st *Step) bool {
		return a.writeAll(st, st.Projects, "branch", func(id string) error {
			return a.s.opts.Snyk.UpdateProjectBranch(a.ctx, a.org.OrgID, id, st.To)
		}, func(p ProjectRef) (string, string) { return p.Branch, st.To }, &a.res.ProjectsUpdated, nil)
	})
	a.imports()
	// A target this run's imports filled is the imported repository's now:
	// Snyk files an import under the name it was given, so a rename that
	// passes a name on makes the target of the name's old holder the new
	// holder's. No rename or deletion deactivates it.
	filled := map[string]bool{}
	for id := range a.seen {
		if pr := a.pic.projects[id]; pr != nil {
			filled[targetKey(pr)] = true
		}
	}
	unfilled := func(ps []ProjectRef) []ProjectRef {
		return slices.DeleteFunc(slices.Clone(ps), func(p ProjectRef) bool { return filled[p.target] })
	}
	deactivate := func(st *Step, projects []ProjectRef, record bool) bool {
		var done *[]string
		if record {
			done = new([]string)
			defer func() {
				a.mu.Lock()
				defer a.mu.Unlock()
				a.out.deactivated[st.UUID] = append(a.out.deactivated[st.UUID], *done...)
			}()
		}
		return a.writeAll(st, projects, "deactivate", func(id string) error {
			return a.s.opts.Snyk.DeactivateProject(a.ctx, a.org.OrgID, id)
		}, func(ProjectRef) (string, string) { return "active", "deactivated" }, &a.res.ProjectsDeactivated, done)
	}
	a.each(ActionRename, func(i int, st *Step) bool {
		if st.Imported {
			return deactivate(st, unfilled(st.Projects), false)
		}
		produced := a.renamed[i]
		if produced == nil {
			return false // the import under the new name did not produce projects
		}
		kept := keptTargets(a.pic, produced, st.Workspace, st.Slug)
		old := slices.DeleteFunc(unfilled(st.Projects), func(p ProjectRef) bool {
			return kept[p.target] || slices.Contains(produced, p.ID)
		})
		return deactivate(st, old, false)
	})
	a.each(ActionDeactivateDeleted, func(i int, st *Step) bool { return deactivate(st, unfilled(st.Projects), true) })
	a.each(ActionDeactivateExcluded, func(i int, st *Step) bool { return deactivate(st, st.Projects, false) })
	a.each(ActionDeleteDeleted, func(i int, st *Step) bool {
		done := new([]string)
		defer func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.out.deleted[st.UUID] = append(a.out.deleted[st.UUID], *done...)
		}()
		return a.writeAll(st, unfilled(st.Projects), "delete", func(id string) error {
			return a.s.opts.Snyk.DeleteProject(a.ctx, a.org.OrgID, id)
		}, func(ProjectRef) (string, string) { return "deactivated", "deleted" }, &a.res.ProjectsDeleted, done)
	})
}

// each runs fn on the steps of one action side by side (the steps of an
// action touch different repositories; their writes share the org's bound,
// so an org's time is its writes', not one latency per step), and records
// the done ones.
func (a *applier) each(act Action, fn func(i int, st *Step) bool) {
	var wg sync.WaitGroup
	for i := range a.plan.Steps {
		st := &a.plan.Steps[i]
		if st.Action != act || a.ctx.Err() != nil {
			continue
		}
		wg.Go(func() {
			ok := fn(i, st)
			a.mu.Lock()
			defer a.mu.Unlock()
			a.out.done[i] = ok
			if ok {
				a.res.Done[act]++
			}
		})
	}
	wg.Wait()
}

// writeAll writes every project of projects within the org's bound and logs
// each result; it reports whether all succeeded, and appends the written
// ids to done if it is not nil.
func (a *applier) writeAll(st *Step, projects []ProjectRef, update string, write func(id string) error,
	fromTo func(ProjectRef) (string, string), counter *int, done *[]string) bool {
	var wg sync.WaitGroup
	ok := true
	for _, p := range projects {
		if !acquire(a.ctx, a.sem) {
			a.mu.Lock() // the writes in flight set it too
			ok = false
			a.mu.Unlock()
			break
		}
		wg.Go(func() {
			defer func() { <-a.sem }()
			err := write(p.ID)
			from, to := fromTo(p)
			target := a.targetRef(p, st)
			a.mu.Lock()
			defer a.mu.Unlock()
			if err != nil {
				ok = false
				a.res.Failures = append(a.res.Failures, st.Workspace+"/"+st.Slug+": "+update+" project "+p.ID+": "+a.s.opts.errText(err))
				a.s.logLine(a.updateLine(false, p.ID, from, to, update, target, err))
				return
			}
			*counter++
			if done != nil {
				*done = append(*done, p.ID)
			}
			a.s.logLine(a.updateLine(true, p.ID, from, to, update, target, nil))
		})
	}
	wg.Wait()
	return ok
}

// targetRef is the target a project's log line names: its own.
func (a *applier) targetRef(p ProjectRef, st *Step) *TargetRef {
	if t := a.plan.targets[p.target]; t != nil {
		return &t.ref
	}
	return st.Target
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
	fields = append(fields, importfiles.LogField{Key: "error", Value: a.s.opts.errText(err)})
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
	if g := strings.Join(splitGlobs(opts.ExclusionGlobs), ","); g != "" {
		globs = &g
	}
	for i := range a.plan.Steps {
		st := &a.plan.Steps[i]
		switch {
		case st.Action == ActionReimport, st.Action == ActionImportNew:
		case st.Action == ActionRename && !st.Imported:
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
	// The run's pool: several orgs import at once within one Concurrency
	// and one poll schedule. Sync's progress counts orgs, not targets.
	_, err := importer.Import(a.ctx, importer.ImportOptions{
		Snyk: opts.Snyk, LogPath: opts.LogPath, Concurrency: opts.Concurrency, Pool: a.s.pool,
		PollInitial: opts.PollInitial, PollMax: opts.PollMax, PollTimeout: opts.PollTimeout,
		Now: opts.Now, NoSummary: true, IgnoreResumeLog: true, ErrorText: opts.ErrorText, Redact: opts.Redact,
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
		a.res.Failures = append(a.res.Failures, "imports: "+opts.errText(err))
		a.mu.Unlock()
	}
}

// imported records one import's end: a failure as `import` counts one (a
// rename's also when it produced no project), its projects as the
// original's "import" updates, new or re-tested.
func (a *applier) imported(i int, out importer.TargetOutcome) {
	st := &a.plan.Steps[i]
	target := st.Target
	if target == nil || st.Action == ActionRename {
		target = &TargetRef{DisplayName: st.Workspace + "/" + st.Slug, Origin: a.s.opts.Source}
	}
	produced := out.Projects()
	failure := out.Failure()
	if out.Err != nil {
		failure = a.s.opts.errText(out.Err)
	}
	if failure == "" && st.Action == ActionRename && len(produced) == 0 {
		failure = "the import under the new name produced no project, so the old projects stay active"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if out.Job != nil {
		for _, l := range out.Job.Logs {
			for _, p := range l.Projects {
				id := lastSegment(p.ProjectURL)
				if !p.Success || a.seen[id] {
					continue
				}
				a.seen[id] = true
				if a.pic.projects[id] != nil {
					a.res.ProjectsRetested++
				} else {
					a.res.ProjectsImported++
				}
				a.s.logLine(a.updateLine(true, id, p.TargetFile, p.ProjectURL, "import", target, nil))
			}
		}
	}
	if failure != "" {
		a.out.done[i] = false
		a.res.Failures = append(a.res.Failures, st.Workspace+"/"+st.Slug+": "+string(st.Action)+": "+failure)
		a.s.targetFailed(a.org.OrgID, st.Target, st.Workspace+"/"+st.Slug, failure)
		return
	}
	a.out.imported[st.UUID] = append(a.out.imported[st.UUID], produced...)
	if st.Action == ActionRename {
		a.renamed[i] = produced // done once the old projects are deactivated
		a.out.renamed[st.UUID] = produced
		return
	}
	a.out.done[i] = true
	a.res.Done[st.Action]++
}

func lastSegment(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}
