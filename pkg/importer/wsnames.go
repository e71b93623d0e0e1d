package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// WorkspaceGetter is the optional part of [Bitbucket] that reads one
// workspace (GET /2.0/workspaces/{workspace}); *bitbucket.Client has it.
type WorkspaceGetter interface {
	GetWorkspace(ctx context.Context, workspace string) (bitbucket.Workspace, error)
}

// nameWorkspaces gives the listed workspaces that came without a display
// name (the spec's GET /2.0/user/workspaces items carry none) their name,
// with one GET /2.0/workspaces/{slug} each, so that app-source orgs are
// named as the original named them. Only the app source names orgs after
// workspaces; listings that carried names cost nothing. A workspace that
// cannot be read keeps its slug as its name, with a warning in res.
func nameWorkspaces(ctx context.Context, opts *OrgsDataOptions, workspaces []bitbucket.Workspace, res *OrgsDataResult) error {
	if !orgsByDisplayName(opts.Source) || len(opts.Workspaces) > 0 {
		return nil
	}
	getter, ok := opts.Bitbucket.(WorkspaceGetter)
	var missing []int
	for i := range workspaces {
		if workspaces[i].Name == "" {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	warnings := make([]string, len(missing))
	err := boundedEach(ctx, len(missing), opts.Concurrency, func(ctx context.Context, k int) error {
		ws := &workspaces[missing[k]]
		var err error
		if ok {
			var got bitbucket.Workspace
			if got, err = getter.GetWorkspace(ctx, ws.Slug); err == nil && got.Name != "" {
				ws.Name = got.Name
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if err == nil {
			err = errors.New("its answer has no name")
		}
		ws.Name = ws.Slug
		warnings[k] = fmt.Sprintf("workspace %q was listed without its display name and reading it failed, so its org is named %q after the slug: %v", ws.Slug, ws.Slug, err)
		return nil
	})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		if w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	return nil
}
