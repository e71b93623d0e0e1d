package sim

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Faults are the misbehaviours injected in front of one API's handlers.
type Faults struct {
	// Latency is added to every request.
	Latency time.Duration
	// ServerErrorRate is the fraction (0..1) of requests answered 503
	// before reaching the handler.
	ServerErrorRate float64
	// RateLimitEvery answers every Nth request with 429 (0 = never).
	RateLimitEvery int
	// RetryAfter is the Retry-After header sent with a 429 ("" = none).
	RetryAfter string
}

// Config configures a simulator.
type Config struct {
	Bitbucket BitbucketConfig
	Snyk      SnykConfig
	// Seed makes the fault layer deterministic (0 = a fixed default).
	Seed uint64
}

// Server is a running or runnable simulator. It is safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	rng      *rand.Rand
	counters map[string]int64
	nth      map[string]int64

	cfg  Config
	mux  *http.ServeMux
	bb   *bitbucketState
	snyk *snykState
	// hostile holds the modes sync's tests set (hostile.go).
	hostile hostileKnobs

	// URL is the base URL once Start has been called (e.g. http://127.0.0.1:PORT).
	URL string
	srv *http.Server
	// fresh are the connections accepted on which no request has arrived
	// yet (a client's spare dial): Shutdown would wait 5 s for each.
	fresh map[net.Conn]struct{}
}

// New builds a simulator from cfg. Call Start to listen, or use it as an
// http.Handler (for example behind httptest.NewServer).
func New(cfg Config) *Server {
	seed := cfg.Seed
	if seed == 0 {
		seed = 1
	}
	s := &Server{
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		counters: map[string]int64{},
		nth:      map[string]int64{},
		cfg:      cfg,
		mux:      http.NewServeMux(),
	}
	s.bb = newBitbucketState(s, cfg.Bitbucket)
	s.snyk = newSnykState(s, cfg.Snyk)
	s.registerBitbucket(s.mux)
	s.registerSnyk(s.mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Start listens on addr (use "127.0.0.1:0" for a free port) and serves in the
// background. It sets s.URL.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.URL = "http://" + ln.Addr().String()
	s.snyk.setBaseURL(s.URL)
	s.fresh = map[net.Conn]struct{}{}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ConnState: s.trackConn}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}

// Close stops a started simulator. In-flight requests may finish (up to
// 2 s); connections that never carried a request are closed at once, since
// http.Server.Shutdown would otherwise wait for them.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	s.mu.Lock()
	for c := range s.fresh {
		_ = c.Close()
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	return err
}

// Count returns one counter's value.
func (s *Server) Count(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters[name]
}

// Counters returns a copy of every counter.
func (s *Server) Counters() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.counters))
	for k, v := range s.counters {
		out[k] = v
	}
	return out
}

// add moves a counter by n.
func (s *Server) add(name string, n int64) {
	s.mu.Lock()
	s.counters[name] += n
	s.mu.Unlock()
}

// max raises a counter to v if v is larger.
func (s *Server) max(name string, v int64) {
	s.mu.Lock()
	if v > s.counters[name] {
		s.counters[name] = v
	}
	s.mu.Unlock()
}

// inject applies f to a request of api ("bitbucket" or "snyk"). It reports
// true when it has answered the request itself (429 or 5xx), in which case the
// handler must not run. Latency honours the request's cancellation.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, api string, f Faults) bool {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	s.mu.Lock()
	s.nth[api]++
	n := s.nth[api]
	fail := f.ServerErrorRate > 0 && s.rng.Float64() < f.ServerErrorRate
	s.mu.Unlock()
	if f.RateLimitEvery > 0 && n%int64(f.RateLimitEvery) == 0 {
		s.add(api+".429", 1)
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"}}`))
		return true
	}
	if fail {
		s.add(api+".5xx", 1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"type":"error","error":{"message":"simulated fault"}}`))
		return true
	}
	return false
}
