package main

// The fault suite (issue 5): the real app against the simulator while
// something goes wrong, each test asserting from the simulator's state and
// counters that nothing was lost (every repository with a main branch
// imported, every workspace has its org) and nothing duplicated (Snyk has
// each org once, and no second import job for a target except where a fault
// made it impossible for any client to know the first one existed: Snyk
// answered 500, or the connection died, after creating the job; the tests
// count those and allow that many, never more).
//
// "Exactly once" here: within one run, the import POST of a target is sent
// again only when Snyk cannot have acted on it (429, 503, a connection that
// was never made); across runs, a target is imported again only when every
// earlier POST of it failed in a way the client saw (it is then logged as
// failed and retried by the next run, as the user is told). So for every
// target, jobs = 1 + (its POSTs that Snyk acted on but answered with an
// error or never answered).
//
// Everything is small (tens to a hundred targets, millisecond waits) and
// runs one app at a time (urfave/cli has global state), so the suite takes
// about 15 s under -race, most of it in the few tests that must wait for
// real seconds (Retry-After: 1, a 1 s token lifetime, attempt timeouts).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// ftEstate is the suite's estate: one workspace over two pages of 100,
// two small ones; forks and empty repositories included (116 targets).
func ftEstate() []sim.WorkspaceSpec {
	return []sim.WorkspaceSpec{
		{Slug: "alpha", Name: "Alpha Team", Repos: 101, Forks: 4, Empty: 3, Private: 80, Projects: []string{"AL", "PHA"}},
		{Slug: "beta", Name: "Beta Team", Repos: 14, Forks: 1, Empty: 1},
		{Slug: "gamma", Name: "Gamma Team", Repos: 5},
	}
}

// ftNewEnv is newSimEnv with the estate set (when cfg has none) and the
// client-side rate limits lifted, so the simulator's faults are the only
// thing that slows the run down.
func ftNewEnv(t *testing.T, cfg sim.Config) *simEnv {
	t.Helper()
	if cfg.Bitbucket.Workspaces == nil {
		cfg.Bitbucket.Workspaces = ftEstate()
	}
	e := newSimEnv(t, cfg)
	e.Set("SNYK_RATE_LIMIT", "1000000")
	e.Set("BITBUCKET_RATE_LIMIT", "1000000")
	return e
}

