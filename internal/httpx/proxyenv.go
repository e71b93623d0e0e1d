package httpx

import (
	"crypto/x509"
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// proxyConfig reads the proxy settings as httpproxy.FromEnvironment does
// (upper case first, then lower case; HTTP_PROXY ignored under CGI), but
// through getenv, so that a caller with its own environment (the CLI's
// tests, several runs in one process) does not share the process's.
func proxyConfig(getenv func(string) string) *httpproxy.Config {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	return &httpproxy.Config{
		HTTPProxy:  first("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: first("HTTPS_PROXY", "https_proxy"),
		NoProxy:    first("NO_PROXY", "no_proxy"),
		CGI:        getenv("REQUEST_METHOD") != "",
	}
}

// NewTransportEnv is NewTransport with the proxy read through getenv
// instead of the process environment.
func NewTransportEnv(roots *x509.CertPool, getenv func(string) string) *http.Transport {
	t := NewTransport(roots)
	proxy := proxyConfig(getenv).ProxyFunc()
	t.Proxy = func(req *http.Request) (*url.URL, error) { return proxy(req.URL) }
	return t
}

// ProxyFor returns the proxy NewTransportEnv(…, getenv) uses for rawURL
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY; never for loopback), or nil for a
// direct connection.
func ProxyFor(rawURL string, getenv func(string) string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	return proxyConfig(getenv).ProxyFunc()(u)
}
