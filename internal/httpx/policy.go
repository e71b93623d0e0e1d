package httpx

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"
)

// MaxRetryAfter caps how long a Retry-After header can make us wait. It is
// above RetryWaitMax on purpose: the server knows when its budget resets, and
// Bitbucket's budget is a rolling hour, so a longer value is not honest
// pacing, and an hour is as long as a person should wait without a word.
const MaxRetryAfter = time.Hour

// policy is the retry decision and the backoff of one client.
type policy struct {
	api    string
	obs    Observer
	now    func() time.Time
	budget *Budget // nil without one: 429 waits are this request's own
	// With rateLimitWait > 0, 429s are retried for that long since the
	// first attempt and other failures retryMax times (Options).
	retryMax      int
	rateLimitWait time.Duration
}

// checkRetry is retryablehttp's CheckRetry. It must not return an error with
// a response it wants passed through, or http.Client drops the response.
func (p *policy) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, cerr := p.retryable(ctx, resp, err)
	if !retry || cerr != nil || p.rateLimitWait <= 0 || p.retryMax <= 0 {
		return retry, cerr
	}
	st := attemptStateFrom(ctx)
	if st == nil {
		return retry, nil
	}
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		return p.now().Sub(st.start) < p.rateLimitWait, nil
	}
	return st.failures.Add(1) <= int64(p.retryMax), nil
}

// retryable is the decision by kind of failure, before any count.
func (p *policy) retryable(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	noServerRetry := serverErrorRetryDisabled(ctx)
	if err != nil {
		if noServerRetry && reachedServer(ctx, err) {
			return false, nil
		}
		return retryableError(err), nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return true, nil
	case noServerRetry:
		// 503 says the server would not handle the request at all (overload,
		// maintenance, no healthy backend): it did not act on it, so sending
		// it again cannot do it twice. 500, 502 and 504 may come after it
		// acted.
		return resp.StatusCode == http.StatusServiceUnavailable, nil
	default:
		return retryableStatus(resp.StatusCode), nil
	}
}

// retryableStatus: 5xx are usually passing, 501 never is, other 4xx are our
// own mistakes and repeating them only spends the budget.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests ||
		code >= 500 && code != http.StatusNotImplemented
}

func retryableError(err error) bool {
	if errors.Is(err, errSlotAfterDeadline) {
		return false
	}
	if _, final := AsNetError(err); final {
		return false // DNS name not found, untrusted certificate, dead proxy: waiting will not help
	}
	// A token endpoint refusing the credentials will refuse them again; only
	// its outages and rate limits are worth waiting for.
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response == nil || retryableStatus(re.Response.StatusCode)
	}
	// retryablehttp already knows which transport errors are permanent
	// (bad scheme, bad header, untrusted certificate, redirect loops).
	ok, _ := retryablehttp.DefaultRetryPolicy(context.Background(), nil, err)
	return ok
}

// reachedServer reports whether the failed attempt may have been seen by the
// server. Only two cases are known not to: the attempt failed above the base
// transport (token fetch, limiter), or the connection was never made.
// Anything else (a reset, EOF or timeout after writing) may have been acted on.
func reachedServer(ctx context.Context, err error) bool {
	st := attemptStateFrom(ctx)
	if st == nil {
		return true
	}
	if !st.sent.Load() {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return false
	}
	var dnsErr *net.DNSError
	return !errors.As(err, &dnsErr)
}

// backoff is retryablehttp's Backoff: exponential with jitter, unless a 429 or
// 503 says when to come back. It is called only when a retry will follow, so
// it is where a rate-limit wait is reported.
func (p *policy) backoff(lo, hi time.Duration, retry int, resp *http.Response) time.Duration {
	wait := jittered(lo, hi, retry)
	if resp == nil {
		return wait
	}
	if resp.StatusCode == http.StatusTooManyRequests && p.budget != nil {
		// The budget closed its gate for every worker and reported the
		// pause; this request waits out the same pause.
		return max(p.budget.pauseLeft(), lo)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, _, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), p.now()); ok {
			// Never below lo: "Retry-After: 0" must not turn into hammering.
			wait = min(max(d, lo), MaxRetryAfter)
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests && p.obs != nil {
		p.obs.RateLimited(p.api, wait, resp.StatusCode)
	}
	return wait
}

// jittered draws the wait before retry n (0-based) from [d/2, d] with
// d = lo·2^(n+1) capped at hi: the first retry waits between lo and 2·lo, and
// workers that failed together do not come back together.
func jittered(lo, hi time.Duration, retry int) time.Duration {
	d := hi
	if shift := retry + 1; shift < 63 && lo <= hi>>shift {
		d = lo << shift
	}
	return max(d/2+rand.N(d/2+1), lo)
}
