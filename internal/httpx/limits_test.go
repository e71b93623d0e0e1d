package httpx

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// streamServer answers every request with size bytes of 'x', generated as it
// goes (never held), chunked unless withLength; it counts the requests.
func streamServer(t *testing.T, size int64, withLength bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	chunk := bytes.Repeat([]byte{'x'}, 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if withLength {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		for left := size; left > 0; {
			c := chunk[:min(int64(len(chunk)), left)]
			if _, err := w.Write(c); err != nil {
				return // the client stopped reading
			}
			left -= int64(len(c))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestResponseBodyLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		size       int64
		withLength bool
		wantErr    error
	}{
		{"GET exactly the limit", http.MethodGet, MaxResponseBody, false, nil},
		{"GET one byte over", http.MethodGet, MaxResponseBody + 1, false, ErrResponseTooLarge},
		{"GET announced over the limit", http.MethodGet, MaxResponseBody + 1, true, ErrResponseTooLarge},
		{"POST streamed, one byte over", http.MethodPost, MaxResponseBody + 1, false, ErrResponseTooLarge},
		{"POST exactly the limit", http.MethodPost, MaxResponseBody, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, n := streamServer(t, tt.size, tt.withLength)
			c, _ := newTestClient(t, Options{})
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL, strings.NewReader("{}"))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			defer resp.Body.Close()
			got, err := io.Copy(io.Discard, resp.Body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("reading the body: %d bytes, err %v; want %v", got, err, tt.wantErr)
			}
			if tt.wantErr == nil && got != tt.size {
				t.Errorf("read %d bytes; want %d", got, tt.size)
			}
			if err != nil && err.Error() != "response over 32 MiB" {
				t.Errorf("error %q; want %q", err, "response over 32 MiB")
			}
			if n.Load() != 1 {
				t.Errorf("%d requests; want 1 (a body too large is not retried)", n.Load())
			}
		})
	}
}

func TestLimitBodyTwiceIsOneLimit(t *testing.T) {
	t.Parallel()
	b := LimitBody(io.NopCloser(strings.NewReader("abc")))
	if LimitBody(b) != b {
		t.Error("LimitBody wrapped a limited body again")
	}
	if LimitBody(nil) != nil {
		t.Error("LimitBody(nil) is not nil")
	}
}
