package bitbucket

import (
	"context"
	"iter"
)

// workspaceAccess is one item of GET /2.0/user/workspaces.
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
// pagination to the end. It yields at most one error, then stops.
//
// Bitbucket API: GET /2.0/user/workspaces
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-workspaces/#api-user-workspaces-get)
func (c *Client) ListWorkspaces(ctx context.Context) iter.Seq2[Workspace, error] {
	first, err := c.workspacesURL()
	if err != nil {
		return func(yield func(Workspace, error) bool) { yield(Workspace{}, err) }
	}
	return paginate(ctx, c, first, "", workspaceAccess.workspace)
}

// ListWorkspacesPage fetches one page of workspaces: the first when next is
// empty, else next, a [Response.NextURL] from the page before.
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
			out = append(out, ws)
		}
	}
	return out, resp, nil
}
