package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// The sentences an operator reads for each API error: what is wrong, what
// to do, then the request. The clients' errors state the facts (their own
// tests); the wording, the flags and variables to check are the command's.

// bbErrorCase is a Bitbucket answer and the sentence the person must read.
type bbErrorCase struct {
	name     string
	kind     credential.Kind
	path     string // "workspaces" or "repositories"
	status   int
	fixture  string
	header   http.Header
	want     string // {{BASE}} is the API base URL
	wantAuth bool
}

const bbBase = "https://api.bitbucket.org/2.0"

var bbErrorCases = []bbErrorCase{
	{
		name: "401 oauth consumer", kind: credential.BitbucketConsumer, path: "workspaces", status: 401, fixture: "error-401-expired.json", wantAuth: true,
		want: "Bitbucket rejected the credentials; check BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET (GET {{BASE}}/user/workspaces?pagelen=100 answered 401: Access token expired.)",
	},
	{
		name: "401 unknown kind", kind: credential.Unknown, path: "workspaces", status: 401, wantAuth: true,
		want: "Bitbucket rejected the credentials; check BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET (or the BITBUCKET_CLOUD_* variables for the bitbucket-cloud source) (GET {{BASE}}/user/workspaces?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 username and app password: removed, and how to make an API token", kind: credential.BitbucketAppPassword, path: "repositories", status: 401, wantAuth: true,
		want: "Bitbucket rejected the app password: Atlassian removed app passwords on 2026-07-28 (refused with 401 since the brownouts from 2026-06-09); create an Atlassian API token (id.atlassian.com → Security → API tokens → Create API token with scopes → Bitbucket) with the scopes read:workspace:bitbucket, read:user:bitbucket, read:repository:bitbucket and read:project:bitbucket, then set BITBUCKET_CLOUD_USERNAME to your Atlassian account's e-mail and BITBUCKET_CLOUD_API_TOKEN to the token (and unset BITBUCKET_CLOUD_PASSWORD) (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 e-mail and password", kind: credential.BitbucketUser, path: "repositories", status: 401, wantAuth: true,
		want: "Bitbucket rejected the credentials; check BITBUCKET_CLOUD_USERNAME (the Atlassian account email) and BITBUCKET_CLOUD_PASSWORD (an API token: Bitbucket takes no account password) (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 access token", kind: credential.BitbucketAccessToken, path: "repositories", status: 401, wantAuth: true,
		want: "Bitbucket rejected the credentials; check BITBUCKET_CLOUD_API_TOKEN: without an email in BITBUCKET_CLOUD_USERNAME it is sent as Bearer, as a workspace, project or repository access token; an Atlassian API token needs BITBUCKET_CLOUD_USERNAME set to the account email it belongs to (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 api token", kind: credential.BitbucketAPIToken, path: "repositories", status: 401, wantAuth: true,
		want: "Bitbucket rejected the credentials; check BITBUCKET_CLOUD_API_TOKEN (and that BITBUCKET_CLOUD_USERNAME is the Atlassian account email an API token belongs to) (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401 Unauthorized)",
	},
	{
		name: "401 oauth token", kind: credential.BitbucketOAuthToken, path: "repositories", status: 401, fixture: "error-401-expired.json", wantAuth: true,
		want: "Bitbucket rejected the credentials; check BITBUCKET_CLOUD_OAUTH_TOKEN (OAuth access tokens expire after an hour or two) (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 401: Access token expired.)",
	},
	{
		name: "403 account scope", kind: credential.BitbucketConsumer, path: "workspaces", status: 403,
		want: `the OAuth consumer lacks the "account" permission to list your workspaces; in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick 'Account: Read' and save; the key and secret stay the same (GET {{BASE}}/user/workspaces?pagelen=100 answered 403 Forbidden)`,
	},
	{
		name: "403 repository scope", kind: credential.BitbucketConsumer, path: "repositories", status: 403, fixture: "error-403-scope.json",
		want: `the OAuth consumer lacks the "repository" permission to list the repositories of workspace "acme-corp" (granted: account); in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick 'Repositories: Read' and save; the key and secret stay the same (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 403: Your credentials lack one or more required privilege scopes.)`,
	},
	{
		name: "403 repository scope, api token", kind: credential.BitbucketAPIToken, path: "repositories", status: 403, fixture: "error-403-scope.json",
		want: `the API token lacks the "repository" permission to list the repositories of workspace "acme-corp"; create a token with the read:repository:bitbucket scope and set BITBUCKET_CLOUD_API_TOKEN (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 403: Your credentials lack one or more required privilege scopes.)`,
	},
	{
		name: "403 account scope, app password", kind: credential.BitbucketAppPassword, path: "workspaces", status: 403,
		want: `the app password lacks the "account" permission to list your workspaces; app passwords were removed on 2026-07-28: create an Atlassian API token with the read:workspace:bitbucket and read:user:bitbucket scopes and use it instead (GET {{BASE}}/user/workspaces?pagelen=100 answered 403 Forbidden)`,
	},
	{
		name: "403 repository scope, oauth token", kind: credential.BitbucketOAuthToken, path: "repositories", status: 403,
		want: `the OAuth token lacks the "repository" scope to list the repositories of workspace "acme-corp"; issue a new token from a consumer with Repositories: Read ticked and set BITBUCKET_CLOUD_OAUTH_TOKEN (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 403 Forbidden)`,
	},
	{
		name: "404 workspace", kind: credential.BitbucketConsumer, path: "repositories", status: 404, fixture: "error-404-workspace.json",
		want: `workspace "acme-corp" does not exist or the OAuth consumer cannot see it; check the slug (as in bitbucket.org/<slug>) and that the consumer belongs to it (since 2026-05-04 a consumer's token is an app user that sees the workspace owning the consumer; use a consumer of each workspace, or an API token of a member) (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 404: No workspace with identifier 'acme-crop'.)`,
	},
	{
		name: "404 workspace, api token", kind: credential.BitbucketAPIToken, path: "repositories", status: 404,
		want: `workspace "acme-corp" does not exist or the API token cannot see it; check the slug (as in bitbucket.org/<slug>) and that the account is a member of it (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 404 Not Found)`,
	},
	{
		name: "410 CHANGE-2770", kind: credential.BitbucketConsumer, path: "workspaces", status: 410, fixture: "error-410-change-2770.json",
		want: "Bitbucket removed this endpoint (CHANGE-2770); pass the workspaces with --workspace instead (GET {{BASE}}/user/workspaces?pagelen=100 answered 410: CHANGE-2770 - Functionality has been deprecated)",
	},
	{
		name: "429 with Retry-After date", kind: credential.BitbucketConsumer, path: "repositories", status: 429, fixture: "error-429.json",
		header: http.Header{"Retry-After": {"Sun, 22 Nov 2026 15:04:05 GMT"}},
		want:   "the hourly Bitbucket request budget of the OAuth consumer is spent and resets at 2026-11-22 15:04:05 UTC; run again then, and lower BITBUCKET_RATE_LIMIT so the run stays under the budget (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 429: Rate limit for this resource has been exceeded)",
	},
	{
		name: "429 with X-RateLimit-Reset", kind: credential.BitbucketAPIToken, path: "workspaces", status: 429,
		header: http.Header{"X-Ratelimit-Reset": {"1795359845"}},
		want:   "the hourly Bitbucket request budget of the API token is spent and resets at 2026-11-22 15:04:05 UTC; run again then, and lower BITBUCKET_RATE_LIMIT so the run stays under the budget (GET {{BASE}}/user/workspaces?pagelen=100 answered 429 Too Many Requests)",
	},
	{
		name: "500", kind: credential.BitbucketConsumer, path: "workspaces", status: 500,
		want: "Bitbucket failed to answer; try again later; if it lasts (the listing is not documented for a consumer's app user), pass --workspace=<slug> (repeatable; as in bitbucket.org/<slug>) for the workspace that owns the consumer (the workspace whose settings list it under OAuth consumers); bbimport checks each with one request (GET {{BASE}}/user/workspaces?pagelen=100 answered 500 Internal Server Error)",
	},
	{
		name: "400", kind: credential.BitbucketConsumer, path: "repositories", status: 400, fixture: "error-401-expired.json",
		want: "Bitbucket refused the request (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 400: Access token expired.)",
	},
}

