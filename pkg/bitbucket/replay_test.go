package bitbucket

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReplayFixtures: every body in fixtures/bitbucket is served by a test
// server and read by the client method (page decoder or error parser) that
// meets it on the real API; each case checks what bbimport takes from it.
// A fixture without a case fails the test, so new fixtures get replayed.
func TestReplayFixtures(t *testing.T) {
	t.Parallel()
	type replay struct {
		route  string // the test server's pattern, under the base path
		status int
		call   func(t *testing.T, c *Client) (string, error)
		want   string // the call's summary, or the error's text (substring)
	}
	listWS := func(t *testing.T, c *Client) (string, error) {
		var out []string
		for ws, err := range c.ListWorkspacesIter(t.Context()) {
			if err != nil {
				return "", err
			}
			out = append(out, ws.Slug+"="+ws.Name+"@"+ws.UUID)
		}
		return strings.Join(out, " "), nil
	}
	listRepos := func(t *testing.T, c *Client) (string, error) {
		var out []string
		for r, err := range c.ListRepositoriesIter(t.Context(), "acme-corp", nil) {
			if err != nil {
				return "", err
			}
			out = append(out, r.FullName+"|"+r.MainBranch+"|"+r.Project.Key+"|"+map[bool]string{true: "fork", false: ""}[r.IsFork])
		}
		return strings.Join(out, " "), nil
	}
	cases := map[string]replay{
		"user-workspaces.spec.json": {route: "GET /user/workspaces", status: 200, call: listWS,
			want: "acme-corp=@{3f1c1a52-7e2b-4a8e-9d4c-1b2a3c4d5e6f} acme-labs=@{9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d}"},
		"user-workspaces.page1.json": {route: "GET /user/workspaces", status: 200, call: func(t *testing.T, c *Client) (string, error) {
			ws, resp, err := c.ListWorkspaces(t.Context(), "")
			if err != nil {
				return "", err
			}
			return ws[0].Name + "|" + ws[1].Name + "|next=" + strings.TrimPrefix(resp.NextURL, c.BaseURL().String()), nil
		}, want: "ACME Corporation|ACME Labs (R&D)|next=user/workspaces?page=2&pagelen=2"},
		// Page 2 alone is not a whole listing (its size says 3): read as one page.
		"user-workspaces.page2.json": {route: "GET /user/workspaces", status: 200, call: func(t *testing.T, c *Client) (string, error) {
			ws, resp, err := c.ListWorkspaces(t.Context(), "")
			if err != nil {
				return "", err
			}
			return ws[0].Slug + "=" + ws[0].Name + "@" + ws[0].UUID + "|size=" + strconv.Itoa(*resp.Size), nil
		}, want: "jdoe=Jane Doe@{0b1c2d3e-4f50-4617-a829-3a4b5c6d7e8f}|size=3"},
		"workspace.acme-corp.json": {route: "GET /workspaces/acme-corp", status: 200, call: func(t *testing.T, c *Client) (string, error) {
			ws, err := c.GetWorkspace(t.Context(), "acme-corp")
			return ws.Slug + "=" + ws.Name + "@" + ws.UUID, err
		}, want: "acme-corp=ACME Corporation@{3f1c1a52-7e2b-4a8e-9d4c-1b2a3c4d5e6f}"},
		"repositories.acme-corp.json": {route: "GET /repositories/acme-corp", status: 200, call: listRepos,
			want: "acme-corp/payments-api|main|PAY| acme-corp/web-frontend-fork|develop|WEB|fork acme-corp/empty-repo||PAY|"},
		"projects.acme-corp.json": {route: "GET /workspaces/acme-corp/projects", status: 200, call: func(t *testing.T, c *Client) (string, error) {
			var out []string
			for p, err := range c.ListProjectsIter(t.Context(), "acme-corp") {
				if err != nil {
					return "", err
				}
				out = append(out, p.Key+"="+p.Name)
			}
			return strings.Join(out, " "), nil
		}, want: "PAY=Payments OPS=Operations ARCH=Archive (no repositories)"},
		"error-400-bbql-z.json": {route: "GET /repositories/acme-corp", status: 400, call: listRepos,
			want: "answered 400: Illegal character in input: 'Z'"},
		"error-401-expired.json": {route: "GET /user/workspaces", status: 401, call: listWS,
			want: "answered 401: Access token expired."},
		"error-403-scope.json": {route: "GET /repositories/acme-corp", status: 403, call: listRepos,
			want: `lacks the "repository" permission`},
		"error-404-workspace.json": {route: "GET /repositories/acme-corp", status: 404, call: listRepos,
			want: `workspace "acme-corp" does not exist`},
		"error-410-change-2770.json": {route: "GET /user/workspaces", status: 410, call: listWS,
			want: "removed this endpoint (CHANGE-2770)"},
		"error-429.json": {route: "GET /repositories/acme-corp", status: 429, call: listRepos,
			want: "answered 429: Rate limit for this resource has been exceeded"},
		// The token endpoint's bodies are replayed by auth_test.go; listed
		// here so none is forgotten.
		"token.json":                           {},
		"token-error-unauthorized_client.json": {},
	}
	entries, err := os.ReadDir(filepath.Join("..", "..", "fixtures", "bitbucket"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		tc, ok := cases[name]
		if !ok {
			t.Errorf("fixtures/bitbucket/%s has no replay case", name)
			continue
		}
		if tc.call == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mux, base := setup(t)
			mux.HandleFunc(tc.route, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("page") == "2" && name == "user-workspaces.page1.json" {
					t.Errorf("followed next in a one-page call")
				}
				writeJSON(w, tc.status, fixture(t, name, base))
			})
			got, err := tc.call(t, c)
			if tc.status >= 300 {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error = %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q, want it to start with %q", got, tc.want)
			}
		})
	}
	for name := range cases {
		if !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == name }) {
			t.Errorf("replay case for a missing fixture %s", name)
		}
	}
}
