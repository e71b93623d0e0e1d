package snyk

import (
	"cmp"
	"context"
	"iter"
	"net/url"
	"strconv"
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

// targetData is one target of REST GET /orgs/{orgId}/targets (JSON:API).
type targetData struct {
	ID         string `json:"id"`
	Attributes struct {
		DisplayName string  `json:"display_name"`
		URL         *string `json:"url"`
		IsPrivate   bool    `json:"is_private"`
		CreatedAt   string  `json:"created_at"`
		// displayName is how pre-GA (beta) versions spelled it.
		DisplayNameBeta string `json:"displayName"`
	} `json:"attributes"`
}

// ListTargetsIter lists an org's targets, all pages, [TargetsPerPage] at a
// time, following `links.next` to the last page. No source filter is sent:
// `source_types` names bitbucket-cloud and bitbucket-connect-app but not
// bitbucket-cloud-app, so the caller picks targets by their projects'
// origins. The listing must be whole: a target or a page served twice, or
// a listing past the caps, ends it with an *listing.IncompleteError. On an
// error it yields one (zero Target, err) and stops.
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
		first, err := c.restListURL("orgs/"+url.PathEscape(orgID)+"/targets", q)
		if err != nil {
			yield(Target{}, err)
			return
		}
		for d, err := range listREST(ctx, c, first, "targets of org "+orgID, func(d targetData) string { return d.ID }) {
			if err != nil {
				yield(Target{}, err)
				return
			}
			t := Target{ID: d.ID, DisplayName: cmp.Or(d.Attributes.DisplayName, d.Attributes.DisplayNameBeta),
				IsPrivate: d.Attributes.IsPrivate, CreatedAt: d.Attributes.CreatedAt}
			if d.Attributes.URL != nil {
				t.URL = *d.Attributes.URL
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}
