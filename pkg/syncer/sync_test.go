package syncer

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// fakeSnyk is an org's Snyk: its projects, and scripted failures.
type fakeSnyk struct {
	mu       sync.Mutex
	projects []snyk.Project
	listErr  error
	failOn   map[string]error // "deactivate:<id>", "branch:<id>", "import:<owner/name>"
	writes   []string
	jobs     map[string]string // location → "owner/name"
}

func (f *fakeSnyk) ListGroupOrgsIter(context.Context, string) iter.Seq2[snyk.Org, error] { return nil }
func (f *fakeSnyk) CreateOrg(context.Context, snyk.CreateOrgRequest) (*snyk.Org, error) {
	return nil, errors.New("not used")
}
func (f *fakeSnyk) ListIntegrations(context.Context, string) (map[string]string, error) {
	return map[string]string{"bitbucket-cloud-app": "int-1"}, nil
}
func (f *fakeSnyk) DisableNotifications(context.Context, string) error { return nil }
func (f *fakeSnyk) ListTargetsIter(context.Context, string) iter.Seq2[snyk.Target, error] {
	return func(yield func(snyk.Target, error) bool) {}
}
func (f *fakeSnyk) ListProjectsIter(_ context.Context, _ string, _ *snyk.ProjectListOptions) iter.Seq2[snyk.Project, error] {
	return func(yield func(snyk.Project, error) bool) {
		if f.listErr != nil {
			yield(snyk.Project{}, f.listErr)
			return
		}
		for _, p := range f.projects {
			if !yield(p, nil) {
				return
			}
		}
	}
}

func (f *fakeSnyk) write(kind, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, kind+":"+id)
	return f.failOn[kind+":"+id]
}
func (f *fakeSnyk) UpdateProjectBranch(_ context.Context, _, id, _ string) error {
	return f.write("branch", id)
}
func (f *fakeSnyk) DeactivateProject(_ context.Context, _, id string) error {
	return f.write("deactivate", id)
}
func (f *fakeSnyk) DeleteProject(_ context.Context, _, id string) error { return f.write("delete", id) }
func (f *fakeSnyk) ImportTarget(_ context.Context, _, _ string, r snyk.ImportRequest) (string, error) {
	var t importfiles.Target
	_ = t.UnmarshalJSON(r.Target)
	owner, _ := t.Get("owner")
	name, _ := t.Get("name")
	if err := f.write("import", owner+"/"+name); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.jobs == nil {
		f.jobs = map[string]string{}
	}
	loc := "https://api.snyk.io/v1/org/o/integrations/int-1/import/" + name
	f.jobs[loc] = owner + "/" + name
	return loc, nil
}
func (f *fakeSnyk) GetImportJob(_ context.Context, loc string) (*snyk.ImportJob, error) {
	return &snyk.ImportJob{ID: "j", Status: snyk.JobComplete, Logs: []snyk.ImportLog{{Projects: []snyk.ImportedProject{
		{TargetFile: "package.json", Success: true, ProjectURL: "https://app.snyk.io/org/o/project/new-" + lastSegment(loc)}}}}}, nil
}

// fakeBitbucket lists one workspace and answers repository reads.
type fakeBitbucket struct {
	repos   []bitbucket.Repository
	listErr error
	get     map[string]func() (bitbucket.Repository, error) // slug → answer (default 404)
	gets    []string
}

func (b *fakeBitbucket) ListRepositoriesIter(context.Context, string, *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	return func(yield func(bitbucket.Repository, error) bool) {
		for _, r := range b.repos {
			if !yield(r, nil) {
				return
			}
		}
		if b.listErr != nil {
			yield(bitbucket.Repository{}, b.listErr)
		}
	}
}

var errNotFound = &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: http.StatusNotFound}}

func (b *fakeBitbucket) GetRepository(_ context.Context, _, slug string) (bitbucket.Repository, error) {
	b.gets = append(b.gets, slug)
	if f := b.get[slug]; f != nil {
		return f()
	}
	return bitbucket.Repository{}, errNotFound
}

func runSync(t *testing.T, sn *fakeSnyk, bb *fakeBitbucket, dir string, mod func(*Options)) *OrgResult {
	t.Helper()
	opts := Options{Snyk: sn, Bitbucket: bb, Orgs: []importfiles.CreatedOrg{{OrgID: "org", Workspace: "ws",
		Integrations: map[string]string{"bitbucket-cloud-app": "int-1"}}},
		Source: importer.SourceBitbucketCloudApp, LogPath: dir, ImportNew: true, PollInitial: 1, PollMax: 1,
		MaxDeactivate: Limit{Percent: 100}}
	if mod != nil {
		mod(&opts)
	}
	res, err := Sync(t.Context(), opts)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return res.Orgs[0]
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
	dir := t.TempDir()
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
// old projects active (logged in failed-to-sync-target.log); once the
// import succeeds they are deactivated.
func TestSyncRenameWaitsForItsImport(t *testing.T) {
	dir := t.TempDir()
	renamed := bitbucket.Repository{Workspace: "ws", Slug: "new", UUID: "{old-uuid}", MainBranch: "main", UpdatedOn: t0}
	if err := stateOf(repo("old", "main", t0)).saveAs(dir, "org"); err != nil {
		t.Fatal(err)
	}
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "old", "package.json", "main")},
		failOn: map[string]error{"import:ws/new": errors.New("400 invalid")}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{renamed}}
	o := runSync(t, sn, bb, dir, nil)
	if slices.Contains(sn.writes, "deactivate:p1") || len(o.Failures) == 0 {
		t.Fatalf("old projects deactivated although the import failed: %v %+v", sn.writes, o)
	}
	if got := lines(t, filepath.Join(dir, "org"+FailedToSyncTargetLogSuffix)); len(got) != 1 || !strings.Contains(got[0], `"msg":"Failed to sync target"`) {
		t.Errorf("failed-to-sync-target log: %q", got)
	}
	sn.failOn, sn.writes = nil, nil
	runSync(t, sn, bb, dir, nil)
	if !slices.Equal(sn.writes, []string{"import:ws/new", "deactivate:p1"}) {
		t.Errorf("second run wrote %v, want the import then the deactivation", sn.writes)
	}
}

