package httpx

import (
	"net/url"
	"testing"
	"time"
)

// TestRetryAfter holds the cases the policy's and the Snyk client's own
// parsers were tested with, now that both use this one.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"17", 17 * time.Second, true},
		{"40", 40 * time.Second, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"99999999999999", MaxRetryAfter, true},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Saturday, 01-Mar-25 12:01:00 GMT", time.Minute, true}, // RFC 850, still valid HTTP
		{"Sat, 01 Mar 2025 11:00:00 GMT", 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, _, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestParseRetryAfterMoment(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		wantAt time.Time
	}{
		{"40", now.Add(40 * time.Second)},
		{"Sun, 22 Nov 2026 15:04:05 GMT", now.Add(245 * time.Second)},
		{"Sun, 22 Nov 2026 14:00:00 GMT", now.Add(-time.Hour)}, // the past is kept as said
	}
	for _, tt := range tests {
		if _, at, ok := ParseRetryAfter(tt.in, now); !ok || !at.Equal(tt.wantAt) {
			t.Errorf("ParseRetryAfter(%q) at = %v, %v; want %v", tt.in, at, ok, tt.wantAt)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://api.bitbucket.org/2.0/", "https://api.bitbucket.org/2.0/repositories/x?page=2", true},
		{"https://api.bitbucket.org/", "https://API.Bitbucket.org:443/x", true},
		{"http://127.0.0.1/", "http://127.0.0.1:80/x", true},
		{"https://api.bitbucket.org/", "http://api.bitbucket.org/x", false},
		{"https://api.bitbucket.org/", "https://evil.example/x", false},
		{"https://api.bitbucket.org/", "https://api.bitbucket.org:8443/x", false},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8081/", false},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := SameOrigin(a, b); got != tt.want {
			t.Errorf("SameOrigin(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
