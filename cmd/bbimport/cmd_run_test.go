package main

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/rs/zerolog"
)

// The run functions of orgs:data, orgs:create and list:imported called
// directly, with fakes for the APIs: no HTTP, no simulator, no urfave.

// fakeBitbucket lists workspaces and has no repositories or projects.
type fakeBitbucket struct{ workspaces []bitbucket.Workspace }

func (f *fakeBitbucket) ListWorkspacesIter(context.Context) iter.Seq2[bitbucket.Workspace, error] {
	return func(yield func(bitbucket.Workspace, error) bool) {
		for _, w := range f.workspaces {
			if !yield(w, nil) {
				return
			}
		}
	}
}

func (f *fakeBitbucket) ListRepositoriesIter(context.Context, string, *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	return func(func(bitbucket.Repository, error) bool) {}
}

func (f *fakeBitbucket) ListProjectsIter(context.Context, string) iter.Seq2[bitbucket.Project, error] {
	return func(func(bitbucket.Project, error) bool) {}
}

// fakeSnyk has the orgs of one group, each with the Bitbucket Cloud App
// integration and the projects given.
type fakeSnyk struct {
	orgs     []snyk.Org
	projects map[string][]snyk.Project // by org id
}

var errFakeUnused = errors.New("not used by this test")

func (f *fakeSnyk) ListGroupOrgsIter(context.Context, string) iter.Seq2[snyk.Org, error] {
	return func(yield func(snyk.Org, error) bool) {
		for _, o := range f.orgs {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (f *fakeSnyk) CreateOrg(context.Context, snyk.CreateOrgRequest) (*snyk.Org, error) {
	return nil, errFakeUnused
}

func (f *fakeSnyk) ListIntegrations(context.Context, string) (map[string]string, error) {
	return map[string]string{sourceApp: "int-app"}, nil
}

func (f *fakeSnyk) DisableNotifications(context.Context, string) error { return errFakeUnused }

func (f *fakeSnyk) ImportTarget(context.Context, string, string, snyk.ImportRequest) (string, error) {
	return "", errFakeUnused
}

func (f *fakeSnyk) GetImportJob(context.Context, string) (*snyk.ImportJob, error) {
	return nil, errFakeUnused
}

func (f *fakeSnyk) ListProjectsIter(_ context.Context, orgID string, _ *snyk.ProjectListOptions) iter.Seq2[snyk.Project, error] {
	return func(yield func(snyk.Project, error) bool) {
		for _, p := range f.projects[orgID] {
			if !yield(p, nil) {
				return
			}
		}
	}
}

// testIO is a commandIO writing into buffers, with a fixed clock.
func testIO(t *testing.T, name string) (*commandIO, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, log bytes.Buffer
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	return &commandIO{
		Out: &out, Log: zerolog.New(&log), Now: func() time.Time { return now },
		Stage: &stageRun{name: name, logPath: t.TempDir(), started: now},
	}, &out, &log
}

func TestRunOrgsData(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		workspaces []bitbucket.Workspace
		wantOut    []string
		wantLog    string
	}{
		{
			name:       "two workspaces",
			workspaces: []bitbucket.Workspace{{Slug: "north", Name: "North Team"}, {Slug: "south", Name: "South Team"}},
			wantOut:    []string{"Found 2 workspaces. Written the data to file: ", "Next: bbimport orgs:create --file="},
		},
		{
			name:    "none",
			wantOut: []string{"⚠ No workspace(s) found! Written an empty orgs list to "},
			wantLog: "no workspaces found",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cio, out, log := testIO(t, "orgs:data")
			logPath := t.TempDir()
			err := runOrgsData(t.Context(), &orgsDataOptions{
				Source: sourceApp, GroupID: "g1", OrgPer: importer.OrgPerWorkspace, LogPath: logPath,
				Bitbucket: func() (importer.Bitbucket, error) { return &fakeBitbucket{workspaces: tc.workspaces}, nil },
				IO:        cio,
			})
			if err != nil {
				t.Fatal(err)
			}
			wantContains(t, out.String(), tc.wantOut...)
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, log.String())
			}
			want := filepath.Join(logPath, "group-g1-bitbucket-cloud-app-orgs.json")
			if cio.Stage.output != want {
				t.Errorf("stage output %q, want %q", cio.Stage.output, want)
			}
			if _, err := os.Stat(want); err != nil {
				t.Error(err)
			}
		})
	}
}

