package main

import (
	"context"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"strings"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/urfave/cli/v2"
)

func newOrgsDataCommand(rt *invocation, run func(context.Context, *orgsDataOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "orgs:data",
		Usage: "list the Bitbucket workspaces the credentials can see and write the Snyk orgs data file",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "source", Value: sourceApp, Usage: sourceUsage},
			&cli.StringFlag{Name: "groupId", Usage: "Snyk group public id the orgs will belong to (required)"},
			&cli.StringFlag{Name: "sourceOrgPublicId", Usage: "Snyk org whose settings and integrations new orgs copy (sourceOrgId)"},
			&cli.StringFlag{Name: "sourceUrl", Usage: "Bitbucket API base (else BITBUCKET_APP_API_BASE)"},
			&cli.BoolFlag{Name: "skipEmptyOrgs", Usage: "leave out workspaces (with --orgPer=project: projects) with no repositories (one request each)"},
			&cli.StringSliceFlag{Name: "workspace", Usage: "use exactly these workspace slugs instead of listing (repeatable)"},
			&cli.StringFlag{Name: "workspacesFile", Usage: "a file of workspace slugs, one per line (# comments), instead of listing"},
			&cli.StringFlag{Name: "orgPer", Value: "workspace", Usage: "workspace (one org per workspace) or project (one org per Bitbucket project, named \"<workspace> / <project name>\")"},
			waitFlag(),
		}, commonFlags()...)),
		Action: stageAction(rt, "orgs:data", bindOrgsData, run),
	}
}

func bindOrgsData(b *binding) (*orgsDataOptions, error) {
	c := b.c
	opts := &orgsDataOptions{IO: b.io, LogPath: b.logPath}
	var err error
	if opts.Source, err = checkSource(c.String("source")); err != nil {
		return nil, err
	}
	if opts.GroupID, err = requireString(c, "groupId", "the Snyk group public id (Group settings → General)"); err != nil {
		return nil, err
	}
	if opts.Workspaces, err = b.workspaceFlags(); err != nil {
		return nil, err
	}
	if opts.OrgPer, err = orgPerFlag(c); err != nil {
		return nil, err
	}
	opts.SourceOrgID = strings.TrimSpace(c.String("sourceOrgPublicId"))
	opts.SkipEmptyOrgs = c.Bool("skipEmptyOrgs")
	bb, err := b.bitbucket(opts.Source, opts.Workspaces)
	if err != nil {
		return nil, err
	}
	opts.Bitbucket = func() (importer.Bitbucket, error) { return bb() }
	// With a Snyk credential the group is checked before Bitbucket is
	// listed; without one orgs:data runs on Bitbucket alone, as the
	// original does.
	sn, err := b.optionalSnyk()
	if err != nil {
		return nil, err
	}
	if sn != nil {
		opts.Snyk = func() (groupReader, error) { return sn() }
	}
	return opts, nil
}

// groupReader reads one page of a Snyk group's orgs (*snyk.Client).
type groupReader interface {
	ListGroupOrgs(ctx context.Context, groupID string, page, perPage int) (*snyk.GroupOrgs, error)
}

// checkGroup reads the group with one request, so that a group id of
// another tenant, or a credential that cannot see it, fails before any
// Bitbucket request and before a file that names the group is written.
func checkGroup(ctx context.Context, sn groupReader, groupID string) (name string, err error) {
	page, err := sn.ListGroupOrgs(ctx, groupID, 1, 1)
	if err != nil {
		return "", &groupCheckError{GroupID: groupID, Err: err}
	}
	return page.Name, nil
}

// groupCheckError is a group orgs:data could not read (exit 1, or 4 for a
// rejected credential).
type groupCheckError struct {
	GroupID string
	Err     error
}

func (e *groupCheckError) Error() string {
	return fmt.Sprintf("Snyk group %s could not be read, so no Bitbucket workspace was listed: %v", e.GroupID, e.Err)
}

func (e *groupCheckError) Unwrap() error { return e.Err }

