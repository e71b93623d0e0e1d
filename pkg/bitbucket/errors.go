package bitbucket

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
)

// AppPasswordsRemoved is the day Atlassian removed app passwords from the
// Bitbucket Cloud API.
const AppPasswordsRemoved = "2026-07-28"

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
	// AuthKind is the kind of credential the request was sent with
	// (credential.Unknown when nothing says), AuthName its name when it has
	// one (one of several credentials of a run).
	AuthKind credential.Kind
	AuthName string
	// FromBitbucket says the body is Bitbucket's own error object, served as
	// JSON ({"type":"error","error":{"message":…}}), not a page of a proxy or
	// gateway in front of it: only such an answer speaks for Bitbucket.
	FromBitbucket bool
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
	// AuthKind is the kind of credential the request was sent with,
	// AuthName its name.
	AuthKind credential.Kind
	AuthName string
}

// apiError is Bitbucket's error body: {"type":"error","error":{...}}.
type apiError struct {
	Type  string `json:"type"`
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
	body := httpx.ReadErrorBody(resp)

	e := &ErrorResponse{Response: resp, AuthKind: credential.KindOf(resp), AuthName: credential.NameOf(resp)}
	var ae apiError
	if json.Unmarshal(body, &ae) == nil {
		e.FromBitbucket = ae.Type == "error" && ae.Error.Message != "" && jsonMediaType(resp.Header.Get("Content-Type"))
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
		rle := &RateLimitError{Response: resp, Message: e.Message, AuthKind: e.AuthKind, AuthName: e.AuthName}
		rle.RetryAfter, rle.Reset, rle.ResetEstimated = parseReset(resp.Header, time.Now())
		return rle
	}
	return e
}

// jsonMediaType reports a Content-Type of JSON (application/json or a
// +json type).
func jsonMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
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

// Error says what went wrong, followed by the request and Bitbucket's own
// message in parentheses. It names no flag or variable: what to do about it
// is the command's to say (it knows its flags and the operator).
func (e *ErrorResponse) Error() string { return e.Problem() + e.Details() }

// Problem is what went wrong, in a sentence without the request.
func (e *ErrorResponse) Problem() string {
	switch status := e.HTTPStatus(); {
	case status == http.StatusUnauthorized && e.AuthKind == credential.BitbucketAppPassword:
		return "Bitbucket rejected the app password: Atlassian removed app passwords on " + AppPasswordsRemoved + " (refused with 401 since the brownouts from 2026-06-09)"
	case status == http.StatusUnauthorized && e.AuthName != "":
		return "Bitbucket rejected " + who(e.AuthKind, e.AuthName)
	case status == http.StatusUnauthorized:
		return "Bitbucket rejected the credentials"
	case status == http.StatusForbidden:
		return e.forbidden()
	case status == http.StatusNotFound && e.Workspace != "":
		return fmt.Sprintf("workspace %q does not exist or %s cannot see it", e.Workspace, who(e.AuthKind, e.AuthName))
	case status == http.StatusNotFound:
		return "Bitbucket has no such resource or " + who(e.AuthKind, e.AuthName) + " cannot see it"
	case status == http.StatusGone && e.Removed():
		return "Bitbucket removed this endpoint (CHANGE-2770)"
	case status == http.StatusGone:
		return fmt.Sprintf("Bitbucket answers 410 Gone for workspace %q: its account is marked as spam or deactivated", e.GoneWorkspace())
	case status >= 500:
		return "Bitbucket failed to answer"
	}
	return "Bitbucket refused the request"
}

// Details is the request and the answer, to append to a sentence as is:
// " (GET <url> answered 404: message)", with the URL's secrets masked;
// empty when unknown.
func (e *ErrorResponse) Details() string { return joinWhere("", describe(e.Response, e.Message)) }

// Removed reports a 410 for an endpoint CHANGE-2770 removed. Bitbucket
// answers 410 for those (with a body naming the change), and the spec
// documents 410 on GET /2.0/repositories/{workspace} for an account "marked
// as spam": a 410 elsewhere, or without a workspace path, is taken as
// removed.
func (e *ErrorResponse) Removed() bool {
	if e.HTTPStatus() != http.StatusGone {
		return false
	}
	if strings.Contains(e.Message+" "+e.Detail, "CHANGE-2770") {
		return true
	}
	return !strings.Contains(e.path(), "/repositories/")
}

// GoneWorkspace is the workspace a 410 on its repositories is about: the
// one the client set, else the one in the path.
func (e *ErrorResponse) GoneWorkspace() string {
	if e.Workspace != "" {
		return e.Workspace
	}
	path := e.path()
	if i := strings.Index(path, "/repositories/"); i >= 0 {
		ws, _, _ := strings.Cut(path[i+len("/repositories/"):], "/")
		return ws
	}
	return ""
}

func (e *ErrorResponse) path() string {
	if e.Response != nil && e.Response.Request != nil && e.Response.Request.URL != nil {
		return strings.TrimSuffix(e.Response.Request.URL.Path, "/")
	}
	return ""
}

// Endpoint is which of the API calls bbimport makes failed.
type Endpoint int

