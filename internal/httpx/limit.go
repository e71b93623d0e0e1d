package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// WindowLimiter returns a limiter that never lets more than limit requests
// through in any window of the given length, for APIs that count requests in
// a rolling window (Bitbucket: per consumer per hour; Snyk: per minute).
//
// A token bucket of burst b refilled at r per window admits at most b + r
// requests in any window: the bucket holds at most b when the window opens,
// and at most r more tokens arrive before it closes. With b = limit/4 and
// r = limit - b (three quarters), a small run gets a quarter of the budget at
// full speed and a long one settles at the budget's pace, so the server's 429
// stays an exception. A limit of 1 refills one token per window, so a window
// may see 2. A limit or window of zero or less means no limit.
func WindowLimiter(limit int, window time.Duration) *rate.Limiter {
	if limit <= 0 || window <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	burst := max(limit/4, 1)
	refill := max(limit-burst, 1)
	return rate.NewLimiter(rate.Limit(float64(refill)/window.Seconds()), burst)
}

// errSlotAfterDeadline tells the retry policy that waiting cannot help: the
// limiter will not have a token before the request's deadline.
var errSlotAfterDeadline = errors.New("httpx: the rate limit allows no request before the deadline")

// waiter is what the limit layers wait on: a *rate.Limiter or a *Budget.
type waiter interface {
	Wait(ctx context.Context) error
}

// limitTransport makes every attempt wait for the limiter before the layers
// below it (auth) run, so credentials are attached after the wait: a token
// fetched before a long wait could expire on the way. It marks the attempt
// prepaid for meterTransport.
type limitTransport struct {
	limiter waiter
	next    http.RoundTripper
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := attemptStateFrom(req.Context())
	if st == nil {
		// Not through New's retry layer: meterTransport pays instead.
		return t.next.RoundTrip(req)
	}
	if err := waitFor(req, t.limiter, st); err != nil {
		return nil, err
	}
	st.prepaid.Store(true)
	return t.next.RoundTrip(req)
}

// meterTransport sits right above the wire. A send the limit layer did not
// admit (auth sending again with a fresh token after a 401) waits here, so
// every request on the wire is paid for exactly once; and a Budget hears
// every response (429, X-RateLimit-*).
type meterTransport struct {
	limiter waiter
	budget  *Budget // nil with a plain rate.Limiter
	next    http.RoundTripper
}

func (t *meterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := attemptStateFrom(req.Context())
	if st == nil || !st.prepaid.CompareAndSwap(true, false) {
		if err := waitFor(req, t.limiter, st); err != nil {
			return nil, err
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil && t.budget != nil {
		t.budget.observe(resp)
	}
	return resp, err
}

// waitFor waits for a slot for req, adding the time to the attempt's
// limiter wait. Wait returns as soon as the context is done, or at once when
// the context's deadline comes before the slot would.
func waitFor(req *http.Request, l waiter, st *attemptState) error {
	start := time.Now()
	ctx := req.Context()
	err := l.Wait(ctx)
	if st != nil {
		st.wait.Add(int64(time.Since(start)))
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		if ctx.Err() == nil && !errors.Is(err, errSlotAfterDeadline) {
			err = fmt.Errorf("%w (%w)", errSlotAfterDeadline, context.DeadlineExceeded)
		}
		return err
	}
	return nil
}
