package snyk

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestReplayFixtures replays the published-shape payloads that no other test
// of this package serves, and fails when fixtures/snyk gains a file that no
// test here reads, so every payload we claim to handle is decoded somewhere.
func TestReplayFixtures(t *testing.T) {
	t.Parallel()
	t.Run("import-job-complete-failed-entry.json", func(t *testing.T) {
		t.Parallel()
		c, mux, srv := setup(t)
		path := "org/" + testOrgID + "/integrations/" + testIntID + "/import/" + testJobID
		mux.HandleFunc("GET /"+path, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, fixture(t, "import-job-complete-failed-entry.json"))
		})
		job, err := c.GetImportJob(t.Context(), srv.URL+baseURLPath+"/"+path)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != JobComplete || len(job.Logs) != 1 || job.Logs[0].Status != "failed" || len(job.Logs[0].Projects) != 0 {
			t.Errorf("job = %+v; want complete with one failed log entry and no projects", job)
		}
	})
	t.Run("rest-error-bad-limit.json", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(fixture(t, "rest-error-bad-limit.json"))
		})
		_, err := collectProjects(t, c, testOrgID, nil)
		if err == nil || !strings.Contains(err.Error(), "limit must be a multiple of 10") {
			t.Errorf("error = %v; want the JSON:API detail", err)
		}
	})
	t.Run("rest-projects-links-object.json", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		var calls atomic.Int32
		var after atomic.Value
		mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/vnd.api+json")
			if a := r.URL.Query().Get("starting_after"); a != "" {
				after.Store(a)
				_, _ = w.Write([]byte(`{"jsonapi":{"version":"1.0"},"data":[],"links":{"self":{"href":"/orgs/x/projects"}}}`))
				return
			}
			_, _ = w.Write(fixture(t, "rest-projects-links-object.json"))
		})
		got, err := collectProjects(t, c, testOrgID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].TargetFile != "go.mod" || calls.Load() != 2 {
			t.Errorf("got %d projects (%+v) in %d requests; want go.mod in 2", len(got), got, calls.Load())
		}
		if a, _ := after.Load().(string); a != "v1.eyJpZCI6ImU0YjFjMmQzIn0=" {
			t.Errorf("second page starting_after = %q; want the cursor of links.next.href", a)
		}
	})
	t.Run("every fixture is read", func(t *testing.T) {
		t.Parallel()
		tests, _ := filepath.Glob("*_test.go")
		var src strings.Builder
		for _, f := range tests {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
		files, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "snyk", "*.json"))
		for _, f := range files {
			if !strings.Contains(src.String(), `"`+filepath.Base(f)+`"`) {
				t.Errorf("fixtures/snyk/%s is read by no test of pkg/snyk", filepath.Base(f))
			}
		}
	})
}
