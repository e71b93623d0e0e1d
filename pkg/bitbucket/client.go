package bitbucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
)

// DefaultBaseURL is the Bitbucket Cloud REST API 2.0 root.
const DefaultBaseURL = "https://api.bitbucket.org/2.0/"

// DefaultTokenURL is Bitbucket's OAuth 2.0 token endpoint (on bitbucket.org,
// not api.bitbucket.org). An OAuth consumer's key and secret are exchanged
// there with client_credentials, sent as HTTP Basic.
const DefaultTokenURL = "https://bitbucket.org/site/oauth2/access_token"

// DefaultUserAgent is sent when no [WithUserAgent] option is given.
const DefaultUserAgent = "bbimport"

// Client talks to the Bitbucket Cloud REST API 2.0. It is safe for concurrent
// use. It holds no credential and adds no retries or pacing of its own:
// those come from the [Doer] given with [WithHTTPClient].
type Client struct {
	client    Doer
	baseURL   *url.URL
	userAgent string
	warnFunc  func(string)
	// smallPages holds the listings (pageRoute) that refused pagelen=100
	// once, so later first pages ask for fallbackPageLen at once.
	smallPages sync.Map
	// maxPages bounds every listing (httpx.MaxPages; tests lower it); the
	// item cap is listing.MaxItems.
	maxPages int
}

// Option configures a [Client] in [NewClient]. An option returns an error for
// an invalid value.
type Option func(*Client) error

// Doer sends one request: an *http.Client, or the stack of internal/httpx
// that attaches the credential, retries and paces.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// WithHTTPClient makes the client send every request through hc, which is
// expected to carry the credential, retries and rate limiting. An
// *http.Client is copied, so later changes to it do not affect the client.
func WithHTTPClient(hc Doer) Option {
	return func(c *Client) error {
		if h, ok := hc.(*http.Client); ok && h != nil {
			cp := *h
			hc = &cp
		}
		if hc == nil || hc == (*http.Client)(nil) {
			return errors.New("bitbucket: WithHTTPClient: nil client")
		}
		c.client = hc
		return nil
	}
}

// WithBaseURL sets the API root (default [DefaultBaseURL]). A trailing slash
// is added when missing. A plain http:// URL is refused unless its host is a
// loopback address (tests and the simulator).
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := httpx.CheckBaseURL(raw, "bitbucket: the base URL")
		if err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

// WithUserAgent sets the User-Agent header (default [DefaultUserAgent]).
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(ua) == "" {
			return errors.New("bitbucket: WithUserAgent: empty user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// WithWarnFunc sets the hook that receives warnings: sentences about a
// degraded answer the client worked around (a workspace named by its slug,
// a smaller page size). The default drops them; the library never logs.
func WithWarnFunc(f func(msg string)) Option {
	return func(c *Client) error {
		c.warnFunc = f
		return nil
	}
}

func (c *Client) warn(msg string) {
	if c.warnFunc != nil {
		c.warnFunc(msg)
	}
}

// NewClient returns a client for the Bitbucket Cloud API configured by opts.
func NewClient(opts ...Option) (*Client, error) {
	base, err := url.Parse(DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	// Without a stack, one attempt is bounded as the Snyk client bounds it.
	c := &Client{client: &http.Client{Timeout: httpx.DefaultAttemptTimeout}, baseURL: base, userAgent: DefaultUserAgent, maxPages: httpx.MaxPages}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// BaseURL returns a copy of the API root the client sends requests to, with
// a trailing slash (as the Snyk client's BaseURL does).
func (c *Client) BaseURL() *url.URL {
	u := *c.baseURL
	return &u
}

// Response wraps the *http.Response of one API call. Its body has already been
// read and closed.
type Response struct {
	*http.Response
	// NextURL is the body's `next` link, absolute and exactly as Bitbucket
	// sent it; empty on the last page.
	NextURL string
	// Size is the page's `size`, Bitbucket's count of the whole listing,
	// when it sent one.
	Size *int
}

func newResponse(resp *http.Response) *Response {
	return &Response{Response: resp}
}

// maxDrainBody bounds what is read and thrown away after decoding so the
// connection can be reused; a longer rest closes the connection instead.
const maxDrainBody = 64 << 10

// get sends GET u (absolute, sent as given) and decodes a 2xx JSON body into v. Any other
// status becomes the error of [CheckResponse], annotated with workspace.
func (c *Client) get(ctx context.Context, u, workspace string, v any) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	resp, err := c.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		// A failed token exchange is the error the person needs; drop the
		// *url.Error wrapping that repeats the API URL.
		if te, ok := errors.AsType[*credential.TokenError](err); ok {
			return nil, te
		}
		return nil, err
	}
	// Drain what the decoder left (the end of a chunked body) before closing,
	// or the transport closes the connection instead of reusing it: without
	// this every page paid a new TCP (and TLS) handshake.
	// The network body, not resp.Body: CheckResponse replaces resp.Body of
	// an error with an in-memory copy that ErrorResponse keeps readable.
	body := resp.Body
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrainBody))
		body.Close()
	}()

	response := newResponse(resp)
	if err := CheckResponse(resp); err != nil {
		c.annotate(err, workspace)
		return response, err
	}
	if v != nil {
		if err := httpx.DecodeJSON(resp.Body, v); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return response, ctxErr
			}
			return response, fmt.Errorf("bitbucket: decoding the answer to GET %s: %w", sanitizeURL(req.URL), err)
		}
	}
	return response, nil
}

