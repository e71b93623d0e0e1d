package bitbucket

import (
	"context"
	"fmt"
	"iter"
	"net/url"

	"github.com/bbimport/bbimport/internal/httpx"
)

// page is Bitbucket's paged envelope. Size is a hint only: it can disagree
// with what is actually returned.
type page[T any] struct {
	Values  []T    `json:"values"`
	Next    string `json:"next"`
	PageLen int    `json:"pagelen"`
	Size    int    `json:"size"`
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
// (items for which conv reports false are skipped). It stops after a page
// without `next`, an empty page, or a `next` seen before; after c.maxPages
// pages (a server inventing a new `next` forever) it yields an error, as it
// yields one error of any kind and stops; it returns as soon as yield returns false or ctx is done.
func paginate[R, T any](ctx context.Context, c *Client, first, workspace string, conv func(R) (T, bool)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := make(map[string]bool)
		for u := first; u != ""; {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			if len(seen) >= c.maxPages {
				fu, _ := url.Parse(first)
				yield(zero, fmt.Errorf("bitbucket: stopped after %d pages of GET %s: every page links to a new next page, far beyond any real workspace", c.maxPages, sanitizeURL(fu)))
				return
			}
			seen[u] = true
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
				v, ok := conv(item)
				if !ok {
					continue
				}
				if !yield(v, nil) {
					return
				}
			}
			if len(items) == 0 || seen[resp.NextURL] {
				return
			}
			u = resp.NextURL
		}
	}
}
