package main

import (
	"context"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"sort"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/cause"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

func newImportDataCommand(rt *invocation, run func(context.Context, *importDataOptions) error) *cli.Command {
	return &cli.Command{
		Name:   "import:data",
		Usage:  "list every repository of every org's workspace and write the import targets file",
		Flags:  withKebab(append(importDataFlags(), commonFlags()...)),
		Action: stageAction(rt, "import:data", bindImportData, run),
	}
}

// importDataFlags are import:data's own flags; sync shares its filters.
func importDataFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "orgsData", Usage: "snyk-created-orgs.json written by orgs:create (required)"},
		&cli.StringFlag{Name: "source", Value: sourceApp, Usage: sourceUsage},
		&cli.StringFlag{Name: "sourceUrl", Usage: "Bitbucket API base (else BITBUCKET_APP_API_BASE)"},
		&cli.StringFlag{Name: "integrationType", Usage: "which key of each org's integrations to import with (default: bitbucket-cloud-app, bitbucket-connect-app, then bitbucket-cloud)"},
		&cli.BoolFlag{Name: "skipForks", Usage: "leave out forks (repositories with a parent)"},
		&cli.BoolFlag{Name: "skipEmptyRepos", Value: true, Usage: "leave out repositories with no main branch (--skipEmptyRepos=false keeps them)"},
		&cli.StringSliceFlag{Name: "include", Usage: "only repositories matching this glob on workspace/repo (repeatable)"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "leave out repositories matching this glob on workspace/repo (repeatable; wins over --include)"},
		&cli.BoolFlag{Name: "private", Usage: "only private repositories (filtered by Bitbucket)"},
		&cli.BoolFlag{Name: "public", Usage: "only public repositories (filtered by Bitbucket)"},
		&cli.StringFlag{Name: "updatedSince", Usage: "only repositories updated since this date, YYYY-MM-DD (filtered by Bitbucket: fewer pages)"},
		&cli.StringSliceFlag{Name: "project", Usage: "only repositories of this Bitbucket project key (repeatable; filtered by Bitbucket; orgs of other projects are not listed)"},
		&cli.StringSliceFlag{Name: "workspace", Usage: "only the orgs of this workspace slug (repeatable; the other orgs of --orgsData are not listed)"},
		&cli.StringFlag{Name: "workspacesFile", Usage: "a file of workspace slugs, one per line (# comments): only the orgs of these workspaces"},
		&cli.StringFlag{Name: "orgPer", Usage: "check that --orgsData has one org per workspace or per project (default: follow the file)"},
		&cli.IntFlag{Name: "concurrency", Value: importer.DefaultImportDataConcurrency, Usage: "workspaces listed at once"},
		shardFlag(),
		waitFlag(),
	}
}

func bindImportData(b *binding) (*importDataOptions, error) {
	c := b.c
	orgsData, err := requireString(c, "orgsData", "the snyk-created-orgs.json file written by orgs:create")
	if err != nil {
		return nil, err
	}
	source, err := checkSource(c.String("source"))
	if err != nil {
		return nil, err
	}
	filter, err := repoFilter(c)
	if err != nil {
		return nil, err
	}
	workspaces, err := b.workspaceFlags()
	if err != nil {
		return nil, err
	}
	shard, err := b.shardSetting()
	if err != nil {
		return nil, err
	}
	var orgPer importer.OrgPer
	if c.IsSet("orgPer") {
		if orgPer, err = orgPerFlag(c); err != nil {
			return nil, err
		}
	}
	if orgsData, err = b.inputPath("--orgsData", orgsData); err != nil {
		return nil, err
	}
	opts := &importDataOptions{IO: b.io, Data: importer.ImportDataOptions{
		OrgsData: orgsData, Source: source,
		IntegrationType: strings.TrimSpace(c.String("integrationType")),
		Filter:          filter, LogPath: b.logPath, Concurrency: c.Int("concurrency"),
		Workspaces: workspaces, OrgPer: orgPer, Shard: shard,
	}}
	bb, err := b.bitbucket(source, nil)
	if err != nil {
		return nil, err
	}
	opts.Bitbucket = func() (importer.Bitbucket, error) { return bb() }
	// With a Snyk credential every org is checked against Snyk first (its
	// group, its integration); without one the file's integrations are
	// used as they are, and an org whose row lacks one fails.
	sn, err := b.optionalSnyk()
	if err != nil {
		return nil, err
	}
	if sn != nil {
		opts.Snyk = func() (importer.Snyk, error) { return sn() }
	}
	return opts, nil
}

// importDataOptions are import:data's checked flags and its dependencies,
// so that runImportData can be called with fake APIs.
type importDataOptions struct {
	// Data holds the checked flags; runImportData fills in the clients,
	// the progress and the error wording.
	Data importer.ImportDataOptions

	// Bitbucket builds the client from checked settings; called after the
	// log directory is locked.
	Bitbucket func() (importer.Bitbucket, error)
	// Snyk builds the Snyk client; nil when no Snyk credential is set.
	Snyk func() (importer.Snyk, error)
	IO   *commandIO
}

