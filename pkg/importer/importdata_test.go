package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/google/go-cmp/cmp"
)

const stagesCreatedOrgs = `{"orgData":[
 {"orgId":"o-acme","name":"Acme Corp","workspace":"acme","integrations":{"bitbucket-cloud":"i-cloud","bitbucket-connect-app":"i-connect"}},
 {"orgId":"o-legacy","name":"legacy","integrations":{"bitbucket-cloud-app":"i-app"}},
 {"orgId":"o-acme","name":"Acme again","workspace":"other"},
 {"orgId":"o-pay","name":"Acme Corp / Payments","workspace":"acme","project":"PAY","integrations":{"bitbucket-cloud-app":"i-pay"}}
]}`

func stagesImportEstate() *stagesBB {
	pay := bitbucket.Project{Key: "PAY"}
	ops := bitbucket.Project{Key: "OPS"}
	return &stagesBB{
		repos: map[string][]bitbucket.Repository{
			"acme": {
				{Slug: "api", Workspace: "acme", MainBranch: "main", Project: pay},
				{Slug: "api-fork", Workspace: "acme", MainBranch: "main", IsFork: true, Project: pay},
				{Slug: "empty", Workspace: "acme", Project: ops},
				{Slug: "runbooks", Workspace: "acme", MainBranch: "master", Project: ops},
				{Slug: "web", Workspace: "acme", MainBranch: "release/2.x", Project: pay},
			},
			"legacy": {
				{Slug: "old", MainBranch: "trunk"}, // the client left Workspace empty: the org's slug is used
				{Slug: "sandbox-1", Workspace: "legacy", MainBranch: "main"},
			},
		},
	}
}

// snykAsFile is a Snyk whose orgs have the integrations the created-orgs
// file says they have.
func snykAsFile(t *testing.T, file string) *stagesSnyk {
	t.Helper()
	rows, err := importfiles.ReadCreatedOrgsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := newStagesSnyk()
	for _, r := range rows {
		if s.integrations[r.OrgID] == nil {
			s.integrations[r.OrgID] = r.Integrations
		}
	}
	return s
}

func importDataOpts(bb *stagesBB, s *stagesSnyk, file, dir string) ImportDataOptions {
	opts := ImportDataOptions{Bitbucket: bb, OrgsData: file, Source: SourceBitbucketCloudApp, LogPath: dir}
	if s != nil {
		opts.Snyk = s
	}
	return opts
}

