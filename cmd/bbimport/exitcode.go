package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/bbimport/bbimport/internal/httpx"
)

// Exit codes, as the README documents them.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitPartial     = 3
	exitAuth        = 4
	exitInterrupted = 130
)

// usageError is a mistake in how the command was called (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// partialError is a run that finished but where some targets or orgs failed
// (exit 3). Its message says what failed and where the details are.
type partialError struct{ msg string }

func (e *partialError) Error() string { return e.msg }

// authError is a credential problem (exit 4).
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// errSilent ends a run with exit 1 when the message was already printed
// (doctor prints each failed check itself).
var errSilent = errors.New("failed")

// exitCode maps an error to the documented exit code, in one place.
func exitCode(err error, actionStarted bool) int {
	var (
		usage   *usageError
		partial *partialError
		auth    *authError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &auth) || httpx.CredentialsRejected(err):
		return exitAuth
	case errors.As(err, &partial):
		return exitPartial
	case !actionStarted:
		// urfave/cli rejected the arguments before any command ran.
		return exitUsage
	default:
		return exitFailed
	}
}
