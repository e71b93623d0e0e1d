package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/ledger"
)

// budgetSpec is one credential's budget: the API's window and limit, and
// the credential's stable identity the ledger is keyed by (hashed into the
// file name, never written itself).
type budgetSpec struct {
	api      string
	name     string // the credential's name, for the wait line
	identity string
	limit    int
	ceiling  int // how far an announced limit may raise limit (httpx.BudgetConfig.Ceiling)
	class    func(*http.Request) string
	window   time.Duration
	pause    time.Duration // after a 429 without Retry-After; 0: backoff
	wait     time.Duration // how long the run may wait for 429s in all (--rateLimitWait)
	scope    *url.URL      // where the credential may go (httpx.Options.Scope)
}

// newBudget builds the budget of one credential, counted in a ledger in the
// state directory so every run with that credential shares the count. A
// ledger that cannot be opened is one warning and the conservative pacing.
func (f *factory) newBudget(s budgetSpec) *httpx.Budget {
	cfg := httpx.BudgetConfig{API: s.api, Name: s.name, Limit: s.limit, Ceiling: s.ceiling, Class: s.class,
		Window: s.window, Pause: s.pause, RateLimitWait: s.wait,
		PauseMin: f.tuning.RetryWaitMin, PauseMax: f.tuning.RetryWaitMax, Observer: f.observer}
	dir, from := f.globals.StateDir, f.globals.StateDirFrom
	// The ledger may hold as many requests as any run sharing it could
	// let through: its own limit, one an announcement raised, or the most
	// the API grants another run.
	l, err := ledger.Open(dir, s.api, s.identity, httpx.CountWindow(s.window), ledger.Max(max(ledgerCeiling(s.api, s.limit), s.ceiling)))
	if err != nil {
		f.out.log.Warn().Str("api", s.api).Str("state_dir", dir).AnErr("error", err).
			Msgf("%s budget: cannot keep a request ledger in %s (%s): pacing on this run's own count; runs sharing the credential may meet 429s", apiName(s.api), dir, from)
	} else {
		f.ledgers = append(f.ledgers, l)
		cfg.Ledger = l
	}
	return httpx.NewBudget(cfg)
}

// snykMostPerMinute is the most Snyk grants one credential: its v1 API
// allows 2,000 requests a minute. (Bitbucket's is httpx.DefaultCeiling.)
const snykMostPerMinute = 2_000

// ledgerCeiling is the largest count a ledger shared by runs with this
// credential can legitimately hold: the most any run could be allowed,
// its own limit or the API's, whichever is larger. Runs with different
// settings, or whose limit a server raised, share the ledger; a count
// above it is corruption.
func ledgerCeiling(api string, limit int) int {
	most := snykMostPerMinute
	if api == "bitbucket" {
		most = httpx.DefaultCeiling
	}
	return max(limit, most)
}

func (h *httpLog) setRetryFor(d time.Duration) {
	h.mu.Lock()
	h.retryFor = d
	h.mu.Unlock()
}

// windowOr is the tuned window, or the API's own.
func windowOr(tuned, real time.Duration) time.Duration {
	if tuned > 0 {
		return tuned
	}
	return real
}

// BudgetWait implements httpx.BudgetObserver: one info line per wait
// episode (at most one a minute per API), saying how much of the budget is
// spent and when the next request goes.
func (h *httpLog) BudgetWait(w httpx.BudgetWait) {
	quiet := h.quiet("budget "+w.API+" "+w.Name, time.Minute)
	who := "by this credential"
	switch {
	case w.API == "snyk":
		who = "with this token"
	case w.Name != "":
		who = "by credential " + strconv.Quote(w.Name)
	}
	if !w.Shared {
		who += " in this run"
	}
	layout := "15:04"
	if w.Window < time.Hour {
		layout = "15:04:05"
	}
	limit := ""
	if w.Announced {
		limit = " (the limit " + apiName(w.API) + " announces)"
	}
	msg := fmt.Sprintf("%s budget: %s of %s used in the last %s %s%s; next request at %s",
		apiName(w.API), thousands(w.Used), thousands(w.Limit), windowName(w.Window), who, limit, w.Next.Local().Format(layout))
	ev := h.log.Info()
	if quiet {
		ev = h.log.Debug()
	}
	if w.Name != "" {
		ev = ev.Str("credential", w.Name)
	}
	ev.Str("api", w.API).Int("used", w.Used).Int("limit", w.Limit).Bool("announced", w.Announced).Time("next", w.Next).Msg(msg)
}

// BudgetFallback implements httpx.BudgetObserver.
func (h *httpLog) BudgetFallback(api string, err error) {
	h.log.Warn().Str("api", api).AnErr("error", err).
		Msgf("%s budget: the request ledger cannot be used (%v): pacing on this run's own count from now on", apiName(api), err)
}

// RateLimitWaitSpent implements httpx.BudgetObserver: said once, when a 429
// asks for a pause the run's --rateLimitWait no longer covers.
func (h *httpLog) RateLimitWaitSpent(e *httpx.RateLimitWaitError) {
	h.log.Warn().Str("api", e.API).Str("rate_limit_wait", english.Duration(e.Limit)).Str("waited", humanDuration(e.Waited)).Time("until", e.Until).
		Msg(rateLimitWaitSpent(e))
}

// rateLimitWaitSpent words a pause past the run's --rateLimitWait.
func rateLimitWaitSpent(e *httpx.RateLimitWaitError) string {
	return fmt.Sprintf("%s rate limit: %s asks to wait until %s, past what is left of this run's --rateLimitWait of %s for 429s (%s waited): requests refused with 429 now fail at once",
		apiName(e.API), apiName(e.API), e.Until.Local().Format("15:04:05"), english.Duration(e.Limit), humanDuration(e.Waited))
}

func windowName(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case time.Minute:
		return "minute"
	}
	return english.Duration(d)
}

// thousands writes 1000 as 1,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
