package snyk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bbimport/bbimport/internal/httpx"
)

// ErrNoLocation is returned (wrapped) by [Client.ImportTarget] when Snyk
// accepted an import without saying where to poll it. The job cannot be
// followed; the target should be logged as failed.
var ErrNoLocation = errors.New("snyk accepted the import but sent no Location header to poll")

// ImportTarget asks Snyk to import one target and returns the job's Location
// URL as Snyk sent it (poll it with [Client.GetImportJob]).
//
// The request is marked with [httpx.WithoutServerErrorRetry]: the HTTP stack
// retries it on 429, on 503 (Snyk would not handle the request, so it made
// no job) and on errors before the request reached Snyk; never after Snyk
// answered 500, 502 or 504, which may follow a job it created, so a retry
// cannot import a target twice.
//
// Snyk API: POST /org/{orgId}/integrations/{integrationId}/import → 201 +
// Location (https://docs.snyk.io/snyk-api/reference/import-projects-v1).
func (c *Client) ImportTarget(ctx context.Context, orgID, integrationID string, r ImportRequest) (string, error) {
	if err := requireID("org id", orgID); err != nil {
		return "", err
	}
	if err := requireID("integration id", integrationID); err != nil {
		return "", err
	}
	if t := bytes.TrimSpace(r.Target); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return "", errors.New("snyk: import request has no target")
	}
	ctx = httpx.WithoutServerErrorRetry(ctx)
	path := "org/" + url.PathEscape(orgID) + "/integrations/" + url.PathEscape(integrationID) + "/import"
	req, err := c.newRequest(ctx, http.MethodPost, c.baseURL, path, r, mediaTypeJSON)
	if err != nil {
		return "", err
	}
	resp, err := c.do(req, nil)
	if err != nil {
		return "", err
	}
	location := strings.TrimSpace(resp.Header.Get("Location"))
	if location == "" {
		return "", fmt.Errorf("snyk: POST %s answered %d: %w", sanitizeURL(req.URL), resp.StatusCode, ErrNoLocation)
	}
	return location, nil
}

// GetImportJob fetches an import job by the Location [Client.ImportTarget]
// returned. The Location is resolved with [ResolveLocation] against the v1
// base, so the token only ever goes to the configured Snyk host.
//
// Snyk API: GET /org/{orgId}/integrations/{integrationId}/import/{jobId}
// → {id, status: pending|complete|failed, logs:[…]}.
func (c *Client) GetImportJob(ctx context.Context, location string) (*ImportJob, error) {
	u, err := ResolveLocation(c.baseURL, location)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequestURL(ctx, http.MethodGet, u, nil, mediaTypeJSON)
	if err != nil {
		return nil, err
	}
	var job ImportJob
	if _, err := c.do(req, &job); err != nil {
		return nil, err
	}
	if job.Status == "" {
		return nil, fmt.Errorf("snyk: GET %s: the import job has no status", sanitizeURL(u))
	}
	return &job, nil
}

// ResolveLocation turns an import job's Location into the URL to poll:
//   - an absolute Location on the base's scheme and host is used as is;
//   - otherwise (another host such as app.snyk.io, another scheme, or a
//     relative Location) the part of its path after the first "/v1/" (which
//     also covers "/api/v1/") is joined onto base, keeping any query;
//   - a relative path with no "/v1/" is read as relative to base.
//
// An empty Location, or an absolute one on another host with no "/v1/" in its
// path, is an error: a poll URL is never made up.
func ResolveLocation(base *url.URL, location string) (*url.URL, error) {
	location = strings.TrimSpace(location)
	if strings.Contains(location, `\`) {
		// Browsers and some URL parsers read "\" as "/" (so "/\\host" is
		// another host); Go does not. Which one the server meant is unknown.
		return nil, locationErrorf("snyk: import job Location %q contains a backslash; refusing to guess what it names", location)
	}
	if location == "" {
		return nil, &LocationError{errors.New("snyk: the import job has no Location to poll")}
	}
	loc, err := url.Parse(location)
	if err != nil {
		return nil, locationErrorf("snyk: import job Location %q is not a URL: %w", location, err)
	}
	if loc.IsAbs() && httpx.SameOrigin(loc, base) {
		loc.User = nil
		loc.Fragment, loc.RawFragment = "", ""
		return loc, nil
	}
	p := loc.EscapedPath()
	var rest string
	if i := strings.Index(p, "/v1/"); i >= 0 {
		rest = p[i+len("/v1/"):]
	} else if loc.Host == "" && loc.Scheme == "" {
		rest = strings.TrimLeft(p, "/")
	} else {
		return nil, locationErrorf("snyk: import job Location %q has no /v1/ path to poll on %s", location, base.Host)
	}
	if rest == "" {
		return nil, locationErrorf("snyk: import job Location %q names no job", location)
	}
	ref, err := url.Parse("./" + rest)
	if err != nil {
		return nil, locationErrorf("snyk: import job Location %q: %w", location, err)
	}
	ref.RawQuery = loc.RawQuery
	return base.ResolveReference(ref), nil
}
