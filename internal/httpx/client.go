package httpx

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// Defaults used by New for zero Options fields.
const (
	DefaultRetryMax       = 6
	DefaultRetryWaitMin   = time.Second
	DefaultRetryWaitMax   = 60 * time.Second
	DefaultAttemptTimeout = 60 * time.Second
	// DefaultRateLimitWait is what a command gives Options.RateLimitWait:
	// long enough to outlast a budget shared with another job, short
	// enough that a run does not hang for an hour in silence.
	DefaultRateLimitWait = 30 * time.Minute
)

// Options configures New. Zero values mean the documented default.
type Options struct {
	// API labels Exchange and RateLimited reports: "bitbucket" or "snyk".
	API string
	// Limiter is shared by every request made with one credential, retries
	// included; nil means unlimited. See WindowLimiter.
	Limiter *rate.Limiter
	// Budget, when set, replaces Limiter: admission while the rolling
	// window has room, one 429 pausing every request (NewBudget). It sees
	// every response, so share one Budget per credential.
	Budget *Budget
	// Auth wraps the wire transport with credentials, for example an
	// oauth2.Transport. It sits below the retries, so it is asked for a token
	// on every attempt, and below the limiter, so a request that waited long
	// for its slot gets a token fresh at that moment. Nil means no credentials.
	Auth func(base http.RoundTripper) http.RoundTripper
	// Transport is the base transport. Nil means a clone of
	// http.DefaultTransport whose proxy settings are read from the
	// environment when New is called (HTTPS_PROXY, NO_PROXY, as Go defines them).
	Transport http.RoundTripper
	// RetryMax is how many times a request is retried after the first
	// attempt: 0 means DefaultRetryMax, a negative value disables retries.
	RetryMax int
	// RateLimitWait, when positive, is how long a request refused with 429
	// keeps being retried, however many attempts that takes: the server did
	// not act on it, and a budget shared with another job frees up in
	// minutes, not in RetryMax attempts. 429s then do not count against
	// RetryMax. 0 counts them like any failure (DefaultRateLimitWait is
	// what commands use).
	RateLimitWait time.Duration
	// RetryWaitMin and RetryWaitMax bound the exponential backoff; 0 means
	// DefaultRetryWaitMin and DefaultRetryWaitMax. Retry-After may exceed
	// RetryWaitMax, up to MaxRetryAfter.
	RetryWaitMin, RetryWaitMax time.Duration
	// AttemptTimeout bounds one attempt from the moment it leaves the limiter
	// until its response body is closed, so a long limiter wait never counts
	// against it. 0 means DefaultAttemptTimeout, negative means none.
	AttemptTimeout time.Duration
	// Observer receives one Exchange per attempt and every rate-limit wait;
	// nil means nobody listens.
	Observer Observer
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

// New returns an *http.Client for one API and credential, layered as the
// package documentation describes. Callers turn non-2xx responses into typed
// errors: when retries run out the last response is returned as it came, and
// a transport error is returned only when no response exists.
func New(opts Options) (*http.Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base := o.Transport
	if base == nil {
		base = defaultTransport()
	}
	var rt http.RoundTripper = &wireTransport{base: base, timeout: o.AttemptTimeout}
	var lim waiter
	switch {
	case o.Budget != nil:
		lim = o.Budget
	case o.Limiter != nil:
		lim = o.Limiter
	}
	if lim != nil {
		rt = &meterTransport{limiter: lim, budget: o.Budget, next: rt}
	}
	if o.Auth != nil {
		if rt = o.Auth(rt); rt == nil {
			return nil, errors.New("httpx: Options.Auth returned a nil RoundTripper")
		}
	}
	if lim != nil {
		rt = &limitTransport{limiter: lim, next: rt}
	}
	if o.Observer != nil {
		rt = &observeTransport{api: o.API, obs: o.Observer, next: rt}
	}
	p := &policy{api: o.API, obs: o.Observer, now: time.Now, budget: o.Budget,
		retryMax: o.RetryMax, rateLimitWait: o.RateLimitWait}
	attempts := o.RetryMax
	if o.RateLimitWait > 0 && o.RetryMax > 0 {
		// The policy counts: RetryMax for failures, RateLimitWait for 429s.
		attempts = math.MaxInt32
	}
	rc := &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: rt,
			// Redirects are followed by the outer client, so each hop is a
			// request of its own with its own attempts.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Logger:         nil, // the default writes to stderr; we report through Observer
		RetryWaitMin:   o.RetryWaitMin,
		RetryWaitMax:   o.RetryWaitMax,
		RetryMax:       attempts,
		RequestLogHook: markAttempt,
		CheckRetry:     reportRetries(o.Observer, o.API, o.RetryMax, p.checkRetry),
		Backoff:        p.backoff,
		// Keep the final 429 or 5xx so callers can type it (RateLimitError).
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return &http.Client{
		Transport:     &retryTransport{next: &retryablehttp.RoundTripper{Client: rc}, base: base},
		CheckRedirect: sameOriginRedirects,
	}, nil
}

// ErrRedirectLoop is a request redirected more than 10 times. (Its text is
// the one retryablehttp knows as final.)
var ErrRedirectLoop = errors.New("stopped after 10 redirects")

// sameOriginRedirects follows a redirect only within the origin (scheme,
// host, port) of the first request. Credentials are added by RoundTrippers,
// not request headers, so Go's own rule of dropping Authorization on a
// cross-host hop does not apply: without this, a redirect would carry the
// Bitbucket token or the Snyk token to another host or to plain http.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return ErrRedirectLoop
	}
	if !SameOrigin(req.URL, via[0].URL) {
		return http.ErrUseLastResponse
	}
	return nil
}

// markAttempt is retryablehttp's RequestLogHook, the one place that knows the
// attempt number; it hands it to the layers below through the request context.
func markAttempt(_ retryablehttp.Logger, req *http.Request, retry int) {
	if st := attemptStateFrom(req.Context()); st != nil {
		st.begin(retry + 1)
	}
}

// retryTransport gives each request a fresh attemptState before retryablehttp
// sees it.
type retryTransport struct {
	next http.RoundTripper
	base http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		// retryablehttp buffers the body for replay but never closes the
		// original, which the RoundTripper contract asks of us.
		defer req.Body.Close()
	}
	resp, err := t.next.RoundTrip(req.WithContext(withAttemptState(req.Context())))
	if err != nil && resp != nil {
		// A cancelled context can arrive with a response; http.Client
		// would drop it without closing it.
		resp.Body.Close()
		resp = nil
	}
	return resp, err
}

// CloseIdleConnections closes the base transport's idle connections, so
// (*http.Client).CloseIdleConnections works on the client New returns.
func (t *retryTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
