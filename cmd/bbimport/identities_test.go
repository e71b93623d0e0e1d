package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// fourWorkspaces is an estate of four workspaces, each owning a consumer.
func fourWorkspaces() []sim.WorkspaceSpec {
	return []sim.WorkspaceSpec{
		{Slug: "north", Repos: 130, Empty: 2},
		{Slug: "south", Repos: 12},
		{Slug: "east", Repos: 5, Forks: 1},
		{Slug: "west", Repos: 1},
	}
}

// appUsers are one consumer per workspace, each an app user reaching only
// its own (sim answers 403 elsewhere).
func appUsers(estate []sim.WorkspaceSpec, userWorkspaces sim.UserWorkspaces) []sim.ConsumerSpec {
	var out []sim.ConsumerSpec
	for _, w := range estate {
		out = append(out, sim.ConsumerSpec{ClientID: "key-" + w.Slug, ClientSecret: "secret-of-" + w.Slug + "-0123456789abcdef",
			Owns: []string{w.Slug}, UserWorkspaces: userWorkspaces})
	}
	return out
}

// listOf sets the variables of one consumer per workspace and returns the
// BITBUCKET_CREDENTIALS list naming them (pinned: each names its workspace).
func listOf(e *simEnv, consumers []sim.ConsumerSpec, pinned bool) string {
	var lines []string
	for _, c := range consumers {
		up := strings.ToUpper(c.Owns[0])
		e.Set("BB_"+up+"_KEY", c.ClientID)
		e.Set("BB_"+up+"_SECRET", c.ClientSecret)
		line := fmt.Sprintf("%s consumer id=BB_%s_KEY secret=BB_%s_SECRET", c.Owns[0], up, up)
		if pinned {
			line += " workspaces=" + c.Owns[0]
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// Done when: 4 workspaces, 4 consumers each owning one → orgs:data,
// import:data and sync cover all 4 with 0 requests answered 403, each
// workspace's requests sent with its own consumer, and no secret of the
// list anywhere in the output or the files, at trace level.
func TestSeveralConsumersCoverTheirWorkspaces(t *testing.T) {
	t.Parallel()
	estate := fourWorkspaces()
	consumers := appUsers(estate, "")
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: estate, Consumers: consumers}})
	// The default consumer of the harness sees everything: take it away.
	e.Set("BITBUCKET_APP_CLIENT_ID", "")
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "")
	e.Set(envBitbucketCredentials, listOf(e, consumers, false))
	trace := []string{"--logLevel=trace", "--logFormat=json"}
	var all strings.Builder
	run := func(args ...string) result {
		t.Helper()
		r := e.MustRun(0, append(args, trace...)...)
		all.WriteString(e.allOutput(r))
		return r
	}

	group := sim.SimSnykGroupID
	r := run("orgs:data", "--groupId="+group)
	if !strings.Contains(r.Stdout, "Found 4 workspaces.") {
		t.Errorf("orgs:data: %s", r.Stdout)
	}
	for _, c := range consumers {
		if want := fmt.Sprintf(`Bitbucket credential \"%s\" (OAuth consumer): GET /2.0/user/workspaces lists 1 workspace (%s)`, c.Owns[0], c.Owns[0]); !strings.Contains(r.Stderr, want) {
			t.Errorf("orgs:data does not say what %s lists:\n%s", c.Owns[0], r.Stderr)
		}
	}
	run("orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	run("import:data", "--orgsData="+e.File("snyk-created-orgs.json"))
	want := expectedTargets(t, e)
	run("import", "--file="+e.File("bitbucket-cloud-app-import-targets.json"))
	assertImportedOnce(t, e, want)
	run("sync", "--orgsData="+e.File("snyk-created-orgs.json"), "--importNew")

	if n := e.Sim.Count("bitbucket.403"); n != 0 {
		t.Errorf("%d requests answered 403 (a workspace asked of a consumer that is not its own)", n)
	}
	for _, c := range consumers {
		// Each consumer: its listing in each of orgs:data, import:data and
		// sync, and the pages of its own workspace.
		if n := e.Sim.Count("bitbucket.identity." + c.ClientID); n < 3 {
			t.Errorf("consumer of %s sent %d requests", c.Owns[0], n)
		}
	}
	out := all.String()
	for _, c := range consumers {
		if strings.Contains(out, c.ClientSecret) {
			t.Errorf("the secret of %s's consumer is in the output", c.Owns[0])
		}
	}
	for _, tok := range e.Sim.IssuedBitbucketTokens() {
		if strings.Contains(out, tok) {
			t.Error("a minted Bitbucket token is in the output")
		}
	}
}

