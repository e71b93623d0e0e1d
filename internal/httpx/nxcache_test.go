package httpx

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestNotFoundCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	calls := map[string]int{}
	dial := func(_ context.Context, network, addr string) (net.Conn, error) {
		calls[addr]++
		switch addr {
		case "typo.invalid:443":
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "typo.invalid", IsNotFound: true}}
		case "flaky.example:443":
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "i/o timeout", Name: "flaky.example", IsTimeout: true}}
		}
		return nil, errors.New("refused")
	}
	c := &notFoundCache{now: func() time.Time { return now }}
	d := c.dialer(dial)
	tests := []struct {
		addr      string
		tries     int
		wantCalls int
	}{
		{"typo.invalid:443", 5, 1},  // not found: asked once, then answered from memory
		{"flaky.example:443", 3, 3}, // a timeout may pass: asked every time
		{"other.example:443", 2, 2}, // other errors are not DNS answers
	}
	for _, tt := range tests {
		for range tt.tries {
			_, err := d(t.Context(), "tcp", tt.addr)
			if err == nil {
				t.Fatalf("%s: dial succeeded", tt.addr)
			}
		}
		if calls[tt.addr] != tt.wantCalls {
			t.Errorf("%s: %d dials reached the resolver, want %d", tt.addr, calls[tt.addr], tt.wantCalls)
		}
	}
	_, err := d(t.Context(), "tcp", "typo.invalid:443")
	if ne, final := AsNetError(err); ne == nil || !final {
		t.Errorf("remembered error %v is no longer a network error waiting cannot fix", err)
	}
	now = now.Add(notFoundTTL)
	_, _ = d(t.Context(), "tcp", "typo.invalid:443")
	if calls["typo.invalid:443"] != 2 {
		t.Errorf("after %s the name was not asked again (%d dials)", notFoundTTL, calls["typo.invalid:443"])
	}
}
