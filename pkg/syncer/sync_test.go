package syncer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

func runSync(t *testing.T, sn *fakeSnyk, bb *fakeBitbucket, dir string, mod func(*Options)) *OrgResult {
	t.Helper()
	opts := Options{Snyk: sn, Bitbucket: bb, Orgs: []importfiles.CreatedOrg{{OrgID: "org", Workspace: "ws",
		Integrations: map[string]string{"bitbucket-cloud-app": "int-1"}}},
		Source: importer.SourceBitbucketCloudApp, LogPath: dir, ImportNew: true, PollInitial: 1, PollMax: 1,
		MaxDeactivate: Limit{N: 100, Percent: true, Explicit: true}}
	if mod != nil {
		mod(&opts)
	}
	res, err := Sync(t.Context(), opts)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return res.Orgs[0]
}

// recorded saves a state in dir in which earlier complete listings had repos.
func recorded(t *testing.T, dir string, repos ...bitbucket.Repository) {
	t.Helper()
	s := stateOf(repos...)
	s.OrgID = "org"
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestSyncApplyFailuresAreRetriedNextRun: a failed deactivation is logged
// in <org>.failed-to-update-projects.log and the repository stays in the
// state, so the next run plans it again; a successful one is not planned
// again.
func TestSyncApplyFailuresAreRetriedNextRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recorded(t, dir, repo("gone", "main", t0), repo("gone2", "main", t0))
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "gone2", "package.json", "main")},
		failOn: map[string]error{"deactivate:p1": errors.New("500 Internal Server Error")}}
	bb := &fakeBitbucket{}
	o := runSync(t, sn, bb, dir, nil)
	if len(o.Failures) != 1 || o.ProjectsDeactivated != 1 || !o.Failed() {
		t.Fatalf("result %+v", o)
	}
	failed := lines(t, filepath.Join(dir, "org"+FailedToUpdateProjectsSuffix))
	if len(failed) != 1 || !strings.Contains(failed[0], `"error":"500 Internal Server Error"`) || !strings.Contains(failed[0], `"level":30`) ||
		!strings.Contains(failed[0], `Snyk project \"deactivate\" update failed`) {
		t.Errorf("failed-to-update log: %q", failed)
	}
	if got := lines(t, filepath.Join(dir, "org"+UpdatedProjectsLogSuffix)); len(got) != 1 || !strings.Contains(got[0], `"projectPublicId":"p2"`) {
		t.Errorf("updated log: %q", got)
	}
	// Next run: Snyk shows p2 inactive, p1 still active: only p1 again.
	sn.projects[1].Status = "inactive"
	sn.failOn, sn.writes = nil, nil
	o = runSync(t, sn, bb, dir, nil)
	if !slices.Equal(sn.writes, []string{"deactivate:p1"}) || o.Failed() {
		t.Errorf("second run wrote %v (%+v)", sn.writes, o)
	}
}

// TestSyncRenameWaitsForItsImport: a rename whose import fails leaves the
// old projects active (logged in failed-to-sync-target.log with the whole
// REST target); once the import succeeds they are deactivated.
func TestSyncRenameWaitsForItsImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	renamed := bitbucket.Repository{Workspace: "ws", Slug: "new", UUID: uuidOf("old"), MainBranch: "main", UpdatedOn: t0}
	recorded(t, dir, repo("old", "main", t0))
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "old", "package.json", "main")},
		failOn: map[string]error{"import:ws/new": errors.New("400 invalid")}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{renamed}}
	o := runSync(t, sn, bb, dir, nil)
	if slices.Contains(sn.writes, "deactivate:p1") || len(o.Failures) == 0 || o.Done[ActionRename] != 0 {
		t.Fatalf("old projects deactivated although the import failed: %v %+v", sn.writes, o)
	}
	got := lines(t, filepath.Join(dir, "org"+FailedToSyncTargetLogSuffix))
	if len(got) != 1 || !strings.Contains(got[0], `"msg":"Failed to sync target"`) ||
		!strings.Contains(got[0], `"target":{"id":"t-old","type":"target","attributes":{"displayName":"ws/old","origin":"bitbucket-cloud-app","remoteUrl":null,"isPrivate":false},"relationships":{"org":{"data":{"id":"org","type":"org"}}}}`) {
		t.Errorf("failed-to-sync-target log: %q", got)
	}
	sn.failOn, sn.writes = nil, nil
	o = runSync(t, sn, bb, dir, nil)
	if !slices.Equal(sn.writes, []string{"import:ws/new", "deactivate:p1"}) || o.Done[ActionRename] != 1 || o.ProjectsImported != 1 {
		t.Errorf("second run wrote %v (%+v), want the import then the deactivation, one rename", sn.writes, o)
	}
}

