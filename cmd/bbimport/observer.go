package main

import (
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/rs/zerolog"
)

// httpLog turns the HTTP stack's per-attempt reports into log lines: one
// debug line per exchange, and an info line when a 429 makes us wait (at most
// one per API every few seconds, so 15 workers hitting the same limit say it
// once). The logger's writer redacts, so URLs, bodies and errors are safe.
type httpLog struct {
	log  zerolog.Logger
	mu   sync.Mutex
	last map[string]time.Time
	now  func() time.Time
	// retryFor is how long 429s are retried (--rateLimitWait), said once
	// at the first wait; 0 says nothing.
	retryFor  time.Duration
	toldRetry bool
	// sunsetOnce says a deprecation once per run.
	sunsetOnce sync.Once
}

func newHTTPLog(log zerolog.Logger) *httpLog {
	return &httpLog{log: log, last: map[string]time.Time{}, now: time.Now}
}

// Exchange implements httpx.Observer: one debug line per attempt, e.g.
//
//	GET https://api.bitbucket.org/2.0/user/workspaces → 200 in 182ms (attempt 1)
//
// with the same facts as fields, the time spent waiting for our own rate
// limiter, and the start of the response body when the status is an error.
func (h *httpLog) Exchange(e httpx.Exchange) {
	if h.log.GetLevel() > zerolog.DebugLevel {
		return
	}
	ev := h.log.Debug().Str("api", e.API).Str("method", e.Method).Str("url", e.URL).
		Int("status", e.Status).Dur("duration", e.Duration).Int("attempt", e.Attempt)
	if e.Wait >= time.Millisecond {
		ev = ev.Dur("rate_limit_wait", e.Wait)
	}
	outcome := fmt.Sprintf("%d", e.Status)
	if e.Err != nil {
		ev = ev.AnErr("error", e.Err)
		outcome = "error"
	}
	if e.ErrorBody != "" {
		ev = ev.Str("body", strings.TrimSpace(e.ErrorBody))
	}
	msg := fmt.Sprintf("%s %s → %s in %s (attempt %d)", e.Method, e.URL, outcome, humanDuration(e.Duration), e.Attempt)
	if e.Wait >= time.Second {
		msg += fmt.Sprintf(", %s of it waiting for the %s rate limit", humanDuration(e.Wait), apiName(e.API))
	}
	ev.Msg(msg)
}

// RateLimited implements httpx.Observer.
func (h *httpLog) RateLimited(api string, wait time.Duration, status int) {
	quiet := h.quiet(api, 5*time.Second)
	if quiet {
		// Still one debug line each, so a debug log shows every wait.
		h.log.Debug().Str("api", api).Int("status", status).Str("wait", humanDuration(wait)).
			Msgf("%s rate limit reached, waiting %s", apiName(api), humanDuration(wait))
		return
	}
	h.log.Info().Str("api", api).Int("status", status).Str("wait", humanDuration(wait)).
		Msgf("%s rate limit reached, waiting %s", apiName(api), humanDuration(wait))
	h.mu.Lock()
	tell := h.retryFor > 0 && !h.toldRetry
	h.toldRetry = true
	h.mu.Unlock()
	if tell {
		h.log.Info().Str("retry_for", english.Duration(h.retryFor)).
			Msgf("every request of that API pauses; this run waits for 429s for up to %s in all (--rateLimitWait)", english.Duration(h.retryFor))
	}
}

// Retrying implements httpx.RetryObserver: the first retry of an API says so
// at once (warn), with the cause, so a person is not left staring at a
// silent terminal through minutes of backoff. Later ones within a minute
// stay quiet: each attempt has its debug line (Exchange) already.
func (h *httpLog) Retrying(r httpx.Retry) {
	cause := fmt.Sprintf("HTTP %d", r.Status)
	if r.Err != nil {
		cause = shortNetCause(r.Err)
	}
	quiet := h.quiet("retry "+r.API, time.Minute)
	if quiet {
		return
	}
	ev := h.log.Warn().Str("api", r.API).Str("method", r.Method).Str("url", r.URL).Int("attempt", r.Attempt).
		Int("max_attempts", r.MaxAttempts).Bool("retryable", true)
	if r.Status != 0 {
		ev = ev.Int("status", r.Status)
	}
	if r.Err != nil {
		ev = ev.AnErr("error", r.Err)
	}
	ev.Msgf("%s: %s %s failed (%s); retrying with backoff (attempt %d of %d)",
		apiName(r.API), r.Method, r.URL, cause, r.Attempt+1, r.MaxAttempts)
}

// shortNetCause is the end of a transport error's text ("connection
// refused", "i/o timeout"), without the URL and addresses that lead it.
func shortNetCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

func apiName(api string) string {
	switch api {
	case "bitbucket":
		return "Bitbucket"
	case "bitbucket-token":
		return "Bitbucket token endpoint"
	case "snyk":
		return "Snyk"
	case "snyk-token":
		return "Snyk token endpoint"
	}
	return api
}

// quiet reports whether a line of this kind was said less than every ago;
// if not, it records that one is said now. Waits come in bursts from every
// worker, and one line tells the user as much as fifty.
func (h *httpLog) quiet(kind string, every time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if now.Sub(h.last[kind]) < every {
		return true
	}
	h.last[kind] = now
	return false
}

// deprecated is the Snyk client's hook for an answer carrying Sunset or
// Deprecation: one warning per run, naming the REST version in use and how
// to pin another.
func (h *httpLog) deprecated(d snyk.Deprecation) {
	h.sunsetOnce.Do(func() {
		ev := h.log.Warn().Str("url", d.URL)
		when := ""
		if d.Sunset != "" {
			ev, when = ev.Str("sunset", d.Sunset), ", sunset "+d.Sunset
		}
		if d.Deprecation != "" {
			ev = ev.Str("deprecation", d.Deprecation)
		}
		if d.Link != "" {
			ev = ev.Str("link", d.Link)
		}
		ev.Msgf("Snyk announces the end of what bbimport calls (%s %s%s): update bbimport, or pin another REST version with %s", d.Method, d.URL, when, envRESTVersion)
	})
}
