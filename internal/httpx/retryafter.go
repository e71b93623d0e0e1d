package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date.
// at is the moment the server named (a date may lie in the past) and wait
// how long that is from now, never negative and at most [MaxRetryAfter] (a
// server cannot park a run for a year); ok is false for an empty, negative
// or unreadable value. It is the one reader of the header: the retry policy
// waits by it and both clients' rate-limit errors report it.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, at time.Time, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, time.Time{}, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, time.Time{}, false
		}
		wait = MaxRetryAfter
		if secs < int64(MaxRetryAfter/time.Second) {
			wait = time.Duration(secs) * time.Second
		}
		return wait, now.Add(wait), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, time.Time{}, false
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter), t, true
}
