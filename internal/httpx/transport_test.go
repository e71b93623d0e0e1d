package httpx

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// The default transport honours HTTPS_PROXY and NO_PROXY as set when New is
// called. Not parallel: it changes the environment.
func TestProxyFromEnvironment(t *testing.T) {
	var mu sync.Mutex
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connects = append(connects, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "no tunnels today", http.StatusForbidden) // the test ends at the proxy
	}))
	t.Cleanup(proxy.Close)
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	t.Setenv("HTTPS_PROXY", proxy.URL)

	// .invalid never resolves, so only the proxy can have seen it.
	c, _ := newTestClient(t, Options{RetryMax: -1})
	if resp, err := c.Get("https://api.bitbucket.invalid/2.0/user"); err == nil {
		resp.Body.Close()
		t.Fatal("request through a refusing proxy succeeded")
	}
	mu.Lock()
	got := append([]string(nil), connects...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "CONNECT api.bitbucket.invalid:443" {
		t.Errorf("proxy saw %q, want one CONNECT api.bitbucket.invalid:443", got)
	}

	t.Setenv("NO_PROXY", ".bitbucket.invalid")
	req, _ := http.NewRequest(http.MethodGet, "https://api.bitbucket.invalid/2.0/user", nil)
	if u, err := defaultTransport().Proxy(req); u != nil || err != nil {
		t.Errorf("with NO_PROXY the proxy is %v, %v; want none", u, err)
	}
}
