package httpx

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateHints is what a response's rate-limit headers say about our window.
// Both APIs' headers are optional hints whose exact form is uncertain
// (docs/budgets.md): Bitbucket's X-RateLimit-Limit (the hourly quota) and
// X-RateLimit-NearLimit are described in a blog post and not seen by every
// user; Snyk REST was observed sending
// "X-Ratelimit-Limit: 160, 160;w=1, 1620;w=60, 97200;w=3600". So anything
// not understood is ignored, never an error.
type rateHints struct {
	limit     int    // 0: none for our window
	remaining int    // -1: none for our window
	near      bool   // X-RateLimit-NearLimit: true
	resource  string // X-RateLimit-Resource: the group limit is for
}

func parseRateHints(h http.Header, window time.Duration) rateHints {
	out := rateHints{remaining: -1}
	if len(h) == 0 {
		return out
	}
	for _, name := range []string{"X-Ratelimit-Limit", "Ratelimit-Limit"} {
		if n, ok := hintFor(h.Values(name), window); ok && n > 0 {
			out.limit = n
			break
		}
	}
	for _, name := range []string{"X-Ratelimit-Remaining", "Ratelimit-Remaining"} {
		if n, ok := hintFor(h.Values(name), window); ok {
			out.remaining = n
			break
		}
	}
	v := strings.TrimSpace(h.Get("X-Ratelimit-Nearlimit"))
	out.near, _ = strconv.ParseBool(v)
	out.resource = strings.TrimSpace(h.Get("X-Ratelimit-Resource"))
	return out
}

// hintFor picks the value that applies to a window of our length from a
// header's items "N" or "N;w=seconds;...": the item whose w is our window,
// or a lone item without w (Bitbucket's form: the quota of its one window).
// Items for other windows (Snyk's per-second and per-hour buckets) say
// nothing about ours.
func hintFor(values []string, window time.Duration) (int, bool) {
	var items []string
	for _, v := range values {
		items = append(items, strings.Split(v, ",")...)
	}
	lone, loneOK, count := 0, false, 0
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		count++
		parts := strings.Split(item, ";")
		n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
		if err != nil || n < 0 {
			continue
		}
		w := -1
		for _, p := range parts[1:] {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "w") {
				if secs, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
					w = secs
				}
			}
		}
		if w < 0 {
			lone, loneOK = n, true
			continue
		}
		if window > 0 && time.Duration(w)*time.Second == window {
			return n, true
		}
	}
	return lone, loneOK && count == 1
}
