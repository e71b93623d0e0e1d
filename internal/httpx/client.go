package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/hashicorp/go-retryablehttp"
)

// Defaults used by New for zero Options fields.
const (
	DefaultRetryMax       = 6
	DefaultRetryWaitMin   = time.Second
	DefaultRetryWaitMax   = 60 * time.Second
	DefaultAttemptTimeout = 60 * time.Second
	// DefaultRateLimitWait is what a command gives BudgetConfig.RateLimitWait:
	// long enough to outlast a budget shared with another job, short
	// enough that a run does not hang for an hour in silence.
	DefaultRateLimitWait = 30 * time.Minute
)

// Options configures New. Zero values mean the documented default.
type Options struct {
	// API labels Exchange and RateLimited reports: "bitbucket" or "snyk".
	API string
	// Budget admits every send of this API's requests and owns its 429s
	// (NewBudget); share one per credential. Nil means a budget without a
	// limit, which still pauses every request on a 429 and waits it out
	// for DefaultRateLimitWait.
	Budget *Budget
	// Credential is attached to every send after the budget wait, so a
	// request that queued leaves with a token fresh at that moment. Nil
	// means no credentials (a token endpoint).
	Credential *credential.Credential
	// Scope is where Credential may go (InScope): a request outside it is
	// refused before anything is attached (*ScopeError, final), and a
	// redirect out of it is not followed. Two APIs behind one gateway host
	// (/bitbucket/…, /snyk/…) are one origin, so the origin alone would
	// let one API's next-page link take its credential to the other. A
	// token endpoint's stack (no Credential: the secret is in the request)
	// sets it to the token URL, for redirects. Nil means the origin of each
	// request's first hop only.
	Scope *url.URL
	// Transport is the base transport. Nil means a clone of
	// http.DefaultTransport whose proxy settings are read from the
	// environment when New is called (HTTPS_PROXY, NO_PROXY, as Go defines them).
	Transport http.RoundTripper
	// RetryMax is how many times a failed request is retried after the
	// first attempt: 0 means DefaultRetryMax, a negative value disables
	// retries. 429s are not failures here: the Budget waits them out.
	RetryMax int
	// OneConnectAttempt sends a request that could not reach its server
	// (refused, timed out, no route) once: a caller that checks a set-up
	// wants the failure said now, not after minutes of backoff. Answers
	// (5xx) are still retried.
	OneConnectAttempt bool
	// RetryWaitMin and RetryWaitMax bound the exponential backoff; 0 means
	// DefaultRetryWaitMin and DefaultRetryWaitMax. A 503's Retry-After may
	// exceed RetryWaitMax, up to MaxRetryAfter.
	RetryWaitMin, RetryWaitMax time.Duration
	// AttemptTimeout bounds one send from the moment it leaves the budget
	// until its response body is closed, so a long budget wait never counts
	// against it. 0 means DefaultAttemptTimeout, negative means none.
	AttemptTimeout time.Duration
	// Observer receives one Exchange per send and every rate-limit wait;
	// nil means nobody listens.
	Observer Observer
	// Replayable says every request may be sent again, POSTs included (a
	// token endpoint: minting twice is harmless), so every answer is read
	// whole within its attempt and a body cut short is retried here, not
	// found broken by the caller after the retries.
	Replayable bool
}

func (o Options) withDefaults() (Options, error) {
	if o.RetryMax == 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.RetryMax < 0 {
		o.RetryMax = 0
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin = DefaultRetryWaitMin
	}
	if o.RetryWaitMax == 0 {
		o.RetryWaitMax = DefaultRetryWaitMax
	}
	if o.AttemptTimeout == 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.RetryWaitMin < 0 || o.RetryWaitMax < o.RetryWaitMin {
		return o, fmt.Errorf("httpx: retry waits must satisfy 0 < min <= max, got min %s, max %s", o.RetryWaitMin, o.RetryWaitMax)
	}
	return o, nil
}

// Client sends the requests of one API with one credential through the
// stack the package documentation draws. Callers turn non-2xx responses
// into typed errors: when retries run out the last response is returned as
// it came, and a transport error is returned only when no response exists.
// It is safe for concurrent use.
type Client struct {
	rc     *retryablehttp.Client
	base   http.RoundTripper
	budget *Budget
}

