package bitbucket

import (
	"context"
	"fmt"
	"iter"
	"net/url"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/listing"
)

// page is Bitbucket's paged envelope. Size, the count of the whole
// listing, is optional ("expensive to compute"): nil when absent.
type page[T any] struct {
	Values  []T    `json:"values"`
	Next    string `json:"next"`
	PageLen int    `json:"pagelen"`
	Size    *int   `json:"size"`
}

// fetchPage gets one page at u and sets Response.NextURL from its `next`
// link. An absolute link is kept exactly as sent; a relative one is resolved
// against u. A link to another scheme, host or port than the base URL is an
// error, so credentials are never sent elsewhere.
func fetchPage[T any](ctx context.Context, c *Client, u, workspace string) ([]T, *Response, error) {
	var p page[T]
	resp, u, err := c.getPage(ctx, u, workspace, &p)
	if err != nil {
		return nil, resp, err
	}
	resp.Size = p.Size
	if p.Next == "" {
		return p.Values, resp, nil
	}
	cur, err := url.Parse(u)
	if err != nil {
		return nil, resp, err
	}
	next, err := cur.Parse(p.Next)
	if err != nil {
		return nil, resp, fmt.Errorf("bitbucket: the next-page link of GET %s is not a valid URL", sanitizeURL(cur))
	}
	if !httpx.SameOrigin(next, c.baseURL) {
		return nil, resp, fmt.Errorf("bitbucket: the next-page link of GET %s points to %s, outside the base URL %s; refusing to send credentials there",
			sanitizeURL(cur), origin(next), origin(c.baseURL))
	}
	resp.NextURL = p.Next
	if ref, _ := url.Parse(p.Next); !ref.IsAbs() {
		resp.NextURL = next.String()
	}
	return p.Values, resp, nil
}

// checkNext vets a next-page link handed to a one-page method.
func (c *Client) checkNext(next string) error {
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("bitbucket: the next-page link is not an absolute URL")
	}
	if !httpx.SameOrigin(u, c.baseURL) {
		return fmt.Errorf("bitbucket: the next-page link points to %s, outside the base URL %s; refusing to send credentials there", origin(u), origin(c.baseURL))
	}
	return nil
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// paginate yields every item of every page from first on, converted by conv
// (items for which conv reports false are skipped, but counted), until a
// page without `next`. The listing must be whole (internal/listing): an item
// id (from id) or a `next` seen before, an empty page that links further, a
// `size` that disagrees with the items served, or more pages or items than
// the caps is an *listing.IncompleteError. Two quirks reported of real
// Bitbucket are accepted when `size` vouches for the items served: a last
// page whose `next` links back (BCLOUD-22441) and an empty last page that
// still has a `next`. It yields one error of any kind and stops; it returns
// as soon as yield returns false or ctx is done.
func paginate[R, T any](ctx context.Context, c *Client, first, workspace, what string, id func(R) string, conv func(R) (T, bool)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		chk := listing.New("Bitbucket "+what, c.maxPages, 0)
		for u := first; ; {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			if err := chk.Page(u); err != nil {
				yield(zero, err)
				return
			}
			items, resp, err := fetchPage[R](ctx, c, u, workspace)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range items {
				if err := ctx.Err(); err != nil {
					yield(zero, err)
					return
				}
				if err := chk.Item(id(item)); err != nil {
					yield(zero, err)
					return
				}
				v, ok := conv(item)
				if !ok {
					continue
				}
				if !yield(v, nil) {
					return
				}
			}
			vouched := resp.Size != nil && *resp.Size == chk.Items()
			next := resp.NextURL
			switch {
			case next == "":
			case vouched && (len(items) == 0 || chk.Seen(next)):
				next = ""
			case chk.Seen(next):
				yield(zero, chk.Repeated())
				return
			case len(items) == 0:
				yield(zero, chk.EmptyPage())
				return
			}
			if next == "" {
				if resp.Size != nil {
					if err := chk.Size(*resp.Size); err != nil {
						yield(zero, err)
					}
				}
				return
			}
			u = next
		}
	}
}
