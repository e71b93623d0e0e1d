package httpx

import (
	"bytes"
	"io"
	"net/http"
	"time"
)

// errorBodyLimit is how much of a non-2xx body an Exchange carries: enough
// for an API's error message, small enough for one log line.
const errorBodyLimit = 4 << 10

// Exchange describes one attempt of one request.
type Exchange struct {
	API    string // Options.API
	Method string
	URL    string // with any userinfo password masked
	Status int    // 0 when the attempt got no response
	// Duration covers the whole attempt as the retry loop sees it: limiter
	// wait, token fetch and the round trip to the first response byte.
	Duration time.Duration
	// Wait is the part of Duration spent waiting for the rate limiter.
	Wait    time.Duration
	Attempt int   // 1 for the first try, 2 for the first retry, ...
	Err     error // transport error, nil when a response came back
	// ErrorBody is the first 4 KiB of a non-2xx response body; the caller
	// still reads the whole body.
	ErrorBody string
}

// Observer receives reports from the HTTP stack. Its methods are called from
// the requesting goroutines, concurrently, and must not block for long.
type Observer interface {
	// Exchange is called once per attempt, retries included.
	Exchange(Exchange)
	// RateLimited is called when a 429 makes the client wait before
	// retrying; wait is how long, status is the response status.
	RateLimited(api string, wait time.Duration, status int)
}

// observeTransport reports each attempt to an Observer.
type observeTransport struct {
	api  string
	obs  Observer
	next http.RoundTripper
}

func (t *observeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	e := Exchange{
		API:      t.api,
		Method:   req.Method,
		URL:      req.URL.Redacted(),
		Duration: time.Since(start),
		Attempt:  1,
		Err:      err,
	}
	if st := attemptStateFrom(req.Context()); st != nil {
		e.Attempt = int(st.attempt.Load())
		e.Wait = st.limiterWait()
	}
	if resp != nil {
		e.Status = resp.StatusCode
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			e.ErrorBody = peekBody(resp)
		}
	}
	t.obs.Exchange(e)
	return resp, err
}

// peekBody reads the start of resp.Body and puts it back in front of the rest.
func peekBody(resp *http.Response) string {
	if resp.Body == nil || resp.Body == http.NoBody {
		return ""
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	return string(head)
}

type peekedBody struct {
	io.Reader
	io.Closer
}