// ftWrapSim puts a handler in front of the simulator: the app is pointed at a
// second loopback server that runs wrap(simulator). Snyk's Location headers
// still name the simulator's own address, so polling also proves the client
// re-roots a Location on SNYK_API.
func ftWrapSim(t *testing.T, e *simEnv, wrap func(next http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(wrap(e.Sim))
	t.Cleanup(srv.Close)
	e.Set("SNYK_API", srv.URL+"/v1")
	e.Set("BITBUCKET_APP_API_BASE", srv.URL+"/2.0")
	e.Set("BITBUCKET_APP_TOKEN_URL", srv.URL+"/site/oauth2/access_token")
	return srv
}

// ftWant is every target the pipeline must import, as simulator target
// keys: each repository with a main branch, in the org of its workspace.
func ftWant(t *testing.T, e *simEnv) map[string]bool {
	t.Helper()
	orgs, err := importfiles.ReadCreatedOrgsFile(e.File(importfiles.CreatedOrgsFileName))
	if err != nil {
		t.Fatal(err)
	}
	orgOf := map[string]string{}
	for _, o := range orgs {
		if prev, dup := orgOf[o.WorkspaceSlug()]; dup {
			t.Fatalf("workspace %s has two orgs: %s and %s", o.WorkspaceSlug(), prev, o.OrgID)
		}
		orgOf[o.WorkspaceSlug()] = o.OrgID
	}
	want := map[string]bool{}
	for _, w := range e.Sim.BitbucketWorkspaces() {
		n := 0
		for r := range w.AllRepos() {
			if r.MainBranch != "" {
				want[sim.SnykTargetKey(orgOf[w.Slug], w.Slug, r.Slug, r.MainBranch)] = true
				n++
			}
		}
		if n > 0 && orgOf[w.Slug] == "" {
			t.Fatalf("workspace %s (%d targets) has no org in %s", w.Slug, n, importfiles.CreatedOrgsFileName)
		}
	}
	return want
}

// ftCheckOrgs: Snyk has one org per workspace, each named once, and they
// are the orgs of the created-orgs file (a retried org creation made none
// behind the client's back).
func ftCheckOrgs(t *testing.T, e *simEnv) {
	t.Helper()
	created, err := importfiles.ReadCreatedOrgsFile(e.File(importfiles.CreatedOrgsFileName))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, o := range e.Sim.Orgs(sim.SimSnykGroupID) {
		names[o.Name]++
	}
	var twice []string
	for n, c := range names {
		if c > 1 {
			twice = append(twice, fmt.Sprintf("%q ×%d", n, c))
		}
	}
	if len(twice) > 0 || len(names) != len(created) {
		t.Errorf("Snyk has %d orgs (%d names), the created-orgs file %d; created more than once: %v",
			len(e.Sim.Orgs(sim.SimSnykGroupID)), len(names), len(created), ftFirstFew(twice))
	}
}

// ftCheckTargetsFile: the targets file names every wanted target exactly once
// and nothing else (the listing lost nothing and repeated nothing).
func ftCheckTargetsFile(t *testing.T, path string, want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for it, err := range importfiles.ReadTargets(path) {
		if err != nil {
			t.Fatal(err)
		}
		owner, _ := it.Target.Get("owner")
		name, _ := it.Target.Get("name")
		branch, _ := it.Target.Get("branch")
		seen[sim.SnykTargetKey(it.OrgID, owner, name, branch)]++
	}
	var missing, extra, twice []string
	for k := range want {
		if seen[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k, n := range seen {
		if !want[k] {
			extra = append(extra, k)
		}
		if n > 1 {
			twice = append(twice, k)
		}
	}
	if len(missing)+len(extra)+len(twice) > 0 {
		t.Fatalf("targets file: %d missing %v, %d unexpected %v, %d twice %v",
			len(missing), ftFirstFew(missing), len(extra), ftFirstFew(extra), len(twice), ftFirstFew(twice))
	}
}

// ftAmbiguous counts, per target key, import POSTs that Snyk acted on but whose
// answer the client never got or got as an error: a later run importing the
// target again is then expected, once per such POST.
type ftAmbiguous struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *ftAmbiguous) add(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[key]++
}

func (a *ftAmbiguous) get(key string) int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[key]
}

// ftCheckExactlyOnce is the suite's verdict, from the simulator's jobs: every
// wanted target has a job (nothing lost); no job for anything else; and a
// target has more than one job only as many times as Snyk created a job
// whose POST was answered 500 (AcceptThen5xx) or whose answer the fault
// swallowed (amb). It returns the number of extra jobs so allowed.
func ftCheckExactlyOnce(t *testing.T, e *simEnv, want map[string]bool, amb *ftAmbiguous) int {
	t.Helper()
	jobs, a5xx := map[string]int{}, map[string]int{}
	for _, j := range e.Sim.SnykJobs() {
		jobs[j.Key]++
		if j.AcceptedThen5xx {
			a5xx[j.Key]++
		}
	}
	var missing, extra, twice []string
	allowed := 0
	for k := range want {
		n := jobs[k]
		if n == 0 {
			missing = append(missing, k)
			continue
		}
		ok := a5xx[k] + amb.get(k)
		if n-1 > ok {
			twice = append(twice, fmt.Sprintf("%s: %d jobs, %d explained", k, n, ok))
		}
		allowed += n - 1
	}
	for k := range jobs {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(twice) > 0 {
		t.Errorf("imports: %d lost %v; %d unexpected %v; %d duplicated %v",
			len(missing), ftFirstFew(missing), len(extra), ftFirstFew(extra), len(twice), ftFirstFew(twice))
	}
	if got := e.Sim.Count("snyk.imports"); got != int64(len(want)+allowed) {
		t.Errorf("snyk.imports = %d, want %d targets + %d explained re-imports", got, len(want), allowed)
	}
	return allowed
}

func ftFirstFew(s []string) []string {
	slices.Sort(s)
	if len(s) > 4 {
		return append(s[:4:4], fmt.Sprintf("… (%d in all)", len(s)))
	}
	return s
}

// ftImportUntilDone runs import until it exits 0, as a user re-runs after
// exit 3 ("failed targets are retried by the next run"). Every run must exit
// 0 or 3. It returns the number of runs.
func ftImportUntilDone(t *testing.T, e *simEnv, targets string, maxRuns int, args ...string) int {
	t.Helper()
	for run := 1; run <= maxRuns; run++ {
		r := e.Run(append([]string{"import", "--file=" + targets}, args...)...)
		switch r.Code {
		case exitOK:
			return run
		case exitPartial:
			continue
		default:
			t.Fatalf("import run %d: exit %d\nstdout:\n%s\nstderr:\n%s", run, r.Code, r.Stdout, r.Stderr)
		}
	}
	t.Fatalf("import still failing after %d runs (counters %v)", maxRuns, e.Sim.Counters())
	return 0
}

// ftPipeline is e.Pipeline for faults that may fail a stage the way a user
// is told to handle: each of orgs:data, orgs:create and import:data is run
// again after exit 3 (at most 3 runs). It returns the targets file.
func ftPipeline(t *testing.T, e *simEnv) string {
	t.Helper()
	group := sim.SimSnykGroupID
	for _, args := range [][]string{
		{"orgs:data", "--source=bitbucket-cloud-app", "--groupId=" + group},
		{"orgs:create", "--file=" + e.File(importfiles.OrgsDataFileName(group, "bitbucket-cloud-app"))},
		{"import:data", "--source=bitbucket-cloud-app", "--orgsData=" + e.File(importfiles.CreatedOrgsFileName)},
	} {
		for run := 1; ; run++ {
			r := e.Run(args...)
			if r.Code == exitOK {
				break
			}
			if r.Code != exitPartial || run == 3 {
				t.Fatalf("%s run %d: exit %d\nstdout:\n%s\nstderr:\n%s", args[0], run, r.Code, r.Stdout, r.Stderr)
			}
			t.Logf("%s run %d: exit 3, running it again", args[0], run)
		}
	}
	return e.File(importfiles.TargetsFileName("bitbucket-cloud-app"))
}

// ftReadBody reads and restores a request body.
func ftReadBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}

// ftImportKey is the simulator target key of an import POST, or "".
func ftImportKey(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/import") {
		return ""
	}
	parts := strings.Split(r.URL.Path, "/") // "", "v1", "org", {orgId}, "integrations", {id}, "import"
	if len(parts) < 7 {
		return ""
	}
	var b struct {
		Target struct{ Owner, Name, Branch string } `json:"target"`
	}
	_ = json.Unmarshal(body, &b)
	return sim.SnykTargetKey(parts[len(parts)-4], b.Target.Owner, b.Target.Name, b.Target.Branch)
}

