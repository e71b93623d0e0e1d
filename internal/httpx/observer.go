package httpx

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/bbimport/bbimport/internal/redact"
)

// errorBodyLimit is how much of a non-2xx body an Exchange carries: enough
// for an API's error message, small enough for one log line.
const errorBodyLimit = 4 << 10

// Exchange describes one send of one request.
type Exchange struct {
	API    string // Options.API
	Method string
	URL    string // with any userinfo password masked
	Status int    // 0 when the attempt got no response
	// Duration covers the whole send: budget wait, token fetch and the
	// round trip to the first response byte.
	Duration time.Duration
	// Wait is the part of Duration spent waiting for the budget.
	Wait time.Duration
	// Attempt numbers the sends of the request: 1 for the first, and every
	// later send counts (a retry, a 429 waited out, a 401 answered with a
	// newer token).
	Attempt int
	Err     error // transport error, nil when a response came back
	// ErrorBody is the first 4 KiB of a non-2xx response body; the caller
	// still reads the whole body.
	ErrorBody string
}

// Observer receives reports from the HTTP stack. Its methods are called from
// the requesting goroutines, concurrently, and must not block for long.
type Observer interface {
	// Exchange is called once per send, retries included.
	Exchange(Exchange)
	// RateLimited is called when a 429 closes the budget's gate: every
	// request of the API waits; wait is how long, status is the response
	// status.
	RateLimited(api string, wait time.Duration, status int)
}

// peekBody reads the start of resp.Body and puts it back in front of the rest.
func peekBody(resp *http.Response) string {
	if resp.Body == nil || resp.Body == http.NoBody {
		return ""
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit+1))
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), Closer: resp.Body}
	// Cut between tokens: an echoed credential cut in half would leave its
	// head in the debug line, where no redactor finds it.
	return redact.Cut(string(head), errorBodyLimit)
}

type peekedBody struct {
	io.Reader
	io.Closer
}
