package bitbucket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/listing"
	"github.com/google/go-cmp/cmp"
)

// serveRepos serves n generated repositories of workspace, paginated the way
// Bitbucket does (absolute `next` carrying the same query, no `next` on the
// last page), and counts the requests.
func serveRepos(t *testing.T, mux *http.ServeMux, base, workspace string, n int) *atomic.Int64 {
	t.Helper()
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/{workspace}", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if got := r.PathValue("workspace"); got != workspace {
			writeJSON(w, http.StatusNotFound, []byte(`{"type":"error","error":{"message":"No workspace with identifier."}}`))
			return
		}
		q := r.URL.Query()
		pageLen, page := 10, 1
		if v := q.Get("pagelen"); v != "" {
			pageLen, _ = strconv.Atoi(v)
		}
		if v := q.Get("page"); v != "" {
			page, _ = strconv.Atoi(v)
		}
		body := map[string]any{"values": []any{}}
		start := (page - 1) * pageLen
		var values []any
		for i := start; i < min(start+pageLen, n); i++ {
			values = append(values, genRepo(workspace, i))
		}
		if values != nil {
			body["values"] = values
		}
		if start+pageLen < n {
			q.Set("page", strconv.Itoa(page+1))
			body["next"] = base + "/repositories/" + url.PathEscape(workspace) + "?" + q.Encode()
		}
		b, _ := json.Marshal(body)
		writeJSON(w, http.StatusOK, b)
	})
	return &requests
}

func genRepo(workspace string, i int) map[string]any {
	slug := fmt.Sprintf("repo-%04d", i)
	r := map[string]any{
		"slug":       slug,
		"name":       fmt.Sprintf("Repo %d", i),
		"full_name":  workspace + "/" + slug,
		"is_private": i%2 == 0,
		"mainbranch": map[string]any{"name": "main"},
		"updated_on": "2026-01-02T03:04:05.000000+00:00",
		"workspace":  map[string]any{"slug": workspace},
	}
	if i%10 == 3 {
		r["mainbranch"] = nil
	}
	if i%7 == 5 {
		r["parent"] = map[string]any{"full_name": "upstream/" + slug}
	}
	return r
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) ([]T, error) {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func TestClient_ListRepositories_pagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		repos, wantRequests int
	}{
		{0, 1}, {1, 1}, {99, 1}, {100, 1}, {101, 2}, {250, 3}, {1000, 10},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.repos), func(t *testing.T) {
			t.Parallel()
			c, mux, base := setup(t)
			requests := serveRepos(t, mux, base, "acme", tt.repos)

			repos, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil))
			if err != nil {
				t.Fatalf("ListRepositoriesIter: %v", err)
			}
			if len(repos) != tt.repos {
				t.Errorf("got %d repositories; want %d", len(repos), tt.repos)
			}
			for i, r := range repos {
				if want := fmt.Sprintf("repo-%04d", i); r.Slug != want {
					t.Fatalf("repos[%d].Slug = %q; want %q (order or duplicates wrong)", i, r.Slug, want)
				}
				if r.IsFork != (i%7 == 5) || (r.MainBranch == "") != (i%10 == 3) {
					t.Errorf("repos[%d] = %+v: fork/mainbranch wrong", i, r)
				}
			}
			if got := requests.Load(); got != int64(tt.wantRequests) {
				t.Errorf("requests = %d; want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestClient_ListRepositories_request(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		workspace string
		opts      *RepositoryListOptions
		wantPath  string
		wantQuery url.Values
	}{
		{
			name:      "defaults",
			workspace: "acme-corp",
			wantPath:  "/repositories/acme-corp",
			wantQuery: url.Values{"pagelen": {"100"}, "fields": {repositoryFields}},
		},
		{
			name:      "uuid escaped",
			workspace: "{3f1c1a52-7e2b-4a8e-9d4c-1b2a3c4d5e6f}",
			wantPath:  "/repositories/%7B3f1c1a52-7e2b-4a8e-9d4c-1b2a3c4d5e6f%7D",
			wantQuery: url.Values{"pagelen": {"100"}, "fields": {repositoryFields}},
		},
		{
			name:      "slash escaped",
			workspace: "a/b",
			wantPath:  "/repositories/a%2Fb",
			wantQuery: url.Values{"pagelen": {"100"}, "fields": {repositoryFields}},
		},
		{
			name:      "query and pagelen",
			workspace: "acme",
			opts:      &RepositoryListOptions{Query: `updated_on > 2024-01-01T00:00:00Z AND is_private = true`, PageLen: 50},
			wantPath:  "/repositories/acme",
			wantQuery: url.Values{"pagelen": {"50"}, "fields": {repositoryFields}, "q": {`updated_on > 2024-01-01T00:00:00Z AND is_private = true`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var calls atomic.Int64
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				testMethod(t, r, http.MethodGet)
				if got := r.URL.EscapedPath(); got != tt.wantPath {
					t.Errorf("escaped path = %q; want %q", got, tt.wantPath)
				}
				testFormValues(t, r, tt.wantQuery)
				writeJSON(w, 200, []byte(`{"values":[]}`))
			})
			if _, err := collect(t, c.ListRepositoriesIter(t.Context(), tt.workspace, tt.opts)); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 1 {
				t.Errorf("requests = %d; want 1", calls.Load())
			}
		})
	}
}

