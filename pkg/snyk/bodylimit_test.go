package snyk

import (
	"bytes"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
)

// hugeBodySize is the hostile body of the fault pass: 3 GB, generated as it
// is sent, never held by the test.
const hugeBodySize = 3 << 30

// serveHuge answers with a JSON document of hugeBodySize bytes that never
// closes (an endless array of orgs, or of logs of an import job).
func serveHuge(prefix, item string) http.HandlerFunc {
	chunk := bytes.Repeat([]byte(item), (64<<10)/len(item))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		n, _ := w.Write([]byte(prefix))
		for sent := int64(n); sent < hugeBodySize; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return // the client gave up: what we want
			}
		}
	}
}

// peakHeap samples HeapInuse until stop is called and returns the peak.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// Not parallel: the heap is measured for this test alone.
func TestClient_hugeBodyBoundedMemory(t *testing.T) {
	stack, err := httpx.New(httpx.Options{API: "snyk", RetryMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []struct {
		name string
		hc   func(*http.Client) Doer
		// maxHeap is the peak asserted. Through the shared stack (what
		// bbimport runs) the body is cut at 32 MiB before decoding; a
		// plain client is still cut by do's limit, but json.Decoder's
		// buffer doubling on the way is not ours to bound.
		maxHeap uint64
	}{
		{"shared stack", func(*http.Client) Doer { return stack }, 100 << 20},
		{"plain client", func(c *http.Client) Doer { return c }, 0},
	} {
		for _, call := range []struct {
			name string
			run  func(c *Client) error
		}{
			{"group orgs listing", func(c *Client) error {
				for _, err := range c.ListGroupOrgsIter(t.Context(), "g1") {
					if err != nil {
						return err
					}
				}
				return nil
			}},
			{"import job poll", func(c *Client) error {
				_, err := c.GetImportJob(t.Context(), c.BaseURL().String()+"org/o1/integrations/i1/import/j1")
				return err
			}},
		} {
			t.Run(client.name+"/"+call.name, func(t *testing.T) {
				c, mux, srv := setup(t)
				c.httpClient = client.hc(srv.Client())
				mux.HandleFunc("GET /group/g1/orgs", serveHuge(`{"orgs":[`, `{"id":"o","name":"n"},`))
				mux.HandleFunc("GET /org/o1/integrations/i1/import/j1", serveHuge(`{"id":"j1","status":"pending","logs":[`, `{"name":"n","status":"complete"},`))

				runtime.GC()
				stop := peakHeap()
				start := time.Now()
				err := call.run(c)
				peak := stop()
				if err == nil || !strings.Contains(err.Error(), "response over 32 MiB") {
					t.Fatalf("error %v; want one saying %q", err, "response over 32 MiB")
				}
				t.Logf("peak heap in use %d MiB, %v", peak>>20, time.Since(start).Round(time.Millisecond))
				if client.maxHeap > 0 && peak >= client.maxHeap {
					t.Errorf("peak heap in use %d MiB; want < %d MiB", peak>>20, client.maxHeap>>20)
				}
			})
		}
	}
}