// TestSyncConfirmations: one GET per candidate, by uuid; Bitbucket's own
// 404 proves it; a proxy's 404, an error, or the repository answering under
// its own slug prove nothing (a failure each, nothing written); the same
// uuid under a new slug is a rename; deletions deactivate first.
func TestSyncConfirmations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recorded(t, dir, repo("gone", "main", t0), repo("glitch", "main", t0), repo("was-moved", "main", t0), repo("unsure", "main", t0),
		repo("proxied", "main", t0))
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "glitch", "package.json", "main"),
		proj("p3", "was-moved", "package.json", "main"), proj("p4", "unsure", "package.json", "main"), proj("p5", "proxied", "package.json", "main")}}
	moved := bitbucket.Repository{Workspace: "ws", Slug: "moved", UUID: uuidOf("was-moved"), MainBranch: "main", UpdatedOn: t0}
	bb := &fakeBitbucket{get: map[string]func() (bitbucket.Repository, error){
		uuidOf("glitch"):    func() (bitbucket.Repository, error) { return repo("glitch", "main", t0), nil },
		uuidOf("was-moved"): func() (bitbucket.Repository, error) { return moved, nil },
		uuidOf("unsure"):    func() (bitbucket.Repository, error) { return bitbucket.Repository{}, errors.New("503 after retries") },
		uuidOf("proxied"):   func() (bitbucket.Repository, error) { return bitbucket.Repository{}, errProxy404 },
	}}
	o := runSync(t, sn, bb, dir, func(o *Options) { o.OnDeleted = OnDeletedDelete })
	slices.Sort(bb.gets)
	if want := []string{uuidOf("glitch"), uuidOf("gone"), uuidOf("proxied"), uuidOf("unsure"), uuidOf("was-moved")}; !slices.Equal(bb.gets, want) {
		t.Errorf("GETs %v, want %v", bb.gets, want)
	}
	slices.Sort(sn.writes)
	if want := []string{"deactivate:p1", "deactivate:p3", "import:ws/moved"}; !slices.Equal(sn.writes, want) {
		t.Errorf("writes %v, want %v", sn.writes, want)
	}
	if len(o.Failures) != 3 {
		t.Errorf("failures %q, want glitch, unsure and proxied", o.Failures)
	}
	st, err := LoadState(dir, "org")
	if err != nil {
		t.Fatal(err)
	}
	if g := st.Repositories[uuidOf("gone")].Gone; g == nil || !slices.Equal(g.Projects, []string{"p1"}) {
		t.Errorf("the confirmed deletion is not recorded: %+v", g)
	}
	if rs := st.Repositories[uuidOf("was-moved")]; rs.Slug != "moved" {
		t.Errorf("the rename is not recorded: %+v", rs)
	}
}

// TestSyncDeleteAfter: --onDeletedRepo=delete deletes nothing the run that
// proves a deletion; it deactivates, and deletes those projects only once
// DeleteAfter has passed since, the deletion proven again.
func TestSyncDeleteAfter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recorded(t, dir, repo("gone", "main", t0))
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main")}}
	bb := &fakeBitbucket{}
	now := t0
	run := func() *OrgResult {
		return runSync(t, sn, bb, dir, func(o *Options) {
			o.OnDeleted, o.Now = OnDeletedDelete, func() time.Time { return now }
		})
	}
	run()
	if !slices.Equal(sn.writes, []string{"deactivate:p1"}) {
		t.Fatalf("first run wrote %v, want the deactivation only", sn.writes)
	}
	sn.projects[0].Status = "inactive"
	for _, days := range []int{1, 6} {
		now, sn.writes, bb.gets = t0.Add(time.Duration(days)*24*time.Hour), nil, nil
		if o := run(); len(sn.writes) != 0 || len(bb.gets) != 0 || o.Failed() {
			t.Fatalf("day %d: wrote %v, asked %v; want nothing before a week", days, sn.writes, bb.gets)
		}
	}
	now, sn.writes, bb.gets = t0.Add(DefaultDeleteAfter), nil, nil
	o := run()
	if !slices.Equal(sn.writes, []string{"delete:p1"}) || len(bb.gets) != 1 || o.ProjectsDeleted != 1 {
		t.Fatalf("a week later: wrote %v, asked %v; want one confirmation and the deletion", sn.writes, bb.gets)
	}
}

// TestSyncRefusesPartialPictures: an incomplete Snyk listing stops the
// org; a failed or cut-short workspace listing changes nothing in it.
func TestSyncRefusesPartialPictures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recorded(t, dir, repo("gone", "main", t0))
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main")}, listErr: errors.New("502")}
	o := runSync(t, sn, &fakeBitbucket{}, dir, nil)
	if o.Err == nil || len(sn.writes) != 0 {
		t.Errorf("Snyk listing failed: err %v, writes %v", o.Err, sn.writes)
	}
	sn.listErr = nil
	bb := &fakeBitbucket{repos: []bitbucket.Repository{repo("new", "main", t0)}, listErr: errors.New("page 2: 429 after retries")}
	o = runSync(t, sn, bb, dir, nil)
	if len(sn.writes) != 0 || len(bb.gets) != 0 || len(o.FailedWorkspaces) != 1 || !o.Failed() {
		t.Errorf("cut-short listing: writes %v, gets %v, %+v", sn.writes, bb.gets, o)
	}
}