func TestClient_ListRepositories_fixture(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	mux.HandleFunc("GET /repositories/acme-corp", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, fixture(t, "repositories.acme-corp.json", base))
	})
	got, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme-corp", nil))
	if err != nil {
		t.Fatal(err)
	}
	pay := Project{Key: "PAY", Name: "Payments", UUID: "{5d1e4c1f-6a2b-4c3d-8e9f-0a1b2c3d4e5f}"}
	want := []Repository{
		{
			Slug: "payments-api", Name: "Payments API", FullName: "acme-corp/payments-api", Workspace: "acme-corp",
			IsPrivate: true, MainBranch: "main",
			UpdatedOn: time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC), Project: pay,
		},
		{
			Slug: "web-frontend-fork", Name: "Web Frontend (fork)", FullName: "acme-corp/web-frontend-fork", Workspace: "acme-corp",
			MainBranch: "develop", IsFork: true,
			UpdatedOn: time.Date(2025, 12, 1, 17, 0, 0, 0, time.UTC),
			Project:   Project{Key: "WEB", Name: "Web", UUID: "{6e2f5d20-7b3c-4d4e-9fa0-1b2c3d4e5f60}"},
		},
		{
			Slug: "empty-repo", Name: "empty repo", FullName: "acme-corp/empty-repo", Workspace: "acme-corp",
			IsPrivate: true, MainBranch: "",
			UpdatedOn: time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), Project: pay,
		},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("ListRepositoriesIter mismatch (-want +got):\n%s", diff)
	}
}

func TestRepositoryJSON_fallbacks(t *testing.T) {
	t.Parallel()
	// A body without slug or workspace (e.g. a narrower fields list).
	got := repositoryJSON{Name: "X", FullName: "acme/x-repo"}.toRepository("{uuid}")
	want := Repository{Slug: "x-repo", Name: "X", FullName: "acme/x-repo", Workspace: "acme"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("toRepository mismatch (-want +got):\n%s", diff)
	}
}

// servePages serves hand-written pages in order from /repositories/acme?page=N;
// a "{next:K}" marker in a page becomes an absolute link to page K.
func servePages(t *testing.T, mux *http.ServeMux, base string, pages map[int]string) *atomic.Int64 {
	t.Helper()
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		page := 1
		if v := r.URL.Query().Get("page"); v != "" {
			page, _ = strconv.Atoi(v)
		}
		body, ok := pages[page]
		if !ok {
			t.Errorf("unexpected request for page %d", page)
			writeJSON(w, 404, []byte(`{}`))
			return
		}
		for k := range 10 {
			body = strings.ReplaceAll(body, fmt.Sprintf("{next:%d}", k), fmt.Sprintf("%s/repositories/acme?page=%d", base, k))
		}
		writeJSON(w, 200, []byte(body))
	})
	return &requests
}

