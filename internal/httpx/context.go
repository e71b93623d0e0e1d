package httpx

import "context"

type noServerRetryKey struct{}

// WithoutServerErrorRetry marks a request context as not safe to repeat once
// the server has answered: such a request is retried only on 429 and on
// errors that happened before the request reached the server (a failed dial).
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
