package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/syncer"
)

// What sync prints and writes in its summary: per org the plan and what
// was done, the run's totals, and what needs the user.

// printSyncOrg prints one org: the plan (counts per action, then one line
// per repository) and what was done, in the original's closing words.
func printSyncOrg(out io.Writer, o *syncer.OrgResult, opts syncer.Options) {
	products := strings.Join(opts.Products, ", ")
	if products == "" {
		products = syncer.ProductOpenSource
	}
	fmt.Fprintf(out, "ℹ️  Running sync for %s projects in org: %s (products to be synced: %s)\n", opts.Source, o.OrgID, products)
	if o.Plan == nil {
		fmt.Fprintf(out, "ERROR! Failed to sync organization %s: %s\n", o.OrgID, o.ErrMsg)
		return
	}
	printPlan(out, o.Plan)
	if opts.DryRun {
		fmt.Fprintf(out, "Dry run: nothing was changed; the plan is in %s\n", filepath.Join(opts.LogPath, o.OrgID+syncer.PlanFileSuffix))
		return
	}
	if o.HeldBack != nil {
		fmt.Fprintf(out, "Held back: %s\n", heldBackText(o, opts.LogPath))
		return
	}
	fmt.Fprintf(out, "Finished syncing all %s targets for Snyk organization %s\n", opts.Source, o.OrgID)
	changes := 0
	for a, n := range o.Planned {
		if a != syncer.ActionNewNotImported && a != syncer.ActionUnmatched {
			changes += n
		}
	}
	switch {
	case len(o.FailedWorkspaces) > 0 && changes == 0:
		fmt.Fprintln(out, "Nothing changed: the workspaces above could not be listed completely; the next run syncs them")
	case changes == 0 && len(o.Failures) == 0:
		fmt.Fprintln(out, "Did not detect any changes to apply")
	default:
		fmt.Fprintf(out, "Updated %s / Deactivated %s / Deleted %s / Imported %s (%d re-tested) / Failed %d\n",
			english.Plural(o.ProjectsUpdated, "project"), english.Plural(o.ProjectsDeactivated, "project"), english.Plural(o.ProjectsDeleted, "project"),
			english.Plural(o.ProjectsImported, "new project"), o.ProjectsRetested, len(o.Failures))
		fmt.Fprintf(out, "Find more information in %s\n", filepath.Join(opts.LogPath, o.OrgID+syncer.UpdatedProjectsLogSuffix))
	}
	for _, f := range o.Failures {
		fmt.Fprintf(out, "  failed: %s\n", f)
	}
}

// printSyncTotal ends stdout with the run's total across orgs.
func printSyncTotal(out io.Writer, res *syncer.Result) {
	t := syncTotals(res)
	printShard(out, res.Shard, len(res.Orgs), res.OtherShards, "org")
	problems := fmt.Sprintf("%s failed, %s held back, %s with problems; %s left alone",
		english.Plural(t.OrgsFailed, "org"), english.Plural(t.OrgsHeldBack, "org"), english.Plural(t.Failures, "change"), english.Plural(t.Unmatched, "unmatched target"))
	if res.DryRun {
		planned := 0
		for _, o := range res.Orgs {
			for a, n := range o.Planned {
				if a != syncer.ActionNewNotImported && a != syncer.ActionUnmatched {
					planned += n
				}
			}
		}
		fmt.Fprintf(out, "Dry run of %s: %s planned, nothing changed; %s\n", english.Plural(t.Orgs, "org"), english.Plural(planned, "change"), problems)
		return
	}
	fmt.Fprintf(out, "Synced %s: updated %s, deactivated %s, deleted %s, imported %s (%d re-tested); %s\n",
		english.Plural(t.Orgs, "org"), english.Plural(t.ProjectsUpdated, "project"), english.Plural(t.ProjectsDeactivated, "project"),
		english.Plural(t.ProjectsDeleted, "project"), english.Plural(t.ProjectsImported, "new project"), t.ProjectsRetested, problems)
}

