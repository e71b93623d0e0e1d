package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

func newImportDataCommand(rt *runtime) *cli.Command {
	return &cli.Command{
		Name:  "import:data",
		Usage: "list every repository of every org's workspace and write the import targets file",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "orgsData", Usage: "snyk-created-orgs.json written by orgs:create (required)"},
			&cli.StringFlag{Name: "source", Value: sourceApp, Usage: "bitbucket-cloud-app (OAuth consumer) or bitbucket-cloud"},
			&cli.StringFlag{Name: "sourceUrl", Usage: "Bitbucket API base (else BITBUCKET_APP_API_BASE)"},
			&cli.StringFlag{Name: "integrationType", Usage: "which key of each org's integrations to import with (default: bitbucket-cloud-app, bitbucket-connect-app, then bitbucket-cloud)"},
			&cli.BoolFlag{Name: "skipForks", Usage: "leave out forks (repositories with a parent)"},
			&cli.BoolFlag{Name: "skipEmptyRepos", Value: true, Usage: "leave out repositories with no main branch (--skipEmptyRepos=false keeps them)"},
			&cli.StringSliceFlag{Name: "include", Usage: "only repositories matching this glob on workspace/repo (repeatable)"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "leave out repositories matching this glob on workspace/repo (repeatable; wins over --include)"},
			&cli.BoolFlag{Name: "private", Usage: "only private repositories (filtered by Bitbucket)"},
			&cli.BoolFlag{Name: "public", Usage: "only public repositories (filtered by Bitbucket)"},
			&cli.StringFlag{Name: "updatedSince", Usage: "only repositories updated since this date, YYYY-MM-DD (filtered by Bitbucket: fewer pages)"},
			&cli.StringSliceFlag{Name: "project", Usage: "only repositories of this Bitbucket project key (repeatable; filtered by Bitbucket)"},
			&cli.IntFlag{Name: "concurrency", Value: 4, Usage: "workspaces listed at once"},
		}, commonFlags()...)),
		Action: func(c *cli.Context) error {
			logPath, err := rt.begin(c)
			if err != nil {
				return err
			}
			orgsData, err := requireString(c, "orgsData", "the snyk-created-orgs.json file written by orgs:create")
			if err != nil {
				return err
			}
			source, err := checkSource(c.String("source"))
			if err != nil {
				return err
			}
			filter, err := repoFilter(c)
			if err != nil {
				return err
			}
			if n := c.Int("concurrency"); n < 1 || n > 50 {
				return usagef("--concurrency=%d is out of range; use 1 to 50", n)
			}
			bb, err := rt.newBitbucket(c, source)
			if err != nil {
				return err
			}
			// Snyk is only needed for orgs whose integrations the file lacks;
			// without SNYK_TOKEN those orgs fail with a clear message.
			opts := importer.ImportDataOptions{
				Bitbucket: bb, OrgsData: orgsData, Source: source,
				IntegrationType: strings.TrimSpace(c.String("integrationType")),
				Filter:          filter, LogPath: logPath, Concurrency: c.Int("concurrency"),
			}
			if rt.env("SNYK_TOKEN") != "" {
				if opts.Snyk, err = rt.newSnyk(c); err != nil {
					return err
				}
			}
			p := rt.newProgress()
			defer p.Done()
			opts.Progress = p
			res, err := importer.ImportData(c.Context, opts)
			p.Done()
			if err != nil {
				return err
			}
			return rt.printImportData(res)
		},
	}
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

func (rt *runtime) printImportData(res *importer.ImportDataResult) error {
	for _, o := range res.Failures() {
		rt.log.Error().Str("org", o.Name).Str("orgId", o.OrgID).Str("workspace", o.Workspace).
			Msgf("could not list workspace %q for org %q: %v", o.Workspace, o.Name, o.Err)
	}
	if len(res.Skipped) > 0 {
		reasons := make([]string, 0, len(res.Skipped))
		for r, n := range res.Skipped {
			reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
		}
		sort.Strings(reasons)
		rt.log.Info().Msgf("skipped %s: %s", plural(sumSkipped(res.Skipped), "repository"), strings.Join(reasons, ", "))
	}
	fmt.Fprintf(rt.Stdout, "Found %s in %s (%s listed). Written the data to file: %s\n",
		plural(res.Targets, "target"), plural(len(res.Orgs), "org"), plural(res.Repositories, "repository"), res.Path)
	if res.Failed() {
		names := make([]string, 0)
		for _, o := range res.Failures() {
			names = append(names, o.Workspace)
		}
		return &partialError{fmt.Sprintf("%s of %d could not be listed (%s); their targets are missing from %s — fix the cause above and run import:data again",
			plural(len(names), "workspace"), len(res.Orgs), strings.Join(names, ", "), res.Path)}
	}
	rt.next("bbimport import --file=%s", res.Path)
	return nil
}

func sumSkipped(m map[importer.SkipReason]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
