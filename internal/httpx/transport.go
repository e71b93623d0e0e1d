package httpx

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// defaultTransport is Go's default transport with the proxy settings read now
// rather than once per process: http.ProxyFromEnvironment caches the
// environment at first use, which would pin a value a test or an earlier
// client saw. The rules (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, loopback never
// proxied) are the same package that implements them for net/http.
func defaultTransport() *http.Transport {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 100, IdleConnTimeout: 90 * time.Second}
	}
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	t.Proxy = func(req *http.Request) (*url.URL, error) { return proxy(req.URL) }
	return t
}

// wireTransport sits on the base transport: it records that the attempt got
// this far (the retry policy's "may the server have seen it?") and bounds the
// attempt with its own timeout, which the limiter wait above is not part of.
type wireTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *wireTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if st := attemptStateFrom(req.Context()); st != nil {
		st.sent.Store(true)
	}
	if t.timeout <= 0 {
		return t.base.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	// The timeout covers reading the body too; closing it releases the timer.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