func printPlan(out io.Writer, p *syncer.Plan) {
	counts := p.Counts()
	var parts []string
	for _, a := range syncer.Actions {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no change"}
	}
	fmt.Fprintf(out, "Plan for org %s: %s (%d of %d active projects deactivated or deleted; limit %d)\n",
		p.OrgID, strings.Join(parts, ", "), p.Removals, p.GuardBase(), p.MaxRemovals)
	if p.DeleteAfter != "" && (counts[syncer.ActionDeactivateDeleted]+counts[syncer.ActionDeleteDeleted] > 0 || len(p.PendingDeletes) > 0) {
		fmt.Fprintf(out, "  deletions: a proven deletion deactivates; the projects are deleted %s later, the deletion proven again (--deleteAfter)\n", p.DeleteAfter)
	}
	for _, w := range p.FailedWorkspaces {
		fmt.Fprintf(out, "  workspace %s could not be listed completely, its %s left alone: %s\n", w.Workspace, english.Plural(w.Targets, "target"), w.Error)
	}
	for _, d := range p.PendingDeletes {
		fmt.Fprintf(out, "  %-19s %s/%s (%s, deleted from %s)\n", "delete-waiting", d.Workspace, d.Slug, english.Plural(d.Projects, "project"), d.Due.UTC().Format("2006-01-02 15:04 MST"))
	}
	shown := map[syncer.Action]int{}
	for _, s := range p.Steps {
		if s.Action == syncer.ActionNewNotImported || s.Action == syncer.ActionUnmatched {
			if shown[s.Action]++; shown[s.Action] > newPlanLinesShown {
				continue
			}
		}
		line := fmt.Sprintf("  %-19s %s/%s", s.Action, s.Workspace, s.Slug)
		if s.Action == syncer.ActionUnmatched {
			line = fmt.Sprintf("  %-19s target %q: %s", s.Action, s.Target.DisplayName, s.Reason)
		}
		if s.OldSlug != "" {
			line += " (was " + s.OldSlug + ")"
		}
		if s.From != "" {
			line += " " + s.From + " → " + s.To
		} else if s.To != "" {
			line += " @" + s.To
		}
		if n := len(s.Projects); n > 0 {
			line += " (" + english.Plural(n, "project") + ")"
		}
		fmt.Fprintln(out, line)
	}
	if n := shown[syncer.ActionNewNotImported] - newPlanLinesShown; n > 0 {
		fmt.Fprintf(out, "  … and %d more new repositories (--importNew imports them)\n", n)
	}
	if n := shown[syncer.ActionUnmatched] - newPlanLinesShown; n > 0 {
		fmt.Fprintf(out, "  … and %d more unmatched targets (the plan file lists them)\n", n)
	}
	if shown[syncer.ActionUnmatched] > 0 {
		fmt.Fprintln(out, "  unmatched targets are no repository sync can prove: it never changes them (docs/sync.md)")
	}
}

// heldBackText says why the guard held an org back and what to do.
func heldBackText(o *syncer.OrgResult, logPath string) string {
	h := o.HeldBack
	plan := filepath.Join(logPath, o.OrgID+syncer.PlanFileSuffix)
	if h.Empties {
		return fmt.Sprintf("the plan deactivates or deletes every one of the org's %s: nothing was changed in this org; a run empties an org only with --maxDeactivate given for that run (check the plan in %s, then run again with --maxDeactivate=100%%)",
			english.Plural(h.Active, "active project"), plan)
	}
	return fmt.Sprintf("the plan deactivates or deletes %d of %d active projects, more than --maxDeactivate=%s allows (%d): nothing was changed in this org; check the plan in %s and run again with a higher --maxDeactivate if it is right",
		h.Removals, h.Active, h.Limit, h.Max, plan)
}

// syncFailureMessage is the closing paragraph of a sync that needs the
// user: which orgs and workspaces, and why.
func syncFailureMessage(res *syncer.Result, logPath string) string {
	var parts []string
	for _, o := range res.Orgs {
		switch {
		case o.Err != nil:
			parts = append(parts, fmt.Sprintf("org %s failed, nothing in it was changed: %s", o.OrgID, o.ErrMsg))
		case o.HeldBack != nil && o.HeldBack.Empties:
			parts = append(parts, fmt.Sprintf("org %s held back: the plan would deactivate all of its %d active projects, which needs --maxDeactivate given for the run", o.OrgID, o.HeldBack.Active))
		case o.HeldBack != nil:
			parts = append(parts, fmt.Sprintf("org %s held back by --maxDeactivate (%d projects would go, limit %d)", o.OrgID, o.HeldBack.Removals, o.HeldBack.Max))
		}
		for _, w := range o.FailedWorkspaces {
			parts = append(parts, fmt.Sprintf("workspace %s could not be listed completely, nothing in it was changed (%s)", w.Workspace, w.Error))
		}
		if n := len(o.Failures); n > 0 {
			parts = append(parts, fmt.Sprintf("org %s: %s failed (retried by the next run)", o.OrgID, english.Plural(n, "change")))
		}
	}
	return "sync finished with problems: " + strings.Join(parts, "; ") + " — details in " + filepath.Join(logPath, importer.SummaryFileName("sync"))
}

