package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// maxIdleConnsPerHost is above the largest worker pool (import: 50).
const maxIdleConnsPerHost = 64

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
	// Every request of a client goes to one host (the API), from up to 50
	// workers at once: Go's default of 2 idle connections per host closed
	// all but two after each burst, so most requests paid a new TCP (and
	// TLS) handshake. Keep as many idle as there can be workers.
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.MaxIdleConns = max(t.MaxIdleConns, maxIdleConnsPerHost)
	dial := (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.DialContext = (&notFoundCache{now: time.Now}).dialer(dial)
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	t.Proxy = func(req *http.Request) (*url.URL, error) { return proxy(req.URL) }
	t.OnProxyConnectResponse = proxyConnectResponse
	return t
}

// ProxyStatusError is a proxy's refusal to open a tunnel: its answer to
// CONNECT was not 200. net/http reports it with the status text alone, not
// as a proxy error, which the retry policy then took for a dropped
// connection and tried seven times.
type ProxyStatusError struct {
	Proxy      string // host:port, never the proxy's credentials
	StatusCode int
	Status     string // "407 Proxy Authentication Required"
}

func (e *ProxyStatusError) Error() string {
	return "the proxy " + e.Proxy + " answered " + e.Status
}

func proxyConnectResponse(_ context.Context, proxy *url.URL, _ *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return &ProxyStatusError{Proxy: proxy.Host, StatusCode: resp.StatusCode, Status: resp.Status}
}

// wireTransport sits on the base transport: it records that the send got
// this far (the retry policy's "may the server have seen it?") and bounds the
// send with its own timeout, which the budget wait above is not part of.
type wireTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	// replayable: every request of this client may be sent again, POSTs
	// included (Options.Replayable), so every answer is read whole.
	replayable bool
}

func (t *wireTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if st := attemptStateFrom(req.Context()); st != nil {
		st.sent.Store(true)
	}
	if t.timeout <= 0 {
		resp, err := t.base.RoundTrip(req)
		return readWhole(req, limitResponse(req, resp), err, t.replayable)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	// The timeout covers reading the body too; closing it releases the timer.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return readWhole(req, limitResponse(req, resp), nil, t.replayable)
}

// limitResponse bounds resp's body by MaxResponseBody, and counts it in the
// body memory of the process.
func limitResponse(req *http.Request, resp *http.Response) *http.Response {
	if resp != nil && resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = budgetBody(req.Context(), resp.Body)
	}
	return resp
}

// readWhole reads the body of an idempotent request's response within the
// attempt, so a connection that drops halfway through the body fails the
// attempt and is retried like one that drops before the headers, instead of
// failing the caller's decoding once the retries are over. Other methods
// keep their body streamed: their headers may carry all that matters (the
// Location of an accepted Snyk import), and the request must not be sent
// again for a body the server had already acted on. A body over
// MaxResponseBody is not retried (the server would send it again): the
// caller gets a body whose reads fail with ErrResponseTooLarge. replayable
// reads every method's answer whole.
func readWhole(req *http.Request, resp *http.Response, err error, replayable bool) (*http.Response, error) {
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
	default:
		if !replayable {
			return resp, nil
		}
	}
	if resp.ContentLength > MaxResponseBody {
		resp.Body.Close()
		resp.Body = failedBody{err: ErrResponseTooLarge}
		return resp, nil
	}
	large := func() ([]byte, error) { return make([]byte, 0, MaxResponseBody+1), nil }
	lb, counted := resp.Body.(*limitedBody)
	if counted {
		large = lb.largeBuffer
	}
	body, err := readAll(resp.Body, resp.ContentLength, large)
	done := func() {}
	if counted && err == nil {
		done = lb.release() // the bytes are still held, in body
	}
	resp.Body.Close() // releases the attempt's timer and the connection
	if errors.Is(err, ErrResponseTooLarge) {
		resp.Body = failedBody{err: err}
		return resp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the response body (%d bytes received): %w", len(body), err)
	}
	resp.Body = &heldBody{Reader: bytes.NewReader(body), data: body, done: done}
	return resp, nil
}

// readAll reads r to the end into one buffer, which the caller then
// decodes in place (DecodeJSON: a json.Decoder would copy the body again
// into a buffer of its own, doubling as it grows). A known length up to
// SmallBody is read into a buffer of that size (and one byte more, to tell
// a longer body); otherwise the buffer doubles from 4 KiB to SmallBody,
// then, the body being large, becomes large()'s buffer of MaxResponseBody
// (doubling on would leave up to twice the body as garbage: io.ReadAll's
// growth held over 100 MiB for a body at the limit).
func readAll(r io.Reader, length int64, large func() ([]byte, error)) ([]byte, error) {
	var buf []byte
	switch {
	case length > SmallBody && length <= MaxResponseBody:
		b, err := large()
		if err != nil {
			return nil, err
		}
		buf = b
	case length > 0 && length <= MaxResponseBody:
		buf = make([]byte, 0, length+1)
	default:
		buf = make([]byte, 0, 4<<10)
	}
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) > MaxResponseBody {
				return nil, ErrResponseTooLarge
			}
			var grown []byte
			if next := 2 * cap(buf); next <= SmallBody {
				grown = make([]byte, len(buf), next)
			} else {
				b, err := large()
				if err != nil {
					return nil, err
				}
				grown = b[:len(buf)]
			}
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
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
