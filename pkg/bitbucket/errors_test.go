package bitbucket

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// errorCase is an API answer and the sentence the person must read.
type errorCase struct {
	name     string
	kind     credential.Kind
	path     string // "workspaces" or "repositories"
	status   int
	fixture  string
	header   http.Header
	want     string // {{BASE}} is the test server's base URL
	wantAuth bool
}

var errorCases = []errorCase{
	{
		name: "401 oauth consumer", kind: credential.BitbucketConsumer, path: "workspaces", status: 401, fixture: "error-401-expired.json", wantAuth: true,
		want: "Bitbucket rejected the credentials (GET {{BASE}}/user/workspaces?pagelen=100 answered 401: Access token expired.)",
	},
	{
		name: "401 unknown kind", kind: credential.Unknown, path: "workspaces", status: 401, wantAuth: true,
		want: "Bitbucket rejected the credentials (GET {{BASE}}/user/workspaces?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 username and app password", kind: credential.BitbucketAppPassword, path: "repositories", status: 401, wantAuth: true,
		want: "Bitbucket rejected the app password: Atlassian removed app passwords on 2026-07-28 (refused with 401 since the brownouts from 2026-06-09) (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 api token", kind: credential.BitbucketAPIToken, path: "repositories", status: 401, wantAuth: true,
		want: "Bitbucket rejected the credentials (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 oauth token", kind: credential.BitbucketOAuthToken, path: "repositories", status: 401, fixture: "error-401-expired.json", wantAuth: true,
		want: "Bitbucket rejected the credentials (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401: Access token expired.)",
	},
	{
		name: "403 account scope", kind: credential.BitbucketConsumer, path: "workspaces", status: 403,
		want: `the OAuth consumer lacks the "account" permission to list your workspaces (GET {{BASE}}/user/workspaces?pagelen=100 answered 403 Forbidden)`,
	},
	{
		name: "403 repository scope", kind: credential.BitbucketConsumer, path: "repositories", status: 403, fixture: "error-403-scope.json",
		want: `the OAuth consumer lacks the "repository" permission to list the repositories of workspace "acme-corp" (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 403: Your credentials lack one or more required privilege scopes.)`,
	},
	{
		name: "403 repository scope, api token", kind: credential.BitbucketAPIToken, path: "repositories", status: 403, fixture: "error-403-scope.json",
		want: `the API token lacks the "repository" permission to list the repositories of workspace "acme-corp" (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 403: Your credentials lack one or more required privilege scopes.)`,
	},
	{
		name: "403 account scope, app password", kind: credential.BitbucketAppPassword, path: "workspaces", status: 403,
		want: `the app password lacks the "account" permission to list your workspaces (GET {{BASE}}/user/workspaces?pagelen=100 answered 403 Forbidden)`,
	},
	{
		name: "403 repository scope, oauth token", kind: credential.BitbucketOAuthToken, path: "repositories", status: 403,
		want: `the OAuth token lacks the "repository" scope to list the repositories of workspace "acme-corp" (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 403 Forbidden)`,
	},
	{
		name: "404 workspace", kind: credential.BitbucketConsumer, path: "repositories", status: 404, fixture: "error-404-workspace.json",
		want: `workspace "acme-corp" does not exist or the OAuth consumer cannot see it (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 404: No workspace with identifier 'acme-crop'.)`,
	},
	{
		name: "404 workspace, api token", kind: credential.BitbucketAPIToken, path: "repositories", status: 404,
		want: `workspace "acme-corp" does not exist or the API token cannot see it (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 404 Not Found)`,
	},
	{
		name: "410 CHANGE-2770", kind: credential.BitbucketConsumer, path: "workspaces", status: 410, fixture: "error-410-change-2770.json",
		want: "Bitbucket removed this endpoint (CHANGE-2770) (GET {{BASE}}/user/workspaces?pagelen=100 answered 410: CHANGE-2770 - Functionality has been deprecated)",
	},
	{
		name: "429 with Retry-After date", kind: credential.BitbucketConsumer, path: "repositories", status: 429, fixture: "error-429.json",
		header: http.Header{"Retry-After": {"Sun, 22 Nov 2026 15:04:05 GMT"}},
		want:   "the hourly Bitbucket request budget of the OAuth consumer is spent and resets at 2026-11-22 15:04:05 UTC (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 429: Rate limit for this resource has been exceeded)",
	},
	{
		name: "429 with X-RateLimit-Reset", kind: credential.BitbucketAPIToken, path: "workspaces", status: 429,
		header: http.Header{"X-Ratelimit-Reset": {"1795359845"}},
		want:   "the hourly Bitbucket request budget of the API token is spent and resets at 2026-11-22 15:04:05 UTC (GET {{BASE}}/user/workspaces?pagelen=100 answered 429 Too Many Requests)",
	},
	{
		name: "500", kind: credential.BitbucketConsumer, path: "workspaces", status: 500,
		want: "Bitbucket failed to answer (GET {{BASE}}/user/workspaces?pagelen=100 answered 500 Internal Server Error)",
	},
	{
		name: "400", kind: credential.BitbucketConsumer, path: "repositories", status: 400, fixture: "error-401-expired.json",
		want: "Bitbucket refused the request (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 400: Access token expired.)",
	},
}

