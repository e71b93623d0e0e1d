package bitbucket

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
	"golang.org/x/oauth2"
)

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 1 << 20

// budgetWindow is how long Bitbucket's rolling rate-limit window lasts; it is
// the reset estimate when a 429 says nothing about when to come back.
const budgetWindow = time.Hour

// ErrorResponse is a non-2xx answer from the Bitbucket API other than 429.
// Its Error text says what is wrong and what to do.
type ErrorResponse struct {
	// Response is the HTTP response; its body has been read and replaced by
	// an in-memory copy of at most 1 MiB.
	Response *http.Response
	// Message and Detail are Bitbucket's `error.message` and `error.detail`.
	Message string
	Detail  string
	// RequiredScopes and GrantedScopes are what a 403 for a missing scope
	// lists in `error.detail` (`required`, `granted`), when present.
	RequiredScopes []string
	GrantedScopes  []string
	// Workspace is the workspace the request was about, if any; the client
	// sets it.
	Workspace string
	// AuthKind is the kind of credentials that were used; the client sets it
	// from [WithAuthKind].
	AuthKind AuthKind
}

// RateLimitError is a 429 answer: the hourly request budget of the
// credentials is spent (after the HTTP stack's retries gave up).
type RateLimitError struct {
	Response *http.Response
	// Message is Bitbucket's `error.message`, if any.
	Message string
	// RetryAfter is the Retry-After header as a duration; zero when absent.
	RetryAfter time.Duration
	// Reset is when the budget is expected to allow requests again: from
	// Retry-After or X-RateLimit-Reset, else an hour after the answer.
	Reset time.Time
	// ResetEstimated is true when Reset is the one-hour estimate because
	// Bitbucket sent neither header.
	ResetEstimated bool
	// AuthKind is the kind of credentials that were used.
	AuthKind AuthKind
}

// TokenError is a failed client_credentials exchange at the OAuth token
// endpoint, with RFC 6749's error code. It unwraps to the
// *oauth2.RetrieveError it came from.
type TokenError struct {
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

// apiError is Bitbucket's error body: {"type":"error","error":{...}}.
type apiError struct {
	Error struct {
		Message string `json:"message"`
		Detail  any    `json:"detail"`
	} `json:"error"`
}

// CheckResponse returns nil for a 2xx response and otherwise a
// *RateLimitError (429) or *ErrorResponse. It reads at most 1 MiB of the body
// and puts what it read back into resp.Body.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	e := &ErrorResponse{Response: resp}
	var ae apiError
	if json.Unmarshal(body, &ae) == nil {
		e.Message = oneLine(ae.Error.Message)
		switch d := ae.Error.Detail.(type) {
		case string:
			e.Detail = oneLine(d)
		case map[string]any:
			e.RequiredScopes = stringList(d["required"])
			e.GrantedScopes = stringList(d["granted"])
			b, _ := json.Marshal(d)
			e.Detail = oneLine(string(b))
		}
	}

	if resp.StatusCode == http.StatusTooManyRequests {
		rle := &RateLimitError{Response: resp, Message: e.Message}
		rle.RetryAfter, rle.Reset, rle.ResetEstimated = parseReset(resp.Header, time.Now())
		return rle
	}
	return e
}

func stringList(v any) []string {
	items, _ := v.([]any)
	var out []string
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// parseReset reads Retry-After (seconds or an HTTP date) and then
// X-RateLimit-Reset (Unix seconds, or seconds from now when small).
func parseReset(h http.Header, now time.Time) (retryAfter time.Duration, reset time.Time, estimated bool) {
	if wait, at, ok := httpx.ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return wait, at, false
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			if n > 1_000_000_000 {
				return 0, time.Unix(n, 0), false
			}
			return 0, now.Add(time.Duration(n) * time.Second), false
		}
	}
	return 0, now.Add(budgetWindow), true
}

// Error says what went wrong and what to do, followed by the request and
// Bitbucket's own message in parentheses.
func (e *ErrorResponse) Error() string {
	status := 0
	if e.Response != nil {
		status = e.Response.StatusCode
	}
	var what string
	switch status {
	case http.StatusUnauthorized:
		what = "Bitbucket rejected the credentials; check " + e.AuthKind.variables()
	case http.StatusForbidden:
		what = e.forbidden()
	case http.StatusNotFound:
		if e.Workspace != "" {
			what = fmt.Sprintf("workspace %q does not exist or %s cannot see it; check the slug (as in bitbucket.org/<slug>) and that %s",
				e.Workspace, e.AuthKind.who(), e.AuthKind.memberHint())
		} else {
			what = "Bitbucket has no such resource or " + e.AuthKind.who() + " cannot see it"
		}
	case http.StatusGone:
		what = e.gone()
	default:
		if status >= 500 {
			what = "Bitbucket failed to answer; try again later"
		} else {
			what = "Bitbucket refused the request"
		}
	}
	return joinWhere(what, describe(e.Response, e.Message))
}

