package snyk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func testResponse(t *testing.T, method, rawURL string, status int, header http.Header, body string) *http.Response {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		StatusCode: status,
		Header:     header,
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    &http.Request{Method: method, URL: u},
	}
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	const v1 = "https://api.snyk.io/v1/"
	tests := []struct {
		name   string
		method string
		url    string
		status int
		header http.Header
		body   string
		want   error
	}{
		{name: "200", url: v1 + "org/O/integrations", status: 200, body: `{}`, want: nil},
		{name: "201", url: v1 + "org", status: 201, want: nil},
		{
			name: "v1 400 invalidParamData", method: "POST", url: v1 + "org/O/integrations/I/import", status: 400,
			header: http.Header{"X-Error-Reference": {"abc-123"}},
			body:   `{"code":400,"message":"Invalid parameter format.","name":"invalidParamData"}`,
			want:   &ErrorResponse{StatusCode: 400, Message: "Invalid parameter format.", Code: "invalidParamData", ErrorRef: "abc-123", OrgID: "O", IntegrationID: "I"},
		},
		{
			name: "v1 401 Not authorised", url: v1 + "group/G/orgs?perPage=100&page=1", status: 401,
			body: `{"code":401,"error":"Not authorised","message":"Not authorised"}`,
			want: &ErrorResponse{StatusCode: 401, Message: "Not authorised", GroupID: "G"},
		},
		{
			name: "v1 error field only", url: v1 + "org/O/notification-settings", status: 403,
			body: `{"error":"You must be an org admin"}`,
			want: &ErrorResponse{StatusCode: 403, Message: "You must be an org admin", OrgID: "O"},
		},
		{
			name: "REST JSON:API errors", url: "https://api.snyk.io/rest/orgs/O/projects?version=2024-10-15", status: 404,
			body: `{"jsonapi":{"version":"1.0"},"errors":[{"status":"404","code":"SNYK-0003","title":"Not Found","detail":"The org was not found"}]}`,
			want: &ErrorResponse{StatusCode: 404, Message: "The org was not found", Code: "SNYK-0003", OrgID: "O"},
		},
		{
			name: "job poll", url: "https://api.snyk.io/v1/org/O/integrations/I/import/J", status: 404, body: ``,
			want: &ErrorResponse{StatusCode: 404, OrgID: "O", IntegrationID: "I", JobID: "J"},
		},
		{
			name: "HTML gateway page", url: v1 + "org/O/integrations", status: 502,
			body: `<html><head><title>502 Bad Gateway</title></head></html>`,
			want: &ErrorResponse{StatusCode: 502, OrgID: "O"},
		},
		{
			name: "plain text", url: v1 + "org/O/integrations", status: 503, body: "upstream   connect error\n",
			want: &ErrorResponse{StatusCode: 503, Message: "upstream connect error", OrgID: "O"},
		},
		{
			name: "escaped ids", url: v1 + "org/a%2Fb/integrations", status: 404,
			want: &ErrorResponse{StatusCode: 404, OrgID: "a/b"},
		},
		{
			name: "429 with seconds", url: v1 + "org/O/integrations/I/import", status: 429,
			header: http.Header{"Retry-After": {"30"}, "X-Error-Reference": {"r"}},
			body:   `{"code":429,"message":"Too many requests"}`,
			want:   &RateLimitError{RetryAfter: 30 * time.Second, Message: "Too many requests", ErrorRef: "r"},
		},
		{
			name: "429 without Retry-After", url: v1 + "org", status: 429,
			want: &RateLimitError{},
		},
	}
	ignore := cmp.Options{
		cmpopts.IgnoreFields(ErrorResponse{}, "Response"),
		cmpopts.IgnoreFields(RateLimitError{}, "Response"),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			resp := testResponse(t, method, tt.url, tt.status, tt.header, tt.body)
			got := CheckResponse(resp)
			if diff := cmp.Diff(tt.want, got, ignore); diff != "" {
				t.Errorf("CheckResponse mismatch (-want +got):\n%s", diff)
			}
			if got == nil {
				return
			}
			// The body is put back for whoever wants to read it.
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tt.body {
				t.Errorf("body after CheckResponse = %q; want %q", b, tt.body)
			}
		})
	}
}

