package httpx

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is an Observer that keeps everything it is told.
type recorder struct {
	mu        sync.Mutex
	exchanges []Exchange
	limited   []limitedCall
}

type limitedCall struct {
	API    string
	Wait   time.Duration
	Status int
}

func (r *recorder) Exchange(e Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = append(r.exchanges, e)
}

func (r *recorder) RateLimited(api string, wait time.Duration, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limited = append(r.limited, limitedCall{api, wait, status})
}

func (r *recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.exchanges...)
}

func (r *recorder) Limited() []limitedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]limitedCall(nil), r.limited...)
}

// newTestClient builds a client with millisecond waits and two retries,
// observed by the returned recorder; opts fields that are set win.
func newTestClient(t *testing.T, opts Options) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	if opts.Observer == nil {
		opts.Observer = rec
	}
	if opts.API == "" {
		opts.API = "bitbucket"
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = 2
	}
	if opts.RetryWaitMin == 0 {
		opts.RetryWaitMin = time.Millisecond
	}
	if opts.RetryWaitMax == 0 {
		opts.RetryWaitMax = 5 * time.Millisecond
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c, rec
}

// statusServer answers the n-th request with codes[n], repeating the last
// code, and counts the requests it saw.
func statusServer(t *testing.T, body string, codes ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(hits.Add(1)) - 1
		w.WriteHeader(codes[min(n, len(codes)-1)])
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func attempts(es []Exchange) []int {
	var out []int
	for _, e := range es {
		out = append(out, e.Attempt)
	}
	return out
}

// Get sends GET url, as http.Client's Get does.
func (c *Client) Get(url string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}
