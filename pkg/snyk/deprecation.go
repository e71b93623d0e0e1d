package snyk

import (
	"net/http"
	"strings"
)

// Deprecation is an answer that announces the end of what was called: Snyk
// sends a `Sunset` header (RFC 8594) for a REST version it will retire, and
// may send `Deprecation` (RFC 9745).
type Deprecation struct {
	Method, URL string
	// Sunset and Deprecation are the headers as sent; either may be empty.
	Sunset, Deprecation string
	// Link is the `Link` header, which may point at the announcement.
	Link string
}

// WithDeprecationFunc sets the hook that hears of every answer carrying
// Sunset or Deprecation. It is called from the requesting goroutines,
// concurrently; the library never logs, and saying it once is the
// caller's to decide.
func WithDeprecationFunc(f func(Deprecation)) Option {
	return func(c *Client) error {
		c.deprecated = f
		return nil
	}
}

func (c *Client) noteDeprecation(resp *http.Response) {
	if c.deprecated == nil {
		return
	}
	sunset, dep := strings.TrimSpace(resp.Header.Get("Sunset")), strings.TrimSpace(resp.Header.Get("Deprecation"))
	if sunset == "" && dep == "" {
		return
	}
	d := Deprecation{Sunset: sunset, Deprecation: dep, Link: resp.Header.Get("Link")}
	if resp.Request != nil {
		d.Method, d.URL = resp.Request.Method, sanitizeURL(resp.Request.URL)
	}
	c.deprecated(d)
}