// bbError is the error the Bitbucket client returns for tc's answer: what
// CheckResponse makes of it, with the workspace and the kind of credentials
// the client adds.
func bbError(t *testing.T, tc bbErrorCase) error {
	t.Helper()
	target := bbBase + "/user/workspaces?pagelen=100"
	if tc.path == "repositories" {
		target = bbBase + "/repositories/acme-corp?pagelen=100"
	}
	body := []byte("<html>oops</html>")
	if tc.fixture != "" {
		b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "bitbucket", tc.fixture))
		if err != nil {
			t.Fatal(err)
		}
		body = b
	}
	header := http.Header{"Content-Type": {"application/json"}}
	for k, vs := range tc.header {
		header[k] = vs
	}
	resp := &http.Response{StatusCode: tc.status, Header: header, Body: io.NopCloser(strings.NewReader(string(body))),
		Request: httptest.NewRequest(http.MethodGet, target, nil)}
	err := bitbucket.CheckResponse(resp)
	switch e := err.(type) {
	case *bitbucket.ErrorResponse:
		e.AuthKind = tc.kind
		if tc.path == "repositories" {
			e.Workspace = "acme-corp"
		}
	case *bitbucket.RateLimitError:
		e.AuthKind = tc.kind
	}
	return err
}

func TestExplainBitbucket(t *testing.T) {
	t.Parallel()
	cases := []bbErrorCase{
		{
			name: "410 on a workspace's repositories: spam", kind: credential.BitbucketConsumer, path: "repositories", status: 410,
			want: `Bitbucket answers 410 Gone for workspace "acme-corp": its account is marked as spam or deactivated; open bitbucket.org/acme-corp to check, ask Atlassian support to restore it, or leave the workspace out (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 410 Gone)`,
		},
		{
			name: "410 CHANGE-2770 body on repositories", kind: credential.BitbucketConsumer, path: "repositories", status: 410, fixture: "error-410-change-2770.json",
			want: "Bitbucket removed this endpoint (CHANGE-2770); pass the workspaces with --workspace instead (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 410: CHANGE-2770 - Functionality has been deprecated)",
		},
		{
			name: "410 on user/workspaces without a body", kind: credential.BitbucketConsumer, path: "workspaces", status: 410,
			want: "Bitbucket removed this endpoint (CHANGE-2770); pass the workspaces with --workspace instead (GET {{BASE}}/user/workspaces?pagelen=100 answered 410 Gone)",
		},
		{
			name: "403 listing workspaces, api token", kind: credential.BitbucketAPIToken, path: "workspaces", status: 403,
			want: `the API token lacks the "account" permission to list your workspaces; create a token with the read:workspace:bitbucket and read:user:bitbucket scopes and set BITBUCKET_CLOUD_API_TOKEN (GET {{BASE}}/user/workspaces?pagelen=100 answered 403 Forbidden)`,
		},
	}
	cases = append(cases, bbErrorCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := bbError(t, tc)
			if want := strings.ReplaceAll(tc.want, "{{BASE}}", bbBase); (explainer{}).errMessage(err) != want {
				t.Errorf("message =\n  %q\nwant\n  %q", (explainer{}).errMessage(err), want)
			}
			if _, _, code := (explainer{}).explain(err); (code == exitAuth) != tc.wantAuth {
				t.Errorf("exit code %d; want auth (%d): %v", code, exitAuth, tc.wantAuth)
			}
		})
	}
}