// listError runs the listing of tc.path against a server answering tc.
func listError(t *testing.T, tc errorCase, opts ...Option) (string, error) {
	t.Helper()
	c, mux, base := setup(t, append([]Option{WithHTTPClient(sentWith(t, tc.kind))}, opts...)...)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range tc.header {
			w.Header()[k] = vs
		}
		body := []byte("<html>oops</html>")
		if tc.fixture != "" {
			body = fixture(t, tc.fixture, "")
		}
		writeJSON(w, tc.status, body)
	})
	var err error
	if tc.path == "workspaces" {
		_, err = collect(t, c.ListWorkspacesIter(t.Context()))
	} else {
		_, err = collect(t, c.ListRepositoriesIter(t.Context(), "acme-corp", nil))
	}
	return base, err
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, err := listError(t, tc)
			if err == nil {
				t.Fatal("listing succeeded; want an error")
			}
			if want := strings.ReplaceAll(tc.want, "{{BASE}}", base); err.Error() != want {
				t.Errorf("error =\n  %q\nwant\n  %q", err, want)
			}
			if got := httpx.CredentialsRejected(err); got != tc.wantAuth {
				t.Errorf("CredentialsRejected = %v; want %v", got, tc.wantAuth)
			}
			switch tc.status {
			case 429:
				if _, ok := errors.AsType[*RateLimitError](err); !ok {
					t.Errorf("error is %T; want *RateLimitError", err)
				}
			default:
				e, ok := errors.AsType[*ErrorResponse](err)
				if !ok {
					t.Fatalf("error is %T; want *ErrorResponse", err)
				}
				if b, _ := io.ReadAll(e.Response.Body); tc.fixture != "" && len(b) == 0 {
					t.Error("ErrorResponse.Response.Body was not restored")
				}
			}
		})
	}
}

func TestCheckResponse_fields(t *testing.T) {
	t.Parallel()
	_, err := listError(t, errorCase{kind: credential.BitbucketConsumer, path: "repositories", status: 403, fixture: "error-403-scope.json"})
	e, ok := errors.AsType[*ErrorResponse](err)
	if !ok {
		t.Fatalf("error is %T", err)
	}
	got := ErrorResponse{Message: e.Message, Detail: e.Detail, RequiredScopes: e.RequiredScopes, GrantedScopes: e.GrantedScopes, Workspace: e.Workspace, AuthKind: e.AuthKind}
	want := ErrorResponse{
		Message:        "Your credentials lack one or more required privilege scopes.",
		Detail:         `{"granted":["account"],"required":["repository"]}`,
		RequiredScopes: []string{"repository"}, GrantedScopes: []string{"account"},
		Workspace: "acme-corp", AuthKind: credential.BitbucketConsumer,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ErrorResponse mismatch (-want +got):\n%s", diff)
	}

	_, err = listError(t, errorCase{path: "workspaces", status: 410, fixture: "error-410-change-2770.json"})
	if e, _ := errors.AsType[*ErrorResponse](err); e == nil || e.Detail != "Please read the changelog entry for more details." {
		t.Errorf("410 detail = %+v", e)
	}
}

