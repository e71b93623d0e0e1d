package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// doctorLines splits doctor's stdout into its check lines by mark.
func doctorLines(out, mark string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, mark+" ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// checkLine returns the one line for check with the given mark, failing
// the test when there is none.
func checkLine(t *testing.T, out, mark, check string) string {
	t.Helper()
	for _, l := range doctorLines(out, mark) {
		if strings.HasPrefix(l, mark+" "+check+":") {
			return l
		}
	}
	t.Fatalf("no %q line for check %q in doctor output:\n%s", mark, check, out)
	return ""
}

// wantFailed asserts exactly these checks failed, each on one line.
func wantFailed(t *testing.T, out string, checks ...string) {
	t.Helper()
	var got []string
	for _, l := range doctorLines(out, "✗") {
		name, _, _ := strings.Cut(strings.TrimPrefix(l, "✗ "), ":")
		got = append(got, name)
	}
	if !slices.Equal(got, checks) {
		t.Errorf("failed checks = %q, want %q\n%s", got, checks, out)
	}
}

func wantContains(t *testing.T, line string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(line, p) {
			t.Errorf("line does not contain %q:\n%s", p, line)
		}
	}
}

// doctorNoSecrets asserts doctor printed none of the secrets it used.
func doctorNoSecrets(t *testing.T, e *simEnv, r result) {
	t.Helper()
	all := e.allOutput(r)
	secrets := append([]string{e.getenv("BITBUCKET_APP_CLIENT_SECRET"), e.getenv("SNYK_TOKEN")}, e.Sim.IssuedBitbucketTokens()...)
	for _, s := range secrets {
		if s != "" && strings.Contains(all, s) {
			t.Errorf("doctor output contains the secret %q:\n%s", s, all)
		}
	}
}

// createdOrgs runs orgs:data and orgs:create and returns snyk-created-orgs.json.
func createdOrgs(t *testing.T, e *simEnv) string {
	t.Helper()
	g := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--groupId="+g)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	return e.File("snyk-created-orgs.json")
}

func TestDoctor_allGood(t *testing.T) {
	t.Parallel()
	// Every scope listed explicitly (TestDoctor_impliedScopes covers the
	// implied forms real tokens show).
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Scopes: "account repository project"}})
	orgs := createdOrgs(t, e)
	r := e.MustRun(0, "doctor", "--groupId="+sim.SimSnykGroupID, "--orgsData="+orgs)
	t.Logf("doctor output:\n%s", r.Stdout)

	wantFailed(t, r.Stdout)
	if w := doctorLines(r.Stdout, "⚠"); len(w) > 0 {
		t.Errorf("unexpected warnings: %q", w)
	}
	wantContains(t, checkLine(t, r.Stdout, "✓", "environment"),
		"BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET, SNYK_TOKEN, SNYK_LOG_PATH set")
	wantContains(t, checkLine(t, r.Stdout, "✓", "log directory"), e.LogPath, "writable")
	wantContains(t, checkLine(t, r.Stdout, "✓", "Bitbucket token"), "scopes granted: account repository project")
	wantContains(t, checkLine(t, r.Stdout, "✓", "workspaces"), "5 visible", "acme-platform")
	wantContains(t, checkLine(t, r.Stdout, "✓", "repositories"), "first page readable in each of 5 workspaces")
	wantContains(t, checkLine(t, r.Stdout, "✓", "Snyk token"), "accepted by "+e.Sim.URL+"/v1")
	wantContains(t, checkLine(t, r.Stdout, "✓", "Snyk group"), sim.SimSnykGroupName, sim.SimSnykGroupID)
	wantContains(t, checkLine(t, r.Stdout, "✓", "orgs"), "all 5 orgs in snyk-created-orgs.json have a Bitbucket integration", "bitbucket-cloud-app: 5")
	wantContains(t, r.Stdout, "All 9 checks passed.", "✓ Snyk credential: API token (SNYK_TOKEN)",
		"Next: bbimport orgs:data --source=bitbucket-cloud-app --groupId="+sim.SimSnykGroupID)
	if r.Stderr != "" {
		t.Errorf("doctor wrote to stderr at the default level:\n%s", r.Stderr)
	}
	doctorNoSecrets(t, e, r)
}

func TestDoctor_wrongSecret(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "wrong-secret-9d1c7e")
	r := e.MustRun(exitAuth, "doctor", "--groupId="+sim.SimSnykGroupID)
	t.Logf("doctor output:\n%s", r.Stdout)

	wantFailed(t, r.Stdout, "Bitbucket token")
	wantContains(t, checkLine(t, r.Stdout, "✗", "Bitbucket token"),
		"Bitbucket rejected the OAuth consumer key or secret (invalid_client",
		"— fix: set BITBUCKET_APP_CLIENT_ID to the consumer's Key and BITBUCKET_APP_CLIENT_SECRET to its Secret")
	// The checks that need a token say so instead of failing again.
	wantContains(t, r.Stdout, "- workspaces: not checked, no Bitbucket token", "- repositories: not checked, no Bitbucket token")
	// Snyk is checked all the same: one run shows every problem.
	checkLine(t, r.Stdout, "✓", "Snyk token")
	wantContains(t, r.Stdout, "1 check failed")
	doctorNoSecrets(t, e, r)
}