// TestSyncDryRunWritesNothing: a dry run reads and confirms, writes the
// plan, and neither writes to Snyk nor saves the state.
func TestSyncDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recorded(t, dir, repo("gone", "main", t0), repo("a", "main", t0))
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "a", "package.json", "master")}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{repo("a", "main", t0), repo("new", "main", t0)}}
	before, _ := os.ReadFile(StatePath(dir, "org"))
	o := runSync(t, sn, bb, dir, func(o *Options) { o.DryRun = true })
	if len(sn.writes) != 0 || o.Planned[ActionDeactivateDeleted] != 1 || o.Planned[ActionUpdateBranch] != 1 || o.Planned[ActionImportNew] != 1 {
		t.Errorf("writes %v, planned %v", sn.writes, o.Planned)
	}
	if after, _ := os.ReadFile(StatePath(dir, "org")); string(after) != string(before) {
		t.Error("a dry run saved the state")
	}
	if _, err := os.Stat(filepath.Join(dir, "org"+PlanFileSuffix)); err != nil {
		t.Error(err)
	}
}

// TestSyncGuard: over the limit nothing is written and no deletion is
// confirmed; the default never empties an org, an explicit limit may; 0
// allows none.
func TestSyncGuard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		limit   Limit
		held    bool
		empties bool
	}{
		{"explicit 1 of 3", Limit{N: 1, Explicit: true}, true, false},
		{"explicit 0", Limit{N: 0, Explicit: true}, true, false},
		{"default on an org it would empty", Limit{}, true, true},
		{"explicit 100%", Limit{N: 100, Percent: true, Explicit: true}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			recorded(t, dir, repo("gone", "main", t0), repo("gone2", "main", t0), repo("gone3", "main", t0))
			sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "gone2", "package.json", "main"),
				proj("p3", "gone3", "package.json", "master")}}
			bb := &fakeBitbucket{}
			o := runSync(t, sn, bb, dir, func(o *Options) { o.MaxDeactivate = tc.limit })
			if tc.held != (o.HeldBack != nil) || (tc.held && (len(sn.writes) != 0 || len(bb.gets) != 0)) {
				t.Fatalf("held back %+v, writes %v, gets %v", o.HeldBack, sn.writes, bb.gets)
			}
			if tc.held && o.HeldBack.Empties != tc.empties {
				t.Errorf("held back %+v, want empties=%v", o.HeldBack, tc.empties)
			}
			if !tc.held && len(sn.writes) != 3 {
				t.Errorf("writes %v, want the 3 deactivations", sn.writes)
			}
		})
	}
}

// TestSyncRefusesOrgIDsThatAreNoFileName: an org id that would put its
// files outside the log directory is refused before any request.
func TestSyncRefusesOrgIDsThatAreNoFileName(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sn := &fakeSnyk{}
	res, err := Sync(t.Context(), Options{Snyk: sn, Bitbucket: &fakeBitbucket{}, LogPath: dir, Source: importer.SourceBitbucketCloudApp,
		Orgs: []importfiles.CreatedOrg{{OrgID: "../../x", Workspace: "ws"}, {OrgID: "org", Workspace: "ws",
			Integrations: map[string]string{"bitbucket-cloud-app": "int-1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var bad *importfiles.OrgIDError
	if !errors.As(res.Orgs[0].Err, &bad) || res.Orgs[1].Err != nil {
		t.Fatalf("results %v / %v; want the first org refused, the second synced", res.Orgs[0].Err, res.Orgs[1].Err)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(dir)), "*"))
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), "x.") {
			t.Errorf("wrote %s outside the log directory", m)
		}
	}
}

// TestSyncRedactsWhatServersEcho: an answer that echoes a secret (a proxy's
// page, an import refused) reaches no result, plan or log unredacted.
func TestSyncRedactsWhatServersEcho(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-client-secret"
	dir := t.TempDir()
	recorded(t, dir, repo("gone", "main", t0))
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main")},
		failOn: map[string]error{"import:ws/new": errors.New("400: your request had client_secret=" + secret)}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{repo("new", "main", t0)}, get: map[string]func() (bitbucket.Repository, error){
		uuidOf("gone"): func() (bitbucket.Repository, error) {
			return bitbucket.Repository{}, errors.New("proxy page: Authorization: Bearer " + secret)
		},
	}}
	o := runSync(t, sn, bb, dir, func(o *Options) {
		o.Redact = func(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }
	})
	if len(o.Failures) != 2 {
		t.Fatalf("failures %q, want the unproven deletion and the import", o.Failures)
	}
	all := strings.Join(o.Failures, "\n")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		all += string(b)
	}
	if strings.Contains(all, secret) {
		t.Errorf("the secret was kept or written:\n%s", all)
	}
	if !strings.Contains(all, "[REDACTED]") {
		t.Errorf("nothing redacted: the test did not reach the echoing answers")
	}
}
