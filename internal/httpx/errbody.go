package httpx

import (
	"bytes"
	"io"
	"net/http"
)

// MaxErrorBody bounds how much of an error answer's body is read.
const MaxErrorBody = 1 << 20

// ReadErrorBody reads at most MaxErrorBody bytes of a non-2xx answer's
// body, closes it and puts what it read back into resp.Body, for both
// clients' CheckResponse. Callers only ever see the copy, so nobody else
// would close the network body, and the connection would linger.
func ReadErrorBody(resp *http.Response) []byte {
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
		_ = resp.Body.Close()
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return body
}
