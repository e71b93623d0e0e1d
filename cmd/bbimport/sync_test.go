package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/dirlock"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// syncEnv is a simulator whose estate has been imported by a first
// `sync --importNew`, with every project made of two manifests.
type syncEnv struct {
	*simEnv
	orgs map[string]string // workspace slug → org id
}

func newSyncEnv(t *testing.T) *syncEnv {
	t.Helper()
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{ProjectsPerTarget: 2}})
	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	rows, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	se := &syncEnv{simEnv: e, orgs: map[string]string{}}
	for _, r := range rows {
		se.orgs[r.Workspace] = r.OrgID
	}
	r := e.MustRun(0, se.syncArgs("--importNew")...)
	if !strings.Contains(r.Stdout, "Finished syncing all bitbucket-cloud-app targets") {
		t.Fatalf("first sync:\n%s", r.Stdout)
	}
	return se
}

func (e *syncEnv) syncArgs(extra ...string) []string {
	return append([]string{"sync", "--orgsData=" + e.File("snyk-created-orgs.json")}, extra...)
}

// importable are a workspace's repositories that an import picks up (they
// have a main branch), in listing order.
func (e *syncEnv) importable(ws string) []sim.BitbucketRepo {
	var out []sim.BitbucketRepo
	for _, r := range e.Sim.CurrentRepositories(ws) {
		if r.MainBranch != "" {
			out = append(out, r)
		}
	}
	return out
}

// projects indexes an org's projects by name ("ws/repo:file").
func (e *syncEnv) projects(ws string) map[string]sim.SnykProject {
	out := map[string]sim.SnykProject{}
	for _, p := range e.Sim.SnykProjects(e.orgs[ws]) {
		out[p.Name] = p
	}
	return out
}

// delta returns the change of the named counters since before.
func delta(s *sim.Server, before map[string]int64, names ...string) map[string]int64 {
	out := map[string]int64{}
	for _, n := range names {
		out[n] = s.Count(n) - before[n]
	}
	return out
}

var syncCounters = []string{"snyk.projects_updated", "snyk.projects_deactivated", "snyk.projects_deleted",
	"snyk.imports", "bitbucket.repository_reads", "bitbucket.repositories_pages"}