// Done when: an app-user consumer whose GET /2.0/user/workspaces errors
// gives a one-line fix naming --workspace, and with it the pipeline works
// (orgs:data → orgs:create → import:data → import → sync).
func TestAppUserThatCannotListGetsTheWorkspaceFix(t *testing.T) {
	t.Parallel()
	for _, answer := range []sim.UserWorkspaces{"403", "500", sim.UserWorkspacesEmpty} {
		t.Run(string(answer), func(t *testing.T) {
			t.Parallel()
			estate := fourWorkspaces()[:1]
			consumer := appUsers(estate, answer)[0]
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: estate, Consumers: []sim.ConsumerSpec{consumer}}})
			e.Set("BITBUCKET_APP_CLIENT_ID", consumer.ClientID)
			e.Set("BITBUCKET_APP_CLIENT_SECRET", consumer.ClientSecret)
			group := sim.SimSnykGroupID

			r := e.Run("orgs:data", "--groupId="+group)
			final := strings.TrimSpace(r.Stderr[strings.LastIndex(strings.TrimSpace(r.Stderr), "\n")+1:])
			switch answer {
			case sim.UserWorkspacesEmpty:
				// An empty listing is an answer: exit 0, an empty file, and
				// the fix in a warning.
				if r.Code != 0 || !strings.Contains(r.Stdout, "No workspace(s) found!") ||
					!strings.Contains(r.Stderr, "lists no workspace") || !strings.Contains(r.Stderr, "--workspace=<slug>") {
					t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
				}
			default:
				if r.Code != exitFailed || !strings.HasPrefix(final, "bbimport: ") || !strings.Contains(final, "--workspace=<slug>") ||
					!strings.Contains(final, "/2.0/user/workspaces") {
					t.Fatalf("exit %d, final line %q\n%s", r.Code, final, r.Stderr)
				}
			}

			e.MustRun(0, "orgs:data", "--groupId="+group, "--workspace=north")
			rows, err := importfiles.ReadOrgsDataFile(e.File("group-" + group + "-bitbucket-cloud-app-orgs.json"))
			if err != nil || len(rows) != 1 || rows[0].Workspace != "north" {
				t.Fatalf("orgs file: %v %+v", err, rows)
			}
			e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
			e.MustRun(0, "import:data", "--orgsData="+e.File("snyk-created-orgs.json"))
			want := expectedTargets(t, e)
			e.MustRun(0, "import", "--file="+e.File("bitbucket-cloud-app-import-targets.json"))
			assertImportedOnce(t, e, want)
			e.MustRun(0, "sync", "--orgsData="+e.File("snyk-created-orgs.json"), "--importNew")
		})
	}
}

// A credential of the list that cannot list and names no workspace is the
// failure of orgs:data, one line naming its line of the list; the others'
// workspaces are not enough (its own would be missing).
func TestListedCredentialThatCannotListNamesItsLine(t *testing.T) {
	t.Parallel()
	estate := fourWorkspaces()[:2]
	consumers := appUsers(estate, "")
	consumers[1].UserWorkspaces = "403"
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: estate, Consumers: consumers}})
	e.Set(envBitbucketCredentials, listOf(e, consumers, false))
	r := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID)
	if r.Code != exitFailed || !strings.Contains(r.Stderr, `Bitbucket credential "south" (OAuth consumer) cannot list its workspaces`) ||
		!strings.Contains(r.Stderr, `add workspaces=<slug>[,<slug>…] for the workspace that owns the consumer`) {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	// The original's variables are set in the harness but the list wins.
	if !strings.Contains(r.Stderr, "these variables are not used: BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET") {
		t.Errorf("no warning about the unused variables:\n%s", r.Stderr)
	}
	// Pinned, it works; the pinned workspace is verified with one request
	// and never listed.
	e.Set(envBitbucketCredentials, listOf(e, consumers, true))
	e.MustRun(0, "orgs:data", "--groupId="+sim.SimSnykGroupID)
	if n := e.Sim.Count("bitbucket.identity.key-south"); n != 2 {
		t.Errorf("south's consumer sent %d requests, want 2 (the refused listing, then one verification)", n)
	}
}