// --- 429 storms ---------------------------------------------------------

// ftStorm answers the first n arrivals of every distinct request (method,
// URL, body) 429, on both APIs and the token endpoint: a ftStorm in which two
// thirds of all requests are refused, yet every request can succeed on its
// third attempt, deterministically.
type ftStorm struct {
	next       http.Handler
	n          int
	retryAfter string
	mu         sync.Mutex
	seen       map[string]int
	refused    atomic.Int64
}

func (s *ftStorm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sum := sha256.Sum256(ftReadBody(r))
	key := r.Method + " " + r.URL.RequestURI() + " " + string(sum[:])
	s.mu.Lock()
	s.seen[key]++
	refuse := s.seen[key] <= s.n
	s.mu.Unlock()
	if !refuse {
		s.next.ServeHTTP(w, r)
		return
	}
	s.refused.Add(1)
	if s.retryAfter != "" {
		w.Header().Set("Retry-After", s.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, `{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"},"code":429,"message":"Too many requests"}`)
}

// TestFault429Storm: every request of every stage is refused twice with 429
// (without Retry-After, with "Retry-After: 0", with a date in the past)
// before it is served. All four stages succeed on the first run, every
// target is imported once, and the import POST was retried only for its
// 429s (snyk.imports equals the number of targets).
func TestFault429Storm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, retryAfter string }{
		{"no Retry-After", ""},
		{"Retry-After 0", "0"},
		{"Retry-After date in the past", "Sat, 01 Jan 2000 00:00:00 GMT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ftNewEnv(t, sim.Config{})
			st := &ftStorm{n: 2, retryAfter: tc.retryAfter, seen: map[string]int{}}
			ftWrapSim(t, e, func(next http.Handler) http.Handler { st.next = next; return st })
			targets := e.Pipeline()
			want := ftWant(t, e)
			ftCheckOrgs(t, e)
			ftCheckTargetsFile(t, targets, want)
			r := e.MustRun(exitOK, "import", "--file="+targets, "--concurrency=10")
			ftCheckExactlyOnce(t, e, want, nil)
			st.mu.Lock()
			distinct := len(st.seen)
			st.mu.Unlock()
			if got := st.refused.Load(); got != int64(2*distinct) {
				t.Errorf("ftStorm refused %d requests, want 2 × %d distinct requests", got, distinct)
			}
			if strings.Contains(r.Stderr, `"level":"error"`) {
				t.Errorf("a 429 ftStorm that retries absorb logged errors:\n%s", r.Stderr)
			}
		})
	}
}

