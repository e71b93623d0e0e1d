package credential

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/bbimport/bbimport/internal/redact"
	"golang.org/x/oauth2"
)

// FieldError is a credential value that cannot be used. Field names the
// Config field or constructor argument ("ClientID", "ClientSecret",
// "TokenURL", "Token", "Username", "Password"); the command knows which
// variable it came from.
type FieldError struct {
	Field string
	// Problem completes a sentence that starts with the field's name: "is
	// empty", "contains control characters".
	Problem string
}

func (e *FieldError) Error() string { return "credential: " + e.Field + " " + e.Problem }

// TokenError is a failed client_credentials exchange at an OAuth token
// endpoint, with RFC 6749's error code. It unwraps to the
// *oauth2.RetrieveError it came from.
type TokenError struct {
	// Kind is whose exchange failed (a Bitbucket consumer, a Snyk service
	// account); Name is the credential's name, if it was given one.
	Kind Kind
	Name string
	// Code is RFC 6749's `error` (invalid_client, unauthorized_client,
	// invalid_grant, invalid_scope, ...); empty when the endpoint answered
	// without one.
	Code string
	// Description is `error_description`, cleaned of the client secret.
	Description string
	// StatusCode is the token endpoint's HTTP status.
	StatusCode int
	// Err is the underlying *oauth2.RetrieveError.
	Err error
}

// Error says what the token endpoint refused, with RFC 6749's code and
// description.
func (e *TokenError) Error() string { return e.Problem() }

// Details is empty: the code and description are part of the problem.
func (e *TokenError) Details() string { return "" }

// Problem is Error.
func (e *TokenError) Problem() string {
	api, who := e.Kind.api(), e.Kind.who()
	switch e.Code {
	case "invalid_client":
		if e.Kind == SnykServiceAccount {
			return "Snyk rejected the service account's client id or secret (" + e.detail() + ")"
		}
		return "Bitbucket rejected the OAuth consumer key or secret (" + e.detail() + ")"
	case "unauthorized_client":
		if e.Kind == SnykServiceAccount {
			return "Snyk does not allow the client_credentials grant for this client (" + e.detail() + ")"
		}
		return "the OAuth consumer is public (" + e.detail() + "); client_credentials needs a private consumer"
	case "invalid_grant":
		return api + " refused the client_credentials grant (" + e.detail() + ")"
	case "invalid_scope":
		return who + " does not have the permissions asked for (" + e.detail() + ")"
	case "":
		status := strconv.Itoa(e.StatusCode)
		if t := http.StatusText(e.StatusCode); t != "" {
			status += " " + t
		}
		return "the " + api + " token endpoint answered " + status + " without an OAuth error"
	default:
		return "the " + api + " token endpoint refused " + who + " (" + e.detail() + ")"
	}
}

func (e *TokenError) detail() string {
	if e.Description != "" {
		return e.Code + ": " + e.Description
	}
	return e.Code
}

// Unwrap returns the *oauth2.RetrieveError.
func (e *TokenError) Unwrap() error { return e.Err }

// CredentialsRejected reports a refused exchange: an OAuth error code, or a
// 400 or 401 without one (httpx.CredentialsRejected asks it).
func (e *TokenError) CredentialsRejected() bool {
	return e.Code != "" || e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnauthorized
}

// HTTPStatus is the token endpoint's status.
func (e *TokenError) HTTPStatus() int { return e.StatusCode }

// Retryable reports an outage of the endpoint rather than a refusal.
func (e *TokenError) Retryable() bool {
	return !e.CredentialsRejected() && (e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented)
}

// newTokenError maps an *oauth2.RetrieveError; secret is scrubbed from the
// code and description. Other errors are returned unchanged.
func newTokenError(kind Kind, err error, secret string) error {
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok {
		return err
	}
	// Scrubbed before they are cut: a cut through the secret would leave
	// its head, which Literal no longer finds.
	te := &TokenError{Kind: kind, Code: oneLine(redact.Literal(re.ErrorCode, secret)),
		Description: oneLine(redact.Literal(re.ErrorDescription, secret)), Err: re}
	if re.Response != nil {
		te.StatusCode = re.Response.StatusCode
	}
	return te
}

// oneLine collapses whitespace and caps s at 300 runes so a server message
// fits in one line of an error; the cut falls between tokens, so an echoed
// secret is never cut in half (redact.Cut).
func oneLine(s string) string {
	return redact.CutRunes(strings.Join(strings.Fields(s), " "), 300)
}