// TestSyncAcceptance is issue 12's acceptance test: between two runs 3
// repositories are renamed, 2 deleted, 4 change their default branch, 5
// gain a manifest and 6 are new, while a second workspace (where one
// repository was deleted) answers 5xx on every try.
func TestSyncAcceptance(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	const ws, failing = "acme-platform", "acme-mobile"
	ch := e.change(t, ws)
	goneInFailing := e.importable(failing)[0].Slug
	if err := e.Sim.ChangeEstate(sim.EstateChange{Workspace: failing, Delete: []string{goneInFailing}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Sim.SetWorkspaceListStatus(failing, http.StatusInternalServerError); err != nil {
		t.Fatal(err)
	}
	before := e.projects(ws)

	// Dry run first: reads only, the plan written.
	writes := e.Sim.SnykWrites()
	dry := e.MustRun(3, e.syncArgs("--importNew", "--dryRun")...)
	if got := e.Sim.SnykWrites() - writes; got != 0 {
		t.Fatalf("dry run made %d Snyk writes", got)
	}
	dryPlan := readPlan(t, e.File(e.orgs[ws]+".sync-plan.json"))
	for _, want := range []string{"3 rename", "2 deactivate-deleted", "4 update-branch", "5 reimport", "6 import-new"} {
		if !strings.Contains(dry.Stdout, want) {
			t.Errorf("dry-run plan lacks %q:\n%s", want, dry.Stdout)
		}
	}

	// Second run.
	c0 := e.Sim.Counters()
	r := e.MustRun(3, e.syncArgs("--importNew")...)
	if !strings.Contains(r.Stderr, failing) {
		t.Errorf("exit 3 without naming %s:\n%s", failing, r.Stderr)
	}
	d := delta(e.Sim, c0, syncCounters...)
	want := map[string]int64{
		"snyk.projects_updated":      4 * 2,
		"snyk.projects_deactivated":  (3 + 2) * 2,
		"snyk.projects_deleted":      0,
		"snyk.imports":               3 + 5 + 6,
		"bitbucket.repository_reads": 2, // one per deletion candidate
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("second run: %s = %d, want %d", k, d[k], v)
		}
	}
	if got := readPlan(t, e.File(e.orgs[ws]+".sync-plan.json")); fmt.Sprint(got) != fmt.Sprint(dryPlan) {
		t.Errorf("the run's plan differs from the dry run's:\n run %v\n dry %v", got, dryPlan)
	}
	ch.check(t, e, before)
	for name, p := range e.projects(failing) {
		if p.Status != "active" {
			t.Errorf("failing workspace: %s was %s", name, p.Status)
		}
	}
	checkUpdatedLog(t, e.File(e.orgs[ws]+".updated-projects.log"))
	for _, f := range []string{".updated-projects.log", ".sync-state.json"} {
		if _, err := os.Stat(e.File(e.orgs[ws] + f)); err != nil {
			t.Error(err)
		}
	}

	// Third run, the workspace healthy again: only its deletion is left.
	if err := e.Sim.SetWorkspaceListStatus(failing, 0); err != nil {
		t.Fatal(err)
	}
	writes = e.Sim.SnykWrites()
	e.MustRun(0, e.syncArgs("--importNew")...)
	if got := e.Sim.SnykWrites() - writes; got != 2 {
		t.Errorf("third run: %d writes, want 2 (the deleted %s/%s's projects)", got, failing, goneInFailing)
	}
	if p := e.projects(failing)[failing+"/"+goneInFailing+":package.json"]; p.Status != "inactive" {
		t.Errorf("third run: %s/%s's project is %q", failing, goneInFailing, p.Status)
	}

	// Fourth run: nothing to do, and Bitbucket is asked for the listings only.
	c0 = e.Sim.Counters()
	r = e.MustRun(0, e.syncArgs("--importNew")...)
	if got := writesSince(e.Sim, c0); got != 0 {
		t.Errorf("fourth run: %d writes, want 0\n%s", got, r.Stdout)
	}
	if d := delta(e.Sim, c0, "bitbucket.repository_reads"); d["bitbucket.repository_reads"] != 0 {
		t.Errorf("fourth run read %d repositories one by one", d["bitbucket.repository_reads"])
	}
	if !strings.Contains(r.Stdout, "Did not detect any changes to apply") {
		t.Errorf("fourth run:\n%s", r.Stdout)
	}
}

// writesSince is the number of Snyk writes since the counter snapshot c.
func writesSince(s *sim.Server, c map[string]int64) int64 {
	var then int64
	for _, n := range []string{"snyk.orgs_created", "snyk.notification_settings", "snyk.imports",
		"snyk.projects_updated", "snyk.projects_deactivated", "snyk.projects_deleted"} {
		then += c[n]
	}
	return s.SnykWrites() - then
}

// contextAfterImports is cancelled once the simulator has accepted n
// imports (a Ctrl-C in the middle of a sync).
func contextAfterImports(t *testing.T, s *sim.Server, n int64) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for ctx.Err() == nil && s.Count("snyk.imports") < n {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	return ctx, cancel
}

// readPlan returns a plan file's steps as "action ws/slug" strings.
func readPlan(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Steps []struct{ Action, Workspace, Slug, OldSlug string } `json:"steps"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Action+" "+s.Workspace+"/"+s.Slug+"<"+s.OldSlug)
	}
	return out
}

// TestSyncGuardHoldsBackMassDeactivation: a listing that suddenly misses
// 60 % of the repositories changes nothing and exits 3.
func TestSyncGuardHoldsBackMassDeactivation(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	const ws = "acme-platform"
	all := e.Sim.CurrentRepositories(ws)
	var gone []string
	for _, r := range all[:len(all)*6/10] {
		gone = append(gone, r.Slug)
	}
	if err := e.Sim.ChangeEstate(sim.EstateChange{Workspace: ws, Delete: gone}); err != nil {
		t.Fatal(err)
	}
	c0 := e.Sim.Counters()
	r := e.MustRun(3, e.syncArgs("--importNew")...)
	if got := writesSince(e.Sim, c0); got != 0 {
		t.Errorf("held-back run made %d writes", got)
	}
	if d := delta(e.Sim, c0, "bitbucket.repository_reads"); d["bitbucket.repository_reads"] != 0 {
		t.Errorf("held-back run confirmed %d deletions one by one", d["bitbucket.repository_reads"])
	}
	if !strings.Contains(r.Stdout, "Held back") || !strings.Contains(r.Stderr, "--maxDeactivate") {
		t.Errorf("no held-back message:\nstdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "deactivate-deleted") {
		t.Errorf("the held-back plan is not printed:\n%s", r.Stdout)
	}
	// The user agrees: a higher limit applies it.
	e.MustRun(0, e.syncArgs("--maxDeactivate=100%")...)
	inactive := 0
	for _, p := range e.projects(ws) {
		if p.Status == "inactive" {
			inactive++
		}
	}
	if inactive == 0 {
		t.Error("--maxDeactivate=100% deactivated nothing")
	}
}

// TestSyncResumesAfterInterruptionWithoutDuplicates: a sync stopped at
// once, then run again, ends as one uninterrupted run would, with no target
// imported twice.
func TestSyncResumesAfterInterruptionWithoutDuplicates(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{ProjectsPerTarget: 2, PendingPolls: 3}})
	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	// Unpaced: the pacing is not what this test is about.
	args := []string{"sync", "--orgsData=" + e.File("snyk-created-orgs.json"), "--importNew", "--snykRateLimit=1000000"}
	ctx, cancel := contextAfterImports(t, e.Sim, 20)
	defer cancel()
	if r := e.RunContext(ctx, args...); r.Code != exitInterrupted {
		t.Fatalf("interrupted sync: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	e.MustRun(0, args...)
	e.MustRun(0, args...)
	for key, n := range e.Sim.ImportedTargets() {
		if n > 1 {
			t.Errorf("%s imported %d times", key, n)
		}
	}
	if got := e.Sim.Count("snyk.redundant_imports"); got != 0 {
		t.Errorf("%d redundant imports", got)
	}
}

// TestSyncOrgSelection: --orgPublicId alone (the original's form: the
// org's workspaces come from its targets) and --groupId alone (every org of
// the group, listed from Snyk) plan the same as --orgsData.
func TestSyncOrgSelection(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	const ws = "acme-platform"
	if err := e.Sim.ChangeEstate(sim.EstateChange{Workspace: ws, Delete: []string{e.importable(ws)[0].Slug}}); err != nil {
		t.Fatal(err)
	}
	org := e.orgs[ws]
	r := e.MustRun(0, "sync", "--orgPublicId="+org, "--dryRun")
	if !strings.Contains(r.Stdout, "Plan for org "+org+": 1 deactivate-deleted") {
		t.Errorf("--orgPublicId:\n%s", r.Stdout)
	}
	r = e.MustRun(0, "sync", "--groupId="+sim.SimSnykGroupID, "--dryRun")
	for ws, id := range e.orgs {
		if !strings.Contains(r.Stdout, "Plan for org "+id) {
			t.Errorf("--groupId: no plan for %s's org:\n%s", ws, r.Stdout)
		}
	}
	if !strings.Contains(r.Stdout, "Plan for org "+org+": 1 deactivate-deleted") {
		t.Errorf("--groupId:\n%s", r.Stdout)
	}
}

// TestSyncUsage: the flags the original had, and what is refused.
func TestSyncUsage(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sync"}, "--orgPublicId"},
		{[]string{"sync", "--orgPublicId=x", "--detect=tree"}, "not built yet"},
		{[]string{"sync", "--orgPublicId=x", "--onDeletedRepo=purge"}, "deactivate, delete or ignore"},
		{[]string{"sync", "--orgPublicId=x", "--maxDeactivate=lots"}, "--maxDeactivate"},
		{[]string{"sync", "--orgPublicId=x", "--snykProduct=code"}, "open-source, container or iac"},
		{[]string{"sync", "--orgPublicId=x", "--exclusionGlobs=[a"}, "--exclusionGlobs"},
	} {
		r := e.Run(tc.args...)
		if r.Code != exitUsage || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, r.Code, r.Stderr, tc.want)
		}
	}
	if slices.Contains(strings.Fields(e.Run("sync", "--help").Stdout), "--updatedSince") {
		t.Error("sync offers --updatedSince, which would hide repositories from the deletion check")
	}
}

// TestSyncCredentials: rejected credentials of either API end with exit 4,
// and nothing is changed.
func TestSyncCredentials(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	for _, tc := range []struct{ name, key, value string }{
		{"bitbucket", "BITBUCKET_APP_CLIENT_SECRET", "wrong-secret"},
		{"snyk", "SNYK_TOKEN", "wrong-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := e.getenv(tc.key)
			e.Set(tc.key, tc.value)
			defer e.Set(tc.key, old)
			c0 := e.Sim.Counters()
			r := e.Run(e.syncArgs("--importNew")...)
			if r.Code != exitAuth {
				t.Errorf("exit %d, want %d\n%s\n%s", r.Code, exitAuth, r.Stdout, r.Stderr)
			}
			if got := writesSince(e.Sim, c0); got != 0 {
				t.Errorf("%d writes", got)
			}
			if strings.Contains(e.allOutput(r), tc.value) {
				t.Error("the rejected secret appears in the output")
			}
		})
	}
}

// estateChange is the acceptance test's change to one workspace: 3
// renamed, 2 deleted, 4 moved to branch develop, 5 given a manifest, 6 new.
type estateChange struct {
	ws                                   string
	renamed, deleted, branched, manifest []string
}

func (e *syncEnv) change(t *testing.T, ws string) *estateChange {
	t.Helper()
	repos := e.importable(ws)
	pick := func(from, n int) []string {
		var out []string
		for _, r := range repos[from : from+n] {
			out = append(out, r.Slug)
		}
		return out
	}
	ch := &estateChange{ws: ws, renamed: pick(0, 3), deleted: pick(3, 2), branched: pick(5, 4), manifest: pick(9, 5)}
	change := sim.EstateChange{Workspace: ws, Rename: map[string]string{}, Delete: ch.deleted,
		Branch: map[string]string{}, AddManifest: map[string][]string{}, New: 6}
	for _, s := range ch.renamed {
		change.Rename[s] = "renamed-" + s
	}
	for _, s := range ch.branched {
		change.Branch[s] = "develop"
	}
	for _, s := range ch.manifest {
		change.AddManifest[s] = []string{"services/new/package.json"}
	}
	if err := e.Sim.ChangeEstate(change); err != nil {
		t.Fatal(err)
	}
	return ch
}

// check asserts that Snyk has exactly the change's effects, compared with
// the projects before it, and no project twice.
func (ch *estateChange) check(t *testing.T, e *syncEnv, before map[string]sim.SnykProject) {
	t.Helper()
	ws := ch.ws
	after := e.projects(ws)
	if n := len(after) - len(before); n != 3*2+5+6*2 {
		t.Errorf("%d new projects, want %d (renamed 3×2, new manifests 5, new repositories 6×2)", n, 3*2+5+6*2)
	}
	if all := e.Sim.SnykProjects(e.orgs[ws]); len(all) != len(after) {
		t.Errorf("%d projects but %d distinct names: a project was made twice", len(all), len(after))
	}
	for _, s := range ch.renamed {
		for _, f := range []string{"package.json", "backend/pom.xml"} {
			if p := after[ws+"/"+s+":"+f]; p.Status != "inactive" {
				t.Errorf("renamed %s: old project %s is %q", s, f, p.Status)
			}
			if p := after[ws+"/renamed-"+s+":"+f]; p.Status != "active" {
				t.Errorf("renamed %s: new project %s is %q", s, f, p.Status)
			}
		}
	}
	for _, s := range ch.deleted {
		if p := after[ws+"/"+s+":package.json"]; p.Status != "inactive" {
			t.Errorf("deleted %s: project is %q", s, p.Status)
		}
	}
	for _, s := range ch.branched {
		if p := after[ws+"/"+s+":package.json"]; p.Branch != "develop" || p.Status != "active" {
			t.Errorf("branch of %s: %q (%s)", s, p.Branch, p.Status)
		}
	}
	for _, s := range ch.manifest {
		if p, ok := after[ws+"/"+s+":services/new/package.json"]; !ok || p.Status != "active" {
			t.Errorf("new manifest of %s not imported", s)
		}
	}
}

// TestSyncKilledConverges: the real binary, killed with SIGKILL in the
// middle of applying a plan (branch updates sent, imports under way),
// then run again: Snyk ends with exactly the changes, no project twice,
// and a further run changes nothing.
func TestSyncKilledConverges(t *testing.T) {
	t.Parallel()
	if goruntime.GOOS == "windows" {
		t.Skip("SIGKILL semantics")
	}
	e := newSyncEnv(t)
	bin := buildBinary(t, t.TempDir())
	const ws = "acme-platform"
	ch := e.change(t, ws)
	before := e.projects(ws)
	args := e.syncArgs("--importNew", "--pollInterval=1ms", "--concurrency=2")
	// Paced so that the kill lands mid-plan: a fresh budget of 60 Snyk
	// requests a minute (its own state directory, so the setup's requests
	// are not counted) goes at once (the reads, the branch updates, the
	// first imports), then the run waits for the window to move.
	cmd := exec.Command(bin, append(args, "--snykRateLimit=60")...)
	cmd.Env = append(binaryEnv(e.simEnv), "BBIMPORT_STATE_DIR="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	imports := e.Sim.Count("snyk.imports")
	waitCounter(t, e.Sim, "snyk.imports", imports+3, 30*time.Second)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	// Snyk finishes the jobs it accepted without anyone polling them.
	e.Sim.FinishPendingJobs()
	if got := e.Sim.Count("snyk.imports") - imports; got >= 3+5+6 {
		t.Fatalf("not killed mid-plan: %d of 14 imports already made", got)
	}
	e.MustRun(0, args...)
	ch.check(t, e, before)
	c0 := e.Sim.Counters()
	e.MustRun(0, args...)
	if got := writesSince(e.Sim, c0); got != 0 {
		t.Errorf("the run after convergence made %d writes", got)
	}
	// Only a re-import may be redone (the killed run saved no state); a new
	// or renamed repository is imported once.
	for key, n := range e.Sim.ImportedTargets() {
		reimported := slices.ContainsFunc(ch.manifest, func(s string) bool { return strings.Contains(key, "|"+s+"|") })
		if n > 1 && !reimported {
			t.Errorf("%s imported %d times", key, n)
		}
	}
}

// checkUpdatedLog checks <orgId>.updated-projects.log against the
// original's line format: bunyan envelope, logger snyk:sync-org-projects,
// level 30, {orgId, projectPublicId, from, to, update, dryRun: "false",
// target: {id, origin, displayName}}, msg 'Snyk project "<update>" update
// completed'; and that every kind of update is there.
func checkUpdatedLog(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var l struct {
			Name, Hostname, Msg, Time        string
			Level, Pid, V                    int
			OrgID, ProjectPublicID, From, To string
			Update, DryRun                   string
			Target                           struct{ ID, Origin, DisplayName string }
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%s: %v in %s", path, err, line)
		}
		if l.Name != "snyk:sync-org-projects" || l.Level != 30 || l.DryRun != "false" || l.OrgID == "" || l.ProjectPublicID == "" ||
			l.Target.DisplayName == "" || l.Msg != `Snyk project "`+l.Update+`" update completed` || l.Time == "" {
			t.Errorf("line not in the original's format: %s", line)
		}
		kinds[l.Update]++
	}
	for _, k := range []string{"branch", "deactivate", "import"} {
		if kinds[k] == 0 {
			t.Errorf("no %q line in %s (%v)", k, path, kinds)
		}
	}
}

// TestSyncTakesTheLogDirectoryLock: a sync while another run holds the log
// directory is refused (exit 2, the holder named) and changes nothing; its
// dry run only reads, so it runs beside the holder.
func TestSyncTakesTheLogDirectoryLock(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	held, err := dirlock.Acquire(t.Context(), e.LogPath, "import", false)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	c0 := e.Sim.Counters()
	r := e.Run(e.syncArgs("--importNew")...)
	if r.Code != exitUsage || !strings.Contains(r.Stderr, "import") {
		t.Errorf("sync beside a held lock: exit %d, stderr %q; want exit 2 naming the holder", r.Code, r.Stderr)
	}
	if got := writesSince(e.Sim, c0); got != 0 {
		t.Errorf("refused sync wrote %d times to Snyk", got)
	}
	if r := e.Run(e.syncArgs("--dryRun")...); r.Code != 0 {
		t.Errorf("dry run beside a held lock: exit %d\n%s", r.Code, r.Stderr)
	}
}

// TestSyncHostileListings: the run goes on past what it cannot trust. A
// workspace whose listing is cut short (no `next` while `size` counts 120)
// and an org whose Snyk listing repeats its first page are left alone and
// named (exit 3); the other orgs are synced; stdout ends with the total;
// sync-summary.json has the fields of every stage's summary.
func TestSyncHostileListings(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	e.Sim.SetListingCut("acme-platform", sim.ListingNoNext)
	e.Sim.RepeatFirstPage(e.orgs["data-science"], "projects", 5)
	gone := e.importable("acme-mobile")[0].Slug
	if err := e.Sim.ChangeEstate(sim.EstateChange{Workspace: "acme-mobile", Delete: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	r := e.MustRun(exitPartial, e.syncArgs("--importNew", "--onDeletedRepo=delete", "--maxDeactivate=100%")...)
	for _, want := range []string{"workspace acme-platform could not be listed completely", "org " + e.orgs["data-science"] + " failed", "size-mismatch", "repeated-item"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	for _, ws := range []string{"acme-platform", "data-science"} {
		for name, p := range e.projects(ws) {
			if p.Status != "active" {
				t.Errorf("%s: %s is %s", ws, name, p.Status)
			}
		}
	}
	for name, p := range e.projects("acme-mobile") {
		if strings.HasPrefix(name, "acme-mobile/"+gone+":") != (p.Status == "inactive") {
			t.Errorf("acme-mobile: %s is %s", name, p.Status)
		}
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Synced 5 orgs: updated 0 projects, deactivated 2 projects, deleted 0 projects") ||
		!strings.Contains(last, "1 org failed") {
		t.Errorf("stdout does not end with the total: %q", last)
	}
	var sum struct {
		Stage, Outcome, History string
		ExitCode                int
		Totals                  struct{ ProjectsDeactivated, OrgsFailed int }
		Orgs                    []struct{ OrgID string }
	}
	data, err := os.ReadFile(e.File("sync-summary.json"))
	if err == nil {
		err = json.Unmarshal(data, &sum)
	}
	if err != nil || sum.Stage != "sync" || sum.Outcome != "partial" || sum.ExitCode != exitPartial || sum.Totals.ProjectsDeactivated != 2 ||
		sum.Totals.OrgsFailed != 1 || len(sum.Orgs) != 5 {
		t.Fatalf("sync-summary.json: %+v, %v", sum, err)
	}
	if _, err := os.Stat(e.File(sum.History)); err != nil || !strings.HasPrefix(sum.History, "summaries/sync-") {
		t.Errorf("history copy %q: %v", sum.History, err)
	}
}

// TestSyncRefusesOrgIDsOutsideTheLogDirectory: an orgs file whose org id
// would put sync's files elsewhere is refused for that org (exit 3, named),
// the other orgs are synced, nothing is written outside the log directory.
func TestSyncRefusesOrgIDsOutsideTheLogDirectory(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	rows, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := rows[0]
	bad.OrgID = "../../x"
	data, _ := json.Marshal(map[string]any{"orgData": append([]importfiles.CreatedOrg{bad}, rows...)})
	file := filepath.Join(t.TempDir(), "orgs.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.MustRun(exitPartial, "sync", "--orgsData="+file)
	if !strings.Contains(r.Stderr, `"../../x" is not a Snyk org id`) {
		t.Errorf("stderr does not name the org id:\n%s", r.Stderr)
	}
	for _, dir := range []string{filepath.Dir(e.LogPath), filepath.Dir(filepath.Dir(e.LogPath))} {
		if m, _ := filepath.Glob(filepath.Join(dir, "x.*")); len(m) != 0 {
			t.Errorf("wrote %v outside the log directory", m)
		}
	}
	if strings.Count(r.Stdout, "Finished syncing all") != len(rows) {
		t.Errorf("the other orgs were not synced:\n%s", r.Stdout)
	}
}

// TestSyncGuardFlags: --maxDeactivate=0 holds back any deactivation, the
// default never empties an org, --deleteAfter is a positive duration.
func TestSyncGuardFlags(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	var all []string
	for _, r := range e.Sim.CurrentRepositories("data-science") {
		all = append(all, r.Slug)
	}
	if err := e.Sim.ChangeEstate(sim.EstateChange{Workspace: "data-science", Delete: all}); err != nil {
		t.Fatal(err)
	}
	org := e.orgs["data-science"]
	c0 := e.Sim.Counters()
	r := e.MustRun(exitPartial, "sync", "--orgPublicId="+org)
	if !strings.Contains(r.Stdout, "Held back: the plan deactivates or deletes every one of the org's") ||
		!strings.Contains(r.Stderr, "needs --maxDeactivate given for the run") {
		t.Errorf("the default emptied or did not say why not:\n%s\n%s", r.Stdout, r.Stderr)
	}
	e.MustRun(exitPartial, "sync", "--orgPublicId="+org, "--maxDeactivate=0")
	if n := writesSince(e.Sim, c0); n != 0 {
		t.Errorf("%d writes", n)
	}
	e.MustRun(exitOK, "sync", "--orgPublicId="+org, "--maxDeactivate=100%")
	for name, p := range e.projects("data-science") {
		if p.Status != "inactive" {
			t.Errorf("explicit 100%%: %s is %s", name, p.Status)
		}
	}
	for _, bad := range []string{"0", "-1d", "soon"} {
		if r := e.Run("sync", "--orgPublicId="+org, "--deleteAfter="+bad); r.Code != exitUsage || !strings.Contains(r.Stderr, "--deleteAfter") {
			t.Errorf("--deleteAfter=%s: exit %d, %s", bad, r.Code, r.Stderr)
		}
	}
}

// TestSyncConfirmations429ShareOnePause: every repository read (sync's
// confirmations of deletions, one after another) answered 429 without
// Retry-After. Each waited a whole --rateLimitWait before (30 min by
// default); the wait is the run's now, each moment of a pause counted
// once: the run ends about one wait in, the first confirmation having
// waited it and the others not sent, each deletion left alone as unproven,
// and the run says once that its wait is spent.
func TestSyncConfirmations429ShareOnePause(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	const ws = "acme-platform"
	var gone []string
	for _, r := range e.importable(ws)[:6] {
		gone = append(gone, r.Slug)
	}
	if err := e.Sim.ChangeEstate(sim.EstateChange{Workspace: ws, Delete: gone}); err != nil {
		t.Fatal(err)
	}
	e.Sim.ThrottleRepositoryReads(true, "")
	const wait = time.Second
	e.Tuning.RateLimitWait = wait
	c0 := e.Sim.Counters()
	start := time.Now()
	r := e.MustRun(3, e.syncArgs("--maxDeactivate=100%")...)
	elapsed := time.Since(start)
	if d := delta(e.Sim, c0, "bitbucket.repository_reads"); d["bitbucket.repository_reads"] == 0 {
		t.Fatal("no confirmation was asked")
	}
	// Six confirmations each waiting the whole wait took 6 s and more.
	if elapsed > 4*wait {
		t.Errorf("the run took %s: its confirmations waited more than one wait of %s between them", elapsed, wait)
	}
	if got := writesSince(e.Sim, c0); got != 0 {
		t.Errorf("%d writes: an unproven deletion was acted on", got)
	}
	if n := strings.Count(r.Stderr, "past what is left of this run's --rateLimitWait"); n != 1 {
		t.Errorf("said %d times that the wait is spent, want once:\n%s", n, r.Stderr)
	}
	if n := strings.Count(r.Stdout+r.Stderr, "proved nothing"); n < len(gone) {
		t.Errorf("%d deletions reported unproven, want %d:\n%s", n, len(gone), r.Stdout)
	}
	t.Logf("sync with every confirmation refused: %s, %d repository reads", elapsed.Round(time.Millisecond), delta(e.Sim, c0, "bitbucket.repository_reads")["bitbucket.repository_reads"])
}
