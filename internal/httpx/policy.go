package httpx

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// MaxRetryAfter caps how long a Retry-After header can make us wait. It is
// above RetryWaitMax on purpose: the server knows when its budget resets, and
// Bitbucket's budget is a rolling hour, so a longer value is not honest
// pacing, and an hour is as long as a person should wait without a word.
const MaxRetryAfter = time.Hour

// policy is the retry decision and the backoff of one client: what
// retryablehttp's CheckRetry and Backoff ask. retryablehttp itself counts
// the attempts (RetryMax). 429s are not decided here: the Budget pauses
// every request on one and waits it out below the retry loop.
type policy struct {
	now func() time.Time
	// oneConnectAttempt: a request that got no answer is not sent again
	// (Options.OneConnectAttempt).
	oneConnectAttempt bool
}

// checkRetry is retryablehttp's CheckRetry. It must not return an error with
// a response it wants passed through, or the response is dropped.
func (p *policy) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	noServerRetry := serverErrorRetryDisabled(ctx)
	if err != nil {
		if p.oneConnectAttempt {
			return false, nil
		}
		if noServerRetry && reachedServer(ctx, err) {
			return false, nil
		}
		return retryableError(err), nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		// The budget held the request as long as it allows; this is the answer.
		return false, nil
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
	var spent *RateLimitWaitError
	if errors.Is(err, errSlotAfterDeadline) || errors.As(err, &spent) {
		return false
	}
	if _, final := AsNetError(err); final {
		return false // DNS name not found, untrusted certificate, dead proxy: waiting will not help
	}
	// The credential could not be had: the token endpoint refused it, or
	// the token client's own retries ran out. Retrying the API request
	// would only count those retries a second time.
	var ce *credentialError
	if errors.As(err, &ce) {
		return false
	}
	// A URL outside the credential's scope stays outside it.
	var se *ScopeError
	if errors.As(err, &se) {
		return false
	}
	// retryablehttp already knows which transport errors are permanent
	// (bad scheme, bad header, untrusted certificate, redirect loops).
	ok, _ := retryablehttp.DefaultRetryPolicy(context.Background(), nil, err)
	return ok
}

// reachedServer reports whether the failed send may have been seen by the
// server. Only two cases are known not to: the send failed above the base
// transport (token fetch, budget), or the connection was never made.
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

// backoff is retryablehttp's Backoff: exponential with jitter, unless a
// 503 says when to come back.
func (p *policy) backoff(lo, hi time.Duration, retry int, resp *http.Response) time.Duration {
	wait := jittered(lo, hi, retry)
	if resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
		if d, _, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), p.now()); ok {
			// Never below lo: "Retry-After: 0" must not turn into hammering.
			wait = min(max(d, lo), MaxRetryAfter)
		}
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