func TestGoldenImportData(t *testing.T) {
	dir := t.TempDir()
	bb := stagesImportEstate()
	file := writeStagesFile(t, dir, "created.json", stagesCreatedOrgs)
	s := snykAsFile(t, file)
	opts := importDataOpts(bb, s, file, dir)
	opts.Filter = RepoFilter{SkipForks: true, Exclude: []string{"sandbox-*"}}
	opts.Concurrency = 3
	prog := &stagesProgress{}
	opts.Progress = prog
	res, err := ImportData(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(dir, "bitbucket-cloud-app-import-targets.json") {
		t.Errorf("Path = %s", res.Path)
	}
	assertGolden(t, "testdata/importdata/stage.targets.golden.json", readStagesFile(t, res.Path))

	want := &ImportDataResult{
		Path: res.Path,
		Orgs: []ImportDataOrg{
			{OrgID: "o-acme", Name: "Acme Corp", Workspace: "acme", IntegrationID: "i-connect", Repositories: 5, Targets: 3},
			{OrgID: "o-legacy", Name: "legacy", Workspace: "legacy", IntegrationID: "i-app", Repositories: 2, Targets: 1},
			{OrgID: "o-pay", Name: "Acme Corp / Payments", Workspace: "acme", Project: "PAY", IntegrationID: "i-pay", Repositories: 5, Targets: 2},
		},
		DuplicateOrgs: 1,
		Repositories:  12,
		Targets:       6,
		Skipped:       map[SkipReason]int{SkipFork: 2, SkipEmpty: 1, SkipExcluded: 1, SkipProject: 2},
		Warnings: []string{`workspace "acme" has an org for the whole workspace ("Acme Corp") and 1 org for its projects: ` +
			`its repositories are imported into both; remove one or the other from the orgs file`},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if res.Failed() {
		t.Error("Failed() = true")
	}
	var calls []string
	for _, c := range bb.repoCalls() {
		calls = append(calls, c.Workspace+" q="+c.Query)
	}
	slices.Sort(calls)
	if diff := cmp.Diff([]string{"acme q=", `acme q=project.key="PAY"`, "legacy q="}, calls); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
	if slices.Sort(s.integCalls); !slices.Equal(s.integCalls, []string{"o-acme", "o-legacy", "o-pay"}) {
		t.Errorf("Snyk asked for the integrations of %v, want each org's once", s.integCalls)
	}
	if prog.stage != "import:data" || prog.total != 3 || prog.counts["orgs"] != 3 || prog.counts["targets"] != 6 ||
		prog.counts["repositories"] != 12 || prog.counts["skipped"] != 6 || prog.done != 1 {
		t.Errorf("progress %+v", prog)
	}
	if prog.overlaps != 0 {
		t.Errorf("Progress called concurrently %d times", prog.overlaps)
	}
	assertNoTempFiles(t, dir)
}

// The output does not depend on which org finishes first: org order is the
// input's, each org's targets contiguous in Bitbucket's order.
func TestImportDataDeterministicOrder(t *testing.T) {
	var created strings.Builder
	created.WriteString(`{"orgData":[`)
	bb := &stagesBB{repos: map[string][]bitbucket.Repository{}}
	for i := range 12 {
		ws := fmt.Sprintf("ws%02d", i)
		if i > 0 {
			created.WriteString(",")
		}
		fmt.Fprintf(&created, `{"orgId":"o%d","name":%q,"integrations":{"bitbucket-cloud":"i"}}`, i, ws)
		for r := range 30 {
			bb.repos[ws] = append(bb.repos[ws], bitbucket.Repository{Slug: fmt.Sprintf("r%02d", r), MainBranch: "main"})
		}
	}
	created.WriteString("]}")
	bb.blockUntil = make(chan struct{})
	bb.blockOnlyFor = "ws00" // the first org finishes last
	dir := t.TempDir()
	opts := importDataOpts(bb, nil, writeStagesFile(t, dir, "c.json", created.String()), dir)
	opts.Source, opts.Concurrency = SourceBitbucketCloud, 4
	go func() {
		for {
			bb.mu.Lock()
			n := len(bb.yielded)
			bb.mu.Unlock()
			if n >= 11 {
				close(bb.blockUntil)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	res, err := ImportData(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Targets != 360 {
		t.Fatalf("Targets = %d", res.Targets)
	}
	targets := decodeTargets(t, res.Path)
	for i, tg := range targets {
		want := fmt.Sprintf("o%d ws%02d r%02d", i/30, i/30, i%30)
		if got := tg.OrgID + " " + tg.Target.Owner + " " + tg.Target.Name; got != want {
			t.Fatalf("target %d = %s, want %s", i, got, want)
		}
	}
	if bb.maxInFlight > 4 {
		t.Errorf("%d listings at once, want at most 4", bb.maxInFlight)
	}
}

func decodeTargets(t *testing.T, path string) []TargetEntry {
	t.Helper()
	var f struct {
		Targets []TargetEntry `json:"targets"`
	}
	if err := json.Unmarshal(readStagesFile(t, path), &f); err != nil {
		t.Fatal(err)
	}
	return f.Targets
}

// The original's created-orgs file has no workspace: its name is listed.
func TestImportDataCompatCreatedOrgs(t *testing.T) {
	bb := &stagesBB{repos: map[string][]bitbucket.Repository{
		"snyktestscmgroup": {{Slug: "test-spaces", Workspace: "snyktestscmgroup", MainBranch: "master"}},
	}}
	dir := t.TempDir()
	opts := importDataOpts(bb, nil, compatPath("bitbucket-cloud.created-orgs.json"), dir)
	opts.Source = SourceBitbucketCloud
	res, err := ImportData(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []TargetEntry{{OrgID: "<snyk_org_id>", IntegrationID: "<snyk_org_integration_id>",
		Target: BitbucketTarget{Owner: "snyktestscmgroup", Name: "test-spaces", Branch: "master"}}}
	if diff := cmp.Diff(want, decodeTargets(t, res.Path)); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if res.Path != filepath.Join(dir, "bitbucket-cloud-import-targets.json") {
		t.Errorf("Path = %s", res.Path)
	}
}

func TestIntegrationIDResolution(t *testing.T) {
	tests := []struct {
		name      string
		source    string
		intType   string
		file, api map[string]string // api nil: no Snyk client
		apiErr    error
		want      string
		wantErr   string // substring
	}{
		{"no Snyk: app: cloud-app first", SourceBitbucketCloudApp, "", map[string]string{"bitbucket-connect-app": "c", "bitbucket-cloud-app": "a", "bitbucket-cloud": "b"}, nil, nil, "a", ""},
		{"no Snyk: app: connect-app next", SourceBitbucketCloudApp, "", map[string]string{"bitbucket-connect-app": "c", "bitbucket-cloud": "b"}, nil, nil, "c", ""},
		{"no Snyk: cloud: bitbucket-cloud", SourceBitbucketCloud, "", map[string]string{"bitbucket-connect-app": "c", "bitbucket-cloud": "b"}, nil, nil, "b", ""},
		{"no Snyk: explicit type wins", SourceBitbucketCloudApp, "bitbucket-cloud", map[string]string{"bitbucket-cloud-app": "a", "bitbucket-cloud": "b"}, nil, nil, "b", ""},
		{"no Snyk: none in the file", SourceBitbucketCloud, "", nil, nil, nil, "", "(it has: none)"},
		{"Snyk's id wins over an older file's", SourceBitbucketCloudApp, "", map[string]string{"bitbucket-cloud-app": "old"}, map[string]string{"bitbucket-cloud-app": "new"}, nil, "new", ""},
		{"file lacks it: Snyk has it", SourceBitbucketCloud, "", map[string]string{"github": "g"}, map[string]string{"bitbucket-cloud": "b2"}, nil, "b2", ""},
		{"no integrations in file: Snyk has one", SourceBitbucketCloudApp, "", nil, map[string]string{"bitbucket-connect-app": "c2"}, nil, "c2", ""},
		{"explicit type from Snyk", SourceBitbucketCloudApp, "bitbucket-cloud", nil, map[string]string{"bitbucket-cloud-app": "a", "bitbucket-cloud": "b"}, nil, "b", ""},
		{"the file's, gone from Snyk: keys listed", SourceBitbucketCloudApp, "", map[string]string{"bitbucket-cloud-app": "a"}, map[string]string{"gitlab": "l", "bitbucket-cloud": "b"}, nil, "",
			`has no bitbucket-cloud-app or bitbucket-connect-app integration (it has: bitbucket-cloud, gitlab); connect Bitbucket Cloud to this org in Snyk, or choose one of its integrations with IntegrationType`},
		{"none at all", SourceBitbucketCloud, "", nil, map[string]string{}, nil, "", `has no bitbucket-cloud integration (it has: none); connect Bitbucket Cloud to this org in Snyk`},
		{"Snyk fails", SourceBitbucketCloud, "", nil, map[string]string{}, errors.New("403 forbidden"), "", "read its integrations from Snyk: 403 forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var client Snyk
			s := newStagesSnyk()
			if tt.api != nil {
				s.integrations["o"] = tt.api
				if tt.apiErr != nil {
					s.integErr = map[string]error{"o": tt.apiErr}
				}
				client = s
			}
			got, err := resolveIntegrationID(t.Context(), client, CreatedOrg{OrgID: "o", Name: "n", Integrations: tt.file}, tt.source, tt.intType)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
				}
			} else if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
			if asked := len(s.integCalls) > 0; asked != (tt.api != nil) {
				t.Errorf("Snyk asked = %v, want %v", asked, tt.api != nil)
			}
		})
	}
}

// TestImportDataChecksOrgs (issue 23 row 1): with a Snyk client, an org its
// group does not hold fails before its workspace is listed; when that is
// every org (a created-orgs file of another tenant) the run fails naming
// the org and the group, in one listing of the group; a group that cannot
// be read fails the run before any Bitbucket request.
func TestImportDataChecksOrgs(t *testing.T) {
	const file = `{"orgData":[
	 {"orgId":"o1","name":"North","groupId":"g","workspace":"north","integrations":{"bitbucket-cloud-app":"i1"}},
	 {"orgId":"o2","name":"South","groupId":"g","workspace":"south","integrations":{"bitbucket-cloud-app":"i2"}}]}`
	bb := &stagesBB{repos: map[string][]bitbucket.Repository{
		"north": {{Slug: "a", MainBranch: "main"}}, "south": {{Slug: "b", MainBranch: "main"}}}}
	run := func(t *testing.T, s *stagesSnyk) (*stagesBB, *ImportDataResult, error) {
		dir := t.TempDir()
		bb := &stagesBB{repos: bb.repos}
		res, err := ImportData(t.Context(), importDataOpts(bb, s, writeStagesFile(t, dir, "c.json", file), dir))
		return bb, res, err
	}
	t.Run("one org of another group", func(t *testing.T) {
		s := snykAsFile(t, writeStagesFile(t, t.TempDir(), "c.json", file))
		s.orgs["g"] = []snyk.Org{{ID: "o1"}}
		bb, res, err := run(t, s)
		if err != nil {
			t.Fatal(err)
		}
		var nig *OrgNotInGroupError
		if f := res.Failures(); len(f) != 1 || !errors.As(f[0].Err, &nig) || nig.OrgID != "o2" || nig.GroupID != "g" {
			t.Fatalf("failures %+v", f)
		}
		for _, c := range bb.repoCalls() {
			if c.Workspace == "south" {
				t.Error("the workspace of the org outside the group was listed")
			}
		}
	})
	t.Run("every org of another tenant", func(t *testing.T) {
		s := snykAsFile(t, writeStagesFile(t, t.TempDir(), "c.json", file))
		s.orgs["g"] = []snyk.Org{{ID: "someone-else"}}
		bb, _, err := run(t, s)
		var all *AllOrgsFailedError
		if !errors.As(err, &all) || !strings.Contains(err.Error(), `org "North" (o1) is not in Snyk group g`) {
			t.Fatalf("err = %v", err)
		}
		if n := len(bb.repoCalls()); n != 0 || len(s.listedGroups) != 1 || len(s.integCalls) != 0 {
			t.Errorf("%d Bitbucket listings, groups listed %v, integrations read %v: want 0, one, none", n, s.listedGroups, s.integCalls)
		}
	})
	t.Run("a group that cannot be read", func(t *testing.T) {
		s := snykAsFile(t, writeStagesFile(t, t.TempDir(), "c.json", file))
		s.listGroupErr = map[string]error{"g": &stagesHTTPError{status: 404, msg: "Group not found"}}
		bb, _, err := run(t, s)
		var ge *GroupError
		if !errors.As(err, &ge) || ge.GroupID != "g" || ge.OrgID != "o1" || !strings.Contains(err.Error(), "Group not found") {
			t.Fatalf("err = %v", err)
		}
		if n := len(bb.repoCalls()); n != 0 {
			t.Errorf("%d Bitbucket listings, want 0", n)
		}
	})
}

// Filters reach Bitbucket as q= and select the same targets client-side.
func TestImportDataFilters(t *testing.T) {
	since := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	repos := []bitbucket.Repository{
		{Slug: "api", MainBranch: "main", IsPrivate: true, UpdatedOn: since.AddDate(0, 1, 0), Project: bitbucket.Project{Key: "PAY"}},
		{Slug: "site", MainBranch: "main", IsPrivate: false, UpdatedOn: since.AddDate(0, 2, 0), Project: bitbucket.Project{Key: "WEB"}},
		{Slug: "old", MainBranch: "main", IsPrivate: true, UpdatedOn: since.AddDate(-1, 0, 0), Project: bitbucket.Project{Key: "PAY"}},
		{Slug: "fork", MainBranch: "main", IsPrivate: true, IsFork: true, UpdatedOn: since.AddDate(0, 1, 0), Project: bitbucket.Project{Key: "PAY"}},
		{Slug: "bare", IsPrivate: true, UpdatedOn: since.AddDate(0, 1, 0), Project: bitbucket.Project{Key: "PAY"}},
	}
	tests := []struct {
		name        string
		f           RepoFilter
		wantQ       string
		wantTargets []string
		wantSkipped map[SkipReason]int
	}{
		{"defaults", RepoFilter{}, "", []string{"api", "site", "old", "fork"}, map[SkipReason]int{SkipEmpty: 1}},
		{"keep empty", RepoFilter{IncludeEmptyRepos: true}, "", []string{"api", "site", "old", "fork", "bare"}, map[SkipReason]int{}},
		{"skip forks", RepoFilter{SkipForks: true}, "", []string{"api", "site", "old"}, map[SkipReason]int{SkipFork: 1, SkipEmpty: 1}},
		{"private", RepoFilter{Visibility: VisibilityPrivate}, "is_private=true", []string{"api", "old", "fork"}, map[SkipReason]int{SkipVisibility: 1, SkipEmpty: 1}},
		{"public", RepoFilter{Visibility: VisibilityPublic}, "is_private=false", []string{"site"}, map[SkipReason]int{SkipVisibility: 4}},
		{"updated since", RepoFilter{UpdatedSince: since}, "updated_on>2024-05-01T00:00:00+00:00", []string{"api", "site", "fork"}, map[SkipReason]int{SkipNotUpdated: 1, SkipEmpty: 1}},
		{"projects", RepoFilter{Projects: []string{"WEB", "OPS"}}, `(project.key="WEB" OR project.key="OPS")`, []string{"site"}, map[SkipReason]int{SkipProject: 4}},
		{"include/exclude", RepoFilter{Include: []string{"ws/*i*", "old"}, Exclude: []string{"ws/site"}}, "", []string{"api", "old"}, map[SkipReason]int{SkipExcluded: 1, SkipNotIncluded: 1, SkipEmpty: 1}},
		{"combined", RepoFilter{Visibility: VisibilityPrivate, UpdatedSince: since, SkipForks: true}, "is_private=true AND updated_on>2024-05-01T00:00:00+00:00", []string{"api"},
			map[SkipReason]int{SkipVisibility: 1, SkipNotUpdated: 1, SkipFork: 1, SkipEmpty: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bb := &stagesBB{repos: map[string][]bitbucket.Repository{"ws": repos}}
			dir := t.TempDir()
			opts := importDataOpts(bb, nil, writeStagesFile(t, dir, "c.json", `{"orgData":[{"orgId":"o","workspace":"ws","name":"WS","integrations":{"bitbucket-cloud":"i"}}]}`), dir)
			opts.Source, opts.Filter = SourceBitbucketCloud, tt.f
			res, err := ImportData(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			calls := bb.repoCalls()
			if len(calls) != 1 || calls[0].Query != tt.wantQ || calls[0].Workspace != "ws" {
				t.Errorf("calls = %+v, want one for ws with q %q", calls, tt.wantQ)
			}
			var got []string
			for _, tg := range decodeTargets(t, res.Path) {
				got = append(got, tg.Target.Name)
			}
			if diff := cmp.Diff(tt.wantTargets, got); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSkipped, res.Skipped, cmpEmptyMapsEqual()); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func cmpEmptyMapsEqual() cmp.Option {
	return cmp.FilterValues(func(a, b map[SkipReason]int) bool { return len(a) == 0 && len(b) == 0 },
		cmp.Comparer(func(a, b map[SkipReason]int) bool { return true }))
}

// A failing org (no integration, unknown workspace, listing error half-way)
// contributes nothing and does not stop the others.
func TestImportDataPerOrgFailures(t *testing.T) {
	bb := &stagesBB{
		repos: map[string][]bitbucket.Repository{
			"good":    {{Slug: "a", MainBranch: "main"}},
			"halfway": {{Slug: "x", MainBranch: "main"}, {Slug: "y", MainBranch: "main"}},
			"good2":   {{Slug: "b", MainBranch: "main"}},
		},
		repoErr: map[string]error{"halfway": &stagesHTTPError{status: 429, msg: "hourly budget spent"}},
	}
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "c.json", `{"orgData":[
	 {"orgId":"o1","name":"good","integrations":{"bitbucket-cloud":"i"}},
	 {"orgId":"o2","name":"nointegration","integrations":{"github":"g"}},
	 {"orgId":"o3","name":"missing","integrations":{"bitbucket-cloud":"i"}},
	 {"orgId":"o4","name":"halfway","integrations":{"bitbucket-cloud":"i"}},
	 {"orgId":"o5","name":"good2","integrations":{"bitbucket-cloud":"i"}}]}`)
	opts := importDataOpts(bb, snykAsFile(t, file), file, dir)
	opts.Source = SourceBitbucketCloud
	prog := &stagesProgress{}
	opts.Progress = prog
	res, err := ImportData(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range decodeTargets(t, res.Path) {
		got = append(got, tg.Target.Owner+"/"+tg.Target.Name)
	}
	if diff := cmp.Diff([]string{"good/a", "good2/b"}, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if !res.Failed() {
		t.Fatal("Failed() = false")
	}
	var failed []string
	for _, f := range res.Failures() {
		failed = append(failed, f.OrgID)
	}
	if diff := cmp.Diff([]string{"o2", "o3", "o4"}, failed); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	var he *stagesHTTPError
	if f := res.Failures(); !errors.As(f[1].Err, &he) || he.status != 404 || !errors.As(f[2].Err, &he) || he.status != 429 {
		t.Errorf("failures not typed: %v / %v", f[1].Err, f[2].Err)
	}
	if !strings.Contains(res.Failures()[1].Err.Error(), `has no "workspace" field`) {
		t.Errorf("a name used as workspace should say so: %v", res.Failures()[1].Err)
	}
	if !strings.Contains(res.Failures()[0].Err.Error(), "(it has: github)") {
		t.Errorf("integration failure = %v", res.Failures()[0].Err)
	}
	if res.Targets != 2 || prog.counts["failed"] != 3 {
		t.Errorf("Targets = %d, failed progress = %d", res.Targets, prog.counts["failed"])
	}
	assertNoTempFiles(t, dir)
}

func TestImportDataBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"missing orgId", `{"orgData":[{"name":"a","orgId":"o"},{"name":"b","integrations":{}}]}`, `orgData[1]: missing "orgId"`},
		{"empty", `{"orgData":[]}`, `"orgData" is empty`},
		{"invalid", "{\"orgData\": [\n}", `c.json:2:1: invalid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := importDataOpts(&stagesBB{}, nil, writeStagesFile(t, dir, "c.json", tt.content), dir)
			_, err := ImportData(t.Context(), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	for name, mod := range map[string]func(*ImportDataOptions){
		"no source":      func(o *ImportDataOptions) { o.Source = "" },
		"bad source":     func(o *ImportDataOptions) { o.Source = "gitlab" },
		"bad glob":       func(o *ImportDataOptions) { o.Filter.Include = []string{"["} },
		"no log path":    func(o *ImportDataOptions) { o.LogPath = "" },
		"no client":      func(o *ImportDataOptions) { o.Bitbucket = nil },
		"negative conc.": func(o *ImportDataOptions) { o.Concurrency = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			opts := importDataOpts(&stagesBB{}, nil, compatPath("bitbucket-cloud.created-orgs.json"), dir)
			mod(&opts)
			if _, err := ImportData(t.Context(), opts); err == nil {
				t.Error("no error")
			}
		})
	}
}

// Cancelled mid-run: an error, no targets file, no temp or segment file.
func TestImportDataCancelled(t *testing.T) {
	bb := &stagesBB{generated: map[string]int{"big": 1_000_000}, repos: map[string][]bitbucket.Repository{"small": {{Slug: "a", MainBranch: "m"}}}}
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "c.json", `{"orgData":[{"orgId":"o1","name":"small","integrations":{"bitbucket-cloud":"i"}},{"orgId":"o2","name":"big","integrations":{"bitbucket-cloud":"i"}}]}`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	prog := &cancellingProgress{after: 1000, cancel: cancel}
	opts := importDataOpts(bb, nil, file, dir)
	opts.Source, opts.Progress = SourceBitbucketCloud, prog
	res, err := ImportData(ctx, opts)
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("res %v err %v, want context.Canceled", res, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}

// cancellingProgress cancels after some repositories.
type cancellingProgress struct {
	nopProgress
	n, after int
	cancel   func()
}

func (p *cancellingProgress) Add(counter Counter, n int) {
	if counter == "repositories" {
		if p.n += n; p.n == p.after {
			p.cancel()
		}
	}
}

// 100,000 repositories in one workspace stream through to the file.
func TestImportDataLargeWorkspace(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	const n = 100_000
	bb := &stagesBB{generated: map[string]int{"big": n}}
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "c.json", `{"orgData":[{"orgId":"o","name":"big","integrations":{"bitbucket-cloud":"i"}}]}`)
	opts := importDataOpts(bb, nil, file, dir)
	opts.Source = SourceBitbucketCloud
	res, err := ImportData(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Targets != n {
		t.Fatalf("Targets = %d", res.Targets)
	}
	f, err := os.Open(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	lines := 0
	var last string
	for sc.Scan() {
		lines++
		if strings.HasPrefix(sc.Text(), "    {") {
			last = sc.Text()
		}
	}
	if lines != n+4 {
		t.Errorf("%d lines, want %d", lines, n+4)
	}
	if want := `    {"orgId":"o","integrationId":"i","target":{"owner":"big","name":"repo-099999","branch":"main"}}`; last != want {
		t.Errorf("last target line %s", last)
	}
	assertNoTempFiles(t, dir)
}

// BenchmarkImportDataStream writes b.N targets from one workspace; B/op and
// allocs/op are per target, and stay flat as b.N grows.
func BenchmarkImportDataStream(b *testing.B) {
	dir := b.TempDir()
	file := filepath.Join(dir, "c.json")
	if err := os.WriteFile(file, []byte(`{"orgData":[{"orgId":"o","name":"big","integrations":{"bitbucket-cloud":"i"}}]}`), 0o644); err != nil {
		b.Fatal(err)
	}
	bb := &stagesBB{generated: map[string]int{"big": b.N}}
	opts := ImportDataOptions{Bitbucket: bb, OrgsData: file, Source: SourceBitbucketCloud, LogPath: dir}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := ImportData(b.Context(), opts)
	if err != nil {
		b.Fatal(err)
	}
	if res.Targets != b.N {
		b.Fatalf("Targets = %d", res.Targets)
	}
}

// --workspace, --orgPer and --project select orgs before any request.
func TestImportDataSelectOrgs(t *testing.T) {
	const created = `{"orgData":[
 {"orgId":"o-acme","name":"Acme Corp","workspace":"acme","integrations":{"bitbucket-cloud":"i"}},
 {"orgId":"o-legacy","name":"legacy","integrations":{"bitbucket-cloud":"i"}},
 {"orgId":"o-pay","name":"acme / Payments","workspace":"acme-p","project":"PAY","integrations":{"bitbucket-cloud":"i"}},
 {"orgId":"o-ops","name":"acme / Operations","workspace":"acme-p","project":"OPS","integrations":{"bitbucket-cloud":"i"}}
]}`
	repos := func() *stagesBB {
		b := stagesImportEstate()
		b.repos["acme-p"] = b.repos["acme"]
		return b
	}
	tests := []struct {
		name          string
		workspaces    []string
		orgPer        OrgPer
		projects      []string
		wantOrgs      []string // listed org ids
		wantCalls     []string // workspace q=…
		wantLeft      []LeftOutOrg
		wantUnmatched []string
		wantErr       string
	}{
		{name: "all", wantOrgs: []string{"o-acme", "o-legacy", "o-pay", "o-ops"},
			wantCalls: []string{"acme q=", `acme-p q=project.key="OPS"`, `acme-p q=project.key="PAY"`, "legacy q="}},
		{name: "one workspace, case-insensitive, unknown reported", workspaces: []string{"ACME", "typo", " "},
			wantOrgs: []string{"o-acme"}, wantCalls: []string{"acme q="},
			wantLeft: []LeftOutOrg{
				{OrgID: "o-legacy", Name: "legacy", Workspace: "legacy", Reason: LeftOutWorkspace},
				{OrgID: "o-pay", Name: "acme / Payments", Workspace: "acme-p", Project: "PAY", Reason: LeftOutWorkspace},
				{OrgID: "o-ops", Name: "acme / Operations", Workspace: "acme-p", Project: "OPS", Reason: LeftOutWorkspace},
			},
			wantUnmatched: []string{"typo"}},
		{name: "original's file: the name is the workspace", workspaces: []string{"legacy"}, wantOrgs: []string{"o-legacy"}, wantCalls: []string{"legacy q="},
			wantLeft: []LeftOutOrg{
				{OrgID: "o-acme", Name: "Acme Corp", Workspace: "acme", Reason: LeftOutWorkspace},
				{OrgID: "o-pay", Name: "acme / Payments", Workspace: "acme-p", Project: "PAY", Reason: LeftOutWorkspace},
				{OrgID: "o-ops", Name: "acme / Operations", Workspace: "acme-p", Project: "OPS", Reason: LeftOutWorkspace},
			}},
		{name: "per-project orgs of other projects are not listed", workspaces: []string{"acme-p"}, orgPer: OrgPerProject, projects: []string{"PAY", "CORE"},
			wantOrgs: []string{"o-pay"}, wantCalls: []string{`acme-p q=project.key="PAY"`},
			wantLeft: []LeftOutOrg{
				{OrgID: "o-acme", Name: "Acme Corp", Workspace: "acme", Reason: LeftOutWorkspace},
				{OrgID: "o-legacy", Name: "legacy", Workspace: "legacy", Reason: LeftOutWorkspace},
				{OrgID: "o-ops", Name: "acme / Operations", Workspace: "acme-p", Project: "OPS", Reason: LeftOutProject},
			}},
		{name: "--project on whole-workspace orgs is a q= filter", workspaces: []string{"acme"}, projects: []string{"PAY", "CORE"},
			wantOrgs: []string{"o-acme"}, wantCalls: []string{`acme q=(project.key="PAY" OR project.key="CORE")`},
			wantLeft: []LeftOutOrg{
				{OrgID: "o-legacy", Name: "legacy", Workspace: "legacy", Reason: LeftOutWorkspace},
				{OrgID: "o-pay", Name: "acme / Payments", Workspace: "acme-p", Project: "PAY", Reason: LeftOutWorkspace},
				{OrgID: "o-ops", Name: "acme / Operations", Workspace: "acme-p", Project: "OPS", Reason: LeftOutWorkspace},
			}},
		{name: "no workspace matches", workspaces: []string{"nope"}, wantErr: `no org of`},
		{name: "blank workspaces", workspaces: []string{" "}, wantErr: "names no workspace"},
		{name: "orgPer=project on per-workspace rows", orgPer: OrgPerProject, wantErr: `OrgPer=project but 2 orgs`},
		{name: "orgPer=workspace on per-project rows", orgPer: OrgPerWorkspace, wantErr: `OrgPer=workspace but 2 orgs`},
		{name: "orgPer=workspace on the selected rows only", orgPer: OrgPerWorkspace, workspaces: []string{"acme", "legacy"},
			wantOrgs: []string{"o-acme", "o-legacy"}, wantCalls: []string{"acme q=", "legacy q="},
			wantLeft: []LeftOutOrg{
				{OrgID: "o-pay", Name: "acme / Payments", Workspace: "acme-p", Project: "PAY", Reason: LeftOutWorkspace},
				{OrgID: "o-ops", Name: "acme / Operations", Workspace: "acme-p", Project: "OPS", Reason: LeftOutWorkspace},
			}},
		{name: "bad orgPer", orgPer: "repo", wantErr: "orgPer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bb := repos()
			opts := importDataOpts(bb, nil, writeStagesFile(t, dir, "created.json", created), dir)
			opts.Source = SourceBitbucketCloud
			opts.Workspaces, opts.OrgPer, opts.Filter.Projects = tt.workspaces, tt.orgPer, tt.projects
			res, err := ImportData(t.Context(), opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if len(bb.repoCalls()) != 0 {
					t.Errorf("listed %v before failing", bb.repoCalls())
				}
				if _, err := os.Stat(filepath.Join(dir, importfiles.TargetsFileName(SourceBitbucketCloud))); err == nil {
					t.Error("targets file written")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var orgs []string
			for _, o := range res.Orgs {
				orgs = append(orgs, o.OrgID)
			}
			if diff := cmp.Diff(tt.wantOrgs, orgs); diff != "" {
				t.Errorf("orgs (-want +got):\n%s", diff)
			}
			var calls []string
			for _, c := range bb.repoCalls() {
				calls = append(calls, c.Workspace+" q="+c.Query)
			}
			slices.Sort(calls)
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("listings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLeft, res.LeftOut); diff != "" {
				t.Errorf("LeftOut (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantUnmatched, res.UnmatchedWorkspaces); diff != "" {
				t.Errorf("UnmatchedWorkspaces (-want +got):\n%s", diff)
			}
		})
	}
}