// The endpoints, by what they list or read.
const (
	EndpointOther          Endpoint = iota
	EndpointUserWorkspaces          // GET /2.0/user/workspaces
	EndpointWorkspace               // GET /2.0/workspaces/{workspace}
	EndpointRepositories            // GET /2.0/repositories/{workspace}
	EndpointProjects                // GET /2.0/workspaces/{workspace}/projects
)

// Endpoint reads the failed call from the request path.
func (e *ErrorResponse) Endpoint() Endpoint {
	path := e.path()
	switch {
	case strings.HasSuffix(path, "/projects"):
		return EndpointProjects
	case strings.Contains(path, "/repositories/"):
		return EndpointRepositories
	case strings.HasSuffix(path, "/user/workspaces"):
		return EndpointUserWorkspaces
	case strings.Contains(path, "/workspaces/"):
		return EndpointWorkspace
	}
	return EndpointOther
}

// Scope is the Bitbucket permission the failed request needed: the first
// of Bitbucket's `required` scopes, else the one the endpoint is known to
// need; empty when neither says.
func (e *ErrorResponse) Scope() string {
	if len(e.RequiredScopes) > 0 {
		return e.RequiredScopes[0]
	}
	switch e.Endpoint() {
	case EndpointProjects:
		return "project"
	case EndpointRepositories:
		return "repository"
	case EndpointUserWorkspaces, EndpointWorkspace:
		return "account"
	}
	return ""
}

// action is what the failed request was for, as the end of a sentence.
func (e *ErrorResponse) action() string {
	ws := e.Workspace
	switch e.Endpoint() {
	case EndpointProjects:
		if ws != "" {
			return fmt.Sprintf("to list the projects of workspace %q", ws)
		}
		return "to list projects"
	case EndpointRepositories:
		if ws != "" {
			return fmt.Sprintf("to list the repositories of workspace %q", ws)
		}
		return "to list repositories"
	case EndpointUserWorkspaces:
		return "to list your workspaces"
	case EndpointWorkspace:
		if ws != "" {
			return fmt.Sprintf("to read workspace %q (its display name)", ws)
		}
		return "to read a workspace"
	}
	return "for this request"
}

func (e *ErrorResponse) forbidden() string {
	scope, action := e.Scope(), e.action()
	if scope == "" {
		if consumer(e.AuthKind) || e.AuthName != "" {
			return who(e.AuthKind, e.AuthName) + " lacks a permission this request needs"
		}
		return "these credentials lack a permission this request needs"
	}
	return fmt.Sprintf("%s lacks the %q %s %s", who(e.AuthKind, e.AuthName), scope, permissionWord(e.AuthKind), action)
}

// Error says that the hourly budget is spent and when it resets.
func (e *RateLimitError) Error() string { return e.Problem() + e.Details() }

// Problem is Error without the request.
func (e *RateLimitError) Problem() string {
	when := "resets at " + e.Reset.UTC().Format("2006-01-02 15:04:05 UTC")
	if e.ResetEstimated {
		when = "frees up within the hour (Bitbucket counts a rolling hour; by " + e.Reset.UTC().Format("15:04 UTC") + " at the latest)"
	}
	return "the hourly Bitbucket request budget of " + who(e.AuthKind, e.AuthName) + " is spent and " + when
}

// Details is the request and the answer, as for [ErrorResponse.Details].
func (e *RateLimitError) Details() string { return joinWhere("", describe(e.Response, e.Message)) }

// CredentialsRejected reports a 401: the credentials were refused.
func (e *ErrorResponse) CredentialsRejected() bool { return e.HTTPStatus() == http.StatusUnauthorized }

// consumer reports an OAuth consumer, or a credential nothing names (the
// source bbimport uses by default).
func consumer(k credential.Kind) bool {
	return k == credential.BitbucketConsumer || k == credential.Unknown
}

// who names the credential in a sentence, with its name when it has one.
func who(k credential.Kind, name string) string {
	var w string
	switch {
	case consumer(k):
		w = "the OAuth consumer"
	case k == credential.BitbucketAPIToken || k == credential.BitbucketUser:
		w = "the API token"
	case k == credential.BitbucketAccessToken:
		w = "the access token"
	case k == credential.BitbucketAppPassword:
		w = "the app password"
	case k == credential.BitbucketOAuthToken:
		w = "the OAuth token"
	default:
		w = "these credentials"
	}
	if name != "" {
		w += " " + strconv.Quote(name)
	}
	return w
}

// permissionWord is what a kind of credential calls what it was granted.
func permissionWord(k credential.Kind) string {
	if k == credential.BitbucketOAuthToken || k == credential.BitbucketAccessToken {
		return "scope"
	}
	return "permission"
}

// joinWhere appends " (where)" when there is a where.
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
	// The cut falls between tokens: an echoed credential is never cut in
	// half, which would leave its head where no redactor finds it.
	return redact.CutRunes(strings.Join(strings.Fields(s), " "), 300)
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

// Retryable reports an answer that may succeed later (a 5xx but 501).
func (e *ErrorResponse) Retryable() bool { return httpx.RetryableStatus(e.HTTPStatus()) }

// Retryable is true: the budget frees up.
func (e *RateLimitError) Retryable() bool { return true }
