package bitbucket_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestListingReusesConnections: listing pages one after another keeps one
// connection. Found by make bench (issue 5): the body was closed with the end
// of a chunked page unread, so every page paid a new TCP (and TLS)
// handshake. Both httpx (which now reads a GET's body whole) and Client.get
// (which drains before closing) guard against it.
func TestListingReusesConnections(t *testing.T) {
	s := sim.New(sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: sim.Estate(3, 250)}})
	var conns atomic.Int64
	// Pages are chunked (too big to buffer); holding back the last chunk a
	// little makes the decoder finish before it arrives, as on a real network.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		w.(http.Flusher).Flush()
		time.Sleep(5 * time.Millisecond)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s.URL = srv.URL
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	for i := 1; i <= 3; i++ {
		n := 0
		for _, err := range c.ListRepositoriesIter(t.Context(), fmt.Sprintf("ws-%03d", i), nil) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 250 {
			t.Fatalf("ws-%03d: %d repositories, want 250", i, n)
		}
	}
	// One for the token exchange (its own client), one for the 9 pages.
	if pages, got := s.Count("bitbucket.repositories_pages"), conns.Load(); got > 2 {
		t.Errorf("%d pages over %d new connections, want at most 2 (one per client)", pages, got)
	}
}
