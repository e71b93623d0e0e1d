package apitest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
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
