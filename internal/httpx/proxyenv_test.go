package httpx

import (
	"net/http"
	"testing"
)

// The proxy comes from the getenv given, never from the process's
// environment, and follows httpproxy's rules (upper case first, NO_PROXY,
// never for loopback).
func TestProxyFor(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://process-env:1") // must be ignored
	for _, tc := range []struct {
		name string
		env  map[string]string
		url  string
		want string // "" = direct
	}{
		{"none", nil, "https://api.bitbucket.org/2.0", ""},
		{"upper case", map[string]string{"HTTPS_PROXY": "http://proxy:3128"}, "https://api.bitbucket.org/2.0", "http://proxy:3128"},
		{"lower case", map[string]string{"https_proxy": "http://lower:3128"}, "https://api.snyk.io/v1", "http://lower:3128"},
		{"upper before lower", map[string]string{"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}, "https://api.snyk.io/v1", "http://upper:1"},
		{"NO_PROXY", map[string]string{"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".snyk.io"}, "https://api.snyk.io/v1", ""},
		{"loopback", map[string]string{"HTTPS_PROXY": "http://proxy:3128"}, "https://127.0.0.1:8443/v1", ""},
		{"http scheme", map[string]string{"HTTP_PROXY": "http://plain:8080"}, "http://api.example.test/", "http://plain:8080"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			u, err := ProxyFor(tc.url, getenv)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if u != nil {
				got = u.String()
			}
			if got != tc.want {
				t.Errorf("ProxyFor(%s) = %q, want %q", tc.url, got, tc.want)
			}
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			tu, err := NewTransportEnv(nil, getenv).Proxy(req)
			if err != nil || (tu == nil) != (u == nil) || (tu != nil && tu.String() != got) {
				t.Errorf("the transport's proxy %v (%v) differs from ProxyFor's %v", tu, err, u)
			}
		})
	}
}
