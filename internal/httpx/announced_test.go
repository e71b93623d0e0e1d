package httpx

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/ledger"
)

// classByPath is Bitbucket's classes as the factory gives them.
func classByPath(req *http.Request) string {
	if strings.Contains(req.URL.Path, "/repositories/") {
		return "repositories"
	}
	return "other"
}

func answer(path string, h http.Header) *http.Response {
	return &http.Response{StatusCode: 200, Header: h, Request: &http.Request{URL: &url.URL{Path: path}}}
}

// admitWithin is how many of n requests like req the budget lets through
// before ctx refuses one.
func admitWithin(ctx context.Context, b *Budget, req *http.Request, n int) int {
	for i := range n {
		if err := b.Wait(withClass(ctx, b, req)); err != nil {
			return i
		}
	}
	return n
}

// TestBudgetAnnouncedLimit: X-RateLimit-Limit sets the limit of its
// resource group's requests, up to the announcement, never above the
// ceiling; the other groups keep the configured limit.
func TestBudgetAnnouncedLimit(t *testing.T) {
	t.Parallel()
	announce := func(limit string) http.Header {
		return http.Header{"X-Ratelimit-Limit": {limit}, "X-Ratelimit-Resource": {"api"}, "X-Ratelimit-Nearlimit": {"false"}}
	}
	for _, tc := range []struct {
		name              string
		limit, ceiling    int
		announced         string
		wantRepos, wantWS int
		wantAnnounced     bool
	}{
		{"a 5,000/h token, limit nobody set", 1000, DefaultCeiling, "5000", 5000, 1000, true},
		{"never above 10,000/h unless told", 1000, DefaultCeiling, "25000", DefaultCeiling, 1000, true},
		{"told 20,000: up to the announcement", 20000, 20000, "15000", 15000, 20000, true},
		{"told 1,000: the setting wins", 1000, 1000, "5000", 1000, 1000, true},
		{"an announcement below ours lowers it", 1000, DefaultCeiling, "600", 600, 1000, true},
		{"no ceiling (Snyk): only lowers", 1500, 0, "5000", 1500, 1500, true},
		{"nothing announced", 1000, DefaultCeiling, "", 1000, 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
			b := NewBudget(BudgetConfig{API: "bitbucket", Limit: tc.limit, Ceiling: tc.ceiling, Window: time.Hour,
				Class: classByPath, Now: func() time.Time { return now }})
			h := http.Header{}
			if tc.announced != "" {
				h = announce(tc.announced)
			}
			b.observe(answer("/2.0/repositories/acme", h))
			b.mu.Lock()
			repos, ws := b.limitAt(now, "repositories"), b.limitAt(now, "other")
			b.mu.Unlock()
			if repos != tc.wantRepos || ws != tc.wantWS {
				t.Errorf("limits: repositories %d, workspaces %d; want %d, %d", repos, ws, tc.wantRepos, tc.wantWS)
			}
			if got, announced := b.InForce(); announced != tc.wantAnnounced || (announced && got != tc.wantRepos) {
				t.Errorf("InForce %d %v", got, announced)
			}
		})
	}
}

// TestBudgetPacedByTheAnnouncement: before the first answer requests of the
// token's group are paced by the configured limit, after it by the
// announced one; X-RateLimit-NearLimit caps the rest of the window at a
// fifth of the group's limit more.
func TestBudgetPacedByTheAnnouncement(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	obs := &budgetRecorder{}
	b := NewBudget(BudgetConfig{API: "bitbucket", Name: "labs", Limit: 10, Ceiling: DefaultCeiling, Window: time.Hour,
		Class: classByPath, Observer: obs, Now: func() time.Time { return now },
		Ledger: &memLedger{w: ledger.NewWindow(CountWindow(time.Hour))}})
	last := func() BudgetWait {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if len(obs.waits) == 0 {
			return BudgetWait{}
		}
		return obs.waits[len(obs.waits)-1]
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.bitbucket.org/2.0/repositories/labs", nil)
	admitted := func(n int) int {
		// A deadline already past: a request the budget refuses fails at
		// once (errSlotAfterDeadline) instead of waiting an hour.
		ctx, cancel := context.WithDeadline(t.Context(), now)
		defer cancel()
		return admitWithin(ctx, b, req, n)
	}
	if got := admitted(15); got != 10 {
		t.Fatalf("before any answer: %d admitted, want 10 (the configured limit)", got)
	}
	if w := last(); w.Name != "labs" || w.Limit != 10 || w.Announced {
		t.Errorf("wait before the announcement: %+v", w)
	}
	b.observe(answer("/2.0/repositories/labs", http.Header{"X-Ratelimit-Limit": {"50"}, "X-Ratelimit-Resource": {"api"}}))
	if got := admitted(50); got != 40 {
		t.Fatalf("after the announcement: %d more admitted, want 40 (50 in the window)", got)
	}
	if w := last(); w.Limit != 50 || !w.Announced {
		t.Errorf("wait after the announcement: %+v", w)
	}
}

// TestBudgetNearLimitSlows: X-RateLimit-NearLimit: true (under 20 % left)
// lets at most a fifth of the group's announced limit more into the
// window, before any 429: here the server counts more than the 2,000 we
// sent (another job on the same token).
func TestBudgetNearLimitSlows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 1000, Ceiling: DefaultCeiling, Window: time.Hour,
		Class: classByPath, Now: func() time.Time { return now },
		Ledger: &memLedger{w: ledger.NewWindow(CountWindow(time.Hour))}})
	req, _ := http.NewRequest(http.MethodGet, "https://api.bitbucket.org/2.0/repositories/labs", nil)
	for range 2000 {
		b.mu.Lock()
		b.store.Admit(now, 1_000_000)
		b.mu.Unlock()
	}
	b.observe(answer("/2.0/repositories/labs", http.Header{"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Resource": {"api"}, "X-Ratelimit-Nearlimit": {"true"}}))
	b.mu.Lock()
	got := b.limitAt(now, classByPath(req))
	b.mu.Unlock()
	if got != 2000+1000 {
		t.Errorf("limit %d after NearLimit with 2,000 sent of 5,000, want 3,000", got)
	}
}

// TestBudgetFallbackPacedByTheAnnouncement: without a shared ledger (none
// configured, or one refused) the process's own pacing follows an
// announced limit too: a token announcing five times the configured limit
// gets five times the burst, not the configured limit's trickle.
func TestBudgetFallbackPacedByTheAnnouncement(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	b := NewBudget(BudgetConfig{API: "bitbucket", Limit: 40, Ceiling: DefaultCeiling, Window: time.Hour,
		Class: classByPath, Now: func() time.Time { return now }})
	req, _ := http.NewRequest(http.MethodGet, "https://api.bitbucket.org/2.0/repositories/labs", nil)
	admitted := func(n int) int {
		// The fallback's limiter runs on the real clock: what it lets
		// through at once.
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		return admitWithin(ctx, b, req, n)
	}
	if got := admitted(100); got != 10 {
		t.Fatalf("before any answer: %d admitted, want 10 (a quarter of the configured 40 at once)", got)
	}
	b.observe(answer("/2.0/repositories/labs", http.Header{"X-Ratelimit-Limit": {"200"}, "X-Ratelimit-Resource": {"api"}}))
	if got := admitted(100); got < 40 {
		t.Fatalf("after announcing 200: %d more admitted, want the announced limit's burst (50, less the 10 taken)", got)
	}
}
