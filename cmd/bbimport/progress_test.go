package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/rs/zerolog"
)

func TestProgress_ciLine(t *testing.T) {
	t.Parallel()
	clock := apitest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newProgress(&terminal{w: &bytes.Buffer{}}, false, zerolog.Nop(), time.Hour)
	p.now = clock.Now
	p.Start("import", 155)
	defer p.Done()
	p.Add("kicked off", 105)
	p.Add("completed", 78)
	p.Add("failed", 12)
	p.Add("skipped", 0)
	clock.Advance(2 * time.Second)
	p.mu.Lock()
	got := p.lineLocked()
	p.mu.Unlock()
	want := "import: 90/155 targets (58%); kicked off 105, completed 78, failed 12, skipped 0; 45.0/s, about 1s left"
	if got != want {
		t.Errorf("line =\n %q\nwant\n %q", got, want)
	}

	// Skipped targets count toward the total but not toward the rate.
	p.Start("import", 100)
	p.Add("skipped", 60)
	p.Add("completed", 10)
	clock.Advance(10 * time.Second)
	p.mu.Lock()
	got = p.lineLocked()
	p.mu.Unlock()
	if want := "import: 70/100 targets (70%); skipped 60, completed 10; 1.0/s, about 30s left"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}

	// Unknown total (orgs:data lists as it goes); the headline counter is
	// not repeated.
	p.Start("orgs:data", -1)
	p.Add("workspaces", 3)
	p.Add("repositories", 120)
	p.mu.Lock()
	got = p.lineLocked()
	p.mu.Unlock()
	if want := "orgs:data: 3 workspaces so far; repositories 120"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

// In CI, one info line per interval, with the counters as fields; none
// after Done.
func TestProgress_periodicLines(t *testing.T) {
	t.Parallel()
	var buf safeBuffer
	p := newProgress(&terminal{w: &bytes.Buffer{}}, false, zerolog.New(&buf), 5*time.Millisecond)
	p.Start("import:data", 3)
	p.Add("repositories", 250)
	p.Add("targets", 240)
	p.Add("orgs", 1)
	time.Sleep(40 * time.Millisecond)
	p.Done()
	n := strings.Count(buf.String(), "\n")
	if n < 2 {
		t.Fatalf("%d progress lines in 40ms at a 5ms interval", n)
	}
	var last map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if err := json.Unmarshal([]byte(l), &last); err != nil {
			t.Fatal(err)
		}
	}
	if last["level"] != "info" || last["stage"] != "import:data" || last["total"] != 3.0 ||
		last["repositories"] != 250.0 || last["targets"] != 240.0 ||
		!strings.HasPrefix(last["message"].(string), "import:data: 1/3 orgs (33%); repositories 250, targets 240") {
		t.Errorf("progress line = %v", last)
	}
	time.Sleep(20 * time.Millisecond)
	if m := strings.Count(buf.String(), "\n"); m != n {
		t.Errorf("%d lines after Done", m-n)
	}
}

// The bar moves with the counter that counts toward the stage's total:
// import:data's total is orgs, and repositories or failures do not move it.
func TestProgress_barTracksTheTotal(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	term := &terminal{w: &out, cols: 160}
	p := newProgress(term, true, zerolog.Nop(), time.Hour)
	p.Start("import:data", 4)
	p.Add("repositories", 500)
	p.Add("targets", 480)
	p.Add("failed", 1)
	p.Add("orgs", 1)
	p.Add("orgs", 1)
	if got := p.fractionLocked(); got != 0.5 {
		t.Errorf("bar at %.2f after 2 of 4 orgs, want 0.50", got)
	}
	p.mu.Lock()
	desc := p.describeLocked()
	p.mu.Unlock()
	if desc != "import:data · repositories 500, targets 480, failed 1" {
		t.Errorf("bar description = %q", desc)
	}
	p.Done()
	p.Start("import", 10)
	for _, c := range []importer.Counter{"skipped", "skipped", "kicked off", "completed", "failed"} {
		p.Add(c, 1)
	}
	if got := p.fractionLocked(); got != 0.4 {
		t.Errorf("import bar at %.2f after 2 skipped + 1 completed + 1 failed of 10, want 0.40", got)
	}
	p.Done()
	if term.bar != "" {
		t.Errorf("bar still recorded after Done: %q", term.bar)
	}
}

// A log line written while the bar is shown clears the bar's line, is
// written whole, and the bar is drawn again below it.
func TestTerminal_logLinesAndBar(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	term := &terminal{w: &out}
	bar := term.barWriter()
	_, _ = bar.Write([]byte("\r" + strings.Repeat(" ", 10) + "\r"))
	_, _ = bar.Write([]byte("\rimport 10% |██   | "))
	_, _ = term.Write([]byte("12:00:00 INF Bitbucket rate limit reached, waiting 40s\n"))
	want := "\r          \r\rimport 10% |██   | \r\x1b[2K12:00:00 INF Bitbucket rate limit reached, waiting 40s\n\rimport 10% |██   |"
	if out.String() != want {
		t.Errorf("terminal =\n %q\nwant\n %q", out.String(), want)
	}
	out.Reset()
	term.clearBar()
	_, _ = term.Write([]byte("after\n"))
	if out.String() != "\r\x1b[2Kafter\n" {
		t.Errorf("after clearBar: %q", out.String())
	}
}

// safeBuffer is a bytes.Buffer for concurrent writers.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --- dry runs and end-of-stage summaries, through the CLI ---

