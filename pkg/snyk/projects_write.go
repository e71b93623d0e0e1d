package snyk

import (
	"context"
	"net/http"
	"net/url"

	"github.com/bbimport/bbimport/internal/httpx"
)

// The project writes of sync. Each is marked [httpx.WithoutServerErrorRetry]:
// the stack retries it on 429, 503 and errors before the request reached
// Snyk, never after a 500/502/504 that may have acted. The caller logs such
// a project as failed and the next sync, which reads the project's state
// again, does what is still needed.

// UpdateProjectBranch sets the branch a project is tested on.
//
// Snyk API: PUT /org/{orgId}/project/{projectId} {"branch": "<branch>"} (v1;
// REST PATCH cannot change the branch,
// https://docs.snyk.io/snyk-api/reference/projects-v1).
func (c *Client) UpdateProjectBranch(ctx context.Context, orgID, projectID, branch string) error {
	if err := requireID("branch", branch); err != nil {
		return err
	}
	return c.projectWrite(ctx, http.MethodPut, orgID, projectID, "", map[string]string{"branch": branch})
}

// DeactivateProject deactivates a project (it stays listed, status
// "inactive", and is no longer tested).
//
// Snyk API: POST /org/{orgId}/project/{projectId}/deactivate (v1).
func (c *Client) DeactivateProject(ctx context.Context, orgID, projectID string) error {
	return c.projectWrite(ctx, http.MethodPost, orgID, projectID, "/deactivate", struct{}{})
}

// DeleteProject deletes a project. A 404 is success: the project is already
// gone (a retry after a lost answer, or another run).
//
// Snyk REST API: DELETE /rest/orgs/{orgId}/projects/{projectId}?version=…
// (GA since 2023-11-06).
func (c *Client) DeleteProject(ctx context.Context, orgID, projectID string) error {
	if err := requireID("org id", orgID); err != nil {
		return err
	}
	if err := requireID("project id", projectID); err != nil {
		return err
	}
	ctx = httpx.WithoutServerErrorRetry(ctx)
	path := "orgs/" + url.PathEscape(orgID) + "/projects/" + url.PathEscape(projectID) + "?version=" + url.QueryEscape(c.restVersion)
	req, err := c.newRequest(ctx, http.MethodDelete, c.restURL, path, nil, mediaTypeJSONAPI)
	if err != nil {
		return err
	}
	if _, err := c.do(req, nil); err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

func (c *Client) projectWrite(ctx context.Context, method, orgID, projectID, suffix string, body any) error {
	if err := requireID("org id", orgID); err != nil {
		return err
	}
	if err := requireID("project id", projectID); err != nil {
		return err
	}
	ctx = httpx.WithoutServerErrorRetry(ctx)
	path := "org/" + url.PathEscape(orgID) + "/project/" + url.PathEscape(projectID) + suffix
	req, err := c.newRequest(ctx, method, c.baseURL, path, body, mediaTypeJSON)
	if err != nil {
		return err
	}
	_, err = c.do(req, nil)
	return err
}
