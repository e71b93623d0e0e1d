package main

// Issue 6: the bitbucket-cloud source end to end (orgs:data, orgs:create,
// import:data, import) with each way of authenticating, the original's
// variables and precedence, and no credential in any output at any level.

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/google/go-cmp/cmp"
)

// Distinctive secrets, so a leak is unmistakable.
const (
	cloudAppPassword = "ATBBappPw-7f3c9e1d5b"
	cloudAPIToken    = "ATATT3xFfGF0-api-9d8c7b6a"
	cloudOAuthToken  = "oauth-tok-1e2d3c4b5a69"
	cloudEmail       = "ci-bot@example.com"
)

// cloudEstate: two workspaces with repositories and one empty, which
// --skipEmptyOrgs must drop (the original dropped every workspace).
func cloudEstate() []sim.WorkspaceSpec {
	return []sim.WorkspaceSpec{
		{Slug: "team-a", Name: "Team A", Repos: 130, Forks: 10, Empty: 3, Private: 100, Projects: []string{"A1", "A2"}},
		{Slug: "team-b", Name: "Team B", Repos: 7},
		{Slug: "sandbox", Name: "Sandbox"},
	}
}

func TestCloudSourceAuthMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		// kind is the simulator's bitbucket.auth.<kind> counter that must
		// carry every request: basic or static (Bearer).
		kind        string
		warnings    int // app-password warnings per Bitbucket command
		secrets     []string
		users       map[string]string
		tokens      []string
		basicHeader string // base64 user:secret, must not leak either
	}{
		{
			name:     "username and app password: Basic, with the retirement warning",
			env:      map[string]string{"BITBUCKET_CLOUD_USERNAME": "ci-bot", "BITBUCKET_CLOUD_PASSWORD": cloudAppPassword},
			users:    map[string]string{"ci-bot": cloudAppPassword},
			kind:     "basic",
			warnings: 1,
			secrets:  []string{cloudAppPassword}, basicHeader: "ci-bot:" + cloudAppPassword,
		},
		{
			name:    "API token with an email: Basic email:token",
			env:     map[string]string{"BITBUCKET_CLOUD_USERNAME": cloudEmail, "BITBUCKET_CLOUD_API_TOKEN": cloudAPIToken},
			users:   map[string]string{cloudEmail: cloudAPIToken},
			kind:    "basic",
			secrets: []string{cloudAPIToken}, basicHeader: cloudEmail + ":" + cloudAPIToken,
		},
		{
			name:    "email and API token in the password variable: Basic, no warning",
			env:     map[string]string{"BITBUCKET_CLOUD_USERNAME": cloudEmail, "BITBUCKET_CLOUD_PASSWORD": cloudAPIToken},
			users:   map[string]string{cloudEmail: cloudAPIToken},
			kind:    "basic",
			secrets: []string{cloudAPIToken}, basicHeader: cloudEmail + ":" + cloudAPIToken,
		},
		{
			name:    "API token without an email: Bearer",
			env:     map[string]string{"BITBUCKET_CLOUD_API_TOKEN": cloudAPIToken},
			tokens:  []string{cloudAPIToken},
			kind:    "static",
			secrets: []string{cloudAPIToken},
		},
		{
			name:    "OAuth token: Bearer",
			env:     map[string]string{"BITBUCKET_CLOUD_OAUTH_TOKEN": cloudOAuthToken},
			tokens:  []string{cloudOAuthToken},
			kind:    "static",
			secrets: []string{cloudOAuthToken},
		},
		{
			name: "precedence: user before api before oauth",
			env: map[string]string{"BITBUCKET_CLOUD_USERNAME": "ci-bot", "BITBUCKET_CLOUD_PASSWORD": cloudAppPassword,
				"BITBUCKET_CLOUD_API_TOKEN": cloudAPIToken, "BITBUCKET_CLOUD_OAUTH_TOKEN": cloudOAuthToken},
			users:    map[string]string{"ci-bot": cloudAppPassword}, // the tokens would be refused
			kind:     "basic",
			warnings: 1,
			secrets:  []string{cloudAppPassword, cloudAPIToken, cloudOAuthToken}, basicHeader: "ci-bot:" + cloudAppPassword,
		},
		{
			name: "precedence: api before oauth when the password is blank",
			env: map[string]string{"BITBUCKET_CLOUD_USERNAME": "ci-bot", "BITBUCKET_CLOUD_PASSWORD": "  ",
				"BITBUCKET_CLOUD_API_TOKEN": cloudAPIToken, "BITBUCKET_CLOUD_OAUTH_TOKEN": cloudOAuthToken},
			tokens:  []string{cloudAPIToken},
			kind:    "static",
			secrets: []string{cloudAPIToken, cloudOAuthToken},
		},
		{
			name: "BITBUCKET_CLOUD_AUTH_METHOD=oauth overrides the precedence",
			env: map[string]string{"BITBUCKET_CLOUD_AUTH_METHOD": " OAuth ", "BITBUCKET_CLOUD_USERNAME": "ci-bot",
				"BITBUCKET_CLOUD_PASSWORD": "wrong-" + cloudAppPassword, "BITBUCKET_CLOUD_OAUTH_TOKEN": cloudOAuthToken},
			tokens:  []string{cloudOAuthToken},
			kind:    "static",
			secrets: []string{cloudOAuthToken, "wrong-" + cloudAppPassword},
		},
		{
			name: "BITBUCKET_CLOUD_AUTH_METHOD=api with an email",
			env: map[string]string{"BITBUCKET_CLOUD_AUTH_METHOD": "api", "BITBUCKET_CLOUD_USERNAME": cloudEmail,
				"BITBUCKET_CLOUD_PASSWORD": "wrong-" + cloudAppPassword, "BITBUCKET_CLOUD_API_TOKEN": cloudAPIToken},
			users:   map[string]string{cloudEmail: cloudAPIToken},
			kind:    "basic",
			secrets: []string{cloudAPIToken, "wrong-" + cloudAppPassword}, basicHeader: cloudEmail + ":" + cloudAPIToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: cloudEstate(), Users: tt.users, StaticTokens: tt.tokens}})
			// No OAuth consumer: the bitbucket-cloud source must not need one.
			e.Set("BITBUCKET_APP_CLIENT_ID", "")
			e.Set("BITBUCKET_APP_CLIENT_SECRET", "")
			for k, v := range tt.env {
				e.Set(k, v)
			}
			e.Set("DEBUG", "*snyk*")
			group := sim.SimSnykGroupID
			verbose := []string{"--logLevel=trace", "--logFormat=json"}
			var all strings.Builder
			run := func(args ...string) result {
				t.Helper()
				r := e.MustRun(0, append(args, verbose...)...)
				all.WriteString(e.allOutput(r))
				return r
			}

			r := run("orgs:data", "--source=bitbucket-cloud", "--groupId="+group, "--skipEmptyOrgs")
			assertAppPasswordWarnings(t, "orgs:data", r.Stderr, tt.warnings)
			if !strings.Contains(r.Stderr, `"level":"debug"`) {
				t.Errorf("no debug lines: the leak check would prove nothing\n%s", r.Stderr)
			}
			rows, err := importfiles.ReadOrgsDataFile(e.File("group-" + group + "-bitbucket-cloud-orgs.json"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, row := range rows {
				names = append(names, row.Name+"|"+row.Workspace)
			}
			if diff := cmp.Diff([]string{"team-a|team-a", "team-b|team-b"}, names); diff != "" {
				t.Errorf("orgs (slugs as names, sandbox dropped by --skipEmptyOrgs) (-want +got):\n%s", diff)
			}

			r = run("orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-orgs.json"))
			assertAppPasswordWarnings(t, "orgs:create", r.Stderr, 0)

			r = run("import:data", "--source=bitbucket-cloud", "--orgsData="+e.File("snyk-created-orgs.json"))
			assertAppPasswordWarnings(t, "import:data", r.Stderr, tt.warnings)
			targets := e.File("bitbucket-cloud-import-targets.json")
			want := cloudExpectedTargets(t, e)
			checkCloudTargets(t, targets, want)

			run("import", "--file="+targets, "--concurrency=25")
			assertImportedOnce(t, e, want)

			// Every Bitbucket request used the expected kind of credential.
			if n, total := e.Sim.Count("bitbucket.auth."+tt.kind), e.Sim.Count("bitbucket.requests"); n == 0 || n != total {
				t.Errorf("%d of %d Bitbucket requests authenticated as %s (counters %v)", n, total, tt.kind, e.Sim.Counters())
			}
			if n := e.Sim.Count("bitbucket.401") + e.Sim.Count("bitbucket.token_exchanges"); n != 0 {
				t.Errorf("%d refused requests or token exchanges, want 0", n)
			}

			out := all.String()
			leaks := slices.Clone(tt.secrets)
			if tt.basicHeader != "" {
				leaks = append(leaks, base64.StdEncoding.EncodeToString([]byte(tt.basicHeader)))
			}
			for _, s := range leaks {
				if strings.Contains(out, s) {
					t.Errorf("a credential appears in the output or the log files: %q", s)
				}
			}
		})
	}
}

