package bitbucket

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// repositoryGetFields is the partial response of one repository: what
// [Repository] holds.
const repositoryGetFields = "slug,uuid,name,full_name,is_private,mainbranch.name,parent.full_name,updated_on," +
	"project.key,project.name,project.uuid,workspace.slug"

// GetRepository fetches one repository by workspace and slug, or by its
// `{uuid}` in place of the slug (the API accepts either). sync asks by uuid,
// once per deletion candidate: the uuid survives a rename, so only
// [IsRepositoryGone] (Bitbucket's own 404) says the repository is gone, and an
// answer with another slug is the same repository renamed.
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

// IsRepositoryGone reports Bitbucket's own answer that a repository does not
// exist: a 404 whose body is Bitbucket's JSON error (not the HTML page of a
// proxy, nor any other 404) and whose message is about the repository
// ("You may not have access to this repository or it no longer exists in
// this workspace.", "Repository … not found"). Other 404s of Bitbucket's
// say nothing about it: one about the workspace ("No workspace with
// identifier …"), or about the URL ("Resource not found": no API at that
// path, as a proxy that rewrites paths gets).
func IsRepositoryGone(err error) bool {
	var er *ErrorResponse
	if !errors.As(err, &er) || er.HTTPStatus() != http.StatusNotFound || !er.FromBitbucket {
		return false
	}
	msg := strings.ToLower(er.Message)
	return strings.Contains(msg, "repositor") && !strings.HasPrefix(msg, "no workspace")
}

// IsNotFound reports a 404 answer of the Bitbucket API.
func IsNotFound(err error) bool {
	var er *ErrorResponse
	return errors.As(err, &er) && er.HTTPStatus() == http.StatusNotFound
}