func TestDryRun_orgsCreateWritesNothing(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{Groups: map[string]sim.SnykGroup{
		sim.SimSnykGroupID: {Name: sim.SimSnykGroupName, Orgs: []sim.SnykOrg{{Name: "Acme Mobile"}}},
	}}})
	g := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--groupId="+g)
	before := e.Sim.Counters()
	r := e.MustRun(0, "orgs:create", "--dryRun", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	t.Logf("stdout:\n%s", r.Stdout)
	wantContains(t, r.Stdout, "Dry run: would create 4 and reuse 1 of 5 organizations (nothing was created).",
		"would-create  Acme Platform", "would-reuse   Acme Mobile")
	for _, c := range []string{"snyk.orgs_created", "snyk.notification_settings"} {
		if d := e.Sim.Count(c) - before[c]; d != 0 {
			t.Errorf("%s moved by %d in a dry run", c, d)
		}
	}
	if _, err := os.Stat(e.File("snyk-created-orgs.json")); err == nil {
		t.Error("a dry run wrote snyk-created-orgs.json")
	}
	assertResultsOnly(t, r.Stdout)
}

func TestDryRun_importCallsNothing(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	targets := e.Pipeline()
	e.Set("SNYK_TOKEN", "") // a dry run needs no Snyk token at all
	before := e.Sim.Count("snyk.requests")
	r := e.MustRun(0, "import", "--dryRun", "--file="+targets)
	t.Logf("stdout:\n%s", r.Stdout)
	wantContains(t, r.Stdout, "Dry run: would import 155 of 155 targets (0 already imported, 0 duplicates); nothing was sent to Snyk.",
		"acme-platform/repo-0001@main", "… and 135 more")
	if rows := strings.Count(r.Stdout, "@"); rows != 20 {
		t.Errorf("%d table rows, want the first 20", rows)
	}
	if d := e.Sim.Count("snyk.requests") - before; d != 0 || e.Sim.Count("snyk.imports") != 0 {
		t.Errorf("dry run made %d Snyk requests, %d imports", d, e.Sim.Count("snyk.imports"))
	}
	if _, err := os.Stat(e.File("imported-targets.log")); err == nil {
		t.Error("a dry run wrote imported-targets.log")
	}
	assertResultsOnly(t, r.Stdout)
}

// Every stage ends with what was done and the next command, on stdout.
func TestSummaries_nextCommand(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("SNYK_RATE_LIMIT", "100000")
	g := sim.SimSnykGroupID
	orgsFile := e.File("group-" + g + "-bitbucket-cloud-app-orgs.json")
	r := e.MustRun(0, "orgs:data", "--groupId="+g)
	wantContains(t, r.Stdout, "Found 5 workspaces. Written the data to file: "+orgsFile, "Next: bbimport orgs:create --file="+orgsFile)
	r = e.MustRun(0, "orgs:create", "--file="+orgsFile)
	wantContains(t, r.Stdout, "Created 5 out of 5 organizations", "Next: bbimport import:data --source=bitbucket-cloud-app --orgsData="+e.File("snyk-created-orgs.json"))
	r = e.MustRun(0, "import:data", "--orgsData="+e.File("snyk-created-orgs.json"))
	targets := e.File("bitbucket-cloud-app-import-targets.json")
	wantContains(t, r.Stdout, "Found 155 targets in 5 orgs", "Next: bbimport import --file="+targets)
	r = e.MustRun(0, "import", "--file="+targets)
	wantContains(t, r.Stdout, "Processed 155 out of a total of 155 targets", "Check the logs for any failures located at: "+e.LogPath)
	for _, out := range []string{r.Stdout} {
		assertResultsOnly(t, out)
	}
}

// Ctrl-C: the stage stops, prints the summary so far, says to run the same
// command again (not the next one), and exits 130.
func TestSummaries_interrupted(t *testing.T) {
	t.Parallel()
	// Snyk answers slowly and jobs never finish: import is interrupted
	// with jobs in flight and targets not started.
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{PendingPolls: 1_000_000, Faults: sim.Faults{Latency: 10 * time.Millisecond}}})
	e.Set("SNYK_RATE_LIMIT", "100000")
	targets := e.Pipeline()
	g := sim.SimSnykGroupID

	interrupt := func(after time.Duration, args ...string) result {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(after, cancel)
		r := e.RunContext(ctx, args...)
		if r.Code != exitInterrupted {
			t.Fatalf("%v: exit %d, want 130\nstdout:\n%s\nstderr:\n%s", args, r.Code, r.Stdout, lastLines(r.Stderr, 10))
		}
		wantContains(t, r.Stderr, "bbimport: interrupted: stopped before finishing; what was done so far is recorded in SNYK_LOG_PATH, run the same command again to resume")
		if strings.Contains(r.Stdout, "Next:") {
			t.Errorf("an interrupted stage points to the next one:\n%s", r.Stdout)
		}
		assertResultsOnly(t, r.Stdout)
		return r
	}

	r := interrupt(200*time.Millisecond, "import", "--file="+targets, "--concurrency=5")
	t.Logf("import stdout:\n%s", r.Stdout)
	wantContains(t, r.Stdout, "Processed ", "out of a total of 155 targets", "not polled to the end",
		"Interrupted: ", "targets not started; run the same command again to resume.")

	r = interrupt(30*time.Millisecond, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"), "--allowDuplicateNames")
	t.Logf("orgs:create stdout:\n%s", r.Stdout)
}

// The closing hint knows about Ctrl-C.
func TestRuntime_nextAfterInterrupt(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	o := newInvocation(&out, &bytes.Buffer{}, func(string) string { return "" }).setupOutput()
	ctx, cancel := context.WithCancel(t.Context())
	cio := &commandIO{Out: o.stdout}
	cio.next(ctx, "bbimport import --file=%s", "x.json")
	cancel()
	cio.next(ctx, "bbimport import --file=%s", "x.json")
	want := "Next: bbimport import --file=x.json\nInterrupted: run the same command again to finish this stage before going on.\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
