package bitbucket

import (
	"cmp"
	"context"
	"iter"
)

// projectFields is the partial-response list for project pages.
const projectFields = "next,size,values.key,values.name,values.uuid"

// projectJSON is a project as GET /2.0/workspaces/{workspace}/projects sends it.
type projectJSON struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// projectsURL is the first page of a workspace's projects.
func (c *Client) projectsURL(workspace string) (string, error) {
	seg, err := pathSegment("workspace", workspace)
	if err != nil {
		return "", err
	}
	return c.endpoint("workspaces/"+seg+"/projects", "pagelen", "100", "fields", projectFields)
}

// ListProjectsIter yields every project of workspace (a slug or a `{uuid}`),
// page by page in order, with pagelen=100 and a trimmed `fields` list: one
// request per 100 projects, however many repositories they hold. Projects
// without a repository are listed too. It yields at most one error, then
// stops; a 404 becomes an [*ErrorResponse] naming the workspace, and a 403
// names the `project` permission (OAuth "Projects: Read", API token scope
// read:project:bitbucket).
//
// Bitbucket API: GET /2.0/workspaces/{workspace}/projects
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-projects/#api-workspaces-workspace-projects-get)
func (c *Client) ListProjectsIter(ctx context.Context, workspace string) iter.Seq2[Project, error] {
	first, err := c.projectsURL(workspace)
	if err != nil {
		return func(yield func(Project, error) bool) { yield(Project{}, err) }
	}
	return paginate(ctx, c, first, workspace, "projects of workspace "+workspace, func(p projectJSON) string { return cmp.Or(p.UUID, p.Key) }, func(p projectJSON) (Project, bool) {
		if p.Key == "" {
			return Project{}, false
		}
		return Project(p), true
	})
}
