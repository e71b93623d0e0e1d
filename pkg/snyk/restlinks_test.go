package snyk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestRESTLink_forms: LinkProperty is a string or an object {href, meta} in
// Snyk's REST OpenAPI; both decode to the URL, null and absence to "".
func TestRESTLink_forms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       restLinks
		wantErr    bool
	}{
		{name: "strings", body: `{"self":"/orgs/o/projects?limit=100","next":"/orgs/o/projects?starting_after=x","prev":"/orgs/o/projects?ending_before=y"}`,
			want: restLinks{Self: "/orgs/o/projects?limit=100", Next: "/orgs/o/projects?starting_after=x", Prev: "/orgs/o/projects?ending_before=y"}},
		{name: "objects", body: `{"self":{"href":"/orgs/o/projects","meta":{}},"next":{"href":"/orgs/o/projects?starting_after=x","meta":{"count":3}}}`,
			want: restLinks{Self: "/orgs/o/projects", Next: "/orgs/o/projects?starting_after=x"}},
		{name: "mixed", body: `{"self":"/orgs/o/targets","next":{"href":"/orgs/o/targets?starting_after=x"},"first":"/orgs/o/targets","last":{"href":null}}`,
			want: restLinks{Self: "/orgs/o/targets", Next: "/orgs/o/targets?starting_after=x", First: "/orgs/o/targets"}},
		{name: "null and missing", body: `{"self":"/orgs/o/projects","next":null}`, want: restLinks{Self: "/orgs/o/projects"}},
		{name: "object without href", body: `{"next":{"meta":{}}}`, want: restLinks{}},
		{name: "number", body: `{"next":42}`, wantErr: true},
		{name: "array", body: `{"next":["/orgs/o"]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got restLinks
			err := json.Unmarshal([]byte(tt.body), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestClient_ListProjects_linkObjects follows `links.next` given as an
// object on every page (the form that once failed with "cannot unmarshal
// object").
func TestClient_ListProjects_linkObjects(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	calls := 0
	mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
		calls++
		i := 0
		fmt.Sscan(r.URL.Query().Get("page"), &i)
		links := map[string]any{"self": map[string]any{"href": r.URL.RequestURI(), "meta": map[string]any{}}}
		if i < 2 {
			links["next"] = map[string]any{"href": fmt.Sprintf("/orgs/%s/projects?version=2024-10-15&limit=100&page=%d", testOrgID, i+1), "meta": map[string]any{}}
		}
		b, _ := json.Marshal(map[string]any{
			"data":  []any{map[string]any{"id": fmt.Sprint("p", i), "attributes": map[string]any{"name": "w/r", "origin": "bitbucket-cloud"}}},
			"links": links,
		})
		_, _ = w.Write(b)
	})
	got, err := collectProjects(t, c, testOrgID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || calls != 3 {
		t.Errorf("%d projects in %d requests, want 3 in 3", len(got), calls)
	}
}

// TestRESTLimit: REST accepts `limit` from 10 to 100 in steps of 10, and
// every listing sends one of those (ProjectsPerPage included).
func TestRESTLimit(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]int{-5: 10, 0: 10, 1: 10, 14: 10, 15: 20, 20: 20, 99: 100, 100: 100, 101: 100, 1000: 100} {
		if got := restLimit(n); got != want {
			t.Errorf("restLimit(%d) = %d, want %d", n, got, want)
		}
	}
	for n := -20; n <= 300; n++ {
		if got := restLimit(n); got < 10 || got > 100 || got%10 != 0 {
			t.Fatalf("restLimit(%d) = %d: outside 10–100 in steps of 10", n, got)
		}
	}
	if restLimit(ProjectsPerPage) != ProjectsPerPage {
		t.Errorf("ProjectsPerPage = %d is not a limit REST accepts", ProjectsPerPage)
	}
}
