package bitbucket

import (
	"context"
	"errors"
	"net/http"
)

// repositoryGetFields is the partial response of one repository: what
// [Repository] holds.
const repositoryGetFields = "slug,uuid,name,full_name,is_private,mainbranch.name,parent.full_name,updated_on," +
	"project.key,project.name,project.uuid,workspace.slug"

// GetRepository fetches one repository by workspace and slug (or {uuid}).
// sync calls it once per deletion candidate: a 404 (see [IsNotFound]) means
// the repository is gone or renamed. Bitbucket may also answer a renamed
// repository's old slug with the repository under its new name (not
// documented either way): the caller compares UUID and Slug.
//
// Bitbucket API: GET /2.0/repositories/{workspace}/{repo_slug}
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-get)
func (c *Client) GetRepository(ctx context.Context, workspace, slug string) (Repository, error) {
	ws, err := pathSegment("workspace", workspace)
	if err != nil {
		return Repository{}, err
	}
	rs, err := pathSegment("repository", slug)
	if err != nil {
		return Repository{}, err
	}
	u, err := c.endpoint("repositories/"+ws+"/"+rs, "fields", repositoryGetFields)
	if err != nil {
		return Repository{}, err
	}
	var r repositoryJSON
	// No workspace for the error: a 404 here is about the repository, and
	// the workspace wording ("does not exist or cannot see it") would mislead.
	if _, err := c.get(ctx, u, "", &r); err != nil {
		return Repository{}, err
	}
	return r.toRepository(workspace), nil
}

// IsNotFound reports a 404 answer of the Bitbucket API.
func IsNotFound(err error) bool {
	var er *ErrorResponse
	return errors.As(err, &er) && er.HTTPStatus() == http.StatusNotFound
}