// gone explains a 410 by endpoint. Bitbucket answers 410 for the endpoints
// CHANGE-2770 removed (with a body naming it), and the spec documents 410 on
// GET /2.0/repositories/{workspace} for an account "marked as spam".
func (e *ErrorResponse) gone() string {
	removed := "Bitbucket removed this endpoint (CHANGE-2770); pass the workspaces with --workspace instead"
	if strings.Contains(e.Message+" "+e.Detail, "CHANGE-2770") {
		return removed
	}
	var path string
	if e.Response != nil && e.Response.Request != nil && e.Response.Request.URL != nil {
		path = strings.TrimSuffix(e.Response.Request.URL.Path, "/")
	}
	if i := strings.Index(path, "/repositories/"); i >= 0 {
		ws := e.Workspace
		if ws == "" {
			ws, _, _ = strings.Cut(path[i+len("/repositories/"):], "/")
		}
		return fmt.Sprintf("Bitbucket answers 410 Gone for workspace %q: its account is marked as spam or deactivated; open bitbucket.org/%s to check, ask Atlassian support to restore it, or leave the workspace out", ws, ws)
	}
	return removed
}

// scope is the Bitbucket permission the failed request needed: the first
// of Bitbucket's `required` scopes, else the one the endpoint is known to
// need.
func (e *ErrorResponse) scope() (scope, action string) {
	var path string
	if e.Response != nil && e.Response.Request != nil && e.Response.Request.URL != nil {
		path = e.Response.Request.URL.Path
	}
	switch {
	case strings.HasSuffix(strings.TrimSuffix(path, "/"), "/projects"):
		scope, action = "project", "to list projects"
		if e.Workspace != "" {
			action = fmt.Sprintf("to list the projects of workspace %q (needed by --orgPer=project)", e.Workspace)
		}
	case strings.Contains(path, "/repositories/"):
		scope, action = "repository", "to list repositories"
		if e.Workspace != "" {
			action = fmt.Sprintf("to list the repositories of workspace %q", e.Workspace)
		}
	case strings.HasSuffix(strings.TrimSuffix(path, "/"), "/user/workspaces"):
		scope, action = "account", "to list your workspaces"
	case strings.Contains(path, "/workspaces/"):
		scope, action = "account", "to read a workspace"
		if e.Workspace != "" {
			action = fmt.Sprintf("to read workspace %q (its display name)", e.Workspace)
		}
	default:
		action = "for this request"
	}
	if len(e.RequiredScopes) > 0 {
		scope = e.RequiredScopes[0]
	}
	return scope, action
}

func (e *ErrorResponse) forbidden() string {
	scope, action := e.scope()
	if scope == "" {
		if e.AuthKind == AuthOAuthConsumer || e.AuthKind == AuthUnknown {
			return "the OAuth consumer lacks a permission this request needs; check its permissions under Workspace settings → OAuth consumers → Edit"
		}
		return "these credentials lack a permission this request needs; check the permissions the token or app password was given"
	}
	label, tokenScope := scopeLabel(scope)
	tokenScopes := tokenScope + " scope"
	if strings.HasSuffix(action, "your workspaces") {
		// GET /2.0/user/workspaces is about the user as much as the
		// workspaces: API tokens need both (docs/api-notes.md).
		tokenScopes = tokenScope + " and read:user:bitbucket scopes"
	}
	switch e.AuthKind {
	case AuthAPIToken:
		return fmt.Sprintf("the API token lacks the %q permission %s; create a token with the %s and set BITBUCKET_CLOUD_API_TOKEN", scope, action, tokenScopes)
	case AuthUser:
		return fmt.Sprintf("the app password lacks the %q permission %s; app passwords cannot be edited, so create an Atlassian API token with the %s and use it instead", scope, action, tokenScopes)
	case AuthOAuthToken:
		return fmt.Sprintf("the OAuth token lacks the %q scope %s; issue a new token from a consumer with %s ticked and set BITBUCKET_CLOUD_OAUTH_TOKEN", scope, action, label)
	default:
		return fmt.Sprintf("the OAuth consumer lacks the %q permission %s; add it in Bitbucket under Workspace settings → OAuth consumers → Edit → Permissions by ticking %s", scope, action, label)
	}
}

// scopeLabel names an OAuth scope as the consumer settings page shows it,
// and the matching Atlassian API token scope.
func scopeLabel(scope string) (label, tokenScope string) {
	switch strings.TrimSuffix(scope, ":write") {
	case "account":
		return "Account: Read", "read:workspace:bitbucket"
	case "repository":
		return "Repositories: Read", "read:repository:bitbucket"
	case "project":
		return "Projects: Read", "read:project:bitbucket"
	case "team":
		return "Workspace membership: Read", "read:workspace:bitbucket"
	}
	return scope, scope
}

