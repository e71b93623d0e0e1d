package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// The files in fixtures/compat (shared with pkg/importer's tests) are copies
// of ../shared/compat: files written by the original snyk-api-import (or used
// in its tests). Each test below is one row of fixtures/compat/README.md,
// through the CLI.

func compatFile(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "compat", name))
	if err != nil {
		panic(err)
	}
	return p
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCompatFilesInSync: fixtures/compat is the shared compat folder, when it
// is beside the repository (CI); skipped elsewhere.
func TestCompatFilesInSync(t *testing.T) {
	t.Parallel()
	shared := filepath.Join("..", "..", "..", "shared", "compat")
	entries, err := os.ReadDir(shared)
	if err != nil {
		t.Skipf("no shared compat folder beside the repository: %v", err)
	}
	for _, en := range entries {
		want, err := os.ReadFile(filepath.Join(shared, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(compatFile(en.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("fixtures/compat/%s differs from %s (copy it again): %v", en.Name(), shared, err)
		}
	}
}

// compatOrg seeds the org the original's files name (ORG_ID, with the
// integration INTEGRATION_ID) so that a target not skipped is imported.
func compatOrg(e *simEnv) {
	e.Sim.SeedOrg(sim.SimSnykGroupID, sim.SnykOrg{ID: "ORG_ID", Name: "compat",
		Integrations: map[string]string{"bitbucket-cloud": "INTEGRATION_ID"}})
}

// with-import-log.*: the original's resume log names the target of the
// targets file, so import skips it; without the log it is imported.
func TestCompatWithImportLogSkips(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	compatOrg(e)
	copyFile(t, compatFile("with-import-log.imported-targets.log"), e.File(importfiles.ImportedTargetsLog))
	file := compatFile("with-import-log.import-projects.json")
	r := e.MustRun(0, "import", "--file="+file)
	if n := e.Sim.Count("snyk.imports"); n != 0 {
		t.Errorf("import created %d jobs, want 0: the original's log names the target", n)
	}
	if !strings.Contains(r.Stdout, "1 were skipped") {
		t.Errorf("stdout does not report the skipped target:\n%s", r.Stdout)
	}

	// The control: the same file with an empty log directory imports it.
	other := filepath.Join(t.TempDir(), "fresh")
	e.MustRun(0, "import", "--file="+file, "--logPath="+other)
	key := sim.SnykTargetKey("ORG_ID", "api-import-circle-test", "composer-with-vulns", "master")
	if got := e.Sim.ImportedTargets(); len(got) != 1 || got[key] != 1 {
		t.Errorf("imported targets = %v, want %s once", got, key)
	}
}

// bitbucket-cloud.imported-targets.log: the stored targetId is stale; the
// key is computed from orgId, integrationId and target. The target the line
// names is skipped; a decoy whose key equals the stale targetId is not.
func TestCompatStaleTargetID(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	compatOrg(e)
	copyFile(t, compatFile("bitbucket-cloud.imported-targets.log"), e.File(importfiles.ImportedTargetsLog))
	file := filepath.Join(t.TempDir(), "targets.json")
	// The decoy {name: debug, appId: 123, owner: snyk, branch: master} has the
	// key ORG_ID:INTEGRATION_ID:debug:123:snyk:master: the stale targetId.
	if err := os.WriteFile(file, []byte(`{"targets":[
 {"orgId":"ORG_ID","integrationId":"INTEGRATION_ID","target":{"owner":"snyk-test-scm","name":"test-spaces","branch":"master"}},
 {"orgId":"ORG_ID","integrationId":"INTEGRATION_ID","target":{"name":"debug","appId":"123","owner":"snyk","branch":"master"}}
]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.MustRun(0, "import", "--file="+file)
	decoy := sim.SnykTargetKey("ORG_ID", "snyk", "debug", "master")
	if got := e.Sim.ImportedTargets(); len(got) != 1 || got[decoy] != 1 {
		t.Errorf("imported targets = %v, want only the decoy %s", got, decoy)
	}
}

// bitbucket-cloud.created-orgs.json: the original's minimal created-orgs
// file (no workspace field): import:data lists the workspace named by
// `name`, with the org's bitbucket-cloud integration from the file, and the
// targets import into that org.
func TestCompatCreatedOrgsNameIsWorkspace(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{
		Workspaces: []sim.WorkspaceSpec{{Slug: "snyktestscmgroup", Name: "Snyk Test SCM Group", Repos: 7}},
		Users:      map[string]string{"compat-user": "compat-app-password"},
	}})
	e.Sim.SeedOrg(sim.SimSnykGroupID, sim.SnykOrg{ID: "<snyk_org_id>", Name: "snyktestscmgroup",
		Integrations: map[string]string{"bitbucket-cloud": "<snyk_org_integration_id>"}})
	e.Set("BITBUCKET_CLOUD_USERNAME", "compat-user")
	e.Set("BITBUCKET_CLOUD_PASSWORD", "compat-app-password")
	e.MustRun(0, "import:data", "--source=bitbucket-cloud", "--orgsData="+compatFile("bitbucket-cloud.created-orgs.json"))
	if n := e.Sim.Count("bitbucket.repositories_pages.snyktestscmgroup"); n == 0 {
		t.Fatalf("the workspace named by `name` was not listed (counters %v)", e.Sim.Counters())
	}
	targets := e.File("bitbucket-cloud-import-targets.json")
	n := 0
	for it, err := range importfiles.ReadTargets(targets) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if owner, _ := it.Target.Get("owner"); it.OrgID != "<snyk_org_id>" || it.IntegrationID != "<snyk_org_integration_id>" || owner != "snyktestscmgroup" {
			t.Errorf("target %+v: want org <snyk_org_id>, integration <snyk_org_integration_id>, owner snyktestscmgroup", it)
		}
	}
	if n != 7 {
		t.Errorf("%d targets, want 7", n)
	}
	e.MustRun(0, "import", "--file="+targets)
	got := e.Sim.ImportedTargets()
	if len(got) != 7 {
		t.Errorf("imported %d targets, want 7: %v", len(got), got)
	}
	for k, c := range got {
		if !strings.HasPrefix(k, "<snyk_org_id>|snyktestscmgroup|") || c != 1 {
			t.Errorf("imported %s %d times", k, c)
		}
	}
}

// orgs-data.1-org.json: the original's orgs data file creates its org (the
// group exists); a second run creates nothing.
func TestCompatOrgsDataCreatesOrg(t *testing.T) {
	t.Parallel()
	const group = "d64abc45-b39a-48a2-9636-a4f62adbf09a"
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{Groups: map[string]sim.SnykGroup{group: {Name: "compat group"}}}})
	file := compatFile("orgs-data.1-org.json")
	e.MustRun(0, "orgs:create", "--file="+file)
	orgs := e.Sim.Orgs(group)
	if len(orgs) != 1 || orgs[0].Name != "snyk-api-import-hello" {
		t.Fatalf("orgs of the group = %+v, want snyk-api-import-hello", orgs)
	}
	created, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 1 || created[0].OrgID != orgs[0].ID || created[0].WorkspaceSlug() != "snyk-api-import-hello" {
		t.Errorf("snyk-created-orgs.json = %+v", created)
	}
	e.MustRun(0, "orgs:create", "--file="+file)
	if n := e.Sim.Count("snyk.orgs_created"); n != 1 {
		t.Errorf("orgs created = %d after two runs, want 1", n)
	}
}

// import-projects.invalid.json: not valid JSON. import fails before
// calling Snyk, naming the file and the line:column of the error, with exit
// 1 (the command line was right, the input file is not: exit 2 is kept for
// usage errors).
func TestCompatInvalidTargetsFile(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file := compatFile("import-projects.invalid.json")
	r := e.MustRun(exitFailed, "import", "--file="+file)
	if !strings.Contains(r.Stderr, file+":11:1") {
		t.Errorf("stderr does not name %s:11:1 (the `}` where `]` belongs):\n%s", file, r.Stderr)
	}
	if n := e.Sim.Count("snyk.requests"); n != 0 {
		t.Errorf("%d Snyk requests for an invalid file, want 0", n)
	}
	// The dry run says the same.
	r = e.MustRun(exitFailed, "import", "--file="+file, "--dryRun")
	if !strings.Contains(r.Stderr, file+":11:1") {
		t.Errorf("dry run stderr:\n%s", r.Stderr)
	}
}