// TestFaultRetryAfterHonoured: the simulator's own budgets (Bitbucket per
// consumer, Snyk per window) answer 429 with "Retry-After: 1". The client's
// backoff without Retry-After would give up after about 100 ms (6 retries,
// waits of 1–20 ms here), so finishing at all proves the one-second waits
// were honoured; and the import, with more requests than one window admits,
// takes at least a second.
func TestFaultRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	e := ftNewEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{
			Workspaces:        []sim.WorkspaceSpec{{Slug: "delta", Name: "Delta Team", Repos: 6}},
			RateLimitPerToken: 1, RateLimitWindow: time.Second, RateLimitRetryAfter: true,
		},
		Snyk: sim.SnykConfig{RateLimitPerMinute: 10, RateLimitWindow: time.Second, RateLimitRetryAfter: true},
	})
	targets := e.Pipeline()
	want := ftWant(t, e)
	ftCheckOrgs(t, e)
	start := time.Now()
	e.MustRun(exitOK, "import", "--file="+targets, "--concurrency=4")
	took := time.Since(start)
	ftCheckExactlyOnce(t, e, want, nil)
	if e.Sim.Count("bitbucket.429") == 0 || e.Sim.Count("snyk.429") == 0 {
		t.Fatalf("the budgets never answered 429: %v", e.Sim.Counters())
	}
	if took < time.Second {
		t.Errorf("import took %s despite Retry-After: 1", took)
	}
}

// --- 5xx ----------------------------------------------------------------

// ftFirst503 answers 503 to the first request of each kind (ftRequestClass),
// before the simulator sees it: with 5% of requests failing at random, a
// small run could otherwise leave a route untouched.
type ftFirst503 struct {
	next http.Handler
	mu   sync.Mutex
	hit  map[string]bool
}

func (f *ftFirst503) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	class := ftRequestClass(r)
	f.mu.Lock()
	first := !f.hit[class]
	f.hit[class] = true
	f.mu.Unlock()
	if !first {
		f.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, `{"type":"error","error":{"message":"Service Unavailable"},"code":503,"message":"Service Unavailable"}`)
}

// TestFault5xxEverywhere: 5% of all requests (Bitbucket API, token
// endpoint, Snyk) are answered 503, and the first request of every kind
// is. Every stage succeeds (a 503 is retried: the server did not act on the
// request); an import POST that still fails is logged failed and imported by
// the next run. Everything is imported, nothing twice: a 503 comes before
// anything is created.
func TestFault5xxEverywhere(t *testing.T) {
	t.Parallel()
	faults := sim.Faults{ServerErrorRate: 0.05}
	e := ftNewEnv(t, sim.Config{Seed: 7,
		Bitbucket: sim.BitbucketConfig{Faults: faults, TokenFaults: faults},
		Snyk:      sim.SnykConfig{Faults: faults, PendingPolls: 1},
	})
	f503 := &ftFirst503{hit: map[string]bool{}}
	ftWrapSim(t, e, func(next http.Handler) http.Handler { f503.next = next; return f503 })
	targets := e.Pipeline()
	want := ftWant(t, e)
	ftCheckOrgs(t, e)
	ftCheckTargetsFile(t, targets, want)
	runs := ftImportUntilDone(t, e, targets, 6, "--concurrency=10")
	ftCheckExactlyOnce(t, e, want, nil)
	f503.mu.Lock()
	kinds := len(f503.hit)
	f503.mu.Unlock()
	if e.Sim.Count("snyk.5xx") == 0 || kinds < 6 {
		t.Fatalf("503s: %d kinds of request, snyk.5xx %d", kinds, e.Sim.Count("snyk.5xx"))
	}
	t.Logf("import runs: %d; first request of %d kinds refused; random 503s: bitbucket %d, token %d, snyk %d", runs, kinds,
		e.Sim.Count("bitbucket.5xx"), e.Sim.Count("bitbucket.token.5xx"), e.Sim.Count("snyk.5xx"))
}

// TestFaultAcceptThen5xx: Snyk creates the import job and then answers 500
// for 15% of the POSTs. Within a run the POST is never retried (snyk.imports
// equals the targets: one POST each), those targets are reported failed
// (exit 3, the summary counts them) and the next run imports them; each
// target ends with exactly one job per 500 answer plus the one that was
// acknowledged.
func TestFaultAcceptThen5xx(t *testing.T) {
	t.Parallel()
	e := ftNewEnv(t, sim.Config{Seed: 7, Snyk: sim.SnykConfig{AcceptThen5xx: 0.15}})
	targets := e.Pipeline()
	want := ftWant(t, e)
	ftCheckOrgs(t, e)

	r := e.MustRun(exitPartial, "import", "--file="+targets, "--concurrency=10")
	if got := e.Sim.Count("snyk.imports"); got != int64(len(want)) {
		t.Fatalf("first run: snyk.imports = %d for %d targets: an import POST was retried", got, len(want))
	}
	failed := e.Sim.Count("snyk.accepted_then_5xx")
	if failed == 0 || e.Sim.Count("snyk.duplicate_imports") != 0 {
		t.Fatalf("first run: counters %v", e.Sim.Counters())
	}
	var summary struct {
		KickedOff       int `json:"kickedOff"`
		KickOffFailures int `json:"kickOffFailures"`
	}
	if data, err := os.ReadFile(e.File(importer.ImportSummaryFile)); err != nil || json.Unmarshal(data, &summary) != nil {
		t.Fatalf("import summary: %v", err)
	}
	if summary.KickOffFailures != int(failed) || summary.KickedOff != len(want)-int(failed) {
		t.Errorf("first run: the summary reports %d kicked off, %d refused; Snyk answered 500 to %d of %d\nstdout:\n%s",
			summary.KickedOff, summary.KickOffFailures, failed, len(want), r.Stdout)
	}
	rl, err := importfiles.LoadResumeLog(e.File(importfiles.ImportedTargetsLog))
	if err != nil {
		t.Fatal(err)
	}
	if rl.Len() != len(want)-int(failed) {
		t.Errorf("imported-targets.log knows %d targets, want %d acknowledged", rl.Len(), len(want)-int(failed))
	}

	runs := 1 + ftImportUntilDone(t, e, targets, 6, "--concurrency=10")
	extra := ftCheckExactlyOnce(t, e, want, nil)
	if int64(extra) != e.Sim.Count("snyk.accepted_then_5xx") {
		t.Errorf("%d re-imports for %d answers 500", extra, e.Sim.Count("snyk.accepted_then_5xx"))
	}
	t.Logf("runs %d; accepted then 500: %d", runs, e.Sim.Count("snyk.accepted_then_5xx"))
}

