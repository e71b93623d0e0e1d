package snyk

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/bbimport/bbimport/internal/listing"
)

// restPage is one page of a REST (JSON:API) listing.
type restPage[D any] struct {
	Data  []D       `json:"data"`
	Links restLinks `json:"links"`
}

// listREST yields the data of every page of the REST listing at first,
// following `links.next` until a page has none. The listing must be whole
// (internal/listing): an item id (from id) or a `next` seen before, or more
// pages or items than the caps, is an *listing.IncompleteError, so a page
// served again under a new cursor cannot count a project twice and a server
// inventing pages cannot grow the caller's memory without end. A page
// without data that still links further is followed: REST filters a page
// after cutting it. On an error it yields one (zero, err) and stops.
func listREST[D any](ctx context.Context, c *Client, first *url.URL, what string, id func(D) string) iter.Seq2[D, error] {
	return func(yield func(D, error) bool) {
		var zero D
		chk := listing.New("Snyk "+what, c.maxPages, c.maxItems)
		for u := first; ; {
			if err := chk.Page(u.String()); err != nil {
				yield(zero, err)
				return
			}
			req, err := c.newRequestURL(ctx, http.MethodGet, u, nil, mediaTypeJSONAPI)
			if err != nil {
				yield(zero, err)
				return
			}
			var page restPage[D]
			if _, err := c.do(req, &page); err != nil {
				yield(zero, err)
				return
			}
			for _, d := range page.Data {
				if err := chk.Item(id(d)); err != nil {
					yield(zero, err)
					return
				}
				if !yield(d, nil) {
					return
				}
			}
			next := strings.TrimSpace(string(page.Links.Next))
			if next == "" {
				return
			}
			if u, err = c.resolveRESTNext(next); err != nil {
				yield(zero, err)
				return
			}
		}
	}
}

// restListURL is the first page of the REST listing at path (relative to
// the REST base) with the query q.
func (c *Client) restListURL(path string, q url.Values) (*url.URL, error) {
	ref, err := url.Parse("./" + path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("snyk: %w", err)
	}
	return c.restURL.ResolveReference(ref), nil
}

// WithListingCaps lowers the page and item caps of the REST listings
// (defaults httpx.MaxPages and listing.MaxItems; 0 keeps a default): a
// listing that reaches one is incomplete. For tests of servers that never
// end a listing.
func WithListingCaps(maxPages, maxItems int) Option {
	return func(c *Client) error {
		c.maxPages, c.maxItems = cmp.Or(max(maxPages, 0), c.maxPages), cmp.Or(max(maxItems, 0), c.maxItems)
		return nil
	}
}