// TestExplainAPITokenScopeHints: every call bbimport makes names, for an
// API token, the scopes Atlassian lists for it.
func TestExplainAPITokenScopeHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, workspace, want string
	}{
		{"/2.0/user/workspaces", "", "read:workspace:bitbucket and read:user:bitbucket scopes"},
		{"/2.0/workspaces/acme-corp", "acme-corp", `"account" permission to read workspace "acme-corp" (its display name); create a token with the read:workspace:bitbucket scope`},
		{"/2.0/repositories/acme-corp", "acme-corp", "read:repository:bitbucket scope"},
		{"/2.0/workspaces/acme-corp/projects", "acme-corp", "read:project:bitbucket scope"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "https://api.bitbucket.org"+tt.path, nil)
		e := &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: 403, Request: req}, Workspace: tt.workspace, AuthKind: credential.BitbucketAPIToken}
		if got := (explainer{}).errMessage(e); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.path, got, tt.want)
		}
	}
}

func TestExplainBitbucketRateLimitEstimated(t *testing.T) {
	t.Parallel()
	e := &bitbucket.RateLimitError{Reset: time.Date(2026, 11, 22, 16, 4, 5, 0, time.UTC), ResetEstimated: true, AuthKind: credential.BitbucketConsumer}
	want := "the hourly Bitbucket request budget of the OAuth consumer is spent and frees up within the hour (Bitbucket counts a rolling hour; by 16:04 UTC at the latest); run again then, and lower BITBUCKET_RATE_LIMIT so the run stays under the budget"
	if got := (explainer{}).errMessage(e); got != want {
		t.Errorf("message =\n  %q\nwant\n  %q", got, want)
	}
}

