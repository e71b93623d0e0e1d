package bitbucket

import (
	"context"
	"fmt"
	"iter"
)

// workspaceAccess is one item of GET /2.0/user/workspaces. The spec's
// example item's `workspace` is a workspace_base {type, slug, uuid, links}
// without `name`; other clients have seen `name` there. Both are read.
type workspaceAccess struct {
	Workspace *Workspace `json:"workspace"`
}

func (a workspaceAccess) workspace() (Workspace, bool) {
	if a.Workspace == nil || a.Workspace.Slug == "" {
		return Workspace{}, false
	}
	return *a.Workspace, true
}

// workspacesURL is the first page of the caller's workspaces. It is never
// GET /2.0/workspaces, which Bitbucket removed (CHANGE-2770) and answers 410.
func (c *Client) workspacesURL() (string, error) {
	return c.endpoint("user/workspaces", "pagelen", "100")
}

// ListWorkspaces yields every workspace the credentials can see, following
// pagination to the end. A workspace listed without its display name gets it
// from GET /2.0/workspaces/{slug} (one more request through the same stack,
// only for such workspaces); when that fails the name is the slug and the
// [WithWarnFunc] hook says so. It yields at most one error, then stops.
//
// Bitbucket API: GET /2.0/user/workspaces
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-user-workspaces-get)
func (c *Client) ListWorkspaces(ctx context.Context) iter.Seq2[Workspace, error] {
	first, err := c.workspacesURL()
	if err != nil {
		return func(yield func(Workspace, error) bool) { yield(Workspace{}, err) }
	}
	return paginate(ctx, c, first, "", func(a workspaceAccess) (Workspace, bool) {
		ws, ok := a.workspace()
		if !ok {
			return ws, false
		}
		c.fillName(ctx, &ws)
		// Interrupted while fetching the name: the next item reports ctx.
		return ws, ctx.Err() == nil
	})
}

// ListWorkspacesPage fetches one page of workspaces: the first when next is
// empty, else next, a [Response.NextURL] from the page before. Names missing
// from the listing are fetched as in [Client.ListWorkspaces].
//
// Bitbucket API: GET /2.0/user/workspaces
func (c *Client) ListWorkspacesPage(ctx context.Context, next string) ([]Workspace, *Response, error) {
	u := next
	if u != "" {
		if err := c.checkNext(u); err != nil {
			return nil, nil, err
		}
	} else {
		var err error
		if u, err = c.workspacesURL(); err != nil {
			return nil, nil, err
		}
	}
	items, resp, err := fetchPage[workspaceAccess](ctx, c, u, "")
	if err != nil {
		return nil, resp, err
	}
	out := make([]Workspace, 0, len(items))
	for _, it := range items {
		if ws, ok := it.workspace(); ok {
			c.fillName(ctx, &ws)
			out = append(out, ws)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// GetWorkspace fetches one workspace by slug or `{uuid}`.
//
// Bitbucket API: GET /2.0/workspaces/{workspace}
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-workspaces-workspace-get)
func (c *Client) GetWorkspace(ctx context.Context, workspace string) (Workspace, error) {
	seg, err := pathSegment("workspace", workspace)
	if err != nil {
		return Workspace{}, err
	}
	u, err := c.endpoint("workspaces/" + seg)
	if err != nil {
		return Workspace{}, err
	}
	var ws Workspace
	if _, err := c.get(ctx, u, workspace, &ws); err != nil {
		return Workspace{}, err
	}
	return ws, nil
}

// fillName gives ws its display name when the listing left it out: from
// GET /2.0/workspaces/{slug}, else the slug, with a warning.
func (c *Client) fillName(ctx context.Context, ws *Workspace) {
	if ws.Name != "" {
		return
	}
	got, err := c.GetWorkspace(ctx, ws.Slug)
	switch {
	case err == nil && got.Name != "":
		ws.Name = got.Name
		if ws.UUID == "" {
			ws.UUID = got.UUID
		}
		return
	case ctx.Err() != nil:
		return
	case err == nil:
		err = fmt.Errorf("GET /2.0/workspaces/%s has no name", ws.Slug)
	}
	ws.Name = ws.Slug
	c.warn(fmt.Sprintf("workspace %q: Bitbucket listed it without a display name and reading it failed, so its org is named by the slug (%v)", ws.Slug, err))
}
