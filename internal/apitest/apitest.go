package apitest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/bbimport/bbimport/internal/credential"
)

// Response is a complete JSON response to req with the given status, extra
// headers (empty values left out) and body.
func Response(req *http.Request, status int, headers map[string]string, body []byte) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range headers {
		if v != "" {
			h.Set(k, v)
		}
	}
	return &http.Response{
		StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}
}

// FuzzStatus maps any fuzzed number onto a status a server can send
// (100..599), keeping the common ones (200, 401, 404, 429, 500) reachable.
func FuzzStatus(n uint16) int {
	if n >= 100 && n < 600 {
		return int(n)
	}
	return 200
}

// NoRedirects is an http.Client CheckRedirect that returns the redirect
// itself, so a fuzzed 3xx reaches the client's error handling.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Sender sends every request through an *http.Client with a credential
// attached, as the shared stack (internal/httpx) does, for tests of a
// client that need neither its retries nor its budget.
type Sender struct {
	Cred *credential.Credential
	HC   *http.Client // nil: http.DefaultClient
}

// Do attaches the credential's authorization and sends req.
func (s Sender) Do(req *http.Request) (*http.Response, error) {
	hc := s.HC
	if hc == nil {
		hc = http.DefaultClient
	}
	if s.Cred == nil {
		return hc.Do(req)
	}
	a, err := s.Cred.Authorize(req.Context())
	if err != nil {
		return nil, err
	}
	return hc.Do(a.Attach(req))
}