// TestSyncConfirmations: one GET per candidate; 404 confirms, a 200 leaves
// it alone, a 200 naming a listed uuid under another slug is a rename, an
// error is a failure; --onDeletedRepo=delete deletes.
func TestSyncConfirmations(t *testing.T) {
	dir := t.TempDir()
	listed := bitbucket.Repository{Workspace: "ws", Slug: "moved", UUID: "{m}", MainBranch: "main", UpdatedOn: t0}
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "glitch", "package.json", "main"),
		proj("p3", "was-moved", "package.json", "main"), proj("p4", "unsure", "package.json", "main")}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{listed}, get: map[string]func() (bitbucket.Repository, error){
		"glitch":    func() (bitbucket.Repository, error) { return repo("glitch", "main", t0), nil },
		"was-moved": func() (bitbucket.Repository, error) { return listed, nil },
		"unsure":    func() (bitbucket.Repository, error) { return bitbucket.Repository{}, errors.New("503 after retries") },
	}}
	o := runSync(t, sn, bb, dir, func(o *Options) { o.OnDeleted = OnDeletedDelete })
	slices.Sort(bb.gets)
	if !slices.Equal(bb.gets, []string{"glitch", "gone", "unsure", "was-moved"}) {
		t.Errorf("GETs %v", bb.gets)
	}
	slices.Sort(sn.writes)
	if want := []string{"deactivate:p3", "delete:p1", "import:ws/moved"}; !slices.Equal(sn.writes, want) {
		t.Errorf("writes %v, want %v", sn.writes, want)
	}
	if len(o.Failures) != 1 || !strings.Contains(o.Failures[0], "unsure") {
		t.Errorf("failures %v", o.Failures)
	}
}

// TestSyncRefusesPartialPictures: an incomplete Snyk listing stops the
// org; a failed or cut-short workspace listing changes nothing in it.
func TestSyncRefusesPartialPictures(t *testing.T) {
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main")}, listErr: errors.New("502")}
	o := runSync(t, sn, &fakeBitbucket{}, t.TempDir(), nil)
	if o.Err == nil || len(sn.writes) != 0 {
		t.Errorf("Snyk listing failed: err %v, writes %v", o.Err, sn.writes)
	}
	sn.listErr = nil
	bb := &fakeBitbucket{repos: []bitbucket.Repository{repo("new", "main", t0)}, listErr: errors.New("page 2: 429 after retries")}
	o = runSync(t, sn, bb, t.TempDir(), nil)
	if len(sn.writes) != 0 || len(bb.gets) != 0 || len(o.FailedWorkspaces) != 1 || !o.Failed() {
		t.Errorf("cut-short listing: writes %v, gets %v, %+v", sn.writes, bb.gets, o)
	}
}

// TestSyncDryRunWritesNothing: a dry run reads and confirms, writes the
// plan, and neither writes to Snyk nor saves the state.
func TestSyncDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "a", "package.json", "master")}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{repo("a", "main", t0), repo("new", "main", t0)}}
	o := runSync(t, sn, bb, dir, func(o *Options) { o.DryRun = true })
	if len(sn.writes) != 0 || o.Planned[ActionDeactivateDeleted] != 1 || o.Planned[ActionUpdateBranch] != 1 || o.Planned[ActionImportNew] != 1 {
		t.Errorf("writes %v, planned %v", sn.writes, o.Planned)
	}
	if _, err := os.Stat(StatePath(dir, "org")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run saved the state: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "org"+PlanFileSuffix)); err != nil {
		t.Error(err)
	}
}

// TestSyncGuard: over --maxDeactivate nothing is written and no deletion
// is confirmed.
func TestSyncGuard(t *testing.T) {
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "gone2", "package.json", "main"),
		proj("p3", "a", "package.json", "master")}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{repo("a", "main", t0)}}
	o := runSync(t, sn, bb, t.TempDir(), func(o *Options) { o.MaxDeactivate = Limit{Count: 1} })
	if o.HeldBack == "" || len(sn.writes) != 0 || len(bb.gets) != 0 {
		t.Errorf("held back %q, writes %v, gets %v", o.HeldBack, sn.writes, bb.gets)
	}
}
