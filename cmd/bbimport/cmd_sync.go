package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/syncer"
	"github.com/urfave/cli/v2"
)

// syncFilterFlags are the discovery filters of import:data that apply to a
// sync (not --updatedSince: sync lists whole workspaces so that a missing
// repository means a deleted one, and uses updated_on itself).
var syncFilterFlags = []string{"skipForks", "skipEmptyRepos", "include", "exclude", "private", "public", "project"}

// newPlanLinesShown caps the "new-not-imported" and "unmatched" lines
// printed: without --importNew an estate never imported would list every
// repository.
const newPlanLinesShown = 20

func newSyncCommand(rt *invocation) *cli.Command {
	var filters []cli.Flag
	for _, f := range newImportDataCommand(rt).Flags { // one definition of the filter flags
		if slices.Contains(syncFilterFlags, f.Names()[0]) {
			filters = append(filters, f)
		}
	}
	flags := []cli.Flag{
		&cli.StringFlag{Name: "orgPublicId", Usage: "the Snyk org to sync (or --orgsData / --groupId for several)"},
		&cli.StringFlag{Name: "orgsData", Usage: "snyk-created-orgs.json: sync every org of it (with --groupId: that group's)"},
		&cli.StringFlag{Name: "groupId", Usage: "sync every org of this group (of --orgsData if given, else listed from Snyk)"},
		&cli.StringFlag{Name: "source", Value: sourceApp, Usage: sourceUsage},
		&cli.StringFlag{Name: "sourceUrl", Usage: "Bitbucket API base (else BITBUCKET_APP_API_BASE)"},
		&cli.StringFlag{Name: "integrationType", Usage: "which integration of the org to import with (default as import:data)"},
		&cli.BoolFlag{Name: "dryRun", Aliases: []string{"dryrun"}, Usage: "read only: print the plan and write <orgId>.sync-plan.json; change nothing"},
		&cli.StringSliceFlag{Name: "snykProduct", Usage: "open-source (default), container or iac (repeatable): which projects are synced"},
		&cli.StringSliceFlag{Name: "exclusionGlobs", Usage: "comma-separated globs on manifest paths: matching projects are deactivated and the globs are sent with every import"},
		&cli.BoolFlag{Name: "importNew", Usage: "import repositories Snyk does not have yet (same filters and resume log as import)"},
		&cli.StringFlag{Name: "onDeletedRepo", Value: syncer.OnDeletedDeactivate, Usage: "deactivate, delete or ignore the projects of a repository proven deleted (delete: deactivate, then delete after --deleteAfter)"},
		&cli.StringFlag{Name: "deleteAfter", Value: syncer.FormatDays(syncer.DefaultDeleteAfter), Usage: "with --onDeletedRepo=delete: how long after its deactivation a deleted repository's projects are deleted (7d, 36h)"},
		&cli.StringFlag{Name: "maxDeactivate", Value: syncer.DefaultLimit.String(), Usage: "most projects one run may deactivate or delete per org: a number or a percentage of its active projects (0 allows none); above it nothing is changed and the run exits 3. Only a value given for this run may empty an org"},
		&cli.StringFlag{Name: "detect", Value: "updated", Usage: "how changed repositories are found: updated (updated_on, no extra request)"},
		&cli.StringFlag{Name: "concurrency", Usage: "import workers, 1 to 50 (else CONCURRENT_IMPORTS, default 15)"},
		&cli.DurationFlag{Name: "pollTimeout", Value: importer.DefaultPollTimeout, Usage: "how long one import job may take before it is logged as failed"},
		&cli.DurationFlag{Name: "pollInterval", Value: importer.DefaultPollInitial, Usage: pollIntervalUsage},
		pollShareFlag(),
		shardFlag(),
		waitFlag(),
	}
	return &cli.Command{
		Name:  "sync",
		Usage: "make Snyk match Bitbucket: branch changes, changed, renamed, deleted and (with --importNew) new repositories",
		Flags: withKebab(append(append(flags, filters...), commonFlags()...)),
		Action: func(c *cli.Context) error {
			logPath, err := rt.begin(c)
			if err != nil {
				return err
			}
			// A dry run writes its plans, and its summary beside them.
			st := rt.startStage("sync", logPath)
			so, err := rt.syncFlags(c, logPath)
			if err != nil {
				return err
			}
			st.shard = so.Shard.String()
			opts := &syncOptions{
				Sync: so, IO: rt.commandIO(st),
				OrgID: strings.TrimSpace(c.String("orgPublicId")), OrgsData: strings.TrimSpace(c.String("orgsData")), GroupID: strings.TrimSpace(c.String("groupId")),
				Bitbucket: func() (syncer.Bitbucket, error) { return rt.newBitbucket(c, so.Source) },
				Snyk:      func() (syncer.Snyk, error) { return rt.newSnyk(c) },
			}
			// Held until the summary is written: two syncs (or a sync and an
			// import) on one log directory would both act on the same plan.
			// A dry run only reads, so it takes no lock.
			if !so.DryRun {
				lock, err := rt.lockLogDir(c, logPath)
				if err != nil {
					return err
				}
				defer lock.Release()
			}
			return runSync(c.Context, opts)
		},
	}
}