// orgsDataOptions are orgs:data's checked flags and its dependencies, so
// that runOrgsData can be called with a fake Bitbucket (cli/cli's Options
// and run function).
type orgsDataOptions struct {
	Source, GroupID, SourceOrgID string
	// Workspaces are --workspace and --workspacesFile: the Bitbucket
	// router's selection (with one credential, what it serves), verified
	// there.
	Workspaces    []string
	SkipEmptyOrgs bool
	OrgPer        importer.OrgPer
	LogPath       string

	// Bitbucket builds the client from checked settings; called after the
	// log directory is locked.
	Bitbucket func() (importer.Bitbucket, error)
	// Snyk builds the Snyk client that checks the group; nil when no Snyk
	// credential is set.
	Snyk func() (groupReader, error)
	IO   *commandIO
}

func runOrgsData(ctx context.Context, opts *orgsDataOptions) error {
	out, log := opts.IO.Out, opts.IO.Log
	if opts.Snyk != nil {
		sn, err := opts.Snyk()
		if err != nil {
			return err
		}
		name, err := checkGroup(ctx, sn, opts.GroupID)
		if err != nil {
			return err
		}
		log.Info().Str("groupId", opts.GroupID).Msgf("Snyk group %q (%s) is readable with this Snyk credential", name, opts.GroupID)
	}
	bb, err := opts.Bitbucket()
	if err != nil {
		return err
	}
	p := opts.IO.progress()
	defer p.Done()
	res, err := importer.OrgsData(ctx, importer.OrgsDataOptions{
		Bitbucket: bb, Source: opts.Source, GroupID: opts.GroupID,
		SourceOrgID:   opts.SourceOrgID,
		SkipEmptyOrgs: opts.SkipEmptyOrgs,
		OrgPer:        opts.OrgPer,
		LogPath:       opts.LogPath,
		Progress:      p,
		ErrorText:     opts.IO.ErrText,
	})
	p.Done()
	if err != nil {
		return err
	}
	reportFound(log, bb, opts.IO.errText)
	opts.IO.Stage.output, opts.IO.Stage.detail = res.Path, orgsDataSummary(opts.GroupID, opts.Source, res)
	for _, w := range res.Warnings {
		log.Warn().Msg(w)
	}
	for _, d := range res.Dropped {
		if d.Project != "" {
			log.Info().Str("workspace", d.Workspace).Str("project", d.Project).Msgf("left out project %s of workspace %s: %s", d.Project, d.Workspace, reasonText(d.Reason))
			continue
		}
		log.Info().Str("workspace", d.Workspace).Msgf("left out workspace %s: %s", d.Workspace, reasonText(d.Reason))
	}
	if opts.OrgPer == importer.OrgPerProject {
		if len(res.Orgs) == 0 {
			fmt.Fprintf(out, "⚠ No project(s) found in %s! Written an empty orgs list to %s\n", english.Plural(res.Workspaces, "workspace"), res.Path)
			return nil
		}
		fmt.Fprintf(out, "Found %s in %s (one org per project). Written the data to file: %s\n",
			english.Plural(len(res.Orgs), "project"), english.Plural(res.Workspaces, "workspace"), res.Path)
		opts.IO.next(ctx, "bbimport orgs:create --file=%s", res.Path)
		return nil
	}
	if len(res.Orgs) == 0 {
		fmt.Fprintf(out, "⚠ No workspace(s) found! Written an empty orgs list to %s\n", res.Path)
		log.Warn().Msg("no workspaces found: the credentials list none (since 2026-05-04 an OAuth consumer's token is an app user, which sees only the workspace owning the consumer); pass --workspace=<slug> for each workspace, or list a credential for each in " + envBitbucketCredentials + " (run `bbimport doctor` to check access)")
		return nil
	}
	fmt.Fprintf(out, "Found %s. Written the data to file: %s\n", english.Plural(len(res.Orgs), "workspace"), res.Path)
	opts.IO.next(ctx, "bbimport orgs:create --file=%s", res.Path)
	return nil
}

func orgPerFlag(c *cli.Context) (importer.OrgPer, error) {
	switch v := strings.TrimSpace(c.String("orgPer")); v {
	case "", "workspace":
		return importer.OrgPerWorkspace, nil
	case "project":
		return importer.OrgPerProject, nil
	default:
		return "", usagef("--orgPer=%q is not supported; use workspace or project", v)
	}
}