func runImportData(ctx context.Context, opts *importDataOptions) error {
	data := opts.Data
	bb, err := opts.Bitbucket()
	if err != nil {
		return err
	}
	data.Bitbucket = bb
	if q := data.Filter.Query(""); q != "" {
		opts.IO.Log.Info().Str("q", q).Msg("Bitbucket filters the repositories server-side")
	}
	if opts.Snyk != nil {
		if data.Snyk, err = opts.Snyk(); err != nil {
			return err
		}
	}
	p := opts.IO.progress()
	defer p.Done()
	data.Progress = p
	res, err := importer.ImportData(ctx, data)
	p.Done()
	reportFound(opts.IO.Log, bb, opts.IO.errText)
	if err != nil {
		return err
	}
	st := opts.IO.Stage
	st.output, st.detail, st.failures = res.Path, importDataSummary(data.OrgsData, res), importDataFailures(res)
	return printImportData(ctx, opts.IO, res)
}

func repoFilter(c *cli.Context) (importer.RepoFilter, error) {
	f := importer.RepoFilter{
		SkipForks:         c.Bool("skipForks"),
		IncludeEmptyRepos: !c.Bool("skipEmptyRepos"),
		Include:           c.StringSlice("include"),
		Exclude:           c.StringSlice("exclude"),
		Projects:          c.StringSlice("project"),
	}
	switch {
	case c.Bool("private") && c.Bool("public"):
		return f, usagef("--private and --public contradict each other; pass one (or neither for both)")
	case c.Bool("private"):
		f.Visibility = importer.VisibilityPrivate
	case c.Bool("public"):
		f.Visibility = importer.VisibilityPublic
	}
	if s := c.String("updatedSince"); s != "" {
		t, err := parseDate("updatedSince", s)
		if err != nil {
			return f, err
		}
		f.UpdatedSince = t
	}
	if err := f.Validate(); err != nil {
		return f, usagef("%v", err)
	}
	return f, nil
}

func printImportData(ctx context.Context, cio *commandIO, res *importer.ImportDataResult) error {
	for _, w := range res.UnmatchedWorkspaces {
		cio.Log.Warn().Str("workspace", w).Msgf("--workspace %s: no org of the orgs file is for this workspace; check the slug, or run orgs:data and orgs:create for it", w)
	}
	for _, w := range res.Warnings {
		cio.Log.Warn().Msg(w)
	}
	if len(res.LeftOut) > 0 {
		byReason := map[string]int{}
		for _, o := range res.LeftOut {
			byReason[reasonText(o.Reason)]++
			cio.Log.Debug().Str("org", o.Name).Str("orgId", o.OrgID).Str("workspace", o.Workspace).Str("project", o.Project).
				Msgf("left out org %q: %s", o.Name, reasonText(o.Reason))
		}
		cio.Log.Info().Msgf("left out %s of the orgs file without listing: %s", english.Plural(len(res.LeftOut), "org"), countsText(byReason))
	}
	for _, g := range cause.GroupBy(res.Failures(), func(o importer.ImportDataOrg) (string, error) { return "", o.Err }) {
		o := g.Items[0]
		ev := errorFields(cio.Log.Error(), g.Err).Str("org", o.Name).Str("orgId", o.OrgID).Str("workspace", o.Workspace)
		if len(g.Items) == 1 {
			ev.Msgf("could not list workspace %q for org %q: %s", o.Workspace, o.Name, cio.errText(o.Err))
			continue
		}
		names := make([]string, len(g.Items))
		for i, it := range g.Items {
			names[i] = it.Workspace
		}
		ev.Int("workspaces", len(names)).Msgf("could not list %d workspaces (%s): %s", len(names), english.FirstFew(names, 5), cio.errText(g.Err))
	}
	printShard(cio.Out, res.Shard, len(res.Orgs), res.OtherShards, "org")
	skipped := ""
	if n := sumSkipped(res.Skipped); n > 0 {
		byReason := map[string]int{}
		for r, n := range res.Skipped {
			byReason[string(r)] = n
		}
		skipped = fmt.Sprintf(", %d skipped: %s", n, countsText(byReason))
		cio.Log.Info().Interface("skipped", res.Skipped).Msgf("skipped %s: %s", english.Plural(n, "repository"), countsText(byReason))
	}
	fmt.Fprintf(cio.Out, "Found %s in %s (%s listed%s). Written the data to file: %s\n",
		english.Plural(res.Targets, "target"), english.Plural(len(res.Orgs), "org"), english.Plural(res.Repositories, "repository"), skipped, res.Path)
	if res.Failed() {
		names := make([]string, 0)
		for _, o := range res.Failures() {
			names = append(names, o.Workspace)
		}
		return &partialError{fmt.Sprintf("%s of %d could not be listed (%s); their targets are missing from %s — fix the cause above and run import:data again",
			english.Plural(len(names), "workspace"), len(res.Orgs), strings.Join(names, ", "), res.Path)}
	}
	cio.next(ctx, "bbimport import --file=%s", res.Path)
	return nil
}

// countsText renders counts by reason, largest first then by name:
// "6 fork, 4 empty".
func countsText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func sumSkipped(m map[importer.SkipReason]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