// TestExplainTokenErrors: a refused client_credentials exchange is worded
// by its RFC 6749 code, the same in the final message as in doctor (the two
// used to differ; doctor's fixes, which say which value goes where, won).
func TestExplainTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, desc string
		status     int
		want       string
		wantAuth   bool
	}{
		{"invalid_client", "Invalid client credentials", 400,
			"Bitbucket rejected the OAuth consumer key or secret (invalid_client: Invalid client credentials); set BITBUCKET_APP_CLIENT_ID to the consumer's Key and BITBUCKET_APP_CLIENT_SECRET to its Secret (Bitbucket → Workspace settings → OAuth consumers → click the consumer's name)", true},
		{"unauthorized_client", "Client credentials grant is not allowed for public consumers.", 400,
			"the OAuth consumer is public (unauthorized_client: Client credentials grant is not allowed for public consumers.); client_credentials needs a private consumer; in Bitbucket → Workspace settings → OAuth consumers → Edit, tick 'This is a private consumer' and save; the key and secret stay the same", true},
		{"invalid_grant", "Unsupported grant type: None", 400,
			"Bitbucket refused the client_credentials grant (invalid_grant: Unsupported grant type: None); check that BITBUCKET_APP_TOKEN_URL is unset or https://bitbucket.org/site/oauth2/access_token, and that the consumer is private", true},
		{"invalid_scope", "", 400,
			"the OAuth consumer does not have the permissions asked for (invalid_scope); in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick Account: Read, Workspace membership: Read, Repositories: Read and Projects: Read", true},
		{"access_denied", "The consumer was disabled.", 401,
			"the Bitbucket token endpoint refused the OAuth consumer (access_denied: The consumer was disabled.); check BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET and the consumer's settings", true},
		{"", "", 503,
			"the Bitbucket token endpoint answered 503 Service Unavailable without an OAuth error; check BITBUCKET_APP_TOKEN_URL, or try again later", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			err := &credential.TokenError{Kind: credential.BitbucketConsumer, Code: tt.code, Description: tt.desc, StatusCode: tt.status}
			problem, fix, code := (explainer{}).explain(err)
			if got := problem + "; " + fix; got != tt.want {
				t.Errorf("explained =\n  %q\nwant\n  %q", got, tt.want)
			}
			if got := (explainer{}).errMessage(err); got != tt.want {
				t.Errorf("message =\n  %q\nwant\n  %q", got, tt.want)
			}
			if (code == exitAuth) != tt.wantAuth {
				t.Errorf("exit code %d; want auth: %v", code, tt.wantAuth)
			}
		})
	}
}

