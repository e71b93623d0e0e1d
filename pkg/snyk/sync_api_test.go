package snyk

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClient_ListTargets_linkForms(t *testing.T) {
	t.Parallel()
	// links.next as a string, then as an object {href, meta}: JSON:API
	// allows both.
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /rest/orgs/{orgId}/targets", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Accept", "application/vnd.api+json")
		w.Header().Set("Content-Type", "application/vnd.api+json")
		switch r.URL.Query().Get("starting_after") {
		case "":
			_, _ = io.WriteString(w, `{"data":[{"id":"t1","type":"target","attributes":{"display_name":"ws/a","url":null,"is_private":true,"created_at":"2024-01-01T00:00:00Z"}}],
				"links":{"next":"/rest/orgs/`+testOrgID+`/targets?version=2024-10-15&limit=100&starting_after=x"}}`)
		case "x":
			_, _ = io.WriteString(w, `{"data":[{"id":"t2","type":"target","attributes":{"displayName":"ws/b","url":"https://bitbucket.org/ws/b"}}],
				"links":{"next":{"href":"/rest/orgs/`+testOrgID+`/targets?version=2024-10-15&limit=100&starting_after=y","meta":{}}}}`)
		default:
			_, _ = io.WriteString(w, `{"data":[],"links":{}}`)
		}
	})
	var got []Target
	for tg, err := range c.ListTargetsIter(t.Context(), testOrgID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tg)
	}
	want := []Target{
		{ID: "t1", DisplayName: "ws/a", IsPrivate: true, CreatedAt: "2024-01-01T00:00:00Z"},
		{ID: "t2", DisplayName: "ws/b", URL: "https://bitbucket.org/ws/b"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListTargetsIter (-want +got):\n%s", diff)
	}
}

func TestClient_projectWrites(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var seen []string
	record := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.URL.RawQuery+" "+string(b))
		if r.Method == http.MethodDelete && r.PathValue("projectId") == "gone" {
			http.Error(w, `{"errors":[{"status":"404"}]}`, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
	mux.HandleFunc("PUT /org/{orgId}/project/{projectId}", record)
	mux.HandleFunc("POST /org/{orgId}/project/{projectId}/deactivate", record)
	mux.HandleFunc("DELETE /rest/orgs/{orgId}/projects/{projectId}", record)
	ctx := t.Context()
	if err := c.UpdateProjectBranch(ctx, testOrgID, "p1", "develop"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeactivateProject(ctx, testOrgID, "p2"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteProject(ctx, testOrgID, "p3"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteProject(ctx, testOrgID, "gone"); err != nil {
		t.Errorf("delete of a project already gone: %v, want success", err)
	}
	want := []string{
		"PUT /org/" + testOrgID + "/project/p1  {\"branch\":\"develop\"}",
		"POST /org/" + testOrgID + "/project/p2/deactivate  {}",
		"DELETE /rest/orgs/" + testOrgID + "/projects/p3 version=" + DefaultRESTVersion + " ",
		"DELETE /rest/orgs/" + testOrgID + "/projects/gone version=" + DefaultRESTVersion + " ",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if err := c.UpdateProjectBranch(ctx, testOrgID, "p1", ""); err == nil {
		t.Error("empty branch: want an error")
	}
}

// TestClient_projectWritesNotRetriedAfter500: a write that may have acted
// is sent once; 503 (Snyk did not act) is retried.
func TestClient_projectWritesNotRetriedAfter500(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		want   int32
	}{{http.StatusInternalServerError, 1}, {http.StatusServiceUnavailable, 4}} {
		c, mux := setupWithStack(t)
		var n atomic.Int32
		mux.HandleFunc("POST /org/{orgId}/project/{projectId}/deactivate", func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(tc.status)
		})
		if err := c.DeactivateProject(t.Context(), testOrgID, "p"); err == nil {
			t.Errorf("%d: want an error", tc.status)
		}
		if got := n.Load(); got != tc.want {
			t.Errorf("%d: sent %d times, want %d", tc.status, got, tc.want)
		}
	}
}