// Error says that the hourly budget is spent, when it resets and what to
// change.
func (e *RateLimitError) Error() string {
	when := "resets at " + e.Reset.UTC().Format("2006-01-02 15:04:05 UTC")
	if e.ResetEstimated {
		when = "frees up within the hour (Bitbucket counts a rolling hour; by " + e.Reset.UTC().Format("15:04 UTC") + " at the latest)"
	}
	return joinWhere("the hourly Bitbucket request budget of "+e.AuthKind.who()+" is spent and "+when+
		"; run again then, and lower BITBUCKET_RATE_LIMIT so the run stays under the budget",
		describe(e.Response, e.Message))
}

// Error turns the token endpoint's RFC 6749 error into a sentence.
func (e *TokenError) Error() string {
	detail := e.Code
	if e.Description != "" {
		detail += ": " + e.Description
	}
	switch e.Code {
	case "invalid_client":
		return "Bitbucket rejected the OAuth consumer key or secret (" + detail + "); check BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET"
	case "unauthorized_client":
		return "the OAuth consumer is public; client_credentials needs a private consumer (tick 'This is a private consumer' in the workspace settings under OAuth consumers → Edit)"
	case "invalid_grant":
		return "Bitbucket refused the client_credentials grant (" + detail + "); check that BITBUCKET_APP_TOKEN_URL is " + DefaultTokenURL + " and that the OAuth consumer is private"
	case "invalid_scope":
		return "the OAuth consumer does not have the permissions asked for (" + detail + "); edit it under Workspace settings → OAuth consumers and tick Account: Read, Workspace membership: Read, Repositories: Read and Projects: Read"
	case "":
		status := strconv.Itoa(e.StatusCode)
		if t := http.StatusText(e.StatusCode); t != "" {
			status += " " + t
		}
		return "the Bitbucket token endpoint answered " + status + " without an OAuth error; check BITBUCKET_APP_TOKEN_URL, or try again later"
	default:
		return "the Bitbucket token endpoint refused the OAuth consumer (" + detail + "); check BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET and the consumer's settings"
	}
}

// Unwrap returns the *oauth2.RetrieveError.
func (e *TokenError) Unwrap() error { return e.Err }

// newTokenError maps an *oauth2.RetrieveError; secret is scrubbed from the
// description. Other errors are returned unchanged.
func newTokenError(err error, secret string) error {
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok {
		return err
	}
	te := &TokenError{Code: oneLine(re.ErrorCode), Description: oneLine(re.ErrorDescription), Err: re}
	te.Code = redact.Literal(te.Code, secret)
	te.Description = redact.Literal(te.Description, secret)
	if re.Response != nil {
		te.StatusCode = re.Response.StatusCode
	}
	return te
}

// IsAuthError reports whether err means the credentials were refused: a 401
// from the API or a failed token exchange (the command maps it to exit code 4).
func IsAuthError(err error) bool {
	if er, ok := errors.AsType[*ErrorResponse](err); ok && er.Response != nil {
		return er.Response.StatusCode == http.StatusUnauthorized
	}
	if te, ok := errors.AsType[*TokenError](err); ok {
		return te.Code != "" || te.StatusCode == http.StatusBadRequest || te.StatusCode == http.StatusUnauthorized
	}
	return false
}

func joinWhere(what, where string) string {
	if where == "" {
		return what
	}
	return what + " " + where
}

// describe renders "(GET <url> answered 404: message)".
func describe(resp *http.Response, msg string) string {
	if resp == nil {
		if msg == "" {
			return ""
		}
		return "(" + msg + ")"
	}
	var b strings.Builder
	b.WriteByte('(')
	if resp.Request != nil {
		b.WriteString(resp.Request.Method + " " + sanitizeURL(resp.Request.URL) + " answered ")
	} else {
		b.WriteString("Bitbucket answered ")
	}
	b.WriteString(strconv.Itoa(resp.StatusCode))
	if msg != "" {
		b.WriteString(": " + msg)
	} else if t := http.StatusText(resp.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	b.WriteByte(')')
	return b.String()
}

// oneLine collapses whitespace and caps s at 300 runes so a server message
// fits in one line of an error.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// HTTPStatus returns the response's status code, so callers can group
// failures by status without knowing this package.
func (e *ErrorResponse) HTTPStatus() int {
	if e.Response == nil {
		return 0
	}
	return e.Response.StatusCode
}

// HTTPStatus returns 429.
func (e *RateLimitError) HTTPStatus() int { return http.StatusTooManyRequests }
