package importer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/google/go-cmp/cmp"
)

func newListFake(t *testing.T) *impFakeSnyk {
	f := newImpFakeSnyk(t)
	f.groupOrgs = map[string][]snyk.Org{"g1": {{ID: "org1", Name: "ws1"}, {ID: "org2", Name: "ws2"}, {ID: "org3", Name: "broken"}}}
	f.integrations = map[string]map[string]string{
		"org1": {"bitbucket-cloud": "bbc1", "github": "gh1"},
		"org2": {"bitbucket-connect-app": "app2"},
	}
	f.orgErr = map[string]error{"org3": &impStatusErr{403}}
	f.projects = map[string][]snyk.Project{
		"org1": {
			{ID: "p1", Name: "ws1/repo-a:package.json", Origin: "bitbucket-cloud", Branch: "main"},
			{ID: "p2", Name: "ws1/repo-a:sub/pom.xml", Origin: "bitbucket-cloud", Branch: "main"}, // same target
			{ID: "p3", Name: "ws1/repo-b", Origin: "bitbucket-cloud"},                             // no branch
			{ID: "p4", Name: "ws1/repo-a(dev):package.json", Origin: "bitbucket-cloud", Branch: "dev"},
			{ID: "p5", Name: "octo/hello:package.json", Origin: "github", Branch: "master"}, // other type
			{ID: "p6", Name: "nonsense", Origin: "bitbucket-cloud"},                         // not owner/repo
		},
		"org2": {
			{ID: "q1", Name: "ws2/app-repo:requirements.txt", Origin: "bitbucket-connect-app", Branch: "develop"},
			{ID: "q2", Name: "ws2/cloud-repo:go.mod", Origin: "bitbucket-cloud", Branch: "main"}, // no such integration
		},
	}
	return f
}

