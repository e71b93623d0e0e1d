package snyk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
)

// ErrorResponse is a non-2xx answer from Snyk (other than 429, see
// [RateLimitError]). Its Error text says what failed and what to check; it
// never contains the token.
type ErrorResponse struct {
	Response   *http.Response // the answer; its body has been read and closed
	StatusCode int
	Message    string // Snyk's message ("Invalid parameter format."), else a short body excerpt
	Code       string // Snyk's error name or code ("invalidParamData", "SNYK-0005"), if any
	ErrorRef   string // the x-error-reference header, to quote to Snyk support

	// What the call was about, read from the request path.
	GroupID       string
	OrgID         string
	IntegrationID string
	JobID         string // import job id, when polling a job

	// AuthKind is the kind of credential the request was sent with
	// (credential.Unknown when nothing says), so a 401 names the one Snyk
	// actually refused.
	AuthKind credential.Kind
}

// Error describes the failure: the status, the org, group, integration or
// job involved, Snyk's message and the request. It names no flag or
// variable and never contains the token; what to do about it is the
// command's to say.
func (r *ErrorResponse) Error() string { return r.Problem() + r.Details() }

// Problem is what went wrong, without Snyk's message and the request.
func (r *ErrorResponse) Problem() string {
	subject := r.Subject()
	switch r.StatusCode {
	case http.StatusUnauthorized:
		return "Snyk rejected the token (401) for " + subject
	case http.StatusForbidden:
		return "Snyk refused the request (403) for " + subject
	case http.StatusNotFound:
		switch {
		case r.JobID != "":
			return fmt.Sprintf("Snyk found no import job %q for %s (404): the Location it returned no longer resolves", r.JobID, subject)
		case r.IntegrationID != "" && r.OrgID != "":
			return fmt.Sprintf("Snyk found no integration %q in org %q (404)", r.IntegrationID, r.OrgID)
		case r.OrgID != "" || r.GroupID != "":
			return fmt.Sprintf("Snyk found no %s (404)", subject)
		}
		return "Snyk answered 404 Not Found"
	}
	head := fmt.Sprintf("Snyk answered %d %s", r.StatusCode, http.StatusText(r.StatusCode))
	if r.StatusCode >= 300 && r.StatusCode < 400 {
		// The HTTP stack follows redirects within the API's origin only.
		return head + ", a redirect to " + redirectOrigin(r.Response) + " that bbimport does not follow: the token goes to the API's origin only"
	}
	if r.OrgID != "" || r.GroupID != "" {
		head += " for " + subject
	}
	return head
}

// redirectOrigin is where a redirect points, scheme and host only (its
// path and query may carry anything).
func redirectOrigin(resp *http.Response) string {
	if resp == nil {
		return "another origin"
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || u.Host == "" {
		return "another origin"
	}
	return u.Scheme + "://" + u.Host
}

// Details is Snyk's message and code and the request, to append to a
// sentence as is: ": Invalid parameter format. (invalidParamData) [GET
// <url>; Snyk error reference <ref>]".
func (r *ErrorResponse) Details() string {
	var b strings.Builder
	if r.Message != "" {
		fmt.Fprintf(&b, ": %s", r.Message)
	}
	if r.Code != "" && r.Code != r.Message {
		fmt.Fprintf(&b, " (%s)", r.Code)
	}
	writeRequestAndRef(&b, r.Response, r.ErrorRef)
	return b.String()
}

// Subject names what the call was about: `org "O" in group "G"`, `org
// "O"`, `group "G"` or "the requested resource".
func (r *ErrorResponse) Subject() string {
	switch {
	case r.OrgID != "" && r.GroupID != "":
		return fmt.Sprintf("org %q in group %q", r.OrgID, r.GroupID)
	case r.OrgID != "":
		return fmt.Sprintf("org %q", r.OrgID)
	case r.GroupID != "":
		return fmt.Sprintf("group %q", r.GroupID)
	default:
		return "the requested resource"
	}
}

// RateLimitError is a 429 answer that the HTTP stack stopped retrying.
type RateLimitError struct {
	Response   *http.Response // the answer; its body has been read and closed
	RetryAfter time.Duration  // from the Retry-After header; 0 when absent
	Message    string
	ErrorRef   string
}

// Error says the limit was reached and when to try again.
func (r *RateLimitError) Error() string { return r.Problem() + r.Details() }

// Problem is Error without Snyk's message and the request.
func (r *RateLimitError) Problem() string {
	if r.RetryAfter > 0 {
		return "Snyk rate limit reached (429): retry after " + r.RetryAfter.Round(time.Second).String()
	}
	return "Snyk rate limit reached (429)"
}

// Details is Snyk's message and the request, as for [ErrorResponse.Details].
func (r *RateLimitError) Details() string {
	var b strings.Builder
	if r.Message != "" {
		fmt.Fprintf(&b, ": %s", r.Message)
	}
	writeRequestAndRef(&b, r.Response, r.ErrorRef)
	return b.String()
}

func writeRequestAndRef(b *strings.Builder, resp *http.Response, ref string) {
	var parts []string
	if resp != nil && resp.Request != nil && resp.Request.URL != nil {
		parts = append(parts, resp.Request.Method+" "+sanitizeURL(resp.Request.URL))
	}
	if ref != "" {
		parts = append(parts, "Snyk error reference "+ref)
	}
	if len(parts) > 0 {
		fmt.Fprintf(b, " [%s]", strings.Join(parts, "; "))
	}
}

// IsAuthError reports whether err is a 401 or 403 from Snyk, or a
// credential Snyk's token endpoint refused: the credential is invalid
// ([httpx.CredentialsRejected]), or it cannot act on the org or group
// involved. The importer stops sending to an org on either.
func IsAuthError(err error) bool {
	var er *ErrorResponse
	return httpx.CredentialsRejected(err) || errors.As(err, &er) && er.StatusCode == http.StatusForbidden
}

// CredentialsRejected reports a 401: Snyk refused the token itself.
func (r *ErrorResponse) CredentialsRejected() bool { return r.StatusCode == http.StatusUnauthorized }

// IsNotFound reports whether err is a 404 from Snyk.
func IsNotFound(err error) bool {
	var er *ErrorResponse
	return errors.As(err, &er) && er.StatusCode == http.StatusNotFound
}

// CheckResponse returns nil for a 2xx answer; otherwise a *[RateLimitError]
// for 429 or an *[ErrorResponse]. It reads at most 1 MiB of the body and puts
// what it read back into resp.Body.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	data := httpx.ReadErrorBody(resp)
	message, code := parseErrorBody(data)
	ref := resp.Header.Get("X-Error-Reference")
	if resp.StatusCode == http.StatusTooManyRequests {
		return &RateLimitError{
			Response:   resp,
			RetryAfter: retryAfter(resp.Header),
			Message:    message,
			ErrorRef:   ref,
		}
	}
	er := &ErrorResponse{
		Response:   resp,
		StatusCode: resp.StatusCode,
		Message:    message,
		Code:       code,
		ErrorRef:   ref,
		AuthKind:   credential.KindOf(resp),
	}
	if resp.Request != nil && resp.Request.URL != nil {
		er.GroupID, er.OrgID, er.IntegrationID, er.JobID = subjectFromPath(resp.Request.URL)
	}
	return er
}