// syncOptions are sync's checked flags, the org selection and the
// dependencies, so that runSync can be called with fake APIs.
type syncOptions struct {
	// Sync holds the checked flags; runSync fills in the clients, the orgs
	// and the progress.
	Sync syncer.Options
	// OrgID, OrgsData and GroupID select the orgs (see syncOrgs).
	OrgID, OrgsData, GroupID string

	// Bitbucket and Snyk build the clients; called after the flags are
	// checked and the log directory is locked.
	Bitbucket func() (syncer.Bitbucket, error)
	Snyk      func() (syncer.Snyk, error)
	// IO's Stage gets sync-summary.json's figures.
	IO *commandIO
}

func runSync(ctx context.Context, opts *syncOptions) error {
	so := opts.Sync
	bb, err := opts.Bitbucket()
	if err != nil {
		return err
	}
	sn, err := opts.Snyk()
	if err != nil {
		return err
	}
	so.Bitbucket, so.Snyk = bb, sn
	if so.Orgs, err = syncOrgs(ctx, sn, opts.OrgID, opts.OrgsData, opts.GroupID); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "ℹ️  Resolved dryRun=%v\n", so.DryRun)
	p := opts.IO.progress()
	defer p.Done()
	so.Progress = p
	// Each org is printed as soon as it is done: its plan is not kept.
	so.OnOrg = func(o *syncer.OrgResult) { printSyncOrg(opts.IO.Out, o, so) }
	res, err := syncer.Sync(ctx, so)
	p.Done()
	if res != nil {
		printSyncTotal(opts.IO.Out, res)
		if st := opts.IO.Stage; st != nil {
			st.started = res.Started
			st.detail = syncSummary(res)
			st.failures = syncFailures(res, so.Redact)
		}
	}
	if err != nil {
		return err
	}
	if res.Failed() {
		return &partialError{syncFailureMessage(res, so.LogPath)}
	}
	return nil
}

// syncFlags reads every flag but the org selection.
func (rt *invocation) syncFlags(c *cli.Context, logPath string) (syncer.Options, error) {
	var opts syncer.Options
	source, err := checkSource(c.String("source"))
	if err != nil {
		return opts, err
	}
	switch d := strings.TrimSpace(c.String("detect")); d {
	case "updated":
	case "tree":
		return opts, usagef("--detect=tree (listing each repository's file tree) is not built yet; use --detect=updated (the default), which re-imports repositories whose updated_on moved and lets Snyk find new manifests")
	default:
		return opts, usagef("--detect=%q: want updated", d)
	}
	// Only a limit given for this run may empty an org.
	limit := syncer.DefaultLimit
	if c.IsSet("maxDeactivate") {
		if limit, err = syncer.ParseLimit(c.String("maxDeactivate")); err != nil {
			return opts, fieldUsage(err)
		}
	}
	onDeleted := strings.TrimSpace(c.String("onDeletedRepo"))
	if err := syncer.CheckOnDeleted(onDeleted); err != nil {
		return opts, fieldUsage(err)
	}
	deleteAfter, err := parseDays("--deleteAfter", c.String("deleteAfter"))
	if err != nil {
		return opts, err
	}
	var products []string
	for _, v := range c.StringSlice("snykProduct") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if err := syncer.CheckProduct(p); err != nil {
				return opts, fieldUsage(err)
			}
			products = append(products, p)
		}
	}
	globs := c.StringSlice("exclusionGlobs")
	if err := syncer.ValidateGlobs(globs); err != nil {
		return opts, fieldUsage(err)
	}
	filter, err := repoFilter(c)
	if err != nil {
		return opts, err
	}
	conc, err := rt.intSetting(c, "concurrency", "CONCURRENT_IMPORTS", importer.DefaultConcurrency)
	if err != nil {
		return opts, err
	}
	pollInitial := rt.pollInterval(c)
	polls, err := rt.pollSettings(c)
	if err != nil {
		return opts, err
	}
	shard, err := rt.shardSetting(c)
	if err != nil {
		return opts, err
	}
	return syncer.Options{
		Source: source, IntegrationType: strings.TrimSpace(c.String("integrationType")), LogPath: logPath,
		DryRun: c.Bool("dryRun"), ImportNew: c.Bool("importNew"), OnDeleted: onDeleted, DeleteAfter: deleteAfter, MaxDeactivate: limit,
		ExclusionGlobs: globs, Products: products, Filter: filter,
		Concurrency: conc, PollTimeout: c.Duration("pollTimeout"),
		PollInitial: pollInitial, PollMax: rt.Tuning.PollMax, Now: rt.Now, Shard: shard,
		PollShare: polls.share, SnykRateLimit: polls.limit, OnPollSchedule: polls.report,
		ErrorText: rt.errMessage, Redact: rt.redactor.String,
	}, nil
}