func TestListImported(t *testing.T) {
	f := newListFake(t)
	logPath := filepath.Join(t.TempDir(), "logs")
	prog := &impProgress{}
	opts := ListImportedOptions{
		Snyk: f, GroupID: "g1", IntegrationTypes: []string{"bitbucket-cloud", "bitbucket-cloud-app"}, LogPath: logPath,
		Hostname: "h", PID: 1, Progress: prog,
		Now: func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) },
	}
	res, err := ListImported(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Orgs != 3 || res.Projects != 6 || res.Targets != 4 || res.Written != 4 || res.NoIntegration != 1 {
		t.Errorf("result = %+v", res)
	}
	if len(res.FailedOrgs) != 1 || res.FailedOrgs[0].OrgID != "org3" || !res.Failed() {
		t.Errorf("failed orgs = %+v", res.FailedOrgs)
	}
	if res.LogFile != filepath.Join(logPath, importfiles.ImportedTargetsLog) {
		t.Errorf("LogFile = %s", res.LogFile)
	}
	if prog.stage != "list:imported" || prog.total != 3 || prog.counters["orgs"] != 3 || prog.counters["targets"] != 4 {
		t.Errorf("progress = %+v", prog)
	}
	data, err := os.ReadFile(res.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	line := func(org, integ, target, key string) string {
		return `{"name":"snyk:import-projects-script","hostname":"h","pid":1,"level":30,"target":` + target +
			`,"locationUrl":null,"orgId":"` + org + `","integrationId":"` + integ + `","targetId":"` + key +
			`","msg":"Target exists in Snyk","time":"2024-05-01T10:00:00.000Z","v":0}`
	}
	want := []string{
		line("org1", "bbc1", `{"name":"repo-a","owner":"ws1","branch":"main"}`, "org1:bbc1:repo-a:ws1:main"),
		line("org1", "bbc1", `{"name":"repo-a","owner":"ws1","branch":"dev"}`, "org1:bbc1:repo-a:ws1:dev"),
		line("org1", "bbc1", `{"name":"repo-b","owner":"ws1"}`, "org1:bbc1:repo-b:ws1"),
		line("org2", "app2", `{"name":"app-repo","owner":"ws2","branch":"develop"}`, "org2:app2:app-repo:ws2:develop"),
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	// Orgs run in parallel: compare as sets.
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("imported-targets.log (-want +got):\n%s", diff)
	}

	// The list feeds import: those targets are skipped.
	tf := writeStagesFile(t, t.TempDir(), "import-projects.json", impTargetsJSON(
		impRow("org1", "bbc1", "ws1", "repo-a", "main"),
		impRow("org1", "bbc1", "ws1", "repo-c", "main"),
	))
	ires, err := Import(t.Context(), ImportOptions{Snyk: f, File: tf, LogPath: logPath, Concurrency: 2, PollInitial: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if ires.Skipped != 1 || !cmp.Equal(f.importedNames(), []string{"repo-c"}) {
		t.Errorf("import after list: skipped %d, imported %v", ires.Skipped, f.importedNames())
	}

	// A second run appends nothing new.
	res2, err := ListImported(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Targets != 4 || res2.Written != 0 {
		t.Errorf("second run = %+v", res2)
	}
}

func TestListImportedOneOrg(t *testing.T) {
	f := newListFake(t)
	logPath := t.TempDir()
	res, err := ListImported(t.Context(), ListImportedOptions{Snyk: f, OrgID: "org1", IntegrationTypes: []string{"github"}, LogPath: logPath})
	if err != nil {
		t.Fatal(err)
	}
	if res.Orgs != 1 || res.Targets != 1 || res.Written != 1 || res.Failed() {
		t.Errorf("result = %+v", res)
	}
	rl, err := importfiles.LoadResumeLog(res.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	if !rl.Skip("org1:gh1:hello:octo:master") {
		t.Errorf("github target not logged: %v", rl)
	}
	if len(f.listOptions) != 1 || !cmp.Equal(f.listOptions[0].Origins, []string{"github"}) {
		t.Errorf("ListProjectsIter origins = %+v", f.listOptions)
	}
}

func TestListImportedOptionErrors(t *testing.T) {
	f := newListFake(t)
	for _, tc := range []struct {
		name string
		opts ListImportedOptions
		want string
	}{
		{"neither", ListImportedOptions{Snyk: f, LogPath: "x"}, "either GroupID or OrgID"},
		{"both", ListImportedOptions{Snyk: f, GroupID: "g", OrgID: "o", LogPath: "x"}, "not both"},
		{"unknown type", ListImportedOptions{Snyk: f, OrgID: "o", LogPath: "x", IntegrationTypes: []string{"svn"}}, `unknown IntegrationTypes "svn"`},
		{"no log path", ListImportedOptions{Snyk: f, OrgID: "o"}, "log directory"},
	} {
		_, err := ListImported(t.Context(), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.want)
		}
	}
	// A group that cannot be listed fails the command.
	_, err := ListImported(t.Context(), ListImportedOptions{Snyk: f, GroupID: "nope", LogPath: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown group: %v", err)
	}
}

func TestProjectTarget(t *testing.T) {
	tests := []struct {
		p    snyk.Project
		want string // logged target JSON; "" = no target
	}{
		{snyk.Project{Name: "ws/repo:package.json", Origin: "bitbucket-cloud", Branch: "main"}, `{"name":"repo","owner":"ws","branch":"main"}`},
		{snyk.Project{Name: "ws/repo", Origin: "bitbucket-cloud"}, `{"name":"repo","owner":"ws"}`},
		{snyk.Project{Name: "ws/repo(feature):a/b/pom.xml", Origin: "bitbucket-connect-app", Branch: "feature"}, `{"name":"repo","owner":"ws","branch":"feature"}`},
		{snyk.Project{Name: "org/repo:Gemfile.lock", Origin: "github-enterprise", Branch: "trunk"}, `{"name":"repo","owner":"org","branch":"trunk"}`},
		{snyk.Project{Name: "PRJ/my-repo:pom.xml", Origin: "bitbucket-server", Branch: "master"}, `{"projectKey":"PRJ","repoSlug":"my-repo"}`},
		{snyk.Project{Name: "group/sub/repo:package.json", Origin: "gitlab", Branch: "main"}, `{"name":"group/sub/repo","branch":"main"}`},
		{snyk.Project{Name: "library/nginx:latest", Origin: "docker-hub"}, `{"name":"library/nginx:latest"}`},
		{snyk.Project{Name: "noslash", Origin: "bitbucket-cloud"}, ""},
		{snyk.Project{Name: "/repo", Origin: "github"}, ""},
	}
	for _, tt := range tests {
		tg, ok := projectTarget(tt.p)
		var got string
		if ok {
			b, _ := tg.MarshalJSON()
			got = string(b)
		}
		if got != tt.want {
			t.Errorf("projectTarget(%+v) = %s, want %s", tt.p, got, tt.want)
		}
	}
}
