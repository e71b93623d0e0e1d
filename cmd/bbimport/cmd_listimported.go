package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

func newListImportedCommand(rt *invocation) *cli.Command {
	return &cli.Command{
		Name:  "list:imported",
		Usage: "list what Snyk already has and append it to imported-targets.log, so import skips it",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "groupId", Usage: "every org of this Snyk group (or --orgId)"},
			&cli.StringFlag{Name: "orgId", Usage: "this one Snyk org (or --groupId)"},
			&cli.StringSliceFlag{Name: "integrationType", Usage: "project origins to list (repeatable; default bitbucket-cloud-app and bitbucket-cloud)"},
			waitFlag(),
		}, commonFlags()...)),
		Action: func(c *cli.Context) error {
			logPath, err := rt.begin(c)
			if err != nil {
				return err
			}
			opts := &listImportedOptions{IO: rt.commandIO(rt.startStage("list:imported", logPath)), LogPath: logPath}
			opts.GroupID, opts.OrgID = strings.TrimSpace(c.String("groupId")), strings.TrimSpace(c.String("orgId"))
			switch {
			case opts.GroupID == "" && opts.OrgID == "":
				return usagef("pass exactly one of --groupId or --orgId")
			case opts.GroupID != "" && opts.OrgID != "":
				return usagef("--groupId and --orgId were both given; pass exactly one")
			}
			opts.IntegrationTypes = c.StringSlice("integrationType")
			if len(opts.IntegrationTypes) == 0 {
				opts.IntegrationTypes = []string{sourceApp, sourceCloud}
			}
			for _, t := range opts.IntegrationTypes {
				if !slices.Contains(importer.ListImportedTypes, t) {
					return usagef("--integrationType=%q is not a Snyk integration type; use one of %s", t, strings.Join(importer.ListImportedTypes, ", "))
				}
			}
			opts.Snyk = func() (importer.Snyk, error) { return rt.newSnyk(c) }
			lock, err := rt.lockLogDir(c, logPath)
			if err != nil {
				return err
			}
			defer lock.Release()
			return runListImported(c.Context, opts)
		},
	}
}

// listImportedOptions are list:imported's checked flags and its
// dependencies, so that runListImported can be called with a fake Snyk.
type listImportedOptions struct {
	GroupID, OrgID   string
	IntegrationTypes []string
	LogPath          string

	// Snyk builds the client; called after the flags are checked and the
	// log directory is locked.
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
	for _, g := range groupByCause(res.FailedOrgs, func(f importer.OrgFailure) (string, error) { return "", f.Err }) {
		ids := make([]string, len(g.items))
		for i, f := range g.items {
			ids[i] = f.OrgID
		}
		ev := errorFields(log.Error(), g.err).Str("orgId", ids[0])
		if len(ids) == 1 {
			ev.Msgf("could not list org %s: %s", ids[0], opts.IO.errText(g.err))
			continue
		}
		ev.Int("orgs", len(ids)).Msgf("could not list %d orgs (%s): %s", len(ids), firstFew(ids, 5), opts.IO.errText(g.err))
	}
	if res.Targets == 0 {
		fmt.Fprintf(out, "⚠ No repo(s) found in %s for integration type(s) %s!\n", plural(res.Orgs, "org"), strings.Join(opts.IntegrationTypes, ", "))
	} else {
		fmt.Fprintf(out, "Found %s (%d newly recorded). Written the data to file: %s\n", plural(res.Targets, "target"), res.Written, res.LogFile)
	}
	if res.Failed() {
		return &partialError{fmt.Sprintf("%s could not be listed; the skip list misses their projects", plural(len(res.FailedOrgs), "org"))}
	}
	return nil
}