func TestExplainSnyk(t *testing.T) {
	t.Parallel()
	req := func(method, rawURL string) *http.Response {
		return &http.Response{Request: httptest.NewRequest(method, rawURL, nil)}
	}
	tests := []struct {
		name     string
		err      error
		want     string
		wantAuth bool
	}{
		{
			name:     "401 group",
			err:      &snyk.ErrorResponse{StatusCode: 401, GroupID: "G", Message: "Not authorised", Response: req("GET", "https://api.snyk.io/v1/group/G/orgs?perPage=100&page=1")},
			want:     `Snyk rejected the token (401): SNYK_TOKEN is invalid or has no access to group "G"; set SNYK_TOKEN to a valid API token (Snyk → Account settings → API token), or use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET; Snyk for Government accepts nothing else); and check SNYK_API is your region's API (https://api.snyk.io (US-01), https://api.us.snyk.io (US-02), https://api.eu.snyk.io, https://api.au.snyk.io, https://api.snykgov.io (Snyk for Government); /v1 is added): Not authorised [GET https://api.snyk.io/v1/group/G/orgs?perPage=100&page=1]`,
			wantAuth: true,
		},
		{
			name:     "401 org with reference",
			err:      &snyk.ErrorResponse{StatusCode: 401, OrgID: "O", ErrorRef: "ref-9"},
			want:     `Snyk rejected the token (401): SNYK_TOKEN is invalid or has no access to org "O"; set SNYK_TOKEN to a valid API token (Snyk → Account settings → API token), or use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET; Snyk for Government accepts nothing else); and check SNYK_API is your region's API (https://api.snyk.io (US-01), https://api.us.snyk.io (US-02), https://api.eu.snyk.io, https://api.au.snyk.io, https://api.snykgov.io (Snyk for Government); /v1 is added) [Snyk error reference ref-9]`,
			wantAuth: true,
		},
		{
			// The hint names the credential actually sent (it used to say
			// SNYK_TOKEN whatever was set).
			name:     "401 with SNYK_OAUTH_TOKEN",
			err:      &snyk.ErrorResponse{StatusCode: 401, OrgID: "O", AuthKind: credential.SnykOAuthToken},
			want:     `Snyk rejected the token (401): SNYK_OAUTH_TOKEN is invalid, expired (OAuth access tokens live an hour) or has no access to org "O"; for long runs use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET), whose tokens bbimport renews; and check SNYK_API is your region's API (https://api.snyk.io (US-01), https://api.us.snyk.io (US-02), https://api.eu.snyk.io, https://api.au.snyk.io, https://api.snykgov.io (Snyk for Government); /v1 is added)`,
			wantAuth: true,
		},
		{
			name:     "401 with a service account",
			err:      &snyk.ErrorResponse{StatusCode: 401, GroupID: "G", AuthKind: credential.SnykServiceAccount},
			want:     `Snyk rejected the token (401): Snyk refused a token minted for the service account SNYK_CLIENT_ID, for group "G": check the service account still exists in Snyk → Group settings → Service accounts and can see it; and check SNYK_API is your region's API (https://api.snyk.io (US-01), https://api.us.snyk.io (US-02), https://api.eu.snyk.io, https://api.au.snyk.io, https://api.snykgov.io (Snyk for Government); /v1 is added)`,
			wantAuth: true,
		},
		{
			name:     "service account's secret refused",
			err:      &credential.TokenError{Kind: credential.SnykServiceAccount, Code: "invalid_client", Description: "bad client", StatusCode: 401},
			want:     `Snyk rejected the service account's client id or secret (invalid_client: bad client); check SNYK_CLIENT_SECRET (and SNYK_CLIENT_ID): Snyk shows a service account's client secret once, when it is created; if it is lost, create a new service account in Snyk → Group settings → Service accounts (Group Admin role, OAuth 2.0 client credentials)`,
			wantAuth: true,
		},
		{
			name: "403 org",
			err:  &snyk.ErrorResponse{StatusCode: 403, OrgID: "O"},
			want: `Snyk refused the request (403): the account behind SNYK_TOKEN needs admin access to org "O"; use a service account of the group with the Group Admin role (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET), or the token of a Group Admin`,
		},
		{
			name: "404 integration",
			err:  &snyk.ErrorResponse{StatusCode: 404, OrgID: "O", IntegrationID: "I"},
			want: `Snyk found no integration "I" in org "O" (404): check the integration id (GET /org/O/integrations lists them) and that SNYK_TOKEN can see the org`,
		},
		{
			name: "404 group",
			err:  &snyk.ErrorResponse{StatusCode: 404, GroupID: "G"},
			want: `Snyk found no group "G" (404): check the id and that SNYK_TOKEN can see it`,
		},
		{
			name: "404 org in group",
			err:  &snyk.ErrorResponse{StatusCode: 404, GroupID: "G", OrgID: "O"},
			want: `Snyk found no org "O" in group "G" (404): check the id and that SNYK_TOKEN can see it`,
		},
		{
			name: "404 group, SNYK_API not a v1 base",
			err:  &snyk.ErrorResponse{StatusCode: 404, GroupID: "G", Response: req("GET", "https://api.snyk.io/group/G/orgs")},
			want: `Snyk answered 404 for group "G", and SNYK_API does not point at a v1 API: set SNYK_API to your region's API (https://api.snyk.io (US-01), https://api.us.snyk.io (US-02), https://api.eu.snyk.io, https://api.au.snyk.io, https://api.snykgov.io (Snyk for Government); /v1 is added), then run doctor again [GET https://api.snyk.io/group/G/orgs]`,
		},
		{
			name: "400 with code",
			err:  &snyk.ErrorResponse{StatusCode: 400, OrgID: "O", Message: "Invalid parameter format.", Code: "invalidParamData"},
			want: `Snyk answered 400 Bad Request for org "O": Invalid parameter format. (invalidParamData)`,
		},
		{
			name: "500 without subject",
			err:  &snyk.ErrorResponse{StatusCode: 500},
			want: `Snyk answered 500 Internal Server Error`,
		},
		{
			name: "429",
			err:  &snyk.RateLimitError{RetryAfter: 90 * time.Second, Message: "Too many requests"},
			want: `Snyk rate limit reached (429): retry after 1m30s: lower SNYK_RATE_LIMIT or --concurrency: Too many requests`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := (explainer{}).errMessage(tt.err); got != tt.want {
				t.Errorf("message = %s\nwant      %s", got, tt.want)
			}
			if _, _, code := (explainer{}).explain(tt.err); (code == exitAuth) != tt.wantAuth {
				t.Errorf("exit code %d; want auth: %v", code, tt.wantAuth)
			}
		})
	}
}