// errorBody covers the v1 shapes ({"code":400,"message":"…","name":"…"},
// {"code":401,"error":"Not authorised","message":"…"}) and JSON:API errors.
type errorBody struct {
	Message string          `json:"message"`
	Error   json.RawMessage `json:"error"`
	Name    string          `json:"name"`
	Code    json.RawMessage `json:"code"`
	Errors  []struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// retryAfter is the Retry-After wait; 0 when absent.
func retryAfter(h http.Header) time.Duration {
	d, _, _ := httpx.ParseRetryAfter(h.Get("Retry-After"), time.Now())
	return d
}

func parseErrorBody(data []byte) (message, code string) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "", ""
	}
	var body errorBody
	if err := json.Unmarshal(data, &body); err != nil {
		if bytes.HasPrefix(data, []byte("<")) { // an HTML error page says nothing useful
			return "", ""
		}
		return excerpt(string(data)), ""
	}
	message = body.Message
	if message == "" {
		var s string
		if json.Unmarshal(body.Error, &s) == nil {
			message = s
		} else if len(body.Error) > 0 {
			message = excerpt(string(body.Error))
		}
	}
	code = body.Name
	if code == "" {
		var s string
		if json.Unmarshal(body.Code, &s) == nil {
			code = s
		}
	}
	if len(body.Errors) > 0 {
		e := body.Errors[0]
		if message == "" {
			message = e.Detail
			if message == "" {
				message = e.Title
			}
		}
		if code == "" {
			code = e.Code
		}
	}
	return excerpt(message), excerpt(code) // both end up in one log line
}

// excerpt keeps a message to one short line.
func excerpt(s string) string {
	// The cut falls between tokens: an echoed credential is never cut in
	// half, which would leave its head where no redactor finds it.
	return redact.Cut(strings.Join(strings.Fields(s), " "), 300)
}

// subjectFromPath reads the group, org and integration ids from a v1 or REST
// path such as /v1/org/{orgId}/integrations/{integrationId}/import or
// /rest/orgs/{orgId}/projects, and the job id from .../import/{jobId}.
func subjectFromPath(u *url.URL) (groupID, orgID, integrationID, jobID string) {
	segs := strings.Split(u.EscapedPath(), "/")
	for i := 0; i+1 < len(segs); i++ {
		next, err := url.PathUnescape(segs[i+1])
		if err != nil || next == "" {
			continue
		}
		switch segs[i] {
		case "group", "groups":
			if groupID == "" {
				groupID = next
			}
		case "org", "orgs":
			if orgID == "" {
				orgID = next
			}
		case "integrations":
			if integrationID == "" && orgID != "" {
				integrationID = next
			}
		case "import":
			if jobID == "" && integrationID != "" {
				jobID = next
			}
		}
	}
	return groupID, orgID, integrationID, jobID
}

// sanitizeURL drops user info and the fragment from u for error texts.
func sanitizeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	cp := *u
	cp.User = nil
	cp.Fragment, cp.RawFragment = "", ""
	return cp.String()
}

// HTTPStatus returns the response's status code, so callers can group
// failures by status without knowing this package.
func (e *ErrorResponse) HTTPStatus() int { return e.StatusCode }

// HTTPStatus returns 429.
func (e *RateLimitError) HTTPStatus() int { return http.StatusTooManyRequests }

// Retryable reports an answer that may succeed later (a 5xx but 501).
func (e *ErrorResponse) Retryable() bool { return httpx.RetryableStatus(e.StatusCode) }

// Retryable is true: the limit frees up.
func (e *RateLimitError) Retryable() bool { return true }