// syncOrgs picks the orgs: --orgPublicId (its row of --orgsData if given,
// for the workspace), every row of --orgsData (of --groupId if given), or
// every org of --groupId listed from Snyk.
func syncOrgs(ctx context.Context, sn importer.Snyk, orgID, file, group string) ([]importfiles.CreatedOrg, error) {
	if orgID == "" && file == "" && group == "" {
		return nil, usagef("name the orgs to sync: --orgPublicId=<org id>, --orgsData=snyk-created-orgs.json or --groupId=<group id>")
	}
	var rows []importfiles.CreatedOrg
	if file != "" {
		all, err := importfiles.ReadCreatedOrgsFile(file)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, r := range all {
			if seen[r.OrgID] || (group != "" && r.GroupID != "" && r.GroupID != group) || (orgID != "" && r.OrgID != orgID) {
				continue
			}
			seen[r.OrgID] = true
			rows = append(rows, r)
		}
	}
	switch {
	case orgID != "" && len(rows) == 0:
		// The original's form: the org's workspaces are those its targets name.
		return []importfiles.CreatedOrg{{OrgID: orgID}}, nil
	case file != "" && len(rows) == 0:
		return nil, usagef("%s has no org to sync (of group %q); check --orgsData and --groupId", file, group)
	case file == "":
		for o, err := range sn.ListGroupOrgsIter(ctx, group) {
			if err != nil {
				return nil, fmt.Errorf("list the orgs of group %s: %w", group, err)
			}
			rows = append(rows, importfiles.CreatedOrg{OrgID: o.ID, GroupID: group})
		}
		if len(rows) == 0 {
			return nil, fmt.Errorf("group %s has no org to sync", group)
		}
	}
	return rows, nil
}

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
			plural(o.ProjectsUpdated, "project"), plural(o.ProjectsDeactivated, "project"), plural(o.ProjectsDeleted, "project"),
			plural(o.ProjectsImported, "new project"), o.ProjectsRetested, len(o.Failures))
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
		plural(t.OrgsFailed, "org"), plural(t.OrgsHeldBack, "org"), plural(t.Failures, "change"), plural(t.Unmatched, "unmatched target"))
	if res.DryRun {
		planned := 0
		for _, o := range res.Orgs {
			for a, n := range o.Planned {
				if a != syncer.ActionNewNotImported && a != syncer.ActionUnmatched {
					planned += n
				}
			}
		}
		fmt.Fprintf(out, "Dry run of %s: %s planned, nothing changed; %s\n", plural(t.Orgs, "org"), plural(planned, "change"), problems)
		return
	}
	fmt.Fprintf(out, "Synced %s: updated %s, deactivated %s, deleted %s, imported %s (%d re-tested); %s\n",
		plural(t.Orgs, "org"), plural(t.ProjectsUpdated, "project"), plural(t.ProjectsDeactivated, "project"),
		plural(t.ProjectsDeleted, "project"), plural(t.ProjectsImported, "new project"), t.ProjectsRetested, problems)
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
		fmt.Fprintf(out, "  workspace %s could not be listed completely, its %s left alone: %s\n", w.Workspace, plural(w.Targets, "target"), w.Error)
	}
	for _, d := range p.PendingDeletes {
		fmt.Fprintf(out, "  %-19s %s/%s (%s, deleted from %s)\n", "delete-waiting", d.Workspace, d.Slug, plural(d.Projects, "project"), d.Due.UTC().Format("2006-01-02 15:04 MST"))
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
			line += " (" + plural(n, "project") + ")"
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
			plural(h.Active, "active project"), plan)
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
			parts = append(parts, fmt.Sprintf("org %s: %s failed (retried by the next run)", o.OrgID, plural(n, "change")))
		}
	}
	return "sync finished with problems: " + strings.Join(parts, "; ") + " — details in " + filepath.Join(logPath, importer.SummaryFileName("sync"))
}

// parseDays reads a duration given in days ("7d") or as Go writes one
// ("36h"); it must be positive.
func parseDays(flag, raw string) (time.Duration, error) {
	raw = strings.TrimSpace(raw)
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(raw, "d"); ok {
		var days float64
		if days, err = strconv.ParseFloat(n, 64); err == nil {
			d = time.Duration(days * float64(24*time.Hour))
		}
	} else {
		d, err = time.ParseDuration(raw)
	}
	if err != nil || d <= 0 {
		return 0, usagef("%s=%q: want a positive duration such as 7d or 36h (a deletion waits at least until the next run)", flag, raw)
	}
	return d, nil
}

// fieldUsage is a usage error worded from a library's field error.
func fieldUsage(err error) error {
	if m, ok := fieldMessage(err); ok {
		return usagef("%s", m)
	}
	return usagef("%v", err)
}

// pollInterval reads --pollInterval (import and sync): the shortest wait
// between polls of a job.
func (rt *invocation) pollInterval(c *cli.Context) time.Duration {
	d := c.Duration("pollInterval")
	if !c.IsSet("pollInterval") && rt.Tuning.PollInitial > 0 {
		d = rt.Tuning.PollInitial
	}
	return d
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
