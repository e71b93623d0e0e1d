package snyk

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bbimport/bbimport/internal/listing"
)

// A server inventing a new next page (or new orgs) on every page is followed
// only up to the page cap, then the listing fails saying so.
func TestClient_listingsStopAtThePageCap(t *testing.T) {
	t.Parallel()
	t.Run("REST projects, a new links.next every page", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		c.maxPages = 20
		var calls atomic.Int32
		mux.HandleFunc("GET /rest/orgs/{orgId}/projects", func(w http.ResponseWriter, r *http.Request) {
			n := calls.Add(1)
			fmt.Fprintf(w, `{"data":[{"id":"p%d","attributes":{"name":"n","origin":"bitbucket-cloud"}}],"links":{"next":"/rest/orgs/o1/projects?version=%s&starting_after=c%d"}}`, n, DefaultRESTVersion, n)
		})
		got, err := collectProjects(t, c, "o1", nil)
		var ie *listing.IncompleteError
		if !errors.As(err, &ie) || ie.Reason != listing.PageCap || !strings.Contains(err.Error(), "projects of org o1") {
			t.Fatalf("error %v; want the page cap", err)
		}
		if len(got) != 20 || calls.Load() != 20 {
			t.Errorf("%d projects from %d requests; want 20 from 20", len(got), calls.Load())
		}
	})
	t.Run("group orgs, new orgs on every page", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		c.maxPages = 5
		var calls atomic.Int32
		mux.HandleFunc("GET /group/{groupId}/orgs", groupOrgsHandler(t, 1<<20, &calls))
		n := 0
		var err error
		for _, e := range c.ListGroupOrgsIter(t.Context(), testGroupID) {
			if err = e; err != nil {
				break
			}
			n++
		}
		if err == nil || !strings.Contains(err.Error(), "stopped after 5 pages of the orgs of group") {
			t.Fatalf("error %v; want the page cap", err)
		}
		if n != 500 || calls.Load() != 5 {
			t.Errorf("%d orgs from %d requests; want 500 from 5", n, calls.Load())
		}
	})
}
