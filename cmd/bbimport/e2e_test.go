package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// expectedTargets is what a full pipeline must import, in the simulator's
// target keys (sim.SnykTargetKey): every repository with a main branch of
// every workspace, into the org whose created-orgs row names that
// workspace. It fails the test unless every workspace has exactly one org.
func expectedTargets(t *testing.T, e *simEnv) map[string]bool {
	t.Helper()
	orgs, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	orgOf := map[string]string{} // workspace slug → org id
	for _, o := range orgs {
		ws := o.WorkspaceSlug()
		if prev, dup := orgOf[ws]; dup {
			t.Fatalf("workspace %s has two orgs in snyk-created-orgs.json: %s and %s", ws, prev, o.OrgID)
		}
		orgOf[ws] = o.OrgID
	}
	want := map[string]bool{}
	for _, w := range e.Sim.BitbucketWorkspaces() {
		org, ok := orgOf[w.Slug]
		if !ok {
			t.Fatalf("workspace %s has no org in snyk-created-orgs.json", w.Slug)
		}
		for r := range w.AllRepos() {
			if r.MainBranch != "" {
				want[sim.SnykTargetKey(org, w.Slug, r.Slug, r.MainBranch)] = true
			}
		}
	}
	return want
}

// assertImportedOnce checks the simulator's imported targets against want:
// each one exactly once, nothing else.
func assertImportedOnce(t *testing.T, e *simEnv, want map[string]bool) {
	t.Helper()
	got := e.Sim.ImportedTargets()
	var missing, extra, twice []string
	for k := range want {
		switch n := got[k]; {
		case n == 0:
			missing = append(missing, k)
		case n > 1:
			twice = append(twice, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(twice) > 0 {
		t.Errorf("imported targets: %d missing %v, %d unexpected %v, %d imported more than once %v",
			len(missing), head(missing), len(extra), head(extra), len(twice), head(twice))
	}
}

func head(s []string) []string {
	slices.Sort(s)
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// TestE2EFourStages: the real app through orgs:data → orgs:create →
// import:data → import for the five fixture workspaces (one empty, all with
// slug ≠ display name, one with 120 repositories over two pages): every
// non-empty repository is imported exactly once into the org of its own
// workspace, and re-running orgs:create and import does nothing new.
func TestE2EFourStages(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	ws := e.Sim.BitbucketWorkspaces()
	// The estate must have what the issue asks for.
	var empty, renamed, big int
	for _, w := range ws {
		if w.Repos == 0 {
			empty++
		}
		if w.Name != w.Slug {
			renamed++
		}
		if w.Repos > 100 {
			big++
		}
	}
	if len(ws) != 5 || empty < 1 || renamed < 1 || big < 1 {
		t.Fatalf("fixture estate: %d workspaces, %d empty, %d renamed, %d with > 100 repositories", len(ws), empty, renamed, big)
	}

	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	rows, err := importfiles.ReadOrgsDataFile(e.File("group-" + group + "-bitbucket-cloud-app-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	nameOf := map[string]string{}
	for _, r := range rows {
		nameOf[r.Workspace] = r.Name
	}
	for _, w := range ws {
		if nameOf[w.Slug] != w.Name {
			t.Errorf("orgs data: workspace %s named %q, want the display name %q", w.Slug, nameOf[w.Slug], w.Name)
		}
	}
	if len(rows) != len(ws) {
		t.Errorf("orgs data has %d rows, want %d", len(rows), len(ws))
	}

	orgsFile := e.File("group-" + group + "-bitbucket-cloud-app-orgs.json")
	e.MustRun(0, "orgs:create", "--file="+orgsFile)
	if n := e.Sim.Count("snyk.orgs_created"); n != int64(len(ws)) {
		t.Errorf("orgs created = %d, want %d", n, len(ws))
	}
	// Every created-orgs row is a real org of the group, named after its
	// workspace's display name.
	created, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range created {
		so, ok := e.Sim.Org(o.OrgID)
		if !ok || so.GroupID != group || so.Name != nameOf[o.Workspace] {
			t.Errorf("created-orgs row %+v: simulator org %+v (exists %v)", o, so, ok)
		}
	}

	e.MustRun(0, "import:data", "--source=bitbucket-cloud-app", "--orgsData="+e.File("snyk-created-orgs.json"))
	targetsFile := e.File("bitbucket-cloud-app-import-targets.json")
	want := expectedTargets(t, e)
	// The targets file says the same, with only owner/name/branch.
	fromFile := map[string]bool{}
	for it, err := range importfiles.ReadTargets(targetsFile) {
		if err != nil {
			t.Fatal(err)
		}
		owner, _ := it.Target.Get("owner")
		name, _ := it.Target.Get("name")
		branch, _ := it.Target.Get("branch")
		fromFile[sim.SnykTargetKey(it.OrgID, owner, name, branch)] = true
		var raw map[string]any
		if err := json.Unmarshal(it.Raw, &raw); err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(raw)); !slices.Equal(keys, []string{"branch", "name", "owner"}) {
			t.Errorf("target %s: keys %v, want only owner/name/branch", it.Raw, keys)
		}
	}
	if !maps.Equal(fromFile, want) {
		t.Errorf("targets file has %d targets, want %d (non-empty repositories)", len(fromFile), len(want))
	}

	e.MustRun(0, "import", "--file="+targetsFile, "--concurrency=20")
	assertImportedOnce(t, e, want)
	if n := e.Sim.Count("snyk.jobs_complete"); n != int64(len(want)) {
		t.Errorf("jobs complete = %d, want %d", n, len(want))
	}

	// Re-runs: nothing new.
	imports, orgsCreated := e.Sim.Count("snyk.imports"), e.Sim.Count("snyk.orgs_created")
	r := e.MustRun(0, "import", "--file="+targetsFile)
	if n := e.Sim.Count("snyk.imports"); n != imports {
		t.Errorf("second import created %d jobs, want 0", n-imports)
	}
	if !strings.Contains(r.Stdout, "were skipped") {
		t.Errorf("second import stdout does not report skipped targets:\n%s", r.Stdout)
	}
	e.MustRun(0, "orgs:create", "--file="+orgsFile)
	if n := e.Sim.Count("snyk.orgs_created"); n != orgsCreated {
		t.Errorf("second orgs:create created %d orgs, want 0", n-orgsCreated)
	}
	again, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !sameOrgs(created, again) {
		t.Errorf("second orgs:create changed snyk-created-orgs.json:\nfirst  %+v\nsecond %+v", created, again)
	}

	// list:imported rebuilds the skip list from what Snyk has: with the
	// resume log gone, import still creates no job.
	if err := os.Remove(e.File(importfiles.ImportedTargetsLog)); err != nil {
		t.Fatal(err)
	}
	e.MustRun(0, "list:imported", "--groupId="+group)
	e.MustRun(0, "import", "--file="+targetsFile)
	if n := e.Sim.Count("snyk.imports"); n != imports {
		t.Errorf("import after list:imported created %d jobs, want 0", n-imports)
	}
	assertImportedOnce(t, e, want)
}

func sameOrgs(a, b []importfiles.CreatedOrg) bool {
	key := func(o importfiles.CreatedOrg) string { return o.OrgID + "|" + o.Workspace + "|" + o.Name }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i] = key(a[i])
	}
	for i := range b {
		kb[i] = key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// faultEstate is the estate of the fault tests: 20 small workspaces, one
// of 130 repositories (two pages), one empty: enough Bitbucket requests for
// the faults to hit every kind of call.
func faultEstate() []sim.WorkspaceSpec {
	return append(sim.Estate(20, 3),
		sim.WorkspaceSpec{Slug: "big-one", Name: "Big One", Repos: 130, Empty: 5, Forks: 10},
		sim.WorkspaceSpec{Slug: "nothing-here", Name: "Nothing Here"})
}

// smallEstate has 40 targets in two workspaces.
func smallEstate() []sim.WorkspaceSpec {
	return []sim.WorkspaceSpec{
		{Slug: "north", Name: "North Team", Repos: 20, Empty: 2},
		{Slug: "south-side", Name: "South Side", Repos: 22},
	}
}

// TestE2EFaultsBothAPIs: 5% 503s and a 429 every 7th request (Retry-After
// 0) on both APIs and the token endpoint, through the whole pipeline: every
// target imported exactly once, exit 0 at every stage.
func TestE2EFaultsBothAPIs(t *testing.T) {
	t.Parallel()
	f := sim.Faults{ServerErrorRate: 0.05, RateLimitEvery: 7, RetryAfter: "0"}
	e := newSimEnv(t, sim.Config{
		Seed:      7,
		Bitbucket: sim.BitbucketConfig{Workspaces: faultEstate(), Faults: f, TokenFaults: f},
		Snyk:      sim.SnykConfig{Faults: f, PendingPolls: 2},
	})
	// ~900 Snyk requests: above the default budget's burst, which would pace
	// the run at 1500/min.
	e.Set("SNYK_RATE_LIMIT", "100000")
	targets := e.Pipeline()
	want := expectedTargets(t, e)
	e.MustRun(0, "import", "--file="+targets, "--concurrency=8")
	assertImportedOnce(t, e, want)
	if n := e.Sim.Count("snyk.redundant_imports"); n != 0 {
		t.Errorf("redundant imports = %d, want 0", n)
	}
	c := e.Sim.Counters()
	for _, kind := range []string{"5xx", "429"} {
		if c["snyk."+kind] == 0 || c["bitbucket."+kind]+c["bitbucket.token."+kind] == 0 {
			t.Errorf("no %s on one of the APIs: the faults were not exercised (counters %v)", kind, c)
		}
	}
	if n := e.Sim.Count("snyk.orgs_created"); n != 22 {
		t.Errorf("orgs created = %d, want 22 (a retried POST /org must not create twice)", n)
	}
}

// resumeLines reads imported-targets.log: for each target (in the
// simulator's key form) the message of its last line.
func resumeLines(t *testing.T, e *simEnv) map[string]string {
	t.Helper()
	data, err := os.ReadFile(e.File(importfiles.ImportedTargetsLog))
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l struct {
			OrgID  string `json:"orgId"`
			Target struct {
				Owner, Name, Branch string
			} `json:"target"`
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("imported-targets.log line %q: %v", line, err)
		}
		last[sim.SnykTargetKey(l.OrgID, l.Target.Owner, l.Target.Name, l.Target.Branch)] = l.Msg
	}
	return last
}

// jobKeysSince returns the target keys of the simulator's jobs created after
// the first n.
func jobKeysSince(e *simEnv, n int) []string {
	var keys []string
	for _, j := range e.Sim.SnykJobs()[n:] {
		keys = append(keys, j.Key)
	}
	slices.Sort(keys)
	return keys
}

// TestE2EFailedJobsRetried: jobs that end `failed` make the run exit 3 with
// a `Target import failed` line each; the next run retries exactly those
// targets (and, as more fail on purpose, the run after it), until
// everything is imported and the run exits 0.
func TestE2EFailedJobsRetried(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()},
		Snyk:      sim.SnykConfig{FailJobEvery: 4, PendingPolls: 1},
	})
	targets := e.Pipeline()
	want := expectedTargets(t, e)

	jobsBefore := 0
	for run := 1; ; run++ {
		if run > 6 {
			t.Fatalf("still failing after %d runs", run-1)
		}
		jobsFailed := e.Sim.Count("snyk.jobs_failed")
		var failedBefore []string
		if run > 1 {
			for k, msg := range resumeLines(t, e) {
				if msg == importfiles.MsgTargetFailed {
					failedBefore = append(failedBefore, k)
				}
			}
			slices.Sort(failedBefore)
		}
		r := e.Run("import", "--file="+targets)
		newlyFailed := e.Sim.Count("snyk.jobs_failed") - jobsFailed
		if run > 1 {
			if got := jobKeysSince(e, jobsBefore); !slices.Equal(got, failedBefore) {
				t.Fatalf("run %d imported %d targets %v, want exactly the %d that failed before %v", run, len(got), head(got), len(failedBefore), head(failedBefore))
			}
		}
		jobsBefore = len(e.Sim.SnykJobs())
		if newlyFailed == 0 {
			if r.Code != 0 {
				t.Fatalf("run %d: no job failed, exit %d\n%s\n%s", run, r.Code, r.Stdout, r.Stderr)
			}
			if run < 3 {
				t.Errorf("all done after %d runs: the failures were not exercised", run)
			}
			break
		}
		if r.Code != exitPartial {
			t.Fatalf("run %d: %d jobs failed, exit %d, want %d\n%s", run, newlyFailed, r.Code, exitPartial, r.Stderr)
		}
		failedNow := 0
		for _, msg := range resumeLines(t, e) {
			if msg == importfiles.MsgTargetFailed {
				failedNow++
			}
		}
		if int64(failedNow) != newlyFailed {
			t.Errorf("run %d: %d jobs failed, %d targets' last line is %q", run, newlyFailed, failedNow, importfiles.MsgTargetFailed)
		}
		if !strings.Contains(r.Stderr, "retried by the next run") {
			t.Errorf("run %d: stderr does not say the failed targets are retried next run:\n%s", run, r.Stderr)
		}
	}
	// Each target has a completed job; failed jobs are not double imports.
	for k := range want {
		if resumeLines(t, e)[k] != importfiles.MsgTargetRequested {
			t.Errorf("target %s: last line is not %q", k, importfiles.MsgTargetRequested)
		}
	}
	if n := e.Sim.Count("snyk.redundant_imports"); n != 0 {
		t.Errorf("redundant imports = %d, want 0", n)
	}
	if n := e.Sim.Count("snyk.jobs_complete"); n != int64(len(want)) {
		t.Errorf("jobs complete = %d, want %d", n, len(want))
	}
}

// TestE2EFailedProjects: a project answered success:false lands in
// <orgId>.failed-projects.log of its own org, and the run exits 3; the
// target is not imported again by the next run (its job completed).
func TestE2EFailedProjects(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()},
		Snyk:      sim.SnykConfig{FailProjectEvery: 11},
	})
	targets := e.Pipeline()
	r := e.MustRun(exitPartial, "import", "--file="+targets)
	failed := e.Sim.Count("snyk.projects_failed")
	if failed == 0 {
		t.Fatal("no project failed: FailProjectEvery not exercised")
	}
	// Each line sits in the file of the org its job belongs to.
	orgOfJob := map[string]string{}
	for _, j := range e.Sim.SnykJobs() {
		orgOfJob[j.ID] = j.OrgID
	}
	files, _ := filepath.Glob(e.File("*" + importfiles.FailedProjectsLogSuffix))
	lines := 0
	for _, f := range files {
		org := strings.TrimSuffix(filepath.Base(f), importfiles.FailedProjectsLogSuffix)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var l struct {
				OrgID       string `json:"orgId"`
				Success     *bool  `json:"success"`
				UserMessage string `json:"userMessage"`
				LocationURL string `json:"locationUrl"`
				Msg         string `json:"msg"`
			}
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("%s: %q: %v", f, line, err)
			}
			lines++
			job := l.LocationURL[strings.LastIndex(l.LocationURL, "/")+1:]
			if l.OrgID != org || orgOfJob[job] != org || l.Success == nil || *l.Success || l.UserMessage == "" {
				t.Errorf("%s: line %s (job of org %s)", filepath.Base(f), line, orgOfJob[job])
			}
		}
	}
	if int64(lines) != failed {
		t.Errorf("%d lines in *.failed-projects.log, the simulator failed %d projects", lines, failed)
	}
	if !strings.Contains(r.Stdout, "projects failed: "+strconv.FormatInt(failed, 10)) {
		t.Errorf("stdout does not count the failed projects:\n%s", r.Stdout)
	}
	imports := e.Sim.Count("snyk.imports")
	e.MustRun(0, "import", "--file="+targets)
	if n := e.Sim.Count("snyk.imports"); n != imports {
		t.Errorf("the next run created %d jobs, want 0", n-imports)
	}
}

