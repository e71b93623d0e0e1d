package bitbucket_test

// Acceptance tests of issue 2: the client on the real HTTP stack (httpx)
// against the project's simulator, with request counts asserted exactly.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

type simClient struct {
	*bitbucket.Client
	cred *credential.Credential
}

// newSimClient builds the production stack (consumer credential, httpx
// budget and retries) against s, with millisecond waits.
func newSimClient(t *testing.T, s *sim.Server, secret string, opts ...bitbucket.Option) simClient {
	t.Helper()
	return newSimClientWaiting(t, s, secret, 500*time.Millisecond, opts...)
}

// newSimClientWaiting is newSimClient whose run may wait for 429s for wait
// in all.
func newSimClientWaiting(t *testing.T, s *sim.Server, secret string, wait time.Duration, opts ...bitbucket.Option) simClient {
	t.Helper()
	tokenHTTP, err := httpx.New(httpx.Options{API: "bitbucket-token", RetryMax: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := credential.ClientCredentials(credential.BitbucketConsumer, credential.Config{
		ClientID: sim.DefaultBitbucketClientID, ClientSecret: secret,
		TokenURL: s.URL + "/site/oauth2/access_token", HTTPClient: tokenHTTP.StandardClient(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Retry-After from the simulator is honoured above the backoff's cap;
	// 429s are waited out for wait in all, then typed.
	budget := httpx.NewBudget(httpx.BudgetConfig{API: "bitbucket", PauseMin: time.Millisecond, PauseMax: 5 * time.Millisecond, RateLimitWait: wait})
	hc, err := httpx.New(httpx.Options{
		API: "bitbucket", Credential: cred, Budget: budget,
		RetryMax: 8, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := bitbucket.NewClient(append([]bitbucket.Option{bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(s.URL + "/2.0")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return simClient{Client: c, cred: cred}
}

func startSim(t *testing.T, cfg sim.Config) *sim.Server {
	t.Helper()
	s := sim.New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var sevenSizes = []int{0, 1, 99, 100, 101, 250, 1000}

func sevenWorkspaces() []sim.WorkspaceSpec {
	out := make([]sim.WorkspaceSpec, len(sevenSizes))
	for i, n := range sevenSizes {
		out[i] = sim.WorkspaceSpec{Slug: fmt.Sprintf("ws-%d", n), Name: fmt.Sprintf("Workspace %d", n), Repos: n}
	}
	return out
}

func minPages(n int) int64 { return int64(max(1, (n+99)/100)) }

// listAll lists every workspace and its repositories, checking each
// repository is returned once.
func listAll(t *testing.T, ctx context.Context, c simClient) map[string]int {
	t.Helper()
	got := map[string]int{}
	for ws, err := range c.ListWorkspacesIter(ctx) {
		if err != nil {
			t.Fatalf("ListWorkspacesIter: %v", err)
		}
		seen := map[string]bool{}
		for repo, err := range c.ListRepositoriesIter(ctx, ws.Slug, nil) {
			if err != nil {
				t.Fatalf("ListRepositoriesIter(%s): %v", ws.Slug, err)
			}
			if seen[repo.Slug] {
				t.Fatalf("%s/%s returned twice", ws.Slug, repo.Slug)
			}
			seen[repo.Slug] = true
		}
		got[ws.Slug] = len(seen)
	}
	return got
}

func TestSimulator_ExactRequestCounts(t *testing.T) {
	// Names in the listing: the minimum, no per-workspace request
	// (TestSimulator_WorkspaceNames covers listings without them).
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: sevenWorkspaces(), WorkspaceAccessNames: true}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	got := listAll(t, t.Context(), c)

	var wantPages int64
	for _, n := range sevenSizes {
		slug := fmt.Sprintf("ws-%d", n)
		if got[slug] != n {
			t.Errorf("%s: listed %d repositories, want %d", slug, got[slug], n)
		}
		if p := s.Count("bitbucket.repositories_pages." + slug); p != minPages(n) {
			t.Errorf("%s: %d repository requests, want exactly %d", slug, p, minPages(n))
		}
		wantPages += minPages(n)
	}
	if p := s.Count("bitbucket.repositories_pages"); p != wantPages {
		t.Errorf("repository requests = %d, want Σ ceil(n/100) = %d", p, wantPages)
	}
	if p := s.Count("bitbucket.workspaces_pages"); p != 1 {
		t.Errorf("workspace pages = %d, want 1", p)
	}
	if total, want := s.Count("bitbucket.requests"), wantPages+1; total != want {
		t.Errorf("Bitbucket API requests = %d, want exactly %d", total, want)
	}
	if m := s.Count("bitbucket.max_pagelen"); m != 100 {
		t.Errorf("max pagelen = %d, want 100", m)
	}
}

func TestSimulator_FiftyGoroutinesOneTokenExchange(t *testing.T) {
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{{Slug: "big", Repos: 250}}}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			n := 0
			for _, err := range c.ListRepositoriesIter(t.Context(), "big", nil) {
				if err != nil {
					errs <- err
					return
				}
				n++
			}
			if n != 250 {
				errs <- fmt.Errorf("listed %d, want 250", n)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.Count("bitbucket.token_exchanges"); n != 1 {
		t.Errorf("token exchanges = %d, want exactly 1", n)
	}
}

func TestSimulator_ShortTokenTTLRenews(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time token expiry")
	}
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{
		TokenTTL:   time.Second,
		Workspaces: []sim.WorkspaceSpec{{Slug: "slow", Repos: 1000}},
		Faults:     sim.Faults{Latency: 200 * time.Millisecond},
	}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	n := 0
	for _, err := range c.ListRepositoriesIter(t.Context(), "slow", nil) {
		if err != nil {
			t.Fatalf("a 401 reached the caller: %v", err)
		}
		n++
	}
	if n != 1000 {
		t.Fatalf("listed %d, want 1000", n)
	}
	if ex := s.Count("bitbucket.token_exchanges"); ex < 2 {
		t.Errorf("token exchanges = %d over a 2 s listing with a 1 s TTL, want renewals", ex)
	}
}

func TestSimulator_429And5xxStillComplete(t *testing.T) {
	s := startSim(t, sim.Config{Seed: 7, Bitbucket: sim.BitbucketConfig{
		Workspaces: sevenWorkspaces()[:6], // 0…250: keeps the Retry-After waits short
		Faults:     sim.Faults{RateLimitEvery: 5, RetryAfter: "1", ServerErrorRate: 0.05},
	}})
	// The run waits out every Retry-After: a few seconds in all.
	c := newSimClientWaiting(t, s, sim.DefaultBitbucketClientSecret, time.Minute)
	got := listAll(t, t.Context(), c)
	for _, n := range sevenSizes[:6] {
		if slug := fmt.Sprintf("ws-%d", n); got[slug] != n {
			t.Errorf("%s: listed %d, want %d", slug, got[slug], n)
		}
	}
	if s.Count("bitbucket.429") == 0 {
		t.Error("the simulator answered no 429: the test proves nothing")
	}
}

func TestSimulator_RateLimitPastRetriesIsTyped(t *testing.T) {
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{
		Workspaces: []sim.WorkspaceSpec{{Slug: "ws", Repos: 10}},
		Faults:     sim.Faults{RateLimitEvery: 1, RetryAfter: "0"},
	}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	var err error
	for _, err = range c.ListRepositoriesIter(t.Context(), "ws", nil) {
		break
	}
	var rl *bitbucket.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v (%T), want *RateLimitError", err, err)
	}
	if rl.Reset.IsZero() {
		t.Error("RateLimitError has no reset time")
	}
	// What to change (BITBUCKET_RATE_LIMIT) is the command's to say
	// (cmd/bbimport TestExplainBitbucket); the error states the fact.
	if msg := err.Error(); !strings.Contains(msg, "request budget of the OAuth consumer is spent") {
		t.Errorf("message %q does not say the budget is spent", msg)
	}
}

// TestSimulator_ErrorMessages: the facts each failure states, from the
// simulator's real error bodies (the fixes a person reads with them are
// the command's: cmd/bbimport explain_test.go).
func TestSimulator_ErrorMessages(t *testing.T) {
	tests := []struct {
		name   string
		cfg    sim.BitbucketConfig
		secret string
		call   func(context.Context, simClient) error
		want   []string
	}{
		{name: "wrong secret", secret: "not-the-secret",
			call: listWorkspaces, want: []string{"rejected the OAuth consumer key or secret", "invalid_client"}},
		{name: "public consumer", cfg: sim.BitbucketConfig{PublicConsumer: true},
			call: listWorkspaces, want: []string{"public", "private consumer"}},
		{name: "no repository scope", cfg: sim.BitbucketConfig{Scopes: "account project:admin"},
			call: listRepos("acme-mobile"), want: []string{"repository", `lacks the "repository" permission`}},
		{name: "no account scope", cfg: sim.BitbucketConfig{Scopes: "repository project"},
			call: listWorkspaces, want: []string{"account"}},
		{name: "unknown workspace", call: listRepos("no-such-ws"), want: []string{"no-such-ws", "does not exist"}},
		{name: "removed endpoint", call: func(ctx context.Context, c simClient) error {
			_, _, err := c.ListWorkspaces(ctx, c.BaseURL().String()+"workspaces")
			return err
		}, want: []string{"CHANGE-2770", "removed this endpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, sim.Config{Bitbucket: tt.cfg})
			secret := tt.secret
			if secret == "" {
				secret = sim.DefaultBitbucketClientSecret
			}
			err := tt.call(t.Context(), newSimClient(t, s, secret))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("message %q contains the client secret", err)
			}
		})
	}
}

func listWorkspaces(ctx context.Context, c simClient) error {
	for _, err := range c.ListWorkspacesIter(ctx) {
		if err != nil {
			return err
		}
	}
	return nil
}

func listRepos(ws string) func(context.Context, simClient) error {
	return func(ctx context.Context, c simClient) error {
		for _, err := range c.ListRepositoriesIter(ctx, ws, nil) {
			if err != nil {
				return err
			}
		}
		return nil
	}
}
