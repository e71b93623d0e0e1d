package snyk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/bbimport/bbimport/internal/httpx"
)

// OrgsPerPage is the page size used by [Client.ListGroupOrgsIter].
const OrgsPerPage = 100

// GroupOrgs is one page of GET /group/{groupId}/orgs: the group and some of
// its orgs.
type GroupOrgs struct {
	Group
	Orgs []Org `json:"orgs"`
}

// ListGroupOrgs fetches one page (page numbers start at 1) of a group's
// orgs, perPage at a time.
//
// Snyk API: GET /group/{groupId}/orgs?perPage={perPage}&page={page}
// (https://docs.snyk.io/snyk-api/reference/groups-v1).
func (c *Client) ListGroupOrgs(ctx context.Context, groupID string, page, perPage int) (*GroupOrgs, error) {
	if err := requireID("group id", groupID); err != nil {
		return nil, err
	}
	if page < 1 || perPage < 1 {
		return nil, fmt.Errorf("snyk: ListGroupOrgs: page (%d) and perPage (%d) must be at least 1", page, perPage)
	}
	q := url.Values{"perPage": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(page)}}
	req, err := c.newRequest(ctx, http.MethodGet, c.baseURL, "group/"+url.PathEscape(groupID)+"/orgs?"+q.Encode(), nil, mediaTypeJSON)
	if err != nil {
		return nil, err
	}
	var out GroupOrgs
	if _, err := c.do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListGroupOrgsIter lists every org of a group, [OrgsPerPage] at a time. Like the
// original it stops at the first page with fewer than perPage orgs (or none).
// An org already seen is not yielded twice, and a page that brings no new org
// ends the listing, so a server that ignores `page` cannot loop it. On an
// error it yields one (zero Org, err) and stops.
//
// Snyk API: GET /group/{groupId}/orgs?perPage=100&page=N.
func (c *Client) ListGroupOrgsIter(ctx context.Context, groupID string) iter.Seq2[Org, error] {
	return func(yield func(Org, error) bool) {
		seen := make(map[string]struct{})
		for page := 1; ; page++ {
			if page > c.maxPages {
				yield(Org{}, c.tooManyPages("the orgs of group "+groupID))
				return
			}
			p, err := c.ListGroupOrgs(ctx, groupID, page, OrgsPerPage)
			if err != nil {
				yield(Org{}, err)
				return
			}
			fresh := 0
			for _, org := range p.Orgs {
				if _, dup := seen[org.ID]; dup {
					continue
				}
				seen[org.ID] = struct{}{}
				fresh++
				if !yield(org, nil) {
					return
				}
			}
			if len(p.Orgs) < OrgsPerPage || fresh == 0 {
				return
			}
		}
	}
}

// CreateOrg creates an org and returns it as Snyk answered (id, name, slug,
// url, created, group). Snyk answers 201; 200 is accepted too.
//
// Like the import POST, the request is marked with
// [httpx.WithoutServerErrorRetry]: Snyk does not refuse a second org of the
// same name, so a POST repeated after Snyk may have acted on it (a 500, a
// connection lost after sending) could create the org twice. Such an org is
// reported failed instead, and the next orgs:create finds it by name.
//
// Snyk API: POST /org with {name, groupId, sourceOrgId?}
// (https://docs.snyk.io/snyk-api/reference/organizations-v1).
func (c *Client) CreateOrg(ctx context.Context, r CreateOrgRequest) (*Org, error) {
	if err := requireID("org name", r.Name); err != nil {
		return nil, err
	}
	ctx = httpx.WithoutServerErrorRetry(ctx)
	req, err := c.newRequest(ctx, http.MethodPost, c.baseURL, "org", r, mediaTypeJSON)
	if err != nil {
		return nil, err
	}
	var org Org
	if _, err := c.do(req, &org); err != nil {
		// POST /org has no id in its path: name the group from the body.
		var er *ErrorResponse
		if errors.As(err, &er) && er.GroupID == "" {
			er.GroupID = r.GroupID
		}
		return nil, err
	}
	if org.ID == "" {
		return nil, errors.New("snyk: POST " + sanitizeURL(req.URL) + " answered without an org id")
	}
	return &org, nil
}
