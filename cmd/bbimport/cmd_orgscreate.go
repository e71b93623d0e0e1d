package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/cause"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

func newOrgsCreateCommand(rt *invocation, run func(context.Context, *orgsCreateOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "orgs:create",
		Usage: "create the Snyk orgs of an orgs data file (reusing existing ones) and write snyk-created-orgs.json",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "file", Usage: "orgs data file written by orgs:data (required)"},
			&cli.BoolFlag{Name: "noDuplicateNames", Usage: "accepted for compatibility: reusing orgs by name is the default"},
			&cli.BoolFlag{Name: "allowDuplicateNames", Usage: "create an org even when the group has one of that name (the original's default)"},
			&cli.BoolFlag{Name: "includeExistingOrgsInOutput", Value: true, Usage: "list reused orgs in snyk-created-orgs.json too"},
			&cli.BoolFlag{Name: "no-includeExistingOrgsInOutput", Usage: "same as --includeExistingOrgsInOutput=false"},
			&cli.BoolFlag{Name: "dryRun", Usage: "print what would be created or reused; create nothing"},
			waitFlag(),
		}, commonFlags()...)),
		Action: stageAction(rt, "orgs:create", bindOrgsCreate, run),
	}
}

func bindOrgsCreate(b *binding) (*orgsCreateOptions, error) {
	c := b.c
	opts := &orgsCreateOptions{IO: b.io, LogPath: b.logPath, DryRun: c.Bool("dryRun"), Redact: b.clients.out.redactor.String}
	if opts.DryRun {
		b.readOnly(false)
	}
	file, err := requireString(c, "file", "the orgs data file written by orgs:data")
	if err != nil {
		return nil, err
	}
	if opts.File, err = b.inputPath("--file", file); err != nil {
		return nil, err
	}
	if c.Bool("noDuplicateNames") && c.Bool("allowDuplicateNames") {
		return nil, usagef("--noDuplicateNames and --allowDuplicateNames contradict each other; pass one")
	}
	opts.AllowDuplicateNames = c.Bool("allowDuplicateNames")
	opts.ExcludeExistingOrgs = !c.Bool("includeExistingOrgsInOutput") || c.Bool("no-includeExistingOrgsInOutput")
	sn, err := b.snyk()
	if err != nil {
		return nil, err
	}
	opts.Snyk = func() (importer.Snyk, error) { return sn() }
	opts.Source = sourceOfOrgsFile(opts.File, b.env)
	return opts, nil
}

// orgsCreateOptions are orgs:create's checked flags and its dependencies,
// so that runOrgsCreate can be called with a fake Snyk.
type orgsCreateOptions struct {
	File, LogPath string
	// Source is the source the next command names: the orgs file's, else
	// the one the environment's Bitbucket credentials are for.
	Source              string
	AllowDuplicateNames bool
	ExcludeExistingOrgs bool
	DryRun              bool

	// Snyk builds the client from checked settings; called after the log
	// directory is locked.
	Snyk func() (importer.Snyk, error)
	// Redact masks the secrets in text written to the failure log.
	Redact func(string) string
	IO     *commandIO
}

func runOrgsCreate(ctx context.Context, opts *orgsCreateOptions) error {
	sn, err := opts.Snyk()
	if err != nil {
		return err
	}
	p := opts.IO.progress()
	defer p.Done()
	res, err := importer.OrgsCreate(ctx, importer.OrgsCreateOptions{
		Snyk: sn, File: opts.File, LogPath: opts.LogPath,
		AllowDuplicateNames: opts.AllowDuplicateNames,
		ExcludeExistingOrgs: opts.ExcludeExistingOrgs,
		DryRun:              opts.DryRun,
		Now:                 opts.IO.Now,
		Progress:            p,
		Redact:              opts.Redact,
		ErrorText:           opts.IO.ErrText,
	})
	p.Done()
	if res != nil {
		st := opts.IO.Stage
		st.output, st.detail, st.failures = res.Path, orgsCreateSummary(opts.File, res), orgsCreateFailures(res)
		printOrgsCreate(ctx, opts.IO, res, opts.DryRun, opts.LogPath, opts.Source, err)
	}
	if err != nil {
		return err
	}
	if res.Failed() {
		return &partialError{fmt.Sprintf("%s of %d could not be created; see %s", english.Plural(res.Count(importer.OrgFailed), "org"), len(res.Orgs), filepath.Join(opts.LogPath, "*.failed-to-create-orgs.log"))}
	}
	return nil
}

