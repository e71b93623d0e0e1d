package main

import (
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/rs/zerolog"
)

// httpLog turns the HTTP stack's per-attempt reports into log lines: one
// debug line per exchange, and an info line when a 429 makes us wait (at most
// one per API every few seconds, so 15 workers hitting the same limit say it
// once).
type httpLog struct {
	log  zerolog.Logger
	mu   sync.Mutex
	last map[string]time.Time
	now  func() time.Time
}

func newHTTPLog(log zerolog.Logger) *httpLog {
	return &httpLog{log: log, last: map[string]time.Time{}, now: time.Now}
}

// Exchange implements httpx.Observer.
func (h *httpLog) Exchange(e httpx.Exchange) {
	if h.log.GetLevel() > zerolog.DebugLevel {
		return
	}
	ev := h.log.Debug().Str("api", e.API).Str("method", e.Method).Str("url", e.URL).
		Int("status", e.Status).Dur("duration", e.Duration).Int("attempt", e.Attempt)
	if e.Err != nil {
		ev = ev.AnErr("error", e.Err)
	}
	if e.ErrorBody != "" {
		ev = ev.Str("body", e.ErrorBody)
	}
	ev.Msg("http")
}

// RateLimited implements httpx.Observer.
func (h *httpLog) RateLimited(api string, wait time.Duration, status int) {
	h.mu.Lock()
	now := h.now()
	quiet := now.Sub(h.last[api]) < 5*time.Second
	if !quiet {
		h.last[api] = now
	}
	h.mu.Unlock()
	if quiet {
		return
	}
	name := map[string]string{"bitbucket": "Bitbucket", "snyk": "Snyk"}[api]
	if name == "" {
		name = api
	}
	h.log.Info().Str("api", api).Int("status", status).Str("wait", humanDuration(wait)).
		Msgf("%s rate limit reached, waiting %s", name, humanDuration(wait))
}