func (c *Client) annotate(err error, workspace string) {
	if e, ok := err.(*ErrorResponse); ok {
		e.Workspace = workspace
	}
}

// endpoint resolves a path relative to the base URL and attaches query
// parameters in the order given (pairs of key, value). Values are escaped with
// %20 for spaces, as Bitbucket's BBQL examples show.
func (c *Client) endpoint(path string, params ...string) (string, error) {
	u, err := c.baseURL.Parse(path)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(params[i]))
		b.WriteByte('=')
		b.WriteString(queryEscape(params[i+1]))
	}
	u.RawQuery = b.String()
	return u.String(), nil
}

// queryEscape escapes a query value, keeping commas (field lists read better)
// and writing spaces as %20.
func queryEscape(s string) string {
	s = url.QueryEscape(s)
	s = strings.ReplaceAll(s, "+", "%20")
	return strings.ReplaceAll(s, "%2C", ",")
}

// pathSegment escapes one path segment such as a workspace slug or a
// `{uuid}`. It refuses segments that would change the path's shape.
func pathSegment(what, s string) (string, error) {
	if s == "" || s == "." || s == ".." {
		return "", fmt.Errorf("bitbucket: invalid %s %q", what, s)
	}
	return url.PathEscape(s), nil
}

// sanitizeURL renders u for an error message or log line: no user info, no
// fragment, the long `fields` list dropped, and the value of every query
// parameter other than page, pagelen, q, sort and role replaced by the redaction mask
// (Bitbucket accepts `access_token` in the query string).
func sanitizeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	cp := *u
	cp.User = nil
	cp.Fragment = ""
	cp.RawFragment = ""
	if cp.RawQuery != "" {
		in, err := url.ParseQuery(cp.RawQuery)
		if err != nil {
			cp.RawQuery = redact.Mask
		} else {
			out := url.Values{}
			for k, vs := range in {
				switch strings.ToLower(k) {
				case "fields":
				case "page", "pagelen", "q", "sort", "role":
					out[k] = vs
				default:
					out[k] = []string{redact.Mask}
				}
			}
			// The mask is shown as is, not percent-encoded.
			cp.RawQuery = strings.ReplaceAll(out.Encode(), url.QueryEscape(redact.Mask), redact.Mask)
		}
	}
	return cp.String()
}

// RequestClass names the rate-limit class of a request path: "repositories"
// for /2.0/repositories/… (Bitbucket's "api" resource group, whose limit
// scales for access tokens), "other" for the rest. Requests of one class
// share the limit a server announces for their group.
func RequestClass(path string) string {
	if strings.Contains(path, "/repositories/") {
		return "repositories"
	}
	return "other"
}