// syncTotal is a run's figures across orgs (stdout's last line, the
// summary's totals). A rename is one change.
type syncTotal struct {
	Orgs                int `json:"orgs"`
	OrgsFailed          int `json:"orgsFailed"`
	OrgsHeldBack        int `json:"orgsHeldBack"`
	ProjectsUpdated     int `json:"projectsUpdated"`
	ProjectsDeactivated int `json:"projectsDeactivated"`
	ProjectsDeleted     int `json:"projectsDeleted"`
	ProjectsImported    int `json:"projectsImported"`
	ProjectsRetested    int `json:"projectsRetested"`
	Renamed             int `json:"renamed"`
	Unmatched           int `json:"unmatched"`
	Failures            int `json:"failures"`
	Confirmations       int `json:"confirmations"`
}

func syncTotals(res *syncer.Result) syncTotal {
	t := syncTotal{Orgs: len(res.Orgs)}
	for _, o := range res.Orgs {
		if o.Err != nil {
			t.OrgsFailed++
		}
		if o.HeldBack != nil {
			t.OrgsHeldBack++
		}
		t.ProjectsUpdated += o.ProjectsUpdated
		t.ProjectsDeactivated += o.ProjectsDeactivated
		t.ProjectsDeleted += o.ProjectsDeleted
		t.ProjectsImported += o.ProjectsImported
		t.ProjectsRetested += o.ProjectsRetested
		t.Renamed += o.Done[syncer.ActionRename]
		t.Unmatched += o.Planned[syncer.ActionUnmatched]
		t.Failures += len(o.Failures)
		t.Confirmations += o.Confirmations
	}
	return t
}

// syncSummary is sync's own part of sync-summary.json (after the fields
// every stage's summary has).
func syncSummary(res *syncer.Result) any {
	orgs := res.Orgs
	if orgs == nil {
		orgs = []*syncer.OrgResult{}
	}
	return struct {
		DryRun      bool                `json:"dryRun"`
		Interrupted bool                `json:"interrupted"`
		OtherShards int                 `json:"otherShards,omitempty"`
		Totals      syncTotal           `json:"totals"`
		Orgs        []*syncer.OrgResult `json:"orgs"`
		Failed      bool                `json:"failed"`
	}{res.DryRun, res.Interrupted, res.OtherShards, syncTotals(res), orgs, res.Failed()}
}

// syncFailures groups what failed by step and cause, for the summary,
// scrubbed by redact (nil: as they are).
func syncFailures(res *syncer.Result, redact func(string) string) []importer.FailureGroup {
	var orgs, lists, changes []importer.Failure
	for _, o := range res.Orgs {
		if o.Err != nil {
			orgs = append(orgs, importer.Failure{Example: o.OrgID, Err: o.Err})
		}
		if o.HeldBack != nil {
			orgs = append(orgs, importer.Failure{Example: o.OrgID, Err: errors.New("held back by the --maxDeactivate guard")})
		}
		for _, w := range o.FailedWorkspaces {
			lists = append(lists, importer.Failure{Example: w.Workspace, Err: w.Err})
		}
		for _, f := range o.Failures {
			changes = append(changes, importer.Failure{Example: o.OrgID, Err: errors.New(f)})
		}
	}
	groups := slices.Concat(importer.GroupFailures("org", orgs), importer.GroupFailures("list", lists), importer.GroupFailures("change", changes))
	for i := range groups {
		if redact != nil {
			groups[i].Cause = redact(groups[i].Cause)
		}
	}
	return groups
}
