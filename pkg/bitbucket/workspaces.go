package bitbucket

import (
	"cmp"
	"context"
	"iter"
)

// workspaceAccess is one item of GET /2.0/user/workspaces. The spec's
// example item's `workspace` is a workspace_base {type, slug, uuid, links}
// without `name`; other clients have seen `name` there. Both are read.
type workspaceAccess struct {
	Workspace *Workspace `json:"workspace"`
}

// id tells workspaces apart in a listing.
func (a workspaceAccess) id() string {
	if a.Workspace == nil {
		return ""
	}
	return cmp.Or(a.Workspace.UUID, a.Workspace.Slug)
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

// ListWorkspacesIter yields every workspace the credentials can see, following
// pagination to the end. Name is empty when the listing leaves it out (the
// spec's items carry none); [Client.GetWorkspace] has it. It yields at most
// one error, then stops.
//
// Bitbucket API: GET /2.0/user/workspaces
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-user-workspaces-get)
func (c *Client) ListWorkspacesIter(ctx context.Context) iter.Seq2[Workspace, error] {
	first, err := c.workspacesURL()
	if err != nil {
		return func(yield func(Workspace, error) bool) { yield(Workspace{}, err) }
	}
	return paginate(ctx, c, first, "", "workspaces of the credentials", workspaceAccess.id, workspaceAccess.workspace)
}

// ListWorkspaces fetches one page of workspaces: the first when next is
// empty, else next, a [Response.NextURL] from the page before.
//
// Bitbucket API: GET /2.0/user/workspaces
func (c *Client) ListWorkspaces(ctx context.Context, next string) ([]Workspace, *Response, error) {
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
			out = append(out, ws)
		}
	}
	return out, resp, nil
}

// GetWorkspace fetches one workspace by slug or `{uuid}`, with its display
// name (for workspaces listed without one).
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