// cloudExpectedTargets: every repository with a main branch of every
// workspace that has an org, in the simulator's target keys.
func cloudExpectedTargets(t *testing.T, e *simEnv) map[string]bool {
	t.Helper()
	orgs, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, o := range orgs {
		for _, w := range e.Sim.BitbucketWorkspaces() {
			if w.Slug != o.WorkspaceSlug() {
				continue
			}
			for r := range w.AllRepos() {
				if r.MainBranch != "" {
					want[sim.SnykTargetKey(o.OrgID, w.Slug, r.Slug, r.MainBranch)] = true
				}
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no targets expected")
	}
	return want
}

// checkCloudTargets: the targets file holds exactly want (every repository
// with a main branch) with the bitbucket-cloud integration.
func checkCloudTargets(t *testing.T, file string, want map[string]bool) {
	t.Helper()
	got := readTargets(t, file, true)
	var wantList []string
	for k := range want {
		p := strings.Split(k, "|") // org|owner|name|branch
		wantList = append(wantList, p[0]+" "+p[1]+"/"+p[2]+"@"+p[3])
	}
	slices.Sort(wantList)
	if diff := cmp.Diff(wantList, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

// assertAppPasswordWarnings: the retirement warning is one warn line per
// command that talks to Bitbucket with an app password, and none otherwise.
func assertAppPasswordWarnings(t *testing.T, cmd, stderr string, want int) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, "Atlassian removed app passwords") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["level"] != "warn" {
			t.Errorf("%s: the warning is not a warn log line: %s", cmd, line)
		}
		n++
	}
	if n != want {
		t.Errorf("%s: %d app-password warnings, want %d\n%s", cmd, n, want, stderr)
	}
}

// Wrong or missing credentials: a clear message naming the variables, the
// right exit code, and no secret in it.
func TestCloudSourceCredentialErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		code int
		want []string
	}{
		{"nothing set", nil, exitUsage, []string{"BITBUCKET_CLOUD_USERNAME", "BITBUCKET_CLOUD_API_TOKEN", "BITBUCKET_CLOUD_OAUTH_TOKEN"}},
		{"method names a missing variable", map[string]string{"BITBUCKET_CLOUD_AUTH_METHOD": "api", "BITBUCKET_CLOUD_OAUTH_TOKEN": cloudOAuthToken},
			exitUsage, []string{`BITBUCKET_CLOUD_AUTH_METHOD is "api"`, "BITBUCKET_CLOUD_API_TOKEN"}},
		{"unknown method", map[string]string{"BITBUCKET_CLOUD_AUTH_METHOD": "kerberos", "BITBUCKET_CLOUD_OAUTH_TOKEN": cloudOAuthToken},
			exitUsage, []string{"user, api and oauth"}},
		{"precedence picks the user even when a token would work", map[string]string{"BITBUCKET_CLOUD_USERNAME": "ci-bot",
			"BITBUCKET_CLOUD_PASSWORD": "wrong-" + cloudAppPassword, "BITBUCKET_CLOUD_OAUTH_TOKEN": cloudOAuthToken},
			exitAuth, []string{"Atlassian removed app passwords on 2026-07-28", "read:project:bitbucket", "BITBUCKET_CLOUD_USERNAME to your Atlassian account's e-mail"}},
		{"API token without an email is refused as Bearer", map[string]string{"BITBUCKET_CLOUD_API_TOKEN": cloudAPIToken},
			exitAuth, []string{"BITBUCKET_CLOUD_API_TOKEN", "email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The API token is only valid as Basic with the email.
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: cloudEstate(),
				Users: map[string]string{cloudEmail: cloudAPIToken}, StaticTokens: []string{cloudOAuthToken}}})
			for k, v := range tt.env {
				e.Set(k, v)
			}
			e.Set("DEBUG", "*")
			r := e.Run("orgs:data", "--source=bitbucket-cloud", "--groupId="+sim.SimSnykGroupID, "--logLevel=trace")
			if r.Code != tt.code {
				t.Errorf("exit %d, want %d\n%s", r.Code, tt.code, r.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
				}
			}
			out := e.allOutput(r)
			for _, s := range []string{cloudAppPassword, cloudAPIToken, cloudOAuthToken} {
				if strings.Contains(out, s) {
					t.Errorf("secret %q in the output", s)
				}
			}
		})
	}
}
