package main

import (
	"context"
	"fmt"
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

func newSyncCommand(rt *invocation, run func(context.Context, *syncOptions) error) *cli.Command {
	var filters []cli.Flag
	for _, f := range importDataFlags() { // one definition of the filter flags
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
		Name:   "sync",
		Usage:  "make Snyk match Bitbucket: branch changes, changed, renamed, deleted and (with --importNew) new repositories",
		Flags:  withKebab(append(append(flags, filters...), commonFlags()...)),
		Action: stageAction(rt, "sync", bindSync, run),
	}
}

// bindSync reads sync's flags; a dry run writes its plans, and its summary
// beside them, but takes no lock: it only reads.
func bindSync(b *binding) (*syncOptions, error) {
	c := b.c
	so, err := b.syncFlags()
	if err != nil {
		return nil, err
	}
	if so.DryRun {
		b.readOnly(true)
	}
	opts := &syncOptions{
		Sync: so, IO: b.io,
		OrgID: strings.TrimSpace(c.String("orgPublicId")), OrgsData: strings.TrimSpace(c.String("orgsData")), GroupID: strings.TrimSpace(c.String("groupId")),
	}
	bb, err := b.bitbucket(so.Source, nil)
	if err != nil {
		return nil, err
	}
	sn, err := b.snyk()
	if err != nil {
		return nil, err
	}
	opts.Bitbucket = func() (syncer.Bitbucket, error) { return bb() }
	opts.Snyk = func() (syncer.Snyk, error) { return sn() }
	return opts, nil
}

// syncOptions are sync's checked flags, the org selection and the
// dependencies, so that runSync can be called with fake APIs.
type syncOptions struct {
	// Sync holds the checked flags; runSync fills in the clients, the orgs
	// and the progress.
	Sync syncer.Options
	// OrgID, OrgsData and GroupID select the orgs (see syncOrgs).
	OrgID, OrgsData, GroupID string

	// Bitbucket and Snyk build the clients from checked settings; called
	// after the log directory is locked.
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
	reportFound(opts.IO.Log, bb, opts.IO.errText)
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
func (b *binding) syncFlags() (syncer.Options, error) {
	c := b.c
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
	conc, err := b.intSetting("concurrency", "CONCURRENT_IMPORTS", importer.DefaultConcurrency)
	if err != nil {
		return opts, err
	}
	pollInitial := b.pollInterval()
	polls, err := b.pollSettings()
	if err != nil {
		return opts, err
	}
	shard, err := b.shardSetting()
	if err != nil {
		return opts, err
	}
	return syncer.Options{
		Source: source, IntegrationType: strings.TrimSpace(c.String("integrationType")), LogPath: b.logPath,
		DryRun: c.Bool("dryRun"), ImportNew: c.Bool("importNew"), OnDeleted: onDeleted, DeleteAfter: deleteAfter, MaxDeactivate: limit,
		ExclusionGlobs: globs, Products: products, Filter: filter,
		Concurrency: conc, PollTimeout: c.Duration("pollTimeout"),
		PollInitial: pollInitial, PollMax: b.tuning.PollMax, Now: b.io.Now, Shard: shard,
		PollShare: polls.share, SnykRateLimit: polls.limit, OnPollSchedule: polls.report,
		ErrorText: b.io.ErrText, Redact: b.clients.out.redactor.String,
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
		// A file of another group or tenant fails here, in a listing of each
		// group, and not org by org every night (exit 1). An org or two
		// missing fail as the sync of each would (exit 3).
		notIn, err := importer.CheckGroups(ctx, sn, rows)
		if err != nil {
			return nil, err
		}
		if len(notIn) > 0 && len(notIn) == len(rows) {
			return nil, fmt.Errorf("none of the %d orgs of %s is in its Snyk group, so nothing was synced; the first: %w", len(rows), file, notIn[rows[0].OrgID])
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
