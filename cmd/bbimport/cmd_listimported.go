package main

import (
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
			st := rt.startStage("list:imported", logPath)
			group, org := strings.TrimSpace(c.String("groupId")), strings.TrimSpace(c.String("orgId"))
			switch {
			case group == "" && org == "":
				return usagef("pass exactly one of --groupId or --orgId")
			case group != "" && org != "":
				return usagef("--groupId and --orgId were both given; pass exactly one")
			}
			types := c.StringSlice("integrationType")
			if len(types) == 0 {
				types = []string{sourceApp, sourceCloud}
			}
			for _, t := range types {
				if !slices.Contains(importer.ListImportedTypes, t) {
					return usagef("--integrationType=%q is not a Snyk integration type; use one of %s", t, strings.Join(importer.ListImportedTypes, ", "))
				}
			}
			lock, err := rt.lockLogDir(c, logPath)
			if err != nil {
				return err
			}
			defer lock.Release()
			sn, err := rt.newSnyk(c)
			if err != nil {
				return err
			}
			p := rt.newProgress()
			defer p.Done()
			res, err := importer.ListImported(c.Context, importer.ListImportedOptions{
				Snyk: sn, GroupID: group, OrgID: org, IntegrationTypes: types, LogPath: logPath,
				Now: rt.Now, Progress: p,
			})
			p.Done()
			if err != nil {
				return err
			}
			st.output, st.detail, st.failures = res.LogFile, listImportedSummary(res), listImportedFailures(res)
			for _, g := range groupByCause(res.FailedOrgs, func(f importer.OrgFailure) (string, error) { return "", f.Err }) {
				ids := make([]string, len(g.items))
				for i, f := range g.items {
					ids[i] = f.OrgID
				}
				ev := errorFields(rt.log.Error(), g.err).Str("orgId", ids[0])
				if len(ids) == 1 {
					ev.Msgf("could not list org %s: %s", ids[0], rt.errMessage(g.err))
					continue
				}
				ev.Int("orgs", len(ids)).Msgf("could not list %d orgs (%s): %s", len(ids), firstFew(ids, 5), rt.errMessage(g.err))
			}
			if res.Targets == 0 {
				fmt.Fprintf(rt.Stdout, "⚠ No repo(s) found in %s for integration type(s) %s!\n", plural(res.Orgs, "org"), strings.Join(types, ", "))
			} else {
				fmt.Fprintf(rt.Stdout, "Found %s (%d newly recorded). Written the data to file: %s\n", plural(res.Targets, "target"), res.Written, res.LogFile)
			}
			if res.Failed() {
				return &partialError{fmt.Sprintf("%s could not be listed; the skip list misses their projects", plural(len(res.FailedOrgs), "org"))}
			}
			return nil
		},
	}
}
