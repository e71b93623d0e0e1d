package snyk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
)

const (
	// DefaultBaseURL is the v1 API of Snyk's default (US-01) region.
	DefaultBaseURL = "https://api.snyk.io/v1/"
	// DefaultRESTVersion is the REST API version sent as `version=` unless
	// [WithRESTVersion] says otherwise. It is a GA version.
	DefaultRESTVersion = "2024-10-15"
	// DefaultUserAgent is sent unless [WithUserAgent] says otherwise.
	DefaultUserAgent = "bbimport"

	mediaTypeJSON    = "application/json"
	mediaTypeJSONAPI = "application/vnd.api+json"
)

// Client calls the Snyk v1 API (and the one REST listing bbimport needs).
// It is safe for concurrent use by several goroutines.
//
// The client holds no credential and never builds its own retries or rate
// limiting: it sends through the [Doer] it is given, the shared stack of
// internal/httpx, which attaches the credential to each request.
type Client struct {
	httpClient  Doer
	baseURL     *url.URL // v1 base, always ends in "/"
	restURL     *url.URL // REST base: scheme and host of baseURL + "/rest/", unless set
	userAgent   string
	restVersion string
	// maxPages is httpx.MaxPages; tests lower it.
	maxPages int
	// maxItems bounds a REST listing (listing.MaxItems when 0).
	maxItems int
	// redact, if set, scrubs every error text (see WithRedact).
	redact func(string) string
	// deprecated, if set, hears of every answer that announces its end.
	deprecated func(Deprecation)
}

// Load reports how much of the request budget of the stack the client
// sends through is spent, for callers that pace work they may put off
// (import polls) or size how much they do at once; Limit 0 when the stack
// keeps no budget (a plain *http.Client).
func (c *Client) Load() httpx.Load {
	if b, ok := c.httpClient.(interface{ Load() httpx.Load }); ok {
		return b.Load()
	}
	return httpx.Load{}
}

// Doer sends one request: an *http.Client, or the stack of internal/httpx
// that attaches the credential, retries and paces.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Option configures a [Client]. Options validate their input and return an
// error instead of panicking.
type Option func(*Client) error