// Done when: a 401 with an app password names the removal and the fix.
func TestAppPasswordRefusedNamesTheRemoval(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: cloudEstate()}})
	e.Set("BITBUCKET_APP_CLIENT_ID", "")
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "")
	e.Set("BITBUCKET_CLOUD_USERNAME", "ci-bot")
	e.Set("BITBUCKET_CLOUD_PASSWORD", "ATBB-an-app-password-0123456789")
	r := e.Run("orgs:data", "--source=bitbucket-cloud", "--groupId="+sim.SimSnykGroupID)
	for _, want := range []string{"Bitbucket rejected the app password: Atlassian removed app passwords on 2026-07-28",
		"create an Atlassian API token", apiTokenScopes, "BITBUCKET_CLOUD_USERNAME to your Atlassian account's e-mail"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if r.Code != exitAuth || strings.Contains(e.allOutput(r), "ATBB-an-app-password") {
		t.Errorf("exit %d (want 4), or the app password in the output:\n%s", r.Code, r.Stderr)
	}
}

// doctor with several credentials: per credential its kind, what it can
// see (listed or named), the scopes granted and the limit in force; every
// workspace's page read with its own credential (no 403).
func TestDoctor_severalCredentials(t *testing.T) {
	t.Parallel()
	estate := []sim.WorkspaceSpec{{Slug: "north", Repos: 3}, {Slug: "south", Repos: 2}, {Slug: "labs", Repos: 4}}
	consumers := appUsers(estate[:2], "")
	consumers[1].UserWorkspaces = "403"
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: estate, Consumers: consumers,
		AccessTokens: []sim.AccessTokenSpec{{Name: "labs", Token: "labs-access-token-0123456789", Workspace: "labs", Limit: 5000}}}})
	e.Set("BITBUCKET_APP_CLIENT_ID", "")
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "")
	e.Set("BB_LABS_TOKEN", "labs-access-token-0123456789")
	list := listOf(e, consumers, false)
	list = strings.Replace(list, "south consumer id=BB_SOUTH_KEY secret=BB_SOUTH_SECRET", "south consumer id=BB_SOUTH_KEY secret=BB_SOUTH_SECRET workspaces=south", 1)
	e.Set(envBitbucketCredentials, list+"\nlabs access-token token=BB_LABS_TOKEN workspaces=labs")
	r := e.MustRun(0, "doctor", "--groupId="+sim.SimSnykGroupID)
	t.Logf("doctor output:\n%s", r.Stdout)
	for _, want := range []string{
		`• Bitbucket credential "north": OAuth consumer key-… (BB_NORTH_KEY + BB_NORTH_SECRET): its token is an app user`,
		`• Bitbucket credential "labs": access token (BB_LABS_TOKEN): Bearer, no user`,
		`✓ Bitbucket token "north": client_credentials exchange works; scopes granted: project account`,
		`✓ Bitbucket token "south": client_credentials exchange works`,
		`✓ workspaces "north": lists 1 workspace (north)`,
		`✓ workspaces "south": 1 workspace named for it (south)`,
		`✓ workspaces "labs": 1 workspace named for it (labs)`,
		`✓ repositories: first page readable in each of 3 workspaces`,
		`• Bitbucket limit "north": 1,000 requests an hour`,
		`✓ environment: SNYK_TOKEN, SNYK_LOG_PATH, BITBUCKET_CREDENTIALS, BB_NORTH_KEY, BB_NORTH_SECRET`,
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("doctor lacks %q", want)
		}
	}
	if n := e.Sim.Count("bitbucket.403"); n != 0 {
		t.Errorf("%d requests answered 403", n)
	}
	out := e.allOutput(r)
	for _, secret := range []string{"labs-access-token-0123456789", consumers[0].ClientSecret, consumers[1].ClientSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("doctor printed a secret %q", secret)
		}
	}
}

