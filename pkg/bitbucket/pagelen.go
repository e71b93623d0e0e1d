package bitbucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// fallbackPageLen is the page size asked for when Bitbucket refuses
// pagelen=100 with a 400. The REST docs give 100 as the general maximum but
// let each endpoint set its own; the only lower cap reported is 50 (Bitbucket
// issue 9659), and the spec documents no pagelen at all for
// /2.0/user/workspaces (its example page shows 25, which is an example, not a
// cap). 50 works under any cap of 50 or more and costs half as many
// requests as 25 would.
const fallbackPageLen = 50

// getPage is [Client.get] for a page of a listing. When Bitbucket answers
// 400 to a pagelen above fallbackPageLen, the page is asked for once more
// with fallbackPageLen, and later first pages of the same listing start
// there. It returns the URL that was answered, for resolving a relative
// `next`.
func (c *Client) getPage(ctx context.Context, u, workspace string, v any) (*Response, string, error) {
	route := pageRoute(u)
	if _, small := c.smallPages.Load(route); small {
		u = withSmallerPageLen(u)
	}
	resp, err := c.get(ctx, u, workspace, v)
	if err == nil || !isBadRequest(err) {
		return resp, u, err
	}
	smaller := withSmallerPageLen(u)
	if smaller == u {
		return resp, u, err
	}
	resp2, err2 := c.get(ctx, smaller, workspace, v)
	if err2 != nil {
		// The smaller page did not help either: report the first answer,
		// which names what was asked for.
		if isBadRequest(err2) {
			return resp, u, err
		}
		return resp2, smaller, err2
	}
	if _, seen := c.smallPages.LoadOrStore(route, true); !seen {
		c.warn(fmt.Sprintf("Bitbucket refused pagelen=%s for %s (400); asking for %d per page from now on", pageLenOf(u), route, fallbackPageLen))
	}
	return resp2, smaller, nil
}

func isBadRequest(err error) bool {
	er, ok := errors.AsType[*ErrorResponse](err)
	return ok && er.HTTPStatus() == http.StatusBadRequest
}

// pageRoute names the listing u is a page of, for remembering page sizes.
func pageRoute(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	path := strings.TrimSuffix(p.Path, "/")
	switch {
	case strings.HasSuffix(path, "/projects"):
		return "GET /2.0/workspaces/{workspace}/projects"
	case strings.Contains(path, "/repositories/"):
		return "GET /2.0/repositories/{workspace}"
	case strings.HasSuffix(path, "/user/workspaces"):
		return "GET /2.0/user/workspaces"
	}
	return path
}

func pageLenOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Query().Get("pagelen")
}

// withSmallerPageLen is u with pagelen lowered to fallbackPageLen, or u
// itself when its pagelen is absent or not above it. The other parameters
// keep their order and escaping.
func withSmallerPageLen(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	parts := strings.Split(p.RawQuery, "&")
	changed := false
	for i, kv := range parts {
		k, v, _ := strings.Cut(kv, "=")
		if k != "pagelen" {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil && n > fallbackPageLen {
			parts[i] = "pagelen=" + strconv.Itoa(fallbackPageLen)
			changed = true
		}
	}
	if !changed {
		return u
	}
	p.RawQuery = strings.Join(parts, "&")
	return p.String()
}
