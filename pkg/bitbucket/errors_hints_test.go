package bitbucket

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/credential"
)

// TestErrorMessages_perEndpoint: a 410 is explained by endpoint (removed by
// CHANGE-2770, or a workspace whose account is marked as spam), and the
// API-token hint for listing workspaces names every scope it needs.
func TestErrorMessages_perEndpoint(t *testing.T) {
	t.Parallel()
	cases := []errorCase{
		{
			name: "410 on a workspace's repositories: spam", kind: credential.BitbucketConsumer, path: "repositories", status: 410,
			want: `Bitbucket answers 410 Gone for workspace "acme-corp": its account is marked as spam or deactivated (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 410 Gone)`,
		},
		{
			name: "410 CHANGE-2770 body on repositories", kind: credential.BitbucketConsumer, path: "repositories", status: 410, fixture: "error-410-change-2770.json",
			want: "Bitbucket removed this endpoint (CHANGE-2770) (GET {{BASE}}/repositories/acme-corp?pagelen=100 answered 410: CHANGE-2770 - Functionality has been deprecated)",
		},
		{
			name: "410 on user/workspaces without a body", kind: credential.BitbucketConsumer, path: "workspaces", status: 410,
			want: "Bitbucket removed this endpoint (CHANGE-2770) (GET {{BASE}}/user/workspaces?pagelen=100 answered 410 Gone)",
		},
		{
			name: "403 listing workspaces, api token", kind: credential.BitbucketAPIToken, path: "workspaces", status: 403,
			want: `the API token lacks the "account" permission to list your workspaces (GET {{BASE}}/user/workspaces?pagelen=100 answered 403 Forbidden)`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, err := listError(t, tc)
			if err == nil {
				t.Fatal("listing succeeded; want an error")
			}
			if want := strings.ReplaceAll(tc.want, "{{BASE}}", base); err.Error() != want {
				t.Errorf("error =\n  %q\nwant\n  %q", err, want)
			}
		})
	}
}

// TestAPITokenScopeHints: every call bbimport makes names the permission
// it lacked and what it was for (the API token scopes to create are the
// command's to name: cmd/bbimport TestExplainAPITokenScopeHints).
func TestAPITokenScopeHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, workspace, want string
	}{
		{"/2.0/user/workspaces", "", `"account" permission to list your workspaces`},
		{"/2.0/workspaces/acme-corp", "acme-corp", `"account" permission to read workspace "acme-corp" (its display name)`},
		{"/2.0/repositories/acme-corp", "acme-corp", `"repository" permission to list the repositories of workspace "acme-corp"`},
		{"/2.0/workspaces/acme-corp/projects", "acme-corp", `"project" permission to list the projects of workspace "acme-corp"`},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "https://api.bitbucket.org"+tt.path, nil)
		e := &ErrorResponse{Response: &http.Response{StatusCode: 403, Request: req}, Workspace: tt.workspace, AuthKind: credential.BitbucketAPIToken}
		if got := e.Error(); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.path, got, tt.want)
		}
	}
}