// Done when: a 5,000/h access token is paced at 5,000/h after its first
// answer and at 1,000/h before. Scaled by 1/100 into a 2 s window: the
// default limit is 10 (nobody set one), the token's 50, announced in
// X-RateLimit-Limit on its answers. 25 pages: with the announcement they
// all go at once, no wait, no 429; a token that announces nothing is
// paced at the default, waits a window, and the wait line names it and
// the limit in force.
func TestAccessTokenPacedByItsAnnouncedLimit(t *testing.T) {
	t.Parallel()
	const window = 2 * time.Second
	for _, announces := range []bool{true, false} {
		t.Run(fmt.Sprintf("announces=%v", announces), func(t *testing.T) {
			t.Parallel()
			estate := []sim.WorkspaceSpec{{Slug: "labs", Repos: 2500}}
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: estate, RateLimitWindow: window,
				AccessTokens: []sim.AccessTokenSpec{{Name: "labs", Token: "labs-access-token-0123456789", Workspace: "labs", Limit: 50, NoHeaders: !announces}}}})
			e.Tuning.BitbucketWindow, e.Tuning.BitbucketDefault = window, 10
			e.Set("BBIMPORT_STATE_DIR", t.TempDir())
			e.Set("BB_LABS_TOKEN", "labs-access-token-0123456789")
			e.Set(envBitbucketCredentials, "labs access-token token=BB_LABS_TOKEN workspaces=labs")
			g := sim.SimSnykGroupID
			e.MustRun(0, "orgs:data", "--groupId="+g)
			e.MustRun(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
			before := e.Sim.Count("bitbucket.requests")
			r := e.MustRun(0, "import:data", "--orgsData="+e.File("snyk-created-orgs.json"), "--logFormat=json")
			if n := e.Sim.Count("bitbucket.requests") - before; n != 25 {
				t.Errorf("%d requests, want the 25 pages", n)
			}
			if n := e.Sim.Count("bitbucket.429"); n != 0 {
				t.Errorf("%d 429s", n)
			}
			waited := strings.Contains(r.Stderr, "Bitbucket budget:")
			if announces {
				// orgs:data's one request and the 25 pages are within the
				// window: only the announced 50 lets them through.
				if waited {
					t.Errorf("with the announcement the budget made requests wait:\n%s", r.Stderr)
				}
				d := e.MustRun(0, "doctor", "--groupId="+g)
				if !strings.Contains(d.Stdout, `• Bitbucket limit "labs": 50 requests an hour, from Bitbucket's announcement (X-RateLimit-Limit`) {
					t.Errorf("doctor does not say the limit in force:\n%s", d.Stdout)
				}
				return
			}
			if !waited {
				t.Errorf("without the announcement no request waited: the default pacing was not kept\n%s", r.Stderr)
			}
			if !strings.Contains(r.Stderr, `Bitbucket budget: 10 of 10 used in the last 2s by credential \"labs\"; next request at`) {
				t.Errorf("the wait line does not name the credential and the limit:\n%s", r.Stderr)
			}
		})
	}
}

// An access token as the run's only credential (BITBUCKET_CLOUD_API_TOKEN
// without an e-mail): no user, so its workspace listing is refused; the
// message says so and names --workspace, and with it the stages work.
func TestAccessTokenNamesItsWorkspace(t *testing.T) {
	t.Parallel()
	estate := []sim.WorkspaceSpec{{Slug: "labs", Repos: 30}, {Slug: "other", Repos: 3}}
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: estate,
		AccessTokens: []sim.AccessTokenSpec{{Name: "labs", Token: "labs-access-token-0123456789", Workspace: "labs", Limit: 2000}}}})
	e.Set("BITBUCKET_APP_CLIENT_ID", "")
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "")
	e.Set("BITBUCKET_CLOUD_API_TOKEN", "labs-access-token-0123456789")
	r := e.Run("orgs:data", "--source=bitbucket-cloud", "--groupId="+sim.SimSnykGroupID)
	for _, want := range []string{"the access token cannot list its workspaces", "an access token is no user",
		"pass --workspace=<slug> (repeatable; as in bitbucket.org/<slug>) for the workspace the token was made in"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if r.Code != exitFailed {
		t.Errorf("exit %d, want 1", r.Code)
	}
	g := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--source=bitbucket-cloud", "--groupId="+g, "--workspace=labs")
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-orgs.json"))
	e.MustRun(0, "import:data", "--source=bitbucket-cloud", "--orgsData="+e.File("snyk-created-orgs.json"))
	d := e.MustRun(0, "doctor", "--source=bitbucket-cloud", "--workspace=labs")
	for _, want := range []string{"• Bitbucket credential: access token (BITBUCKET_CLOUD_API_TOKEN)", "• Bitbucket token: no token exchange",
		"✓ workspaces: 1 workspace given with --workspace (labs)", "• Bitbucket limit: 2,000 requests an hour, from Bitbucket's announcement"} {
		if !strings.Contains(d.Stdout, want) {
			t.Errorf("doctor lacks %q:\n%s", want, d.Stdout)
		}
	}
	if n := e.Sim.Count("bitbucket.403.elsewhere"); n != 0 {
		t.Errorf("%d requests for a workspace not the token's", n)
	}
	if strings.Contains(e.allOutput(d), "labs-access-token-0123456789") {
		t.Error("the access token is in the output")
	}
}
