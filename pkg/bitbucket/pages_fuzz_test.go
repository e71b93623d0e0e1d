package bitbucket_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// Fuzz tests of Bitbucket page decoding: the client is driven through its
// public API by a transport that answers every request with the fuzzed
// status, Retry-After and body (no network). The seeds run in plain
// `go test`; explore with e.g.
//
//	go test -run='^$' -fuzz='^FuzzRepositoriesPage$' -fuzztime=30s ./pkg/bitbucket
//
// Properties: no panic; a non-2xx answer is a typed error with a message; a
// listing ends (at most one error, last); a next-page link never sends the
// credentials to another origin.

const fuzzBase = "https://api.bitbucket.org/2.0/"

// fuzzAPI answers every request with one canned response and records where
// the requests went.
type fuzzAPI struct {
	t          *testing.T
	status     int
	retryAfter string
	body       []byte
	requests   int
	// stop, when set, is called once requests exceed maxFuzzPages.
	stop func()
}

func (a *fuzzAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	a.requests++
	if a.stop != nil && a.requests > maxFuzzPages {
		a.stop()
	}
	if req.URL.Scheme != "https" || !strings.EqualFold(req.URL.Host, "api.bitbucket.org") {
		a.t.Fatalf("request sent outside the base URL: %s", req.URL)
	}
	return apitest.Response(req, a.status, map[string]string{"Retry-After": a.retryAfter}, a.body), nil
}

func newFuzzClient(t *testing.T, status uint16, retryAfter string, body []byte) (*bitbucket.Client, *fuzzAPI) {
	api := &fuzzAPI{t: t, status: apitest.FuzzStatus(status), retryAfter: retryAfter, body: body}
	hc := &http.Client{Transport: api, CheckRedirect: apitest.NoRedirects}
	c, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc),
		bitbucket.WithBaseURL(fuzzBase))
	if err != nil {
		t.Fatal(err)
	}
	return c, api
}