// A listing is whole or an error: a next that loops, an empty page that
// links further, a size that disagrees with what was served. The quirks
// reported of real Bitbucket (a last page linking back to itself, an empty
// last page with a next) end a listing whose size vouches for it.
func TestClient_ListRepositories_stops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		pages        map[int]string
		wantSlugs    []string
		wantRequests int64
		wantErr      listing.Reason
	}{
		{
			name: "next repeats the page just fetched, size agrees (BCLOUD-22441)",
			pages: map[int]string{
				1: `{"size":2,"values":[{"slug":"a"}],"next":"{next:2}"}`,
				2: `{"size":2,"values":[{"slug":"b"}],"next":"{next:2}"}`,
			},
			wantSlugs: []string{"a", "b"}, wantRequests: 2,
		},
		{
			name: "next repeats the page just fetched, no size",
			pages: map[int]string{
				1: `{"values":[{"slug":"a"}],"next":"{next:2}"}`,
				2: `{"values":[{"slug":"b"}],"next":"{next:2}"}`,
			},
			wantSlugs: []string{"a", "b"}, wantRequests: 2, wantErr: listing.RepeatedCursor,
		},
		{
			name: "next loops back to an earlier page",
			pages: map[int]string{
				1: `{"values":[{"slug":"a"}],"next":"{next:2}"}`,
				2: `{"values":[{"slug":"b"}],"next":"{next:3}"}`,
				3: `{"values":[{"slug":"c"}],"next":"{next:2}"}`,
			},
			wantSlugs: []string{"a", "b", "c"}, wantRequests: 3, wantErr: listing.RepeatedCursor,
		},
		{
			name: "empty middle page",
			pages: map[int]string{
				1: `{"size":3,"values":[{"slug":"a"}],"next":"{next:2}"}`,
				2: `{"size":3,"values":[],"next":"{next:3}"}`,
			},
			wantSlugs: []string{"a"}, wantRequests: 2, wantErr: listing.EmptyPage,
		},
		{
			name: "empty last page with a next, size agrees",
			pages: map[int]string{
				1: `{"size":1,"values":[{"slug":"a"}],"next":"{next:2}"}`,
				2: `{"size":1,"values":[],"next":"{next:3}"}`,
			},
			wantSlugs: []string{"a"}, wantRequests: 2,
		},
		{
			name: "next missing while size says more",
			pages: map[int]string{
				1: `{"size":500,"values":[{"slug":"a"},{"slug":"b"}]}`,
			},
			wantSlugs: []string{"a", "b"}, wantRequests: 1, wantErr: listing.SizeMismatch,
		},
		{
			name: "the same repository twice",
			pages: map[int]string{
				1: `{"values":[{"slug":"a","uuid":"{1}"}],"next":"{next:2}"}`,
				2: `{"values":[{"slug":"a","uuid":"{1}"}]}`,
			},
			wantSlugs: []string{"a"}, wantRequests: 2, wantErr: listing.RepeatedItem,
		},
		{
			name: "no size, no next",
			pages: map[int]string{
				1: `{"values":[{"slug":"a"},{"slug":"b"}]}`,
			},
			wantSlugs: []string{"a", "b"}, wantRequests: 1,
		},
		{
			name: "null values",
			pages: map[int]string{
				1: `{"values":null,"next":"{next:2}"}`,
			},
			wantSlugs: nil, wantRequests: 1, wantErr: listing.EmptyPage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, base := setup(t)
			requests := servePages(t, mux, base, tt.pages)
			repos, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil))
			var ie *listing.IncompleteError
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (!errors.As(err, &ie) || ie.Reason != tt.wantErr):
				t.Fatalf("error %v; want an incomplete listing (%s)", err, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), "repositories of workspace acme"):
				t.Errorf("error %q does not name the workspace", err)
			}
			var slugs []string
			for _, r := range repos {
				slugs = append(slugs, r.Slug)
			}
			if diff := cmp.Diff(tt.wantSlugs, slugs); diff != "" {
				t.Errorf("slugs mismatch (-want +got):\n%s", diff)
			}
			if got := requests.Load(); got != tt.wantRequests {
				t.Errorf("requests = %d; want %d", got, tt.wantRequests)
			}
		})
	}
}

func TestClient_ListRepositories_nextAsGiven(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	// An opaque, oddly encoded cursor must reach the server byte for byte.
	const rawQuery = "page=abc%2Fdef%3D%3D&pagelen=100&fields=next%2Cvalues.slug"
	var second atomic.Int64
	mux.HandleFunc("GET /repositories/{ws}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "" {
			writeJSON(w, 200, []byte(`{"values":[{"slug":"a"}],"next":"`+base+`/repositories/%7Bws%7D?`+rawQuery+`"}`))
			return
		}
		second.Add(1)
		if r.URL.RawQuery != rawQuery {
			t.Errorf("next query = %q; want %q", r.URL.RawQuery, rawQuery)
		}
		if got := r.URL.EscapedPath(); got != "/repositories/%7Bws%7D" {
			t.Errorf("next path = %q", got)
		}
		writeJSON(w, 200, []byte(`{"values":[{"slug":"b"}]}`))
	})
	repos, err := collect(t, c.ListRepositoriesIter(t.Context(), "{ws}", nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 2 || second.Load() != 1 {
		t.Errorf("got %d repos, %d second-page requests; want 2, 1", len(repos), second.Load())
	}
}

func TestClient_ListRepositories_relativeNext(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "" {
			writeJSON(w, 200, []byte(`{"values":[{"slug":"a"}],"next":"acme?page=2"}`))
			return
		}
		writeJSON(w, 200, []byte(`{"values":[{"slug":"b"}]}`))
	})
	repos, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil))
	if err != nil || len(repos) != 2 {
		t.Fatalf("got %d repos, err %v; want 2, nil", len(repos), err)
	}
}

