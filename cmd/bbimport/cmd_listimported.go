package main

import (
	"context"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"slices"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/cause"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

func newListImportedCommand(rt *invocation, run func(context.Context, *listImportedOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "list:imported",
		Usage: "list what Snyk already has and append it to imported-targets.log, so import skips it",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "groupId", Usage: "every org of this Snyk group (or --orgId)"},
			&cli.StringFlag{Name: "orgId", Usage: "this one Snyk org (or --groupId)"},
			&cli.StringSliceFlag{Name: "integrationType", Usage: "project origins to list (repeatable; default bitbucket-cloud-app and bitbucket-cloud)"},
			waitFlag(),
		}, commonFlags()...)),
		Action: stageAction(rt, "list:imported", bindListImported, run),
	}
}

func bindListImported(b *binding) (*listImportedOptions, error) {
	c := b.c
	opts := &listImportedOptions{IO: b.io, LogPath: b.logPath}
	opts.GroupID, opts.OrgID = strings.TrimSpace(c.String("groupId")), strings.TrimSpace(c.String("orgId"))
	switch {
	case opts.GroupID == "" && opts.OrgID == "":
		return nil, usagef("pass exactly one of --groupId or --orgId")
	case opts.GroupID != "" && opts.OrgID != "":
		return nil, usagef("--groupId and --orgId were both given; pass exactly one")
	}
	opts.IntegrationTypes = c.StringSlice("integrationType")
	if len(opts.IntegrationTypes) == 0 {
		opts.IntegrationTypes = []string{sourceApp, sourceCloud}
	}
	for _, t := range opts.IntegrationTypes {
		if !slices.Contains(importer.ListImportedTypes, t) {
			return nil, usagef("--integrationType=%q is not a Snyk integration type; use one of %s", t, strings.Join(importer.ListImportedTypes, ", "))
		}
	}
	sn, err := b.snyk()
	if err != nil {
		return nil, err
	}
	opts.Snyk = func() (importer.Snyk, error) { return sn() }
	return opts, nil
}

// listImportedOptions are list:imported's checked flags and its
// dependencies, so that runListImported can be called with a fake Snyk.
type listImportedOptions struct {
	GroupID, OrgID   string
	IntegrationTypes []string
	LogPath          string

	// Snyk builds the client from checked settings; called after the log
	// directory is locked.
	Snyk func() (importer.Snyk, error)
	IO   *commandIO
}

func runListImported(ctx context.Context, opts *listImportedOptions) error {
	out, log := opts.IO.Out, opts.IO.Log
	sn, err := opts.Snyk()
	if err != nil {
		return err
	}
	p := opts.IO.progress()
	defer p.Done()
	res, err := importer.ListImported(ctx, importer.ListImportedOptions{
		Snyk: sn, GroupID: opts.GroupID, OrgID: opts.OrgID, IntegrationTypes: opts.IntegrationTypes, LogPath: opts.LogPath,
		Now: opts.IO.Now, Progress: p,
	})
	p.Done()
	if err != nil {
		return err
	}
	st := opts.IO.Stage
	st.output, st.detail, st.failures = res.LogFile, listImportedSummary(res), listImportedFailures(res)
	for _, g := range cause.GroupBy(res.FailedOrgs, func(f importer.OrgFailure) (string, error) { return "", f.Err }) {
		ids := make([]string, len(g.Items))
		for i, f := range g.Items {
			ids[i] = f.OrgID
		}
		ev := errorFields(log.Error(), g.Err).Str("orgId", ids[0])
		if len(ids) == 1 {
			ev.Msgf("could not list org %s: %s", ids[0], opts.IO.errText(g.Err))
			continue
		}
		ev.Int("orgs", len(ids)).Msgf("could not list %d orgs (%s): %s", len(ids), english.FirstFew(ids, 5), opts.IO.errText(g.Err))
	}
	if res.Targets == 0 {
		fmt.Fprintf(out, "⚠ No repo(s) found in %s for integration type(s) %s!\n", english.Plural(res.Orgs, "org"), strings.Join(opts.IntegrationTypes, ", "))
	} else {
		fmt.Fprintf(out, "Found %s (%d newly recorded). Written the data to file: %s\n", english.Plural(res.Targets, "target"), res.Written, res.LogFile)
	}
	if res.Failed() {
		return &partialError{fmt.Sprintf("%s could not be listed; the skip list misses their projects", english.Plural(len(res.FailedOrgs), "org"))}
	}
	return nil
}
