package snyk

import "fmt"

// LocationError is an import job Location that cannot be polled (empty, on
// another host without /v1/, not a URL). Polling again cannot change it: the
// caller should give the job up at once.
type LocationError struct{ err error }

func (e *LocationError) Error() string { return e.err.Error() }
func (e *LocationError) Unwrap() error { return e.err }

func locationErrorf(format string, a ...any) error {
	return &LocationError{fmt.Errorf(format, a...)}
}