// TestE2EAcceptedThen5xx: an import POST answered 500 after Snyk created
// the job is not sent again (no double import), and the target is logged
// as failed (failed-imports.log, exit 3).
func TestE2EAcceptedThen5xx(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{
		Seed:      3,
		Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()},
		Snyk:      sim.SnykConfig{AcceptThen5xx: 0.1},
	})
	targets := e.Pipeline()
	e.MustRun(exitPartial, "import", "--file="+targets)
	accepted5xx := e.Sim.Count("snyk.accepted_then_5xx")
	if accepted5xx == 0 {
		t.Fatal("AcceptThen5xx not exercised")
	}
	if n := e.Sim.Count("snyk.duplicate_imports"); n != 0 {
		t.Errorf("duplicate imports = %d, want 0: a POST answered 500 was sent again", n)
	}
	files, _ := filepath.Glob(e.File("*" + importfiles.FailedImportsLogSuffix))
	lines := 0
	for _, f := range files {
		lines += countLines(t, f, "Failed to import target")
	}
	if int64(lines) != accepted5xx {
		t.Errorf("%d lines in *.failed-imports.log, want %d", lines, accepted5xx)
	}
	sum, err := os.ReadFile(e.File(importer.ImportSummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sum), `"kickOffFailures": `+strconv.FormatInt(accepted5xx, 10)) {
		t.Errorf("import-summary.json does not count %d kick-off failures:\n%s", accepted5xx, sum)
	}
}
