package importer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/google/go-cmp/cmp"
)

// stagesEstate: five workspaces, one empty, one whose slug is not its
// display name, one with several projects.
func stagesEstate() *stagesBB {
	pay := bitbucket.Project{Key: "PAY", Name: "Payments"}
	ops := bitbucket.Project{Key: "OPS", Name: "Operations"}
	return &stagesBB{
		workspaces: []bitbucket.Workspace{
			{Slug: "acme", Name: "Acme Corp"},
			{Slug: "empty-ws", Name: "Empty"},
			{Slug: "rnd", Name: "R&D"},
			{Slug: "acme", Name: "Acme Corp"}, // listed twice by a pagination glitch
			{Slug: "solo", Name: "solo"},
		},
		repos: map[string][]bitbucket.Repository{
			"acme": {
				{Slug: "api", Workspace: "acme", MainBranch: "main", Project: pay},
				{Slug: "runbooks", Workspace: "acme", MainBranch: "master", Project: ops},
				{Slug: "web", Workspace: "acme", MainBranch: "main", Project: pay},
			},
			"empty-ws": {},
			"rnd":      {{Slug: "lab", Workspace: "rnd", MainBranch: "main", Project: bitbucket.Project{Key: "LAB"}}},
			"solo":     {{Slug: "x", Workspace: "solo", MainBranch: "main"}}, // no project
		},
	}
}