func TestCheckResponse_bodyLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 3<<20)
	resp := &http.Response{StatusCode: 502, Body: io.NopCloser(strings.NewReader(big)), Header: http.Header{}}
	err := CheckResponse(resp)
	if err == nil {
		t.Fatal("CheckResponse(502) = nil")
	}
	b, _ := io.ReadAll(resp.Body)
	if len(b) != 1<<20 {
		t.Errorf("restored body is %d bytes; want 1 MiB", len(b))
	}
	if got := CheckResponse(&http.Response{StatusCode: 204, Body: http.NoBody}); got != nil {
		t.Errorf("CheckResponse(204) = %v; want nil", got)
	}
}

func TestRateLimitError_estimated(t *testing.T) {
	t.Parallel()
	e := &RateLimitError{Reset: time.Date(2026, 11, 22, 16, 4, 5, 0, time.UTC), ResetEstimated: true, AuthKind: credential.BitbucketConsumer}
	want := "the hourly Bitbucket request budget of the OAuth consumer is spent and frees up within the hour (Bitbucket counts a rolling hour; by 16:04 UTC at the latest)"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n  %q\nwant\n  %q", got, want)
	}
}

func TestParseReset(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		header        http.Header
		wantAfter     time.Duration
		wantReset     time.Time
		wantEstimated bool
	}{
		{"seconds", http.Header{"Retry-After": {"40"}}, 40 * time.Second, now.Add(40 * time.Second), false},
		{"http date", http.Header{"Retry-After": {"Sun, 22 Nov 2026 15:04:05 GMT"}}, 245 * time.Second, now.Add(245 * time.Second), false},
		{"date in the past", http.Header{"Retry-After": {"Sun, 22 Nov 2026 14:00:00 GMT"}}, 0, now.Add(-time.Hour), false},
		{"unix reset", http.Header{"X-Ratelimit-Reset": {"1795359845"}}, 0, time.Unix(1795359845, 0), false},
		{"relative reset", http.Header{"X-Ratelimit-Reset": {"600"}}, 0, now.Add(10 * time.Minute), false},
		{"garbage then reset", http.Header{"Retry-After": {"soon"}, "X-Ratelimit-Reset": {"60"}}, 0, now.Add(time.Minute), false},
		{"nothing", http.Header{}, 0, now.Add(time.Hour), true},
	}
	for _, tt := range tests {
		after, reset, est := parseReset(tt.header, now)
		if after != tt.wantAfter || !reset.Equal(tt.wantReset) || est != tt.wantEstimated {
			t.Errorf("%s: parseReset = %v, %v, %v; want %v, %v, %v", tt.name, after, reset, est, tt.wantAfter, tt.wantReset, tt.wantEstimated)
		}
	}
}

// sentWith is a client that sends every request with a static credential
// of kind (none for credential.Unknown), so errors can name it.
func sentWith(t *testing.T, kind credential.Kind) Doer {
	t.Helper()
	if kind == credential.Unknown {
		return http.DefaultClient
	}
	cred, err := credential.Token(kind, "Bearer", "tok")
	if err != nil {
		t.Fatal(err)
	}
	return apitest.Sender{Cred: cred}
}

