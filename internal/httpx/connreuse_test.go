package httpx

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentBurstsReuseConnections: 50 workers against one host keep
// their connections between bursts. Found by make bench (issue 5): with Go's
// default of 2 idle connections per host, about half of all Snyk requests of
// an import with 50 workers opened a new connection.
func TestConcurrentBurstsReuseConnections(t *testing.T) {
	const workers, bursts = 50, 3
	gates := make([]chan struct{}, bursts)
	for i := range gates {
		gates[i] = make(chan struct{})
	}
	var current atomic.Int32
	var conns atomic.Int64
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gate := gates[current.Load()]
		arrived.Done()
		<-gate // hold every request of the burst until all have arrived
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := New(Options{API: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for burst := range bursts {
		current.Store(int32(burst))
		arrived.Add(workers)
		var done sync.WaitGroup
		for range workers {
			done.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		arrived.Wait()
		close(gates[burst])
		done.Wait()
	}
	if got := conns.Load(); got > workers {
		t.Errorf("%d bursts of %d concurrent requests opened %d connections, want at most %d", bursts, workers, got, workers)
	}
}