// --- token expiry -------------------------------------------------------

// TestFaultTokenTTLShorterThanRun: Bitbucket tokens live 1 s and every
// request takes 300 ms, so the listing of import:data (a workspace of four
// pages, listed page after page) outlives its first token; on top, every
// token is revoked every 700 ms (the API then answers 401 "expired"; more
// often than twice the latency, no request could get through). The client
// renews ahead of expiry and once on a 401; no 401 reaches the user and the
// targets file lists every repository once.
func TestFaultTokenTTLShorterThanRun(t *testing.T) {
	t.Parallel()
	e := ftNewEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{
		TokenTTL: time.Second,
		Faults:   sim.Faults{Latency: 300 * time.Millisecond},
		Workspaces: []sim.WorkspaceSpec{
			{Slug: "epsilon", Name: "Epsilon Team", Repos: 330, Empty: 10},
			{Slug: "zeta", Name: "Zeta Team", Repos: 3},
		},
	}})
	group := sim.SimSnykGroupID
	e.MustRun(exitOK, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	e.MustRun(exitOK, "orgs:create", "--file="+e.File(importfiles.OrgsDataFileName(group, "bitbucket-cloud-app")))

	exchanges, unauthorized := e.Sim.Count("bitbucket.token_exchanges"), e.Sim.Count("bitbucket.401")
	stop := make(chan struct{})
	var revoker sync.WaitGroup
	revoker.Go(func() {
		tick := time.NewTicker(700 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				e.Sim.ExpireBitbucketTokens()
			}
		}
	})
	start := time.Now()
	r := e.Run("import:data", "--source=bitbucket-cloud-app", "--orgsData="+e.File(importfiles.CreatedOrgsFileName))
	close(stop)
	revoker.Wait()
	if r.Code != exitOK {
		t.Fatalf("import:data: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	took := time.Since(start)
	exchanges = e.Sim.Count("bitbucket.token_exchanges") - exchanges
	unauthorized = e.Sim.Count("bitbucket.401") - unauthorized
	if took < 1200*time.Millisecond || exchanges < 2 || unauthorized == 0 {
		t.Fatalf("the listing did not outlive its tokens: took %s, %d token exchanges, %d 401s", took, exchanges, unauthorized)
	}
	for _, s := range []string{"answered 401", "rejected the credentials", "expired", `"level":"error"`, `"level":"warn"`} {
		if strings.Contains(r.Stdout+r.Stderr, s) {
			t.Errorf("output mentions %q:\nstdout:\n%s\nstderr:\n%s", s, r.Stdout, r.Stderr)
		}
	}
	ftCheckTargetsFile(t, e.File(importfiles.TargetsFileName("bitbucket-cloud-app")), ftWant(t, e))
	t.Logf("import:data took %s: %d token exchanges, %d 401s answered by a renewal", took.Round(time.Millisecond), exchanges, unauthorized)
}

// --- connection resets --------------------------------------------------

// ftResetMode is what the ftResetter does to a request it picks.
type ftResetMode int

const (
	ftResetBeforeServing ftResetMode = iota // close the connection without serving: nothing happened
	ftResetAfterServing                     // serve, then close before the headers: it happened, nobody heard
	ftResetMidBody                          // serve, send the headers and half the body, then close
)

// ftResetter drops connections (RST). It picks every nth distinct request
// (method, URL, body) of each class (ftRequestClass), so every mode hits
// every kind of call however few requests it makes, and drops only its
// first arrival, so a retry always gets through and the test is
// deterministic. The modes take turns, starting with ftResetMidBody.
type ftResetter struct {
	next  http.Handler
	every map[string]int64
	amb   *ftAmbiguous
	mu    sync.Mutex
	seen  map[string]bool
	n     map[string]int64
	hits  map[string]*[3]int
}

// ftRequestClass is the kind of a request: the token endpoint, the
// Bitbucket listings, and each Snyk call by method and path with its ids
// left out ("POST /v1/org", "GET /v1/org/{}/integrations", ...).
func ftRequestClass(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/site/oauth2/"):
		return "token"
	case strings.HasPrefix(p, "/2.0/"):
		return "bitbucket"
	}
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		switch parts[i-1] {
		case "org", "group", "integrations", "import", "orgs":
			parts[i] = "{}"
		}
	}
	return r.Method + " " + strings.Join(parts, "/")
}