// TestTokenErrors: Bitbucket's token endpoint errors, worded for a consumer.
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, desc string
		status     int
		want       string
		wantAuth   bool
	}{
		{"invalid_client", "Invalid client credentials", 400,
			"Bitbucket rejected the OAuth consumer key or secret (invalid_client: Invalid client credentials)", true},
		{"unauthorized_client", "Client credentials grant is not allowed for public consumers.", 400,
			"the OAuth consumer is public (unauthorized_client: Client credentials grant is not allowed for public consumers.); client_credentials needs a private consumer", true},
		{"invalid_grant", "Unsupported grant type: None", 400,
			"Bitbucket refused the client_credentials grant (invalid_grant: Unsupported grant type: None)", true},
		{"invalid_scope", "", 400,
			"the OAuth consumer does not have the permissions asked for (invalid_scope)", true},
		{"access_denied", "The consumer was disabled.", 401,
			"the Bitbucket token endpoint refused the OAuth consumer (access_denied: The consumer was disabled.)", true},
		{"", "", 503,
			"the Bitbucket token endpoint answered 503 Service Unavailable without an OAuth error", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			body := "<html>unavailable</html>"
			if tt.code != "" {
				body = fmt.Sprintf(`{"error":%q,"error_description":%q}`, tt.code, tt.desc)
			}
			ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ErrStatus, ts.ErrBody = tt.status, body })
			_, err := ts.Consumer(t, nil).Authorize(t.Context())
			te, ok := errors.AsType[*credential.TokenError](err)
			if !ok {
				t.Fatalf("Token error = %v (%T); want *TokenError", err, err)
			}
			if te.Code != tt.code || te.Description != tt.desc || te.StatusCode != tt.status {
				t.Errorf("TokenError = %+v", te)
			}
			if err.Error() != tt.want {
				t.Errorf("error =\n  %q\nwant\n  %q", err, tt.want)
			}
			if httpx.CredentialsRejected(err) != tt.wantAuth {
				t.Errorf("CredentialsRejected = %v; want %v", httpx.CredentialsRejected(err), tt.wantAuth)
			}
			if _, ok := errors.AsType[*oauth2.RetrieveError](err); !ok {
				t.Error("TokenError does not unwrap to *oauth2.RetrieveError")
			}
		})
	}
}

func TestTokenError_networkError(t *testing.T) {
	t.Parallel()
	cred, err := credential.ClientCredentials(credential.BitbucketConsumer, credential.Config{ClientID: apitest.TokenClientID,
		ClientSecret: apitest.TokenClientSecret, TokenURL: "http://127.0.0.1:1/site/oauth2/access_token"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.Authorize(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "requesting an OAuth token from http://127.0.0.1:1/site/oauth2/access_token: ") {
		t.Errorf("error = %v", err)
	}
	if httpx.CredentialsRejected(err) {
		t.Error("a connection failure is not an auth error")
	}
}

// TestErrors_noSecrets collects every error this package can produce with
// OAuth credentials and checks none shows the client secret or a token.
func TestErrors_noSecrets(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var texts []string
	add := func(err error) {
		if err != nil {
			mu.Lock()
			texts = append(texts, err.Error(), fmt.Sprintf("%v %+v", err, err))
			mu.Unlock()
		}
	}

	// API errors behind a real token.
	for _, tc := range errorCases {
		ts := apitest.NewTokenServer(t, nil)
		_, err := listError(t, tc, WithHTTPClient(stack(t, ts.Consumer(t, nil))))
		add(err)
	}
	// Token endpoint errors, including one whose description echoes the secret.
	for _, body := range []string{
		`{"error":"invalid_client","error_description":"bad secret ` + apitest.TokenClientSecret + `"}`,
		`{"error":"unauthorized_client"}`,
		`{"error":"invalid_grant","error_description":"x"}`,
		`{"error":"invalid_scope"}`,
		`{"error":"server_error","error_description":"` + apitest.TokenClientSecret + `"}`,
		`not json ` + apitest.TokenClientSecret,
	} {
		ts := apitest.NewTokenServer(t, func(ts *apitest.TokenServer) { ts.ErrStatus, ts.ErrBody = 400, body })
		_, err := ts.Consumer(t, nil).Authorize(t.Context())
		add(err)
	}

	if len(texts) < 18 {
		t.Fatalf("only %d error texts collected", len(texts))
	}
	for _, s := range texts {
		for _, secret := range []string{apitest.TokenClientSecret, apitest.TokenPrefix} {
			if strings.Contains(s, secret) {
				t.Errorf("error text contains a secret: %q", s)
			}
		}
	}
}