func readFixture(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "bitbucket", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// addPageSeeds adds the shapes a page decoder meets: fixtures, errors, and
// the pagination quirks (relative, foreign and self `next` links).
func addPageSeeds(f *testing.F, fixtures ...string) {
	for _, name := range fixtures {
		f.Add(uint16(200), "", readFixture(f, name))
	}
	for _, name := range []string{"error-401-expired.json", "error-403-scope.json", "error-404-workspace.json", "error-410-change-2770.json", "error-429.json"} {
		status, _ := strconv.Atoi(strings.Split(name, "-")[1])
		f.Add(uint16(status), "", readFixture(f, name))
	}
	f.Add(uint16(429), "30", []byte(`{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"}}`))
	f.Add(uint16(429), "Wed, 21 Oct 2015 07:28:00 GMT", []byte(``))
	f.Add(uint16(403), "", []byte(`{"type":"error","error":{"message":"m","detail":{"required":["repository"],"granted":["account",5]}}}`))
	f.Add(uint16(502), "", []byte(`<html>bad gateway</html>`))
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"values":null}`, `{"values":[]}`, `{"values":[null]}`, `{"values":{}}`,
		`{"values":[{}],"next":"https://api.bitbucket.org/2.0/x?page=2"}`,
		`{"values":[{}],"next":"https://evil.example/2.0/x?page=2"}`,
		`{"values":[{}],"next":"http://api.bitbucket.org/2.0/x?page=2"}`,
		`{"values":[{}],"next":"https://api.bitbucket.org:8443/2.0/x"}`,
		`{"values":[{}],"next":"?page=2"}`, `{"values":[{}],"next":"//evil.example/x"}`,
		`{"values":[{}],"next":"x/"}`, `{"values":[{}],"next":"%zz"}`, `{"values":[{}],"next":5}`,
		`{"values":[{"workspace":{"slug":"a"}},{"workspace":null},{"workspace":{"slug":""}}]}`,
		`{"values":[{"slug":"r","full_name":"w/r","mainbranch":null,"parent":{},"updated_on":"bad"}]}`,
		`{"values":[{"full_name":"/","project":null,"workspace":{"slug":null}}]}`,
		`{"values":[{"full_name":"a/b/c","mainbranch":{"name":7}}]}`,
		`{"pagelen":-1,"size":1e400,"values":[]}`,
	} {
		f.Add(uint16(200), "", []byte(s))
	}
}

// checkListError checks an error of a listing or page call.
func checkListError(t *testing.T, status int, err error) {
	t.Helper()
	if errors.Is(err, context.Canceled) {
		return // listCtx ended a listing that would not
	}
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Fatalf("empty error message (%T)", err)
	}
	if status >= 200 && status < 300 {
		return
	}
	var er *bitbucket.ErrorResponse
	var rl *bitbucket.RateLimitError
	switch {
	case status == http.StatusTooManyRequests && !errors.As(err, &rl):
		t.Fatalf("429 gave %T, want *RateLimitError: %v", err, err)
	case status != http.StatusTooManyRequests && !errors.As(err, &er):
		t.Fatalf("%d gave %T, want *ErrorResponse: %v", status, err, err)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error message spans lines: %q", msg)
	}
}

// checkNextURL: a next link handed to the caller is absolute and on the
// base URL's origin.
func checkNextURL(t *testing.T, next string) {
	t.Helper()
	if next == "" {
		return
	}
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() || !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(u.Hostname(), "api.bitbucket.org") || (u.Port() != "" && u.Port() != "443") {
		t.Fatalf("next-page link %q is not on the base URL's origin", next)
	}
}

// maxFuzzPages bounds how much of a listing is read: a server that invents a
// new next link on every page (a relative "x/" resolves one level deeper
// each time) keeps a listing going as a real one with that many pages
// would, so the listing is cancelled after that many requests and must then
// end with the context's error.
const maxFuzzPages = 30

// listCtx is a context the fuzz transport cancels after maxFuzzPages requests.
func listCtx(t *testing.T, api *fuzzAPI) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	api.requests, api.stop = 0, cancel
	return ctx
}

func FuzzWorkspacesPage(f *testing.F) {
	addPageSeeds(f, "user-workspaces.page1.json", "user-workspaces.page2.json")
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		c, api := newFuzzClient(t, status, retryAfter, body)
		ws, resp, err := c.ListWorkspaces(t.Context(), "")
		if err != nil {
			checkListError(t, api.status, err)
		} else {
			if api.status < 200 || api.status > 299 {
				t.Fatalf("status %d accepted", api.status)
			}
			checkNextURL(t, resp.NextURL)
			for _, w := range ws {
				if w.Slug == "" {
					t.Fatalf("workspace without a slug: %+v", w)
				}
			}
			if resp.NextURL != "" {
				if _, _, err := c.ListWorkspaces(t.Context(), resp.NextURL); err != nil {
					checkListError(t, api.status, err)
				}
			}
		}

		errs := 0
		for w, err := range c.ListWorkspacesIter(listCtx(t, api)) {
			if errs > 0 {
				t.Fatalf("a value after the error: %+v, %v", w, err)
			}
			if err != nil {
				errs++
				checkListError(t, api.status, err)
				continue
			}
			if w.Slug == "" {
				t.Fatalf("workspace without a slug: %+v", w)
			}
		}
	})
}

func FuzzRepositoriesPage(f *testing.F) {
	addPageSeeds(f, "repositories.acme-corp.json")
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		c, api := newFuzzClient(t, status, retryAfter, body)
		repos, resp, err := c.ListRepositories(t.Context(), "acme", nil, "")
		if err != nil {
			checkListError(t, api.status, err)
		} else {
			checkNextURL(t, resp.NextURL)
			for _, r := range repos {
				checkRepo(t, r)
			}
		}

		errs := 0
		for r, err := range c.ListRepositoriesIter(listCtx(t, api), "acme", &bitbucket.RepositoryListOptions{Query: `updated_on>2024-01-01`}) {
			if errs > 0 {
				t.Fatalf("a value after the error: %+v, %v", r, err)
			}
			if err != nil {
				errs++
				checkListError(t, api.status, err)
				continue
			}
			checkRepo(t, r)
		}

		if _, _, err := c.ListRepositories(t.Context(), "acme", &bitbucket.RepositoryListOptions{PageLen: 1}, ""); err != nil {
			checkListError(t, api.status, err)
		}
	})
}

// checkRepo: a repository always says which workspace it belongs to, and a
// full name, when there is one, ends with its slug.
func checkRepo(t *testing.T, r bitbucket.Repository) {
	t.Helper()
	if r.Workspace == "" {
		t.Fatalf("repository without a workspace: %+v", r)
	}
	if r.Slug != "" && r.FullName == "" {
		t.Fatalf("repository %q without a full name: %+v", r.Slug, r)
	}
}