func TestCheckResponse_bodyLimit(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("x"), 3<<20)
	r := &countingReader{r: bytes.NewReader(big)}
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(r)}
	err := CheckResponse(resp)
	var er *ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("CheckResponse = %v; want *ErrorResponse", err)
	}
	if r.n > httpx.MaxErrorBody {
		t.Errorf("read %d bytes of the body; want at most %d", r.n, httpx.MaxErrorBody)
	}
	if len(er.Message) > 400 {
		t.Errorf("message is %d bytes long; want a short excerpt", len(er.Message))
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestErrorResponse_Error(t *testing.T) {
	t.Parallel()
	req := func(method, rawURL string) *http.Response {
		u, _ := url.Parse(rawURL)
		return &http.Response{Request: &http.Request{Method: method, URL: u}}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "401 group",
			err:  &ErrorResponse{StatusCode: 401, GroupID: "G", Message: "Not authorised", Response: req("GET", "https://api.snyk.io/v1/group/G/orgs?perPage=100&page=1")},
			want: `Snyk rejected the token (401) for group "G": Not authorised [GET https://api.snyk.io/v1/group/G/orgs?perPage=100&page=1]`,
		},
		{
			name: "401 org with reference",
			err:  &ErrorResponse{StatusCode: 401, OrgID: "O", ErrorRef: "ref-9"},
			want: `Snyk rejected the token (401) for org "O" [Snyk error reference ref-9]`,
		},
		{
			name: "403 org",
			err:  &ErrorResponse{StatusCode: 403, OrgID: "O"},
			want: `Snyk refused the request (403) for org "O"`,
		},
		{
			name: "404 integration",
			err:  &ErrorResponse{StatusCode: 404, OrgID: "O", IntegrationID: "I"},
			want: `Snyk found no integration "I" in org "O" (404)`,
		},
		{
			name: "404 group",
			err:  &ErrorResponse{StatusCode: 404, GroupID: "G"},
			want: `Snyk found no group "G" (404)`,
		},
		{
			name: "404 org in group",
			err:  &ErrorResponse{StatusCode: 404, GroupID: "G", OrgID: "O"},
			want: `Snyk found no org "O" in group "G" (404)`,
		},
		{
			name: "400 with code",
			err:  &ErrorResponse{StatusCode: 400, OrgID: "O", Message: "Invalid parameter format.", Code: "invalidParamData"},
			want: `Snyk answered 400 Bad Request for org "O": Invalid parameter format. (invalidParamData)`,
		},
		{
			name: "500 without subject",
			err:  &ErrorResponse{StatusCode: 500},
			want: `Snyk answered 500 Internal Server Error`,
		},
		{
			name: "URL user info dropped",
			err:  &ErrorResponse{StatusCode: 500, Response: req("GET", "https://user:pass@api.snyk.io/v1/x#frag")},
			want: `Snyk answered 500 Internal Server Error [GET https://api.snyk.io/v1/x]`,
		},
		{
			name: "429",
			err:  &RateLimitError{RetryAfter: 90 * time.Second, Message: "Too many requests"},
			want: `Snyk rate limit reached (429): retry after 1m30s: Too many requests`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestIsAuthError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{&ErrorResponse{StatusCode: 401}, true},
		{&ErrorResponse{StatusCode: 403}, true},
		{fmt.Errorf("org O: %w", &ErrorResponse{StatusCode: 401}), true},
		{&ErrorResponse{StatusCode: 404}, false},
		{&RateLimitError{}, false},
	}
	for _, tt := range tests {
		if got := IsAuthError(tt.err); got != tt.want {
			t.Errorf("IsAuthError(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}
