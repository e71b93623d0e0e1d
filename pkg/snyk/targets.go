package snyk

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// TargetsPerPage is the page size of [Client.ListTargetsIter].
const TargetsPerPage = 100

// Target is a Snyk target (one repository) as REST lists it.
type Target struct {
	ID string
	// DisplayName is "<workspace>/<repo>" for a Bitbucket Cloud target
	// (inferred from the import's naming; Snyk documents no format).
	DisplayName string
	// URL is nullable and, per Snyk, "currently only provided by the CLI".
	URL       string
	IsPrivate bool
	CreatedAt string
}

// targetsPage is one page of REST GET /orgs/{orgId}/targets (JSON:API).
type targetsPage struct {
	Data []struct {
		ID         string `json:"id"`
		Attributes struct {
			DisplayName string  `json:"display_name"`
			URL         *string `json:"url"`
			IsPrivate   bool    `json:"is_private"`
			CreatedAt   string  `json:"created_at"`
			// displayName is how pre-GA (beta) versions spelled it.
			DisplayNameBeta string `json:"displayName"`
		} `json:"attributes"`
	} `json:"data"`
	Links restLinks `json:"links"`
}

// ListTargetsIter lists an org's targets, all pages, [TargetsPerPage] at a time,
// following `links.next` until it is absent or repeats. No source filter is
// sent: `source_types` names bitbucket-cloud and bitbucket-connect-app but
// not bitbucket-cloud-app, so the caller picks targets by their projects'
// origins. On an error it yields one (zero Target, err) and stops.
//
// Snyk REST API: GET /rest/orgs/{orgId}/targets?version=…&limit=100
// (https://docs.snyk.io/snyk-api/reference/targets).
func (c *Client) ListTargetsIter(ctx context.Context, orgID string) iter.Seq2[Target, error] {
	return func(yield func(Target, error) bool) {
		if err := requireID("org id", orgID); err != nil {
			yield(Target{}, err)
			return
		}
		q := url.Values{"version": {c.restVersion}, "limit": {strconv.Itoa(restLimit(TargetsPerPage))}}
		ref, err := url.Parse("./orgs/" + url.PathEscape(orgID) + "/targets?" + q.Encode())
		if err != nil {
			yield(Target{}, fmt.Errorf("snyk: %w", err))
			return
		}
		u := c.restURL.ResolveReference(ref)
		seen := make(map[string]struct{})
		for {
			seen[u.String()] = struct{}{}
			req, err := c.newRequestURL(ctx, http.MethodGet, u, nil, mediaTypeJSONAPI)
			if err != nil {
				yield(Target{}, err)
				return
			}
			var page targetsPage
			if _, err := c.do(req, &page); err != nil {
				yield(Target{}, err)
				return
			}
			for _, d := range page.Data {
				t := Target{ID: d.ID, DisplayName: d.Attributes.DisplayName, IsPrivate: d.Attributes.IsPrivate,
					CreatedAt: d.Attributes.CreatedAt}
				if t.DisplayName == "" {
					t.DisplayName = d.Attributes.DisplayNameBeta
				}
				if d.Attributes.URL != nil {
					t.URL = *d.Attributes.URL
				}
				if !yield(t, nil) {
					return
				}
			}
			next := strings.TrimSpace(string(page.Links.Next))
			if len(page.Data) == 0 || next == "" {
				return
			}
			nu, err := c.resolveRESTNext(next)
			if err != nil {
				yield(Target{}, err)
				return
			}
			if _, dup := seen[nu.String()]; dup {
				return
			}
			u = nu
		}
	}
}
