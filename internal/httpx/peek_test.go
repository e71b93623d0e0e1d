package httpx

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The debug line's error body is cut at errorBodyLimit between tokens: an
// echoed token straddling the limit is dropped whole, not cut in half, and
// the caller still reads the whole body.
func TestPeekBodyCutsBetweenTokens(t *testing.T) {
	t.Parallel()
	const secret = "st-LEAK-5c0e7d1a9b24"
	body := strings.Repeat("y ", (errorBodyLimit-10)/2) + secret + " tail"
	resp := &http.Response{Body: io.NopCloser(strings.NewReader(body))}
	got := peekBody(resp)
	if strings.Contains(got, "st-LEAK") || !strings.HasSuffix(got, "…") || len(got) > errorBodyLimit+len("…") {
		t.Errorf("peekBody kept %q at its end", got[max(0, len(got)-40):])
	}
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != body {
		t.Error("the caller no longer reads the whole body")
	}
	short := &http.Response{Body: io.NopCloser(strings.NewReader("short " + secret))}
	if got := peekBody(short); got != "short "+secret {
		t.Errorf("a body under the limit: %q", got)
	}
}