// everyOf is the class's n: every distinct request unless set.
func (rs *ftResetter) everyOf(class string) int64 {
	if n := rs.every[class]; n > 0 {
		return n
	}
	return 1
}

func (rs *ftResetter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := ftReadBody(r)
	class := ftRequestClass(r)
	sum := sha256.Sum256(body)
	key := r.Method + " " + r.URL.RequestURI() + " " + string(sum[:])
	rs.mu.Lock()
	first := !rs.seen[key]
	rs.seen[key] = true
	drop, mode := false, ftResetMode(0)
	if first {
		rs.n[class]++
		i, every := rs.n[class], rs.everyOf(class)
		drop, mode = i%every == 0, ftResetMode((i/every+1)%3)
	}
	if drop {
		if rs.hits[class] == nil {
			rs.hits[class] = &[3]int{}
		}
		rs.hits[class][mode]++
	}
	rs.mu.Unlock()
	if !drop {
		rs.next.ServeHTTP(w, r)
		return
	}
	var rec *httptest.ResponseRecorder
	if mode != ftResetBeforeServing {
		rec = httptest.NewRecorder()
		rs.next.ServeHTTP(rec, r)
		if key := ftImportKey(r, body); key != "" && mode == ftResetAfterServing && rec.Code < 300 {
			rs.amb.add(key) // Snyk has the job; the client cannot know
		}
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if mode == ftResetMidBody {
		res := rec.Result()
		full, _ := io.ReadAll(res.Body)
		res.Body = io.NopCloser(bytes.NewReader(full[:len(full)/2]))
		res.ContentLength = int64(len(full))
		_ = res.Write(buf) // headers with the full Content-Length, half the body
		_ = buf.Flush()
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST, not FIN
	}
	_ = conn.Close()
}

// TestFaultConnectionResets: connections are reset (the first attempt of
// every Bitbucket, token and Snyk org request, of every 7th import POST and
// job poll), in turn before
// the simulator serves the request, after it served it (the answer never
// leaves), and halfway through the body. Reads are retried, whichever way
// the connection died; an import POST that died after Snyk created its job
// is reported failed and imported by the next run, which is the only kind
// of second import allowed.
func TestFaultConnectionResets(t *testing.T) {
	t.Parallel()
	e := ftNewEnv(t, sim.Config{Snyk: sim.SnykConfig{PendingPolls: 1}})
	rs := &ftResetter{amb: &ftAmbiguous{}, seen: map[string]bool{}, n: map[string]int64{}, hits: map[string]*[3]int{},
		every: map[string]int64{
			"POST /v1/org/{}/integrations/{}/import":   7,
			"GET /v1/org/{}/integrations/{}/import/{}": 7,
		}}
	ftWrapSim(t, e, func(next http.Handler) http.Handler { rs.next = next; return rs })
	targets := ftPipeline(t, e)
	want := ftWant(t, e)
	ftCheckOrgs(t, e)
	ftCheckTargetsFile(t, targets, want)
	runs := ftImportUntilDone(t, e, targets, 6, "--concurrency=10")
	ftCheckExactlyOnce(t, e, want, rs.amb)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for class, n := range rs.n {
		if h := rs.hits[class]; n >= 3*rs.everyOf(class) && (h == nil || h[0] == 0 || h[1] == 0 || h[2] == 0) {
			t.Errorf("%s: %d requests, resets before/after/mid-body %v, want each at least once", class, n, h)
		}
	}
	if len(rs.n) < 6 {
		t.Errorf("only %d kinds of request seen: %v", len(rs.n), rs.n)
	}
	var b strings.Builder
	for class, h := range rs.hits {
		fmt.Fprintf(&b, " %s %v", class, *h)
	}
	t.Logf("import runs %d; resets before/after/mid-body:%s", runs, b.String())
}

// --- slow server --------------------------------------------------------

// ftSlowServer holds every nth request for longer than the client's attempt
// timeout. The client gives up and closes the connection; what the server
// does then alternates: nothing (the request is dropped), or, for an
// import POST, creating the job anyway (a server that acted late).
type ftSlowServer struct {
	next  http.Handler
	every int64
	hold  time.Duration
	n     atomic.Int64
	slow  atomic.Int64
	late  atomic.Int64
	amb   *ftAmbiguous
}

func (s *ftSlowServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := s.n.Add(1)
	body := ftReadBody(r)
	if i%s.every != 0 {
		s.next.ServeHTTP(w, r)
		if key := ftImportKey(r, body); key != "" && r.Context().Err() != nil {
			s.amb.add(key) // slow by accident (a loaded machine): the client gave up all the same
		}
		return
	}
	s.slow.Add(1)
	t := time.NewTimer(s.hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done(): // the client gave up
	}
	if key := ftImportKey(r, body); key != "" && (i/s.every)%2 == 0 {
		s.late.Add(1)
		rec := httptest.NewRecorder()
		s.next.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
		if rec.Code < 300 {
			s.amb.add(key)
		}
		return
	}
	if r.Context().Err() == nil {
		s.next.ServeHTTP(w, r)
	}
}

// TestFaultSlowServer: every 11th request is held 5 s while the client's
// attempt timeout is 250 ms. Timed-out reads are retried; a timed-out
// import POST is not (Snyk may have it), is reported failed and imported by
// the next run; a second job exists only where the server created the
// first one after the client had given up.
func TestFaultSlowServer(t *testing.T) {
	t.Parallel()
	e := ftNewEnv(t, sim.Config{Snyk: sim.SnykConfig{PendingPolls: 1}})
	e.Tuning.AttemptTimeout = 250 * time.Millisecond
	ss := &ftSlowServer{every: 11, hold: 5 * time.Second, amb: &ftAmbiguous{}}
	ftWrapSim(t, e, func(next http.Handler) http.Handler { ss.next = next; return ss })
	targets := ftPipeline(t, e)
	want := ftWant(t, e)
	ftCheckOrgs(t, e)
	ftCheckTargetsFile(t, targets, want)
	runs := ftImportUntilDone(t, e, targets, 6, "--concurrency=10")
	ftCheckExactlyOnce(t, e, want, ss.amb)
	if ss.slow.Load() == 0 || ss.late.Load() == 0 {
		t.Fatalf("slow requests %d, late imports %d", ss.slow.Load(), ss.late.Load())
	}
	t.Logf("import runs %d; %d requests held past the timeout, %d imports created late", runs, ss.slow.Load(), ss.late.Load())
}

// --- interruptions ------------------------------------------------------

// TestFaultSIGINTRandomPoints: for several seeds, one stage (orgs:create,
// import:data or import) is interrupted (its context cancelled, as SIGINT
// does) at a random point, then the pipeline is run again from that stage to
// the end. Every org exists once, the targets file is whole, and every
// target is imported exactly once: import finishes the POSTs on their way
// and logs them before it exits, so even the jobs in flight at the
// interrupt are not imported again.
func TestFaultSIGINTRandomPoints(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			e := ftNewEnv(t, sim.Config{Seed: seed,
				Bitbucket: sim.BitbucketConfig{
					Workspaces: []sim.WorkspaceSpec{
						{Slug: "north", Name: "North Team", Repos: 30, Empty: 2},
						{Slug: "south", Name: "South Team", Repos: 30, Forks: 3},
						{Slug: "west", Name: "West Team", Repos: 4},
					},
					Faults: sim.Faults{Latency: 10 * time.Millisecond},
				},
				Snyk: sim.SnykConfig{PendingPolls: 1, Faults: sim.Faults{Latency: 3 * time.Millisecond}},
			})
			group := sim.SimSnykGroupID
			orgsData := e.File(importfiles.OrgsDataFileName(group, "bitbucket-cloud-app"))
			targets := e.File(importfiles.TargetsFileName("bitbucket-cloud-app"))
			stages := [][]string{
				{"orgs:create", "--file=" + orgsData},
				{"import:data", "--source=bitbucket-cloud-app", "--orgsData=" + e.File(importfiles.CreatedOrgsFileName)},
				{"import", "--file=" + targets, "--concurrency=8"},
			}
			e.MustRun(exitOK, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
			at := rng.IntN(len(stages))
			for _, args := range stages[:at] {
				e.MustRun(exitOK, args...)
			}
			// The interrupt: when a counter of the stage reaches a random value.
			counter, n := "snyk.orgs_created", int64(1+rng.IntN(2))
			switch at {
			case 1:
				counter, n = "bitbucket.repositories_pages", int64(1+rng.IntN(2))
			case 2:
				counter, n = "snyk.imports", int64(1+rng.IntN(60))
			}
			base := e.Sim.Count(counter)
			ctx, cancel := context.WithCancel(t.Context())
			go func() {
				defer cancel()
				for e.Sim.Count(counter)-base < n && ctx.Err() == nil {
					time.Sleep(200 * time.Microsecond)
				}
			}()
			r := e.RunContext(ctx, stages[at]...)
			cancel()
			if r.Code != exitInterrupted && r.Code != exitOK {
				t.Fatalf("%s interrupted: exit %d\nstdout:\n%s\nstderr:\n%s", stages[at][0], r.Code, r.Stdout, r.Stderr)
			}
			if at == 1 && r.Code == exitInterrupted {
				if _, err := os.Stat(targets); !os.IsNotExist(err) {
					t.Errorf("an interrupted import:data left a targets file (%v)", err)
				}
			}
			t.Logf("%s interrupted at %s=%d: exit %d", stages[at][0], counter, e.Sim.Count(counter)-base, r.Code)

			for _, args := range stages[at:] {
				e.MustRun(exitOK, args...)
			}
			if orgs, rows := e.Sim.Orgs(group), ftOrgRows(t, orgsData); len(orgs) != rows {
				t.Errorf("%d orgs in the group for %d rows of the orgs data file", len(orgs), rows)
			}
			want := ftWant(t, e)
			ftCheckOrgs(t, e)
			ftCheckTargetsFile(t, targets, want)
			ftCheckExactlyOnce(t, e, want, nil)
		})
	}
}