func TestClient_ListRepositories_nextOtherHost(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		writeJSON(w, 200, []byte(`{"values":[{"slug":"a"}],"next":"https://evil.example/2.0/repositories/acme?page=2"}`))
	})
	var errs []error
	n := 0
	for _, err := range c.ListRepositoriesIter(t.Context(), "acme", nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if len(errs) != 1 || n != 0 {
		t.Fatalf("got %d repos and errors %v; want 0 repos and one error (the page is not trusted)", n, errs)
	}
	if got := errs[0].Error(); !strings.Contains(got, "https://evil.example, outside the base URL") {
		t.Errorf("error = %q; want it to name the foreign host", got)
	}
	if requests.Load() != 1 {
		t.Errorf("requests = %d; want 1", requests.Load())
	}
}

func TestClient_ListRepositories_breakEarly(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	requests := serveRepos(t, mux, base, "acme", 250)
	for range c.ListRepositoriesIter(t.Context(), "acme", nil) {
		break
	}
	if got := requests.Load(); got != 1 {
		t.Errorf("requests = %d; want 1", got)
	}
}

func TestClient_ListRepositories_cancel(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	requests := serveRepos(t, mux, base, "acme", 250)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var n int
	var gotErr error
	for _, err := range c.ListRepositoriesIter(ctx, "acme", nil) {
		if err != nil {
			gotErr = err
			continue
		}
		n++
		cancel()
	}
	if n != 1 || !errors.Is(gotErr, context.Canceled) {
		t.Errorf("after cancel: %d repos, err %v; want 1 repo then context.Canceled", n, gotErr)
	}
	if got := requests.Load(); got != 1 {
		t.Errorf("requests = %d; want 1", got)
	}
}

func TestClient_ListRepositories_invalidWorkspace(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t)
	for _, ws := range []string{"", ".", ".."} {
		_, err := collect(t, c.ListRepositoriesIter(t.Context(), ws, nil))
		if err == nil {
			t.Errorf("ListRepositoriesIter(%q) error = nil; want an error", ws)
		}
	}
}

func TestClient_ListRepositoriesPage(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	requests := serveRepos(t, mux, base, "acme", 150)
	ctx := t.Context()
	first, resp, err := c.ListRepositories(ctx, "acme", nil, "")
	if err != nil || len(first) != 100 || resp.NextURL == "" {
		t.Fatalf("first page: %d repos, next %q, err %v", len(first), resp.NextURL, err)
	}
	second, resp, err := c.ListRepositories(ctx, "acme", nil, resp.NextURL)
	if err != nil || len(second) != 50 || resp.NextURL != "" {
		t.Fatalf("second page: %d repos, next %q, err %v", len(second), resp.NextURL, err)
	}
	if second[0].Slug != "repo-0100" || requests.Load() != 2 {
		t.Errorf("second[0] = %q after %d requests", second[0].Slug, requests.Load())
	}
}

// A body over the limit said "unexpected EOF" (the decoder hit the end of a
// silently cut body); it says why now.
func TestClient_ListRepositories_bodyOverLimit(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	chunk := []byte(strings.Repeat(`{"slug":"r"},`, 4096))
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"values":[`))
		for sent := 0; sent <= 40<<20; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	_, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil))
	if err == nil || !strings.HasSuffix(err.Error(), ": response over 32 MiB") {
		t.Fatalf("error %v; want one ending in %q", err, ": response over 32 MiB")
	}
}

// A next link that is new on every page was followed forever (only exact
// repeats stopped it).
func TestClient_ListRepositories_endlessUniqueNext(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	c.maxPages = 50
	var requests atomic.Int64
	mux.HandleFunc("GET /repositories/acme", func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		fmt.Fprintf(w, `{"values":[{"slug":"r%d"}],"next":"%s/repositories/acme?page=%d"}`, n, base, n+1)
	})
	repos, err := collect(t, c.ListRepositoriesIter(t.Context(), "acme", nil))
	var ie *listing.IncompleteError
	if !errors.As(err, &ie) || ie.Reason != listing.PageCap || ie.Pages != 50 {
		t.Fatalf("error %v; want the page cap after 50 pages", err)
	}
	if len(repos) != 50 || requests.Load() != 50 {
		t.Errorf("%d repositories from %d requests; want 50 from 50", len(repos), requests.Load())
	}
}

// hasRepositories is one request of one repository: a listing call the
// auth and fuzz tests make when any request will do.
func hasRepositories(ctx context.Context, c *Client, workspace string) (bool, error) {
	repos, _, err := c.ListRepositories(ctx, workspace, &RepositoryListOptions{PageLen: 1}, "")
	return len(repos) > 0, err
}