// sourceOfOrgsFile reads the source back from orgs:data's file name
// (group-<id>-<source>-orgs.json), for the hint of the next command; a
// file named otherwise gets the source whose credentials the environment
// holds (the bitbucket-cloud variables alone: bitbucket-cloud; else the
// default).
func sourceOfOrgsFile(path string, env func(string) string) string {
	base := filepath.Base(path)
	for _, s := range importer.Sources() {
		if strings.HasSuffix(base, "-"+s.Name+"-orgs.json") {
			return s.Name
		}
	}
	if env(envAppClientID) == "" && (env(envCloudUsername) != "" || env(envCloudAPIToken) != "" || env(envCloudOAuthToken) != "") {
		return sourceCloud
	}
	return sourceApp
}

func printOrgsCreate(ctx context.Context, cio *commandIO, res *importer.OrgsCreateResult, dryRun bool, logPath, source string, runErr error) {
	var failed []importer.OrgOutcome
	for _, o := range res.Orgs {
		for _, w := range o.Warnings {
			cio.Log.Warn().Str("org", o.Row.Name).Msg(w)
		}
		if o.Status == importer.OrgFailed {
			failed = append(failed, o)
		}
	}
	// One line per distinct cause: a group whose orgs cannot be listed
	// fails every org of it the same way, and a rejected token every group.
	scope := func(o importer.OrgOutcome) (string, error) {
		if httpStatus(o.Err) == http.StatusUnauthorized {
			return "", o.Err
		}
		return o.Row.GroupID, o.Err
	}
	for _, g := range cause.GroupBy(failed, scope) {
		if runErr != nil && errors.Is(runErr, g.Err) {
			continue // the closing message says it
		}
		names := make([]string, len(g.Items))
		for i, o := range g.Items {
			names[i] = o.Row.Name
		}
		ev := errorFields(cio.Log.Error(), g.Err).Str("org", names[0]).Int("orgs", len(names))
		if len(names) == 1 {
			ev.Msgf("could not create org %q: %s", names[0], cio.errText(g.Err))
			continue
		}
		ev.Msgf("could not create %d orgs (%s): %s", len(names), english.FirstFew(english.Quoted(names), 3), cio.errText(g.Err))
	}
	if dryRun {
		fmt.Fprintf(cio.Out, "Dry run: would create %d and reuse %d of %s (nothing was created).\n",
			res.Count(importer.OrgWouldCreate), res.Count(importer.OrgWouldReuse), english.Plural(len(res.Orgs), "organization"))
		rows := res.Orgs
		if len(rows) > 20 {
			rows = rows[:20]
		}
		for _, o := range rows {
			fmt.Fprintf(cio.Out, "  %-13s %s (group %s)\n", o.Status, o.Row.Name, o.Row.GroupID)
		}
		if len(res.Orgs) > len(rows) {
			fmt.Fprintf(cio.Out, "  … and %d more\n", len(res.Orgs)-len(rows))
		}
		return
	}
	created, reused := res.Count(importer.OrgCreated), res.Count(importer.OrgReused)
	if created == 0 && reused == 0 {
		fmt.Fprintln(cio.Out, "⚠ No organization(s) created!")
		return
	}
	fmt.Fprintf(cio.Out, "Created %d out of %s (reused %d that already existed). Written the data to file: %s\n",
		created, english.Plural(len(res.Orgs), "organization"), reused, res.Path)
	if res.Failed() {
		fmt.Fprintf(cio.Out, "%s failed; see %s\n", english.Plural(res.Count(importer.OrgFailed), "organization"), filepath.Join(logPath, "<groupId>.failed-to-create-orgs.log"))
	}
	cio.next(ctx, "bbimport import:data --source=%s --orgsData=%s", source, res.Path)
}
