package snyk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bbimport/bbimport/internal/listing"
	"github.com/google/go-cmp/cmp"
)

func collectProjects(t *testing.T, c *Client, orgID string, opts *ProjectListOptions) ([]Project, error) {
	t.Helper()
	var got []Project
	for p, err := range c.ListProjectsIter(t.Context(), orgID, opts) {
		if err != nil {
			return got, err
		}
		got = append(got, p)
	}
	return got, nil
}

func TestClient_ListProjects_fixtures(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		testHeader(t, r, "Authorization", "token "+testToken)
		testHeader(t, r, "Accept", "application/vnd.api+json")
		if r.PathValue("orgId") != testOrgID {
			t.Errorf("org id = %q", r.PathValue("orgId"))
		}
		q := r.URL.Query()
		if q.Get("starting_after") == "" {
			testFormValues(t, r, url.Values{"version": {DefaultRESTVersion}, "limit": {"100"}})
			w.Header().Set("Content-Type", "application/vnd.api+json")
			_, _ = w.Write(fixture(t, "rest-projects-page-1.json"))
			return
		}
		testFormValues(t, r, url.Values{"version": {DefaultRESTVersion}, "limit": {"100"}, "starting_after": {"v1.eyJpZCI6IjdiMmMxZTkwIn0="}})
		_, _ = w.Write(fixture(t, "rest-projects-page-2.json"))
	})
	got, err := collectProjects(t, c, testOrgID, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Project{
		{ID: "331ede0a-de94-456f-b788-166caeca58bf", Name: "acme/api:package.json", Origin: "bitbucket-cloud-app", Branch: "main",
			Type: "npm", TargetFile: "package.json", Status: "active", Created: "2024-11-05T09:46:02.014Z", TargetID: "6d5813be-7e6d-4ab8-80c2-1e3e2a454545"},
		{ID: "7b2c1e90-5a4f-4e5e-9d71-0c3f2a8b6d14", Name: "acme/legacy-portal", Origin: "bitbucket-cloud", Branch: "master",
			Type: "maven", TargetFile: "pom.xml", Status: "active", Created: "2023-02-14T16:20:11.530Z", TargetID: "0e6b1d2c-3f4a-4b5c-8d9e-a1b2c3d4e5f6"},
		{ID: "c0ffee00-1111-4222-8333-444455556666", Name: "acme/api:services/worker/go.mod", Origin: "bitbucket-cloud-app", Branch: "main",
			Type: "gomodules", TargetFile: "services/worker/go.mod", Status: "active", Created: "2024-11-05T09:46:03.871Z", TargetID: "6d5813be-7e6d-4ab8-80c2-1e3e2a454545"},
		{ID: "d15ea5e0-aaaa-4bbb-8ccc-ddddeeeeffff", Name: "acme-corp/website", Origin: "github",
			Type: "npm", TargetFile: "package.json", Status: "inactive", Created: "2022-08-30T07:03:44.002Z", TargetID: "99999999-8888-4777-8666-555544443333"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListProjectsIter mismatch (-want +got):\n%s", diff)
	}
	if calls.Load() != 2 {
		t.Errorf("requests = %d; want 2", calls.Load())
	}
}

func TestClient_ListProjects_origins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		origins     []string
		wantOrigins string // the origins= query value sent
		wantIDs     []string
	}{
		{name: "none", origins: nil, wantIDs: []string{"p1", "p2", "p3"}},
		{name: "one is sent", origins: []string{"bitbucket-cloud"}, wantOrigins: "bitbucket-cloud", wantIDs: []string{"p2"}},
		{name: "two are filtered here", origins: []string{"bitbucket-cloud", "bitbucket-cloud-app"}, wantIDs: []string{"p1", "p2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if got := q.Get("origins"); got != tt.wantOrigins {
					t.Errorf("origins = %q; want %q", got, tt.wantOrigins)
				}
				if _, ok := q["origins"]; !ok && tt.wantOrigins != "" || ok && tt.wantOrigins == "" {
					t.Errorf("origins present = %v; want %v", ok, tt.wantOrigins != "")
				}
				// This server ignores the filter, as a lenient API version might.
				_, _ = w.Write([]byte(`{"data":[
					{"id":"p1","attributes":{"name":"w/a","origin":"bitbucket-cloud-app"}},
					{"id":"p2","attributes":{"name":"w/b","origin":"bitbucket-cloud"}},
					{"id":"p3","attributes":{"name":"w/c","origin":"github"}}],"links":{}}`))
			})
			got, err := collectProjects(t, c, testOrgID, &ProjectListOptions{Origins: tt.origins})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("project ids mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// projectsServer serves pages of one project each; next(i) gives the
// links.next of page i ("" for none).
func projectsServer(t *testing.T, mux *http.ServeMux, pages int, next func(i int) string) *atomic.Int32 {
	var calls atomic.Int32
	mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Query().Get("version") == "" {
			t.Errorf("request %s has no version", r.URL)
		}
		i := 0
		fmt.Sscan(r.URL.Query().Get("page"), &i)
		if i >= pages {
			t.Errorf("page %d requested; only %d exist", i, pages)
			_, _ = w.Write([]byte(`{"data":[]}`))
			return
		}
		body := map[string]any{
			"data":  []any{map[string]any{"id": fmt.Sprint("p", i), "attributes": map[string]any{"name": "w/r", "origin": "bitbucket-cloud"}}},
			"links": map[string]any{"next": next(i)},
		}
		b, _ := json.Marshal(body)
		_, _ = w.Write(b)
	})
	return &calls
}