func TestDoctor_publicConsumer(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{PublicConsumer: true}})
	r := e.MustRun(exitAuth, "doctor", "--groupId="+sim.SimSnykGroupID)
	t.Logf("doctor output:\n%s", r.Stdout)

	wantFailed(t, r.Stdout, "Bitbucket token")
	wantContains(t, checkLine(t, r.Stdout, "✗", "Bitbucket token"),
		"the OAuth consumer is public (unauthorized_client", "client_credentials needs a private consumer",
		"— fix: in Bitbucket → Workspace settings → OAuth consumers → Edit, tick 'This is a private consumer' and save")
	doctorNoSecrets(t, e, r)
}

func TestDoctor_tokenWithoutRepositoryScope(t *testing.T) {
	t.Parallel()
	// project:admin, unlike project, implies no repository access.
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Scopes: "account project:admin"}})
	r := e.MustRun(exitFailed, "doctor", "--groupId="+sim.SimSnykGroupID)
	t.Logf("doctor output:\n%s", r.Stdout)

	// The exchange works and shows what was granted, with a warning ...
	wantContains(t, checkLine(t, r.Stdout, "✓", "Bitbucket token"), "scopes granted: account project:admin")
	wantContains(t, checkLine(t, r.Stdout, "⚠", "Bitbucket scopes"),
		`the consumer lacks "repository" (needed to list repositories)`, "tick 'Repositories: Read'")
	checkLine(t, r.Stdout, "✓", "workspaces")
	// ... and the listing's 403 is one line for all workspaces, with the fix.
	wantFailed(t, r.Stdout, "repositories")
	wantContains(t, checkLine(t, r.Stdout, "✗", "repositories"),
		"cannot list 5 of 5 (acme-platform, acme-mobile", "answered 403",
		`lacks the "repository" permission`, "(granted: account project:admin)",
		"— fix: in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick 'Repositories: Read' and save")
	if got := e.Sim.Count("bitbucket.403"); got != 5 {
		t.Errorf("bitbucket.403 = %d, want one per workspace (5)", got)
	}
}

func TestDoctor_tokenWithoutAccountScope(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Scopes: "repository project"}})
	r := e.MustRun(exitFailed, "doctor", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, checkLine(t, r.Stdout, "⚠", "Bitbucket scopes"), `lacks "account" (needed to list workspaces)`)
	wantFailed(t, r.Stdout, "workspaces")
	wantContains(t, checkLine(t, r.Stdout, "✗", "workspaces"), "403", "tick 'Account: Read'")
	wantContains(t, r.Stdout, "- repositories: not checked")

	// With the slugs given, the listing is not needed and repositories pass.
	r = e.MustRun(0, "doctor", "--groupId="+sim.SimSnykGroupID, "--workspace=acme-platform", "--workspace=data-science")
	wantContains(t, checkLine(t, r.Stdout, "✓", "workspaces"), "2 workspaces given with --workspace")
	wantContains(t, checkLine(t, r.Stdout, "✓", "repositories"), "each of 2 workspaces")
	wantContains(t, r.Stdout, "with 1 warning")
}

func TestDoctor_invalidSnykToken(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("SNYK_TOKEN", "0f1e2d3c-invalid-snyk-token")
	r := e.MustRun(exitAuth, "doctor", "--groupId="+sim.SimSnykGroupID)
	t.Logf("doctor output:\n%s", r.Stdout)

	wantFailed(t, r.Stdout, "Snyk token")
	wantContains(t, checkLine(t, r.Stdout, "✗", "Snyk token"),
		"Snyk rejected the token (401)", "— fix: SNYK_TOKEN is invalid or has no access to", "set SNYK_TOKEN to a valid API token", "SNYK_API")
	wantContains(t, r.Stdout, "- Snyk group: not checked, the token was rejected")
	// Bitbucket is fine and says so.
	checkLine(t, r.Stdout, "✓", "Bitbucket token")
	checkLine(t, r.Stdout, "✓", "repositories")
	doctorNoSecrets(t, e, r)
}