// A client that cannot be built ends the run before anything is written.
func TestRunOrgsData_clientError(t *testing.T) {
	t.Parallel()
	cio, out, _ := testIO(t, "orgs:data")
	bad := usagef("the bitbucket-cloud-app source needs an OAuth consumer")
	err := runOrgsData(t.Context(), &orgsDataOptions{
		Source: sourceApp, GroupID: "g1", LogPath: t.TempDir(),
		Bitbucket: func() (importer.Bitbucket, error) { return nil, bad },
		IO:        cio,
	})
	if !errors.Is(err, bad) || out.Len() != 0 {
		t.Fatalf("err %v, stdout %q; want the client's error and no output", err, out.String())
	}
}

// orgs:create --dryRun against a group that has one of the two orgs.
func TestRunOrgsCreate_dryRun(t *testing.T) {
	t.Parallel()
	logPath := t.TempDir()
	dataIO, _, _ := testIO(t, "orgs:data")
	ws := []bitbucket.Workspace{{Slug: "north", Name: "North Team"}, {Slug: "south", Name: "South Team"}}
	if err := runOrgsData(t.Context(), &orgsDataOptions{
		Source: sourceApp, GroupID: "g1", OrgPer: importer.OrgPerWorkspace, LogPath: logPath,
		Bitbucket: func() (importer.Bitbucket, error) { return &fakeBitbucket{workspaces: ws}, nil },
		IO:        dataIO,
	}); err != nil {
		t.Fatal(err)
	}
	existing := snyk.Org{ID: "org-north", Name: "North Team", Group: &snyk.Group{ID: "g1"}}
	cio, out, _ := testIO(t, "orgs:create")
	err := runOrgsCreate(t.Context(), &orgsCreateOptions{
		File: dataIO.Stage.output, LogPath: logPath, DryRun: true,
		Snyk:   func() (importer.Snyk, error) { return &fakeSnyk{orgs: []snyk.Org{existing}}, nil },
		Redact: func(s string) string { return s },
		IO:     cio,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, out.String(), "Dry run: would create 1 and reuse 1 of 2 organizations (nothing was created).",
		"South Team (group g1)", "North Team (group g1)")
}

func TestRunListImported(t *testing.T) {
	t.Parallel()
	sn := &fakeSnyk{
		orgs: []snyk.Org{{ID: "org-1", Name: "North Team"}},
		projects: map[string][]snyk.Project{"org-1": {
			{ID: "p1", Name: "north/web:package.json", Origin: sourceApp},
			{ID: "p2", Name: "north/web:go.mod", Origin: sourceApp},
		}},
	}
	for _, tc := range []struct {
		name    string
		opts    listImportedOptions
		wantOut string
	}{
		{"group", listImportedOptions{GroupID: "g1", IntegrationTypes: []string{sourceApp}}, "Found 1 target (1 newly recorded). Written the data to file: "},
		{"other origin", listImportedOptions{OrgID: "org-1", IntegrationTypes: []string{sourceCloud}}, "⚠ No repo(s) found in 1 org for integration type(s) bitbucket-cloud!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cio, out, _ := testIO(t, "list:imported")
			opts := tc.opts
			opts.LogPath, opts.IO = t.TempDir(), cio
			opts.Snyk = func() (importer.Snyk, error) { return sn, nil }
			if err := runListImported(t.Context(), &opts); err != nil {
				t.Fatal(err)
			}
			wantContains(t, out.String(), tc.wantOut)
		})
	}
}