func TestClient_ListProjects_linksNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		pages     int
		next      func(srvURL string, i int) string
		wantCalls int32
	}{
		{
			name: "host-relative /rest/ links", pages: 3, wantCalls: 3,
			next: func(_ string, i int) string {
				if i == 2 {
					return ""
				}
				return fmt.Sprintf("/rest/orgs/%s/projects?version=2024-10-15&limit=100&page=%d", testOrgID, i+1)
			},
		},
		{
			name: "REST-relative /orgs/ links", pages: 3, wantCalls: 3,
			next: func(_ string, i int) string {
				if i == 2 {
					return ""
				}
				return fmt.Sprintf("/orgs/%s/projects?version=2024-10-15&limit=100&page=%d", testOrgID, i+1)
			},
		},
		{
			name: "absolute links on the same host", pages: 2, wantCalls: 2,
			next: func(srv string, i int) string {
				if i == 1 {
					return ""
				}
				return fmt.Sprintf("%s/rest/orgs/%s/projects?version=2024-10-15&page=%d", srv, testOrgID, i+1)
			},
		},
		{
			name: "absolute link on another host is re-rooted", pages: 2, wantCalls: 2,
			next: func(_ string, i int) string {
				if i == 1 {
					return ""
				}
				return fmt.Sprintf("https://elsewhere.example.com/rest/orgs/%s/projects?version=2024-10-15&page=%d", testOrgID, i+1)
			},
		},
		{
			name: "next without version gets it back", pages: 2, wantCalls: 2,
			next: func(_ string, i int) string {
				if i == 1 {
					return ""
				}
				return fmt.Sprintf("/rest/orgs/%s/projects?page=%d", testOrgID, i+1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, srv := setup(t)
			calls := projectsServer(t, mux, tt.pages, func(i int) string { return tt.next(srv.URL, i) })
			got, err := collectProjects(t, c, testOrgID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if int32(len(got)) != tt.wantCalls || calls.Load() != tt.wantCalls {
				t.Errorf("got %d projects in %d requests; want %d in %d", len(got), calls.Load(), tt.wantCalls, tt.wantCalls)
			}
		})
	}
}

// A listing that is not whole is an error, never a shorter list: a next
// back to a page already fetched, and the first page served again under a
// new cursor (every project twice: an org's guard base would double). An
// empty page that links further is followed (REST filters after paging).
func TestClient_ListProjects_incomplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		page      func(n int32) string
		want      listing.Reason
		wantCalls int32
	}{
		{"next back to the first page", func(n int32) string {
			return fmt.Sprintf(`{"data":[{"id":"p%d","attributes":{"name":"n"}}],"links":{"next":"/rest/orgs/o/projects?version=2024-10-15"}}`, n)
		}, listing.RepeatedCursor, 2},
		{"the first page again under a new cursor", func(n int32) string {
			return fmt.Sprintf(`{"data":[{"id":"p1","attributes":{"name":"n"}}],"links":{"next":"/rest/orgs/o/projects?version=2024-10-15&starting_after=%d"}}`, n)
		}, listing.RepeatedItem, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var calls atomic.Int32
			mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, tc.page(calls.Add(1)))
			})
			_, err := collectProjects(t, c, "o", nil)
			var ie *listing.IncompleteError
			if !errors.As(err, &ie) || ie.Reason != tc.want || !strings.Contains(err.Error(), "projects of org o") {
				t.Fatalf("error %v; want an incomplete listing (%s) naming the org", err, tc.want)
			}
			if calls.Load() != tc.wantCalls {
				t.Errorf("%d requests; want %d", calls.Load(), tc.wantCalls)
			}
		})
	}
}

func TestClient_ListProjects_emptyPageIsFollowed(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			fmt.Fprint(w, `{"data":[],"links":{"next":"/rest/orgs/o/projects?version=2024-10-15&starting_after=1"}}`)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":"p1","attributes":{"name":"n"}}],"links":{}}`)
	})
	got, err := collectProjects(t, c, "o", nil)
	if err != nil || len(got) != 1 || calls.Load() != 2 {
		t.Errorf("got %d projects, err %v, in %d requests; want 1, nil, 2", len(got), err, calls.Load())
	}
}

func TestClient_ListProjects_unauthorized(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(fixture(t, "rest-error-unauthorized.json"))
	})
	_, err := collectProjects(t, c, testOrgID, nil)
	if !IsAuthError(err) {
		t.Fatalf("IsAuthError(%v) = false; want true", err)
	}
	for _, want := range []string{
		`Snyk rejected the token (401) for org "` + testOrgID + `"`,
		"Authentication credentials not recognized",
		"(SNYK-0005)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestClient_ListProjects_restVersionOption(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithRESTVersion("2023-06-01~beta"))
	mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("version"); got != "2023-06-01~beta" {
			t.Errorf("version = %q; want 2023-06-01~beta", got)
		}
		_, _ = w.Write([]byte(`{"data":[{"id":"p","attributes":{"name":"w/r","origin":"bitbucket-cloud","targetReference":"develop"}}]}`))
	})
	got, err := collectProjects(t, c, testOrgID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Branch != "develop" {
		t.Errorf("projects = %+v; want one with branch develop (read from targetReference)", got)
	}
}