// WithHTTPClient makes the client send its requests through hc (an
// *http.Client is copied, so later changes to it do not affect the client).
// Give it the shared stack, which carries the credential; the default is a
// plain client with a 60 s timeout, no credential and no retries.
func WithHTTPClient(hc Doer) Option {
	return func(c *Client) error {
		if h, ok := hc.(*http.Client); ok && h != nil {
			cp := *h
			hc = &cp
		}
		if hc == nil || hc == (*http.Client)(nil) {
			return errors.New("snyk: WithHTTPClient: nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithBaseURL sets the v1 base URL, e.g. https://api.eu.snyk.io/v1.
// It is normalised first ([NormalizeBaseURL]: a bare host, /api/v1 or a
// REST base on a Snyk host become the v1 base). The REST base is derived
// from it: the same scheme, host and path prefix with /rest/ in place of
// /v1/. Plain http:// is refused unless the host is a loopback address
// (tests, the simulator), so the token never travels in clear text.
func WithBaseURL(rawURL string) Option {
	return func(c *Client) error {
		rawURL, _ = NormalizeBaseURL(rawURL)
		u, err := parseBaseURL("the base URL", rawURL)
		if err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

// WithRESTBaseURL overrides the REST base URL derived from the v1 base
// (scheme and host of the v1 base + "/rest/"). Only needed when REST is served
// elsewhere.
func WithRESTBaseURL(rawURL string) Option {
	return func(c *Client) error {
		u, err := parseBaseURL("the REST base URL", rawURL)
		if err != nil {
			return err
		}
		c.restURL = u
		return nil
	}
}

// WithUserAgent sets the User-Agent header, e.g. "bbimport/1.4.0".
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(ua) == "" {
			return errors.New("snyk: WithUserAgent: empty user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// ErrRESTVersion is wrapped by the error of [WithRESTVersion] for a value
// that is not a REST version.
var ErrRESTVersion = errors.New("not a REST API version of the form YYYY-MM-DD, YYYY-MM-DD~beta or YYYY-MM-DD~experimental")

// WithRESTVersion sets the REST API version (`version=YYYY-MM-DD`, optionally
// with `~beta` or `~experimental`). The default is [DefaultRESTVersion].
func WithRESTVersion(version string) Option {
	return func(c *Client) error {
		version = strings.TrimSpace(version)
		date, stability, tagged := strings.Cut(version, "~")
		if _, err := time.Parse(time.DateOnly, date); err != nil || tagged && stability != "beta" && stability != "experimental" {
			return fmt.Errorf("snyk: %q: %w", version, ErrRESTVersion)
		}
		c.restVersion = version
		return nil
	}
}

// NewClient returns a Snyk client. Everything has a default
// ([DefaultBaseURL], [DefaultRESTVersion], [DefaultUserAgent]); give it the
// stack that carries the credential with [WithHTTPClient].
func NewClient(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		baseURL:     base,
		userAgent:   DefaultUserAgent,
		restVersion: DefaultRESTVersion,
		maxPages:    httpx.MaxPages,
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.httpClient == nil {
		// Without a stack, one attempt is bounded as the Bitbucket client
		// bounds it.
		c.httpClient = &http.Client{Timeout: httpx.DefaultAttemptTimeout}
	}
	if c.restURL == nil {
		c.restURL = restBaseFor(c.baseURL)
	}
	return c, nil
}

// Scope is where the client sends requests, for the stack that carries its
// credential (httpx.Options.Scope): the origin of its v1 and REST bases and
// the longest path they share ("/" for https://api.snyk.io/v1/ and /rest/,
// "/snyk/" behind a gateway's /snyk/v1/). Nil when REST is on another
// origin.
func (c *Client) Scope() *url.URL {
	if !httpx.SameOrigin(c.baseURL, c.restURL) {
		return nil
	}
	a, b := strings.Split(c.baseURL.Path, "/"), strings.Split(c.restURL.Path, "/")
	n := 0
	for n < len(a)-1 && n < len(b)-1 && a[n] == b[n] {
		n++
	}
	p := strings.Join(a[:n], "/") + "/"
	return &url.URL{Scheme: c.baseURL.Scheme, Host: c.baseURL.Host, Path: p}
}

// BaseURL returns a copy of the v1 base URL.
func (c *Client) BaseURL() *url.URL {
	u := *c.baseURL
	return &u
}

func parseBaseURL(name, rawURL string) (*url.URL, error) {
	u, err := httpx.CheckBaseURL(rawURL, name)
	if err != nil {
		return nil, fmt.Errorf("snyk: %w", err)
	}
	return u, nil
}

// newRequest builds a request for path, which is relative to base (never
// starting with "/", so the base's path prefix is kept). A non-nil body is
// sent as JSON of the given media type; it is buffered so retries can replay
// it (GetBody is set).
func (c *Client) newRequest(ctx context.Context, method string, base *url.URL, path string, body any, mediaType string) (*http.Request, error) {
	if strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("snyk: internal error: path %q must be relative", path)
	}
	// "./" keeps a first segment containing ":" from being read as a scheme.
	ref, err := url.Parse("./" + path)
	if err != nil {
		return nil, fmt.Errorf("snyk: building URL for %q: %w", path, err)
	}
	return c.newRequestURL(ctx, method, base.ResolveReference(ref), body, mediaType)
}

func (c *Client) newRequestURL(ctx context.Context, method string, u *url.URL, body any, mediaType string) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("snyk: encoding %s %s body: %w", method, u.Path, err)
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, fmt.Errorf("snyk: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("User-Agent", c.userAgent)
	return req, nil
}

// do sends req and checks the status: a non-2xx answer becomes the error of
// [CheckResponse] (scrubbed, see [WithRedact]). When v is non-nil the body is
// decoded into it. The body is always drained and closed; the returned
// response is for headers and status only.
func (c *Client) do(req *http.Request, v any) (*http.Response, error) {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		// A refused token exchange is the error the person needs; drop the
		// *url.Error wrapping that repeats the API URL.
		if te, ok := errors.AsType[*credential.TokenError](err); ok {
			return nil, c.scrub(te)
		}
		return nil, c.scrub(err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, httpx.MaxErrorBody))
		resp.Body.Close()
	}()
	c.noteDeprecation(resp)
	if err := CheckResponse(resp); err != nil {
		return resp, c.scrub(err)
	}
	if v != nil {
		if err := httpx.DecodeJSON(resp.Body, v); err != nil {
			return resp, fmt.Errorf("snyk: %s %s: reading the answer: %w", req.Method, sanitizeURL(req.URL), c.scrub(err))
		}
	}
	return resp, nil
}

// scrub removes what the caller's redactor knows (every form of every
// credential) from an error's text, in case a server or proxy echoed it
// back. Typed errors keep their type.
func (c *Client) scrub(err error) error {
	if err == nil || c.redact == nil {
		return err
	}
	var er *ErrorResponse
	var rl *RateLimitError
	switch {
	case errors.As(err, &er):
		er.Message = c.scrubText(er.Message)
	case errors.As(err, &rl):
		rl.Message = c.scrubText(rl.Message)
	}
	if msg := err.Error(); c.scrubText(msg) != msg {
		return &redact.Error{Msg: c.scrubText(msg), Err: err}
	}
	return err
}

func (c *Client) scrubText(s string) string { return c.redact(s) }

// tooManyPages is the error of a listing that reached c.maxPages: a server
// inventing a new next page forever.
func (c *Client) tooManyPages(what string) error {
	return fmt.Errorf("snyk: stopped after %d pages of %s: every page links to a new next page, far beyond any real estate", c.maxPages, what)
}

func requireID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("snyk: %s is empty", what)
	}
	return nil
}
