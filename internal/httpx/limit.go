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

// waitFor waits for the budget's slot for req, adding the time to the
// send's budget wait. It returns as soon as the context is done, or at once
// when the context's deadline comes before the slot would.
func waitFor(req *http.Request, b *Budget, st *attemptState) error {
	start := time.Now()
	ctx := req.Context()
	err := b.Wait(withClass(ctx, b, req))
	st.wait.Store(int64(time.Since(start)))
	if err != nil {
		closeBody(req)
		var spent *RateLimitWaitError
		if ctx.Err() == nil && !errors.Is(err, errSlotAfterDeadline) && !errors.As(err, &spent) {
			err = fmt.Errorf("%w (%w)", errSlotAfterDeadline, context.DeadlineExceeded)
		}
		return err
	}
	return nil
}
