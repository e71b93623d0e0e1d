package main

import (
	"context"
	"errors"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/doctor"
	"iter"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/routing"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/bbimport/bbimport/pkg/syncer"
)

// The run functions of import:data, import, sync and doctor called directly,
// with fakes for the APIs: no HTTP, no simulator, no urfave.

// fakeRepos is a Bitbucket with repositories, by workspace.
type fakeRepos struct {
	fakeBitbucket
	repos map[string][]bitbucket.Repository
}

func (f *fakeRepos) ListRepositoriesIter(_ context.Context, ws string, _ *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	return func(yield func(bitbucket.Repository, error) bool) {
		for _, r := range f.repos[ws] {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (f *fakeRepos) GetRepository(_ context.Context, ws, slug string) (bitbucket.Repository, error) {
	for _, r := range f.repos[ws] {
		if r.Slug == slug {
			return r, nil
		}
	}
	return bitbucket.Repository{}, &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: http.StatusNotFound}, Workspace: ws}
}

func northRepos() *fakeRepos {
	return &fakeRepos{repos: map[string][]bitbucket.Repository{"north": {
		{Slug: "web", UUID: "{u-web}", Workspace: "north", MainBranch: "develop"},
		{Slug: "api", UUID: "{u-api}", Workspace: "north", MainBranch: "main"},
		{Slug: "empty", UUID: "{u-empty}", Workspace: "north"},
	}}}
}

// fakeImports is a Snyk whose import jobs complete with one project each.
type fakeImports struct {
	fakeSnyk
	kicked atomic.Int32
}

func (f *fakeImports) ImportTarget(_ context.Context, orgID, integrationID string, _ snyk.ImportRequest) (string, error) {
	n := f.kicked.Add(1)
	return "https://api.snyk.test/v1/org/" + orgID + "/integrations/" + integrationID + "/import/job-" + strconv.Itoa(int(n)), nil
}

func (f *fakeImports) GetImportJob(_ context.Context, loc string) (*snyk.ImportJob, error) {
	return &snyk.ImportJob{ID: filepath.Base(loc), Status: snyk.JobComplete, Logs: []snyk.ImportLog{{
		Name: "target", Status: snyk.JobComplete,
		Projects: []snyk.ImportedProject{{TargetFile: "package.json", Success: true, ProjectURL: "https://app.snyk.test/p"}},
	}}}, nil
}

// writeCreatedOrgs writes a snyk-created-orgs.json with org-north for
// workspace north.
func writeCreatedOrgs(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "snyk-created-orgs.json")
	body := `{"orgData":[{"name":"North Team","orgId":"org-north","groupId":"g1","workspace":"north","integrations":{"bitbucket-cloud-app":"int-app"}}]}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runTestImportData runs import:data for workspace north into logPath and
// returns the targets file.
func runTestImportData(t *testing.T, logPath string) (string, string) {
	t.Helper()
	cio, out, _ := testIO(t, "import:data")
	err := runImportData(t.Context(), &importDataOptions{
		Data: importer.ImportDataOptions{
			OrgsData: writeCreatedOrgs(t, logPath), Source: sourceApp, LogPath: logPath, Concurrency: 2,
		},
		Bitbucket: func() (importer.Bitbucket, error) { return northRepos(), nil },
		IO:        cio,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cio.Stage.output, out.String()
}

func TestRunImportData(t *testing.T) {
	t.Parallel()
	logPath := t.TempDir()
	file, out := runTestImportData(t, logPath)
	wantContains(t, out, "Found 2 targets in 1 org (3 repositories listed, 1 skipped: 1 empty). Written the data to file: ",
		"Next: bbimport import --file="+file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, string(data),
		`{"orgId":"org-north","integrationId":"int-app","target":{"owner":"north","name":"web","branch":"develop"}}`,
		`{"orgId":"org-north","integrationId":"int-app","target":{"owner":"north","name":"api","branch":"main"}}`)
}

// import:data without a Snyk credential never asks for a Snyk client, and
// a Bitbucket client that cannot be built ends the run before any output.
func TestRunImportData_clients(t *testing.T) {
	t.Parallel()
	cio, out, _ := testIO(t, "import:data")
	bad := usagef("the bitbucket-cloud-app source needs an OAuth consumer")
	err := runImportData(t.Context(), &importDataOptions{
		Data:      importer.ImportDataOptions{OrgsData: writeCreatedOrgs(t, t.TempDir()), Source: sourceApp, LogPath: t.TempDir()},
		Bitbucket: func() (importer.Bitbucket, error) { return nil, bad },
		Snyk:      func() (importer.Snyk, error) { t.Error("Snyk client built"); return nil, nil },
		IO:        cio,
	})
	if !errors.Is(err, bad) || out.Len() != 0 {
		t.Fatalf("err %v, stdout %q; want the client's error and no output", err, out.String())
	}
}

func TestRunImport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		dryRun  bool
		wantOut []string
		kicked  int32
	}{
		{"dry run", true, []string{"Dry run: would import 2 of 2 targets (0 already imported, 0 duplicates); nothing was sent to Snyk.", "north/web@develop"}, 0},
		{"import", false, []string{"Imported 2 projects.", "Processed 2 out of a total of 2 targets (0 were skipped", "Jobs: 2 complete, 0 failed"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logPath := t.TempDir()
			file, _ := runTestImportData(t, logPath)
			cio, out, _ := testIO(t, "import")
			sn := &fakeImports{}
			err := runImport(t.Context(), &importOptions{
				Import: importer.ImportOptions{
					File: file, LogPath: logPath, Concurrency: 2, DryRun: tc.dryRun,
					PollInitial: time.Millisecond, PollMax: time.Millisecond, PollTimeout: time.Minute,
					Redact: func(s string) string { return s },
				},
				Snyk: func() (importer.Snyk, error) {
					if tc.dryRun {
						t.Error("a dry run built a Snyk client")
					}
					return sn, nil
				},
				IO: cio,
			})
			if err != nil {
				t.Fatal(err)
			}
			wantContains(t, out.String(), tc.wantOut...)
			if got := sn.kicked.Load(); got != tc.kicked {
				t.Errorf("%d imports kicked off, want %d", got, tc.kicked)
			}
			if d, ok := cio.Stage.detail.(importSummary); !ok || d.Failed {
				t.Errorf("stage detail %#v, want an importSummary without failures", cio.Stage.detail)
			}
		})
	}
}

// fakeSyncSnyk has org-north's target north/web (one npm project on main)
// and records the changes asked for.
type fakeSyncSnyk struct {
	fakeSnyk
	changes atomic.Int32
}

func newFakeSyncSnyk() *fakeSyncSnyk {
	return &fakeSyncSnyk{fakeSnyk: fakeSnyk{
		orgs: []snyk.Org{{ID: "org-north", Name: "North Team"}},
		projects: map[string][]snyk.Project{"org-north": {{
			ID: "p1", Name: "north/web:package.json", Origin: sourceApp, Branch: "main",
			Type: "npm", TargetFile: "package.json", Status: "active", TargetID: "t1",
		}}},
	}}
}

func (f *fakeSyncSnyk) ListTargetsIter(_ context.Context, orgID string) iter.Seq2[snyk.Target, error] {
	return func(yield func(snyk.Target, error) bool) {
		if orgID == "org-north" {
			yield(snyk.Target{ID: "t1", DisplayName: "north/web"}, nil)
		}
	}
}

func (f *fakeSyncSnyk) UpdateProjectBranch(context.Context, string, string, string) error {
	f.changes.Add(1)
	return nil
}

func (f *fakeSyncSnyk) DeactivateProject(context.Context, string, string) error {
	f.changes.Add(1)
	return nil
}

func (f *fakeSyncSnyk) DeleteProject(context.Context, string, string) error {
	f.changes.Add(1)
	return nil
}

// sync --dryRun of the orgs of a group listed from Snyk: the plan is
// printed and written, nothing is changed.
func TestRunSync_dryRun(t *testing.T) {
	t.Parallel()
	logPath := t.TempDir()
	cio, out, _ := testIO(t, "sync")
	sn := newFakeSyncSnyk()
	err := runSync(t.Context(), &syncOptions{
		Sync: syncer.Options{
			Source: sourceApp, LogPath: logPath, DryRun: true, OnDeleted: syncer.OnDeletedDeactivate,
			MaxDeactivate: syncer.DefaultLimit, Concurrency: 2, Now: cio.Now,
		},
		GroupID:   "g1",
		Bitbucket: func() (syncer.Bitbucket, error) { return northRepos(), nil },
		Snyk:      func() (syncer.Snyk, error) { return sn, nil },
		IO:        cio,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, out.String(), "ℹ️  Resolved dryRun=true",
		"Running sync for bitbucket-cloud-app projects in org: org-north",
		"update-branch", "north/web main → develop",
		"Dry run: nothing was changed; the plan is in "+filepath.Join(logPath, "org-north"+syncer.PlanFileSuffix))
	if n := sn.changes.Load(); n != 0 {
		t.Errorf("a dry run made %d changes", n)
	}
	if _, err := os.Stat(filepath.Join(logPath, "org-north"+syncer.PlanFileSuffix)); err != nil {
		t.Error(err)
	}
}

// A sync that names no org fails with the usage error once the clients are
// built, as before.
func TestRunSync_noOrgs(t *testing.T) {
	t.Parallel()
	cio, out, _ := testIO(t, "sync")
	err := runSync(t.Context(), &syncOptions{
		Sync:      syncer.Options{Source: sourceApp, LogPath: t.TempDir(), DryRun: true},
		Bitbucket: func() (syncer.Bitbucket, error) { return northRepos(), nil },
		Snyk:      func() (syncer.Snyk, error) { return newFakeSyncSnyk(), nil },
		IO:        cio,
	})
	if exitCode(err, true) != exitUsage || !strings.Contains(err.Error(), "name the orgs to sync") || out.Len() != 0 {
		t.Fatalf("err %v, stdout %q; want the usage error and no output", err, out.String())
	}
}

// fakeDoctorBitbucket answers doctor's reads: one OAuth consumer that
// lists its workspaces.
type fakeDoctorBitbucket struct {
	fakeBitbucket
	scopes  []string
	repoErr map[string]error
}

func (f *fakeDoctorBitbucket) Credentials() []doctor.BitbucketCredential {
	return []doctor.BitbucketCredential{fakeDoctorCredential{f}}
}

func (f *fakeDoctorBitbucket) Discover(context.Context) error { return nil }

func (f *fakeDoctorBitbucket) Found() []routing.Found {
	found := routing.Found{Kind: credential.BitbucketConsumer, Case: routing.Listed}
	for _, ws := range f.workspaces {
		found.Workspaces = append(found.Workspaces, ws.Slug)
	}
	return []routing.Found{found}
}

func (f *fakeDoctorBitbucket) FirstRepoPage(_ context.Context, ws string) error { return f.repoErr[ws] }

type fakeDoctorCredential struct{ f *fakeDoctorBitbucket }

func (c fakeDoctorCredential) Name() string           { return "" }
func (c fakeDoctorCredential) Kind() credential.Kind  { return credential.BitbucketConsumer }
func (c fakeDoctorCredential) Describe() string       { return "OAuth consumer id" }
func (c fakeDoctorCredential) Limit() string          { return "1,000 requests an hour" }
func (c fakeDoctorCredential) AppPasswordFix() string { return "" }
func (c fakeDoctorCredential) TokenScopes(context.Context) ([]string, bool, error) {
	return c.f.scopes, true, nil
}

// fakeDoctorSnyk answers doctor's Snyk reads; err, if set, answers the
// group read.
type fakeDoctorSnyk struct {
	fakeSnyk
	err error
}

func (f *fakeDoctorSnyk) ListGroupOrgs(_ context.Context, groupID string, _, _ int) (*snyk.GroupOrgs, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &snyk.GroupOrgs{Group: snyk.Group{ID: groupID, Name: "Platform"}}, nil
}

func (f *fakeDoctorSnyk) Credential() (*credential.Credential, string, string) {
	return nil, "", ""
}

func (f *fakeDoctorSnyk) BaseURL() *url.URL {
	return &url.URL{Scheme: "https", Host: "api.snyk.test", Path: "/"}
}

func TestRunDoctor(t *testing.T) {
	t.Parallel()
	forbidden := &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: http.StatusForbidden}, Workspace: "south"}
	rejected := &snyk.ErrorResponse{StatusCode: http.StatusUnauthorized}
	for _, tc := range []struct {
		name     string
		bb       *fakeDoctorBitbucket
		snykErr  error
		wantCode int
		wantOut  []string
	}{
		{
			name:     "all good",
			bb:       &fakeDoctorBitbucket{scopes: []string{"account", "repository"}},
			wantCode: exitOK,
			wantOut: []string{"✓ environment: ", "✓ Bitbucket token: client_credentials exchange works; scopes granted: account repository",
				"✓ workspaces: 2 visible (north, south)", "✓ repositories: first page readable in each of 2 workspaces",
				"✓ Snyk token: accepted by https://api.snyk.test", `✓ Snyk group: "Platform" (g1) readable`,
				"✓ orgs: all 1 orgs in snyk-created-orgs.json have a Bitbucket integration (bitbucket-cloud-app: 1)",
				"All 8 checks passed.", "Next: bbimport orgs:data --source=bitbucket-cloud-app --groupId=g1"},
		},
		{
			name:     "missing scope, unreadable workspace",
			bb:       &fakeDoctorBitbucket{scopes: []string{"account"}, repoErr: map[string]error{"south": forbidden}},
			wantCode: exitFailed,
			wantOut: []string{`⚠ Bitbucket scopes: the consumer lacks "repository"`, "✗ repositories: cannot list 1 of 2 (south): ",
				"1 check failed, 7 passed"},
		},
		{
			name:     "Snyk token rejected",
			bb:       &fakeDoctorBitbucket{scopes: []string{"account", "repository"}},
			snykErr:  rejected,
			wantCode: exitAuth,
			wantOut:  []string{"✗ Snyk token: ", "- Snyk group: not checked, the token was rejected", "- orgs: not checked, the token was rejected"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logPath := t.TempDir()
			env := map[string]string{
				"BITBUCKET_APP_CLIENT_ID": "id", "BITBUCKET_APP_CLIENT_SECRET": "s3cr3t-value",
				"SNYK_TOKEN": "t0ken-value", "SNYK_LOG_PATH": logPath,
			}
			tc.bb.workspaces = []bitbucket.Workspace{{Slug: "north"}, {Slug: "south"}}
			cio, out, _ := testIO(t, "doctor")
			err := runDoctor(t.Context(), &doctorOptions{IO: cio, Checks: doctor.Options{
				Source: sourceApp, GroupID: "g1", OrgsData: writeCreatedOrgs(t, t.TempDir()), MaxWorkspaces: doctorMaxWorkspaces,
				Env:       doctorEnv(sourceApp, func(k string) string { return env[k] }, false, nil),
				LogDir:    func() (string, error) { return logPath, nil },
				Bitbucket: func() (doctor.Bitbucket, error) { return tc.bb, nil },
				Snyk:      func() (doctor.Snyk, error) { return &fakeDoctorSnyk{err: tc.snykErr}, nil },
			}})
			if got := exitCode(err, true); got != tc.wantCode {
				t.Errorf("exit code %d (err %v), want %d", got, err, tc.wantCode)
			}
			wantContains(t, out.String(), tc.wantOut...)
			if strings.Contains(out.String(), "s3cr3t-value") || strings.Contains(out.String(), "t0ken-value") {
				t.Errorf("doctor printed a secret:\n%s", out.String())
			}
		})
	}
}