// TestErrMessageKeepsPrefix: a client error wrapped with context is
// explained in place, the context kept.
func TestErrMessageKeepsPrefix(t *testing.T) {
	t.Parallel()
	inner := &snyk.ErrorResponse{StatusCode: 404, OrgID: "O"}
	err := &wrapped{"listing org O: ", inner}
	want := `listing org O: Snyk found no org "O" (404): check the id and that SNYK_TOKEN can see it`
	if got := (explainer{}).errMessage(err); got != want {
		t.Errorf("message = %q; want %q", got, want)
	}
}

type wrapped struct {
	prefix string
	err    error
}

func (w *wrapped) Error() string { return w.prefix + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// TestRetryableFromClients: the JSON lines' retryable field follows the
// clients' errors (the retry policy's rule: 429, 5xx but 501).
func TestRetryableFromClients(t *testing.T) {
	t.Parallel()
	bb := func(status int) error {
		return &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: status}}
	}
	tests := []struct {
		err  error
		want bool
	}{
		{bb(500), true}, {bb(502), true}, {bb(501), false}, {bb(404), false}, {bb(401), false},
		{&bitbucket.RateLimitError{}, true},
		{&snyk.ErrorResponse{StatusCode: 503}, true}, {&snyk.ErrorResponse{StatusCode: 400}, false},
		{&snyk.ErrorResponse{StatusCode: 401}, false}, {&snyk.RateLimitError{}, true},
	}
	for _, tt := range tests {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("retryable(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}