func TestDoctor_orgWithoutIntegration(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Snyk: sim.SnykConfig{OrgsWithoutIntegration: []string{"Acme Mobile"}}})
	orgs := createdOrgs(t, e)
	// The group comes from the file when --groupId is not given.
	r := e.MustRun(exitFailed, "doctor", "--orgsData="+orgs)
	t.Logf("doctor output:\n%s", r.Stdout)

	checkLine(t, r.Stdout, "✓", "Snyk group")
	wantFailed(t, r.Stdout, "orgs")
	wantContains(t, checkLine(t, r.Stdout, "✗", "orgs"),
		"no bitbucket-cloud-app or bitbucket-connect-app integration in 1 of 5 orgs of snyk-created-orgs.json",
		`"Acme Mobile"`, "has: none",
		"— fix: in Snyk, open each org → Integrations → Bitbucket Cloud App and connect it")

	// --integrationType names the key to look for.
	r = e.MustRun(exitFailed, "doctor", "--orgsData="+orgs, "--integrationType=bitbucket-cloud")
	wantContains(t, checkLine(t, r.Stdout, "✗", "orgs"), "no bitbucket-cloud integration in 1 of 5")
}

func TestDoctor_noWorkspaces(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{}}})
	r := e.MustRun(exitFailed, "doctor", "--groupId="+sim.SimSnykGroupID)
	wantFailed(t, r.Stdout, "workspaces")
	wantContains(t, checkLine(t, r.Stdout, "✗", "workspaces"), "no workspaces found", "an app user",
		"fix: pass --workspace=<slug> (repeatable; as in bitbucket.org/<slug>) for the workspace that owns the consumer")
}

func TestDoctor_missingVariables(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "")
	e.Set("SNYK_TOKEN", "")
	r := e.MustRun(exitFailed, "doctor")
	t.Logf("doctor output:\n%s", r.Stdout)
	wantFailed(t, r.Stdout, "environment")
	wantContains(t, checkLine(t, r.Stdout, "✗", "environment"), "not set: BITBUCKET_APP_CLIENT_SECRET, SNYK_TOKEN", "fix: export each of them")
	wantContains(t, r.Stdout, "- Bitbucket token: not checked", "- Snyk token: not checked, no Snyk credential is set")
	if got := e.Sim.Count("bitbucket.token_exchanges") + e.Sim.Count("snyk.requests"); got != 0 {
		t.Errorf("doctor called the APIs without credentials (%d requests)", got)
	}
}

func TestDoctor_withoutGroupSkipsSnyk(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	r := e.MustRun(0, "doctor")
	wantContains(t, r.Stdout, "- Snyk token: not checked, pass --groupId=<Snyk group id>",
		"Next: bbimport orgs:data --source=bitbucket-cloud-app --groupId=<Snyk group id>")
}

func TestDoctor_resumeLogReported(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	if err := os.MkdirAll(e.LogPath, 0o755); err != nil {
		t.Fatal(err)
	}
	// Two targets, one logged twice, and the blank room a running import
	// reserves ahead (issue 23 row 5): not lines, not targets.
	line := func(repo string) string {
		return `{"name":"snyk:import-projects-script","level":30,"orgId":"o","integrationId":"i","target":{"owner":"ws","name":"` + repo +
			`","branch":"main"},"msg":"Target requested for import","time":"2024-05-01T10:00:00.000Z","v":0}` + "\n"
	}
	reserved := strings.Repeat("\n", 40) + strings.Repeat(" ", 200) + "\n"
	if err := os.WriteFile(filepath.Join(e.LogPath, "imported-targets.log"), []byte(line("a")+line("b")+line("a")+reserved), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.MustRun(0, "doctor")
	wantContains(t, checkLine(t, r.Stdout, "✓", "log directory"), "imported-targets.log records 2 targets from earlier runs")
}

// The repository check is bounded: each read spends the hourly budget the
// real run needs.
func TestDoctor_maxWorkspaces(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	r := e.MustRun(0, "doctor", "--maxWorkspaces=2")
	wantContains(t, checkLine(t, r.Stdout, "✓", "repositories"), "each of 2 workspaces (checked the first 2 of 5")
	if got := e.Sim.Count("bitbucket.requests.repositories"); got != 2 {
		t.Errorf("repository requests = %d, want 2", got)
	}
}

func TestDoctor_bitbucketCloudSource(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{StaticTokens: []string{"static-api-token-4b7e"}}})
	e.Set("BITBUCKET_CLOUD_API_TOKEN", "static-api-token-4b7e")
	r := e.MustRun(0, "doctor", "--source=bitbucket-cloud")
	t.Logf("doctor output:\n%s", r.Stdout)
	wantContains(t, checkLine(t, r.Stdout, "✓", "environment"), "SNYK_TOKEN, SNYK_LOG_PATH, BITBUCKET_CLOUD_API_TOKEN set")
	checkLine(t, r.Stdout, "✓", "repositories")
	if strings.Contains(e.allOutput(r), "static-api-token-4b7e") {
		t.Error("doctor printed BITBUCKET_CLOUD_API_TOKEN")
	}
}
