package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// All the bodies in flight share one memory budget: past SmallBody, bodies
// are read BodyMemory/MaxResponseBody at a time, each holding its place
// until closed; another large body waits for a place (or its request's
// end), while small bodies never wait. Not parallel: the places are the
// process's, and other tests' large bodies would take them.
func TestBodyMemoryIsShared(t *testing.T) {
	for _, withLength := range []bool{false, true} {
		testBodyMemoryIsShared(t, withLength)
	}
}

func testBodyMemoryIsShared(t *testing.T, withLength bool) {
	const large = 2 * SmallBody
	big, _ := streamServer(t, large, withLength)
	small, _ := streamServer(t, 4<<10, withLength)
	c, _ := newTestClient(t, Options{})
	get := func(ctx context.Context, url string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		return c.Do(req)
	}
	n := cap(places)
	var held []*http.Response
	for range n {
		resp, err := get(t.Context(), big.URL)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, resp)
	}
	if busy := busyPlaces(); busy != n {
		t.Fatalf("%d places taken by %d large bodies read whole and not closed (length known: %v)", busy, n, withLength)
	}
	// A small body does not wait.
	resp, err := get(t.Context(), small.URL)
	if err != nil {
		t.Fatalf("a small body waited for the large ones: %v", err)
	}
	resp.Body.Close()
	// Another large body waits, and gives up with its request.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	_, err = get(ctx, big.URL)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a large body beyond the budget: %v; want it to wait until its deadline", err)
	}
	// Closing one lets the next through, whole.
	held[0].Body.Close()
	resp, err = get(t.Context(), big.URL)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != large {
		t.Errorf("read %d bytes, %v; want %d", len(b), err, large)
	}
	resp.Body.Close()
	resp.Body.Close() // twice is harmless
	for _, r := range held[1:] {
		r.Body.Close()
	}
	if n := busyPlaces(); n != 0 {
		t.Errorf("%d places still taken after every body was closed", n)
	}
}

// busyPlaces is how many places large bodies hold now.
func busyPlaces() int { return cap(places) - len(places) }