func ftOrgRows(t *testing.T, path string) int {
	t.Helper()
	rows, err := importfiles.ReadOrgsDataFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// TestFaultSIGKILLThenRerun: the real binary is killed (SIGKILL: no
// cleanup, no summary) twice at random points of an import, then run to the
// end. Every target is imported; a target is imported twice only if its job
// was created but not yet logged at the kill, so the duplicates are at most
// the concurrency per kill. The resume log, cut at any byte, still reads.
func TestFaultSIGKILLThenRerun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const concurrency = 10
	bin := buildBinary(t, t.TempDir())
	e := ftNewEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{
			{Slug: "north", Name: "North Team", Repos: 40},
			{Slug: "south", Name: "South Team", Repos: 40},
		}},
		Snyk: sim.SnykConfig{PendingPolls: 1, Faults: sim.Faults{Latency: 5 * time.Millisecond}},
	})
	targets := e.Pipeline()
	want := ftWant(t, e)
	ftCheckOrgs(t, e)
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill points from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	args := []string{"import", "--file=" + targets, fmt.Sprint("--concurrency=", concurrency), "--pollInterval=10ms"}
	kills := 0
	for range 2 {
		before := e.Sim.Count("snyk.imports")
		if before >= int64(len(want)) {
			break
		}
		k := before + 1 + int64(rng.IntN(len(want)/3))
		cmd := exec.Command(bin, args...)
		cmd.Env = binaryEnv(e)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for e.Sim.Count("snyk.imports") < k && time.Now().Before(deadline) {
			select {
			case err := <-done:
				t.Fatalf("import ended before the kill: %v\n%s", err, out.String())
			default:
			}
			time.Sleep(200 * time.Microsecond)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := <-done
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("import was not killed: %v\n%s", err, out.String())
		}
		kills++
		t.Logf("kill %d at snyk.imports=%d (aimed at %d), %d jobs in flight", kills, e.Sim.Count("snyk.imports"), k, e.Sim.Count("snyk.jobs_in_flight"))
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = binaryEnv(e)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("re-run: %v\n%s", err, out)
	}
	jobs := e.Sim.ImportedTargets()
	var lost []string
	for k := range want {
		if jobs[k] == 0 {
			lost = append(lost, k)
		}
	}
	if len(lost) > 0 || len(jobs) != len(want) {
		t.Errorf("%d targets lost %v; %d targets imported, want %d", len(lost), ftFirstFew(lost), len(jobs), len(want))
	}
	if dups := e.Sim.Count("snyk.duplicate_imports"); dups > int64(kills*concurrency) {
		t.Errorf("%d duplicate imports after %d kills: more than the concurrency (%d) per kill", dups, kills, concurrency)
	} else {
		t.Logf("%d duplicate imports after %d kills", dups, kills)
	}
	ftCheckResumeLog(t, e.File(importfiles.ImportedTargetsLog))
}

// ftCheckResumeLog: every complete line of the resume log is JSON (a
// line cut by the kill can only be the last one of a run, and the next
// run's first line then starts on it; LoadResumeLog counts such a line
// as malformed and goes on).
func ftCheckResumeLog(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bad := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			bad++
		}
	}
	rl, err := importfiles.LoadResumeLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if bad > 2 || rl.Malformed != bad {
		t.Errorf("resume log: %d lines not JSON, LoadResumeLog counted %d malformed", bad, rl.Malformed)
	}
}