func TestGoldenOrgsData(t *testing.T) {
	tests := []struct {
		name        string
		opts        OrgsDataOptions
		golden      string
		bb          func(b *stagesBB)
		wantDropped []DroppedWorkspace
		wantProbes  int // ListRepositoriesIter calls
		// ListProjectsIter calls and warnings
		wantProjectCalls, wantWarnings int
	}{
		{
			name:   "app source names orgs after display names",
			opts:   OrgsDataOptions{GroupID: "g-1"},
			golden: "testdata/orgsdata/group-g-1-bitbucket-cloud-app-orgs.golden.json",
		},
		{
			name:   "cloud source names orgs after slugs, sourceOrgId copied",
			opts:   OrgsDataOptions{GroupID: "g-1", Source: SourceBitbucketCloud, SourceOrgID: "tmpl"},
			golden: "testdata/orgsdata/group-g-1-bitbucket-cloud-orgs.golden.json",
		},
		{
			name:        "skip empty orgs",
			opts:        OrgsDataOptions{GroupID: "g-1", SkipEmptyOrgs: true, Concurrency: 2},
			golden:      "testdata/orgsdata/skip-empty.golden.json",
			wantDropped: []DroppedWorkspace{{Workspace: "empty-ws", Reason: DropNoRepositories}},
			wantProbes:  4,
		},
		{
			name:   "explicit workspaces: no listing, slug as name",
			opts:   OrgsDataOptions{GroupID: "g-1", Workspaces: []string{"rnd", " acme ", "rnd", ""}},
			golden: "testdata/orgsdata/explicit.golden.json",
		},
		{
			name:             "one org per project: projects listed, no repository listed",
			opts:             OrgsDataOptions{GroupID: "g-1", OrgPer: OrgPerProject},
			golden:           "testdata/orgsdata/per-project.golden.json",
			wantDropped:      []DroppedWorkspace{{Workspace: "empty-ws", Reason: dropNoProjects}, {Workspace: "solo", Reason: dropNoProjects}},
			wantProjectCalls: 4,
		},
		{
			name: "one org per project keeps a project without repositories",
			opts: OrgsDataOptions{GroupID: "g-1", OrgPer: OrgPerProject, Source: SourceBitbucketCloud},
			bb: func(b *stagesBB) {
				b.projects = map[string][]bitbucket.Project{"acme": {{Key: "PAY", Name: "Payments"}, {Key: "OLD", Name: "Archive"}, {Key: "OPS", Name: "Operations"}}}
			},
			golden:           "testdata/orgsdata/per-project-with-empty.golden.json",
			wantDropped:      []DroppedWorkspace{{Workspace: "empty-ws", Reason: dropNoProjects}, {Workspace: "solo", Reason: dropNoProjects}},
			wantProjectCalls: 4,
		},
		{
			name: "one org per project, skip empty: one probe per project",
			opts: OrgsDataOptions{GroupID: "g-1", OrgPer: OrgPerProject, SkipEmptyOrgs: true, Concurrency: 2},
			bb: func(b *stagesBB) {
				b.projects = map[string][]bitbucket.Project{"acme": {{Key: "PAY", Name: "Payments"}, {Key: "OLD", Name: "Archive"}, {Key: "OPS", Name: "Operations"}}}
			},
			golden: "testdata/orgsdata/per-project.golden.json",
			wantDropped: []DroppedWorkspace{
				{Workspace: "acme", Project: "OLD", Reason: DropNoRepositories},
				{Workspace: "empty-ws", Reason: dropNoProjects}, {Workspace: "solo", Reason: dropNoProjects},
			},
			wantProbes:       4, // acme: OLD, OPS, PAY; rnd: LAB
			wantProjectCalls: 4,
		},
		{
			name: "one org per project without the project permission: repositories listed instead",
			opts: OrgsDataOptions{GroupID: "g-1", OrgPer: OrgPerProject, SkipEmptyOrgs: true},
			bb: func(b *stagesBB) {
				forbidden := &stagesHTTPError{status: 403, msg: "lacks the project scope"}
				b.projectErr = map[string]error{"acme": forbidden, "empty-ws": forbidden, "rnd": forbidden, "solo": forbidden}
			},
			golden:           "testdata/orgsdata/per-project.golden.json",
			wantDropped:      []DroppedWorkspace{{Workspace: "empty-ws", Reason: dropNoProjects}, {Workspace: "solo", Reason: "1 of 1 repositories belong to no project and get no org"}},
			wantProbes:       4,
			wantProjectCalls: 4,
			wantWarnings:     4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bb := stagesEstate()
			if tt.bb != nil {
				tt.bb(bb)
			}
			dir := t.TempDir()
			tt.opts.Bitbucket, tt.opts.LogPath = bb, dir
			prog := &stagesProgress{}
			tt.opts.Progress = prog
			res, err := OrgsData(t.Context(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			source := tt.opts.Source
			if source == "" {
				source = SourceBitbucketCloudApp
			}
			if want := filepath.Join(dir, "group-g-1-"+source+"-orgs.json"); res.Path != want {
				t.Errorf("Path = %s, want %s", res.Path, want)
			}
			got := readStagesFile(t, res.Path)
			assertGolden(t, tt.golden, got)
			if diff := cmp.Diff(tt.wantDropped, res.Dropped); diff != "" {
				t.Errorf("Dropped (-want +got):\n%s", diff)
			}
			if n := len(bb.repoCalls()); n != tt.wantProbes {
				t.Errorf("ListRepositoriesIter called %d times, want %d", n, tt.wantProbes)
			}
			if n := len(bb.projectCalls); n != tt.wantProjectCalls {
				t.Errorf("ListProjectsIter called %d times, want %d", n, tt.wantProjectCalls)
			}
			if len(res.Warnings) != tt.wantWarnings {
				t.Errorf("warnings = %q, want %d", res.Warnings, tt.wantWarnings)
			}
			for _, c := range bb.repoCalls() {
				if tt.opts.OrgPer == OrgPerProject && tt.wantWarnings == 0 && (c.PageLen != 1 || !strings.HasPrefix(c.Query, "project.key=")) {
					t.Errorf("repository call %+v: want a pagelen=1 probe with q=project.key=…", c)
				}
			}
			back, err := importfiles.ReadOrgsDataFile(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(res.Orgs, back); diff != "" {
				t.Errorf("file and result differ (-result +file):\n%s", diff)
			}
			if prog.stage != "orgs:data" || prog.done != 1 || prog.counts["workspaces"] != res.Workspaces {
				t.Errorf("progress = %+v, want stage orgs:data, done once, %d workspaces", prog, res.Workspaces)
			}
			assertNoTempFiles(t, dir)
		})
	}
}

// The emptiness probe asks for one repository and stops at the first.
func TestOrgsDataProbeIsOneRepository(t *testing.T) {
	bb := stagesEstate()
	bb.generated = map[string]int{"acme": 5000}
	_, err := OrgsData(t.Context(), OrgsDataOptions{Bitbucket: bb, GroupID: "g", LogPath: t.TempDir(), Workspaces: []string{"acme"}, SkipEmptyOrgs: true})
	if err != nil {
		t.Fatal(err)
	}
	calls := bb.repoCalls()
	if len(calls) != 1 || calls[0].PageLen != 1 || calls[0].Query != "" {
		t.Errorf("calls = %+v, want one with PageLen 1", calls)
	}
	if n := bb.yielded["acme"]; n != 1 {
		t.Errorf("probe consumed %d repositories, want 1", n)
	}
}

// Errors are returned, typed, and no file is written: a rejected credential
// is never an empty estate (the original's bug).
func TestOrgsDataErrors(t *testing.T) {
	authErr := &stagesHTTPError{status: 401, msg: "credentials rejected"}
	tests := []struct {
		name string
		bb   func() *stagesBB
		opts OrgsDataOptions
	}{
		{"listing workspaces fails", func() *stagesBB { b := stagesEstate(); b.listWSErr = authErr; return b }, OrgsDataOptions{}},
		{"listing fails at once", func() *stagesBB { b := stagesEstate(); b.workspaces = nil; b.listWSErr = authErr; return b }, OrgsDataOptions{}},
		{"probe fails", func() *stagesBB {
			b := stagesEstate()
			b.repoErr = map[string]error{"rnd": authErr}
			b.repos["rnd"] = nil
			return b
		}, OrgsDataOptions{SkipEmptyOrgs: true}},
		{"project listing fails", func() *stagesBB { b := stagesEstate(); b.projectErr = map[string]error{"acme": authErr}; return b }, OrgsDataOptions{OrgPer: OrgPerProject}},
		{"project probe fails", func() *stagesBB {
			b := stagesEstate()
			b.repoErr = map[string]error{"rnd": authErr}
			b.repos["rnd"] = nil
			b.projects = map[string][]bitbucket.Project{"rnd": {{Key: "LAB"}}}
			return b
		}, OrgsDataOptions{OrgPer: OrgPerProject, SkipEmptyOrgs: true}},
		{"fallback listing fails", func() *stagesBB {
			b := stagesEstate()
			b.projectErr = map[string]error{"acme": &stagesHTTPError{status: 403, msg: "no project scope"}}
			b.repoErr = map[string]error{"acme": authErr}
			return b
		}, OrgsDataOptions{OrgPer: OrgPerProject}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.opts.Bitbucket, tt.opts.GroupID, tt.opts.LogPath = tt.bb(), "g", dir
			res, err := OrgsData(t.Context(), tt.opts)
			var he *stagesHTTPError
			if !errors.As(err, &he) || he.status != 401 {
				t.Fatalf("err = %v (%T), want the 401 error wrapped", err, err)
			}
			if res != nil {
				t.Errorf("result = %+v, want nil", res)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 {
				t.Errorf("files written: %v", entries)
			}
		})
	}
}

func TestOrgsDataUnknownExplicitWorkspace(t *testing.T) {
	_, err := OrgsData(t.Context(), OrgsDataOptions{Bitbucket: stagesEstate(), GroupID: "g", LogPath: t.TempDir(), Workspaces: []string{"typo"}, SkipEmptyOrgs: true})
	var he *stagesHTTPError
	if !errors.As(err, &he) || he.status != 404 {
		t.Fatalf("err = %v, want the 404", err)
	}
}

func TestOrgsDataOptionErrors(t *testing.T) {
	bb := stagesEstate()
	tests := []struct {
		name string
		opts OrgsDataOptions
	}{
		{"no client", OrgsDataOptions{GroupID: "g", LogPath: "x"}},
		{"no group", OrgsDataOptions{Bitbucket: bb, LogPath: "x"}},
		{"no log path", OrgsDataOptions{Bitbucket: bb, GroupID: "g"}},
		{"bad source", OrgsDataOptions{Bitbucket: bb, GroupID: "g", LogPath: "x", Source: "github"}},
		{"bad orgPer", OrgsDataOptions{Bitbucket: bb, GroupID: "g", LogPath: "x", OrgPer: "repo"}},
		{"group with slash", OrgsDataOptions{Bitbucket: bb, GroupID: "../g", LogPath: "x"}},
		{"blank workspaces", OrgsDataOptions{Bitbucket: bb, GroupID: "g", LogPath: t.TempDir(), Workspaces: []string{" "}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := OrgsData(t.Context(), tt.opts); err == nil {
				t.Error("no error")
			}
		})
	}
}

// Probes run concurrently but never more than Concurrency at once, and the
// rows keep the listing order whatever order the probes finish in.
func TestOrgsDataBoundedAndOrdered(t *testing.T) {
	bb := &stagesBB{repos: map[string][]bitbucket.Repository{}}
	var want []OrgRow
	for i := range 40 {
		slug := string(rune('a'+i%26)) + string(rune('a'+i/26))
		bb.workspaces = append(bb.workspaces, bitbucket.Workspace{Slug: slug, Name: slug})
		bb.repos[slug] = []bitbucket.Repository{{Slug: "r", MainBranch: "main"}}
		want = append(want, OrgRow{Name: slug, GroupID: "g", Workspace: slug})
	}
	res, err := OrgsData(t.Context(), OrgsDataOptions{Bitbucket: bb, GroupID: "g", LogPath: t.TempDir(), SkipEmptyOrgs: true, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, res.Orgs); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if bb.maxInFlight > 3 {
		t.Errorf("%d probes at once, want at most 3", bb.maxInFlight)
	}
}

func TestOrgsDataCancelled(t *testing.T) {
	bb := stagesEstate()
	bb.blockUntil = make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	dir := t.TempDir()
	done := make(chan error, 1)
	go func() {
		_, err := OrgsData(ctx, OrgsDataOptions{Bitbucket: bb, GroupID: "g", LogPath: dir, SkipEmptyOrgs: true})
		done <- err
	}()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("no error after cancel")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}
