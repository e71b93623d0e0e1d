package bitbucket_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestSimulator_QueuedRequestsOutliveShortTokens: 2 s tokens and a server
// that handles one request at a time (150 ms each, 8 workers, so a request
// queues about 1.2 s and its token is checked only when its turn comes).
// Requests sent late in a token's life arrive expired, and so can their
// first retry; every workspace must still be listed in full.
func TestSimulator_QueuedRequestsOutliveShortTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 6 s")
	}
	const workspaces, repos, workers = 16, 150, 8
	specs := make([]sim.WorkspaceSpec, workspaces)
	for i := range specs {
		specs[i] = sim.WorkspaceSpec{Slug: fmt.Sprintf("ws-%02d", i), Repos: repos}
	}
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{
		Workspaces: specs, TokenTTL: 2 * time.Second, SerialHandling: 150 * time.Millisecond,
	}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		listed = map[string]int{}
		sem    = make(chan struct{}, workers)
	)
	for _, w := range specs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			n := 0
			for _, err := range c.ListRepositoriesIter(t.Context(), w.Slug, nil) {
				if err != nil {
					t.Errorf("ListRepositories(%s): %v", w.Slug, err)
					return
				}
				n++
			}
			mu.Lock()
			listed[w.Slug] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, w := range specs {
		if listed[w.Slug] != repos {
			t.Errorf("%s: listed %d repositories, want %d", w.Slug, listed[w.Slug], repos)
		}
	}
	// The scenario must really have made tokens expire in the queue, or the
	// test proves nothing.
	rejected, pages := s.Count("bitbucket.401"), s.Count("bitbucket.repositories_pages")
	if rejected == 0 {
		t.Errorf("the simulator refused no expired token; the queue did not outlast a token")
	}
	if want := int64(workspaces * 2); pages != want {
		t.Errorf("repository pages = %d, want %d (each once)", pages, want)
	}
	t.Logf("%d pages, %d refused as expired and retried, %d token exchanges", pages, rejected, s.Count("bitbucket.token_exchanges"))
}