// New returns a Client for one API and credential.
func New(opts Options) (*Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base := o.Transport
	if base == nil {
		base = defaultTransport()
	}
	budget := o.Budget
	if budget == nil {
		budget = NewBudget(BudgetConfig{API: o.API, PauseMin: o.RetryWaitMin, PauseMax: o.RetryWaitMax,
			Observer: o.Observer, RateLimitWait: DefaultRateLimitWait})
	}
	send := &sendTransport{api: o.API, budget: budget, cred: o.Credential, scope: o.Scope, obs: o.Observer,
		next: &wireTransport{base: base, timeout: o.AttemptTimeout, replayable: o.Replayable}}
	p := &policy{now: time.Now, oneConnectAttempt: o.OneConnectAttempt}
	rc := &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: send,
			// Credentials are attached by the stack, not the request, so
			// Go's rule of dropping Authorization on a cross-host hop would
			// not protect them: sameOriginRedirects does.
			CheckRedirect: sameOriginRedirects(o.Scope),
		},
		Logger:         nil, // the default writes to stderr; we report through Observer
		RetryWaitMin:   o.RetryWaitMin,
		RetryWaitMax:   o.RetryWaitMax,
		RetryMax:       o.RetryMax,
		RequestLogHook: markAttempt,
		CheckRetry:     reportRetries(o.Observer, o.API, o.RetryMax, p.checkRetry),
		Backoff:        p.backoff,
		// Keep the final 429 or 5xx so callers can type it (RateLimitError).
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return &Client{rc: rc, base: base, budget: budget}, nil
}

// ErrRedirectLoop is a request redirected more than 10 times. (Its text is
// the one retryablehttp knows as final.)
var ErrRedirectLoop = errors.New("stopped after 10 redirects")

// Do sends req, retrying as the policy says. The request body, if any, is
// read whole first (so every attempt can replay it) and closed.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	rreq, err := retryablehttp.FromRequest(req.WithContext(withAttemptState(req.Context())))
	if req.Body != nil {
		// FromRequest buffered the body for replay but never closes the
		// original, which http.Client.Do's contract asks of us.
		req.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	if rreq.GetBody == nil && req.Body != nil && req.Body != http.NoBody {
		// A send of its own (a 429 waited out, a 401 re-authorised) replays
		// the body through GetBody, which FromRequest sets only when the
		// caller's request had one.
		body, err := rreq.BodyBytes()
		if err == nil {
			err = rreq.SetBody(body)
		}
		if err != nil {
			return nil, err
		}
	}
	resp, err := c.rc.Do(rreq)
	if err != nil && resp != nil {
		// A cancelled context can arrive with a response; nobody would
		// close it.
		resp.Body.Close()
		resp = nil
	}
	return resp, err
}

// Load reports how much of the client's budget is spent (Budget.Load).
func (c *Client) Load() Load { return c.budget.Load() }

// CloseIdleConnections closes the base transport's idle connections.
func (c *Client) CloseIdleConnections() {
	if t, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// StandardClient is an *http.Client that sends through c, for libraries
// that take nothing else (golang.org/x/oauth2's token requests).
func (c *Client) StandardClient() *http.Client {
	return &http.Client{Transport: doTransport{c}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type doTransport struct{ c *Client }

func (t doTransport) RoundTrip(req *http.Request) (*http.Response, error) { return t.c.Do(req) }

// sameOriginRedirects follows a redirect only within the origin (scheme,
// host, port) of the first request, and within scope if set: the
// credential the stack attaches to every hop must not reach another host,
// plain http, or another API behind the same host.
func sameOriginRedirects(scope *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return ErrRedirectLoop
		}
		if !SameOrigin(req.URL, via[0].URL) || scope != nil && !InScope(req.URL, scope) {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// markAttempt is retryablehttp's RequestLogHook, the one place that knows
// the attempt number; it hands it to the layers below through the request
// context, for reports only (retryablehttp alone counts retries).
func markAttempt(_ retryablehttp.Logger, req *http.Request, retry int) {
	if st := attemptStateFrom(req.Context()); st != nil {
		st.begin(retry + 1)
	}
}
