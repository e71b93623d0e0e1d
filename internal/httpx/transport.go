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
	return t
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
		return readWhole(req, limitResponse(resp), err, t.replayable)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	// The timeout covers reading the body too; closing it releases the timer.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return readWhole(req, limitResponse(resp), nil, t.replayable)
}

// limitResponse bounds resp's body by MaxResponseBody.
func limitResponse(resp *http.Response) *http.Response {
	if resp != nil && resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = LimitBody(resp.Body)
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
	body, n, err := readChunks(resp.Body)
	resp.Body.Close() // releases the attempt's timer and the connection
	if errors.Is(err, ErrResponseTooLarge) {
		resp.Body = failedBody{err: err}
		return resp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the response body (%d bytes received): %w", n, err)
	}
	resp.Body = io.NopCloser(body)
	return resp, nil
}

// readChunks reads r to the end into chunks that are never copied or
// regrown (io.ReadAll's growth left up to four times the body as garbage,
// which for a body at MaxResponseBody is the difference between 32 MiB and
// over 100 MiB in use), and returns a reader over them.
func readChunks(r io.Reader) (io.Reader, int64, error) {
	const first, most = 4 << 10, 1 << 20
	var readers []io.Reader
	var total int64
	for size := first; ; size = min(2*size, most) {
		buf := make([]byte, size)
		n, err := io.ReadFull(r, buf)
		total += int64(n)
		if n > 0 {
			readers = append(readers, bytes.NewReader(buf[:n]))
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if len(readers) == 1 {
				return readers[0], total, nil
			}
			return io.MultiReader(readers...), total, nil
		case err != nil:
			return nil, total, err
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
