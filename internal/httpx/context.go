package httpx

import (
	"context"
	"sync/atomic"
	"time"
)

type noServerRetryKey struct{}

// WithoutServerErrorRetry marks a request context as not safe to repeat once
// the server has answered: such a request is retried only on 429, on 503
// (the server refused to handle it, so it did not act on it) and on errors
// that happened before the request reached the server (a failed dial); never
// on 500, 502, 504 or a connection lost after sending.
// The Snyk import POST uses it so a 5xx after Snyk accepted the job never
// turns into a second import.
func WithoutServerErrorRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, noServerRetryKey{}, true)
}

// serverErrorRetryDisabled reports whether ctx was marked by WithoutServerErrorRetry.
func serverErrorRetryDisabled(ctx context.Context) bool {
	v, _ := ctx.Value(noServerRetryKey{}).(bool)
	return v
}

type deferrableKey struct{}

// Deferrable marks a request context as one that may wait for every other
// request of its API (an import job's poll): the budget lets it go only
// while no other request waits for a slot and a small reserve of the limit
// is left, so the work it waits on is started first.
func Deferrable(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferrableKey{}, true)
}

func isDeferrable(ctx context.Context) bool {
	v, _ := ctx.Value(deferrableKey{}).(bool)
	return v
}

type attemptKey struct{}

// attemptState is shared by the sends of one request. Sends run one after
// another, but the layers that write it and the policy that reads it are
// different functions, so it travels in the request context; atomics keep
// the race detector satisfied when the transport reads from its own
// goroutines.
type attemptState struct {
	attempt atomic.Int64 // 1-based attempt of retryablehttp's loop
	sends   atomic.Int64 // sends of the request so far, every attempt's
	sent    atomic.Bool  // the current send got past budget and credential to the base transport
	wait    atomic.Int64 // time the current send spent waiting for the budget, in ns
}

func withAttemptState(ctx context.Context) context.Context {
	return context.WithValue(ctx, attemptKey{}, &attemptState{})
}

func attemptStateFrom(ctx context.Context) *attemptState {
	st, _ := ctx.Value(attemptKey{}).(*attemptState)
	return st
}

// begin records the start of attempt n (1-based).
func (st *attemptState) begin(n int) { st.attempt.Store(int64(n)) }

func (st *attemptState) budgetWait() time.Duration { return time.Duration(st.wait.Load()) }
