package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/urfave/cli/v2"
)

// doctor checks the set-up one step at a time. Every check is one line on
// stdout: ✓ and what was found, or ✗, what is wrong and the fix, so that a
// CI log grepped for ✗ says what to do. Warnings (⚠) do not fail the run;
// "-" marks a check that could not run because an earlier one failed. It
// never prints a secret: only variable names, URLs, counts, slugs and scopes
// (and stdout is redacted besides).
type doctor struct {
	out                    io.Writer
	passed, failed, warned int
	// authFailed: a credential was rejected (exit 4 rather than 1).
	authFailed bool
	// caFailed: the extra CA bundle check failed (every client fails with it).
	caFailed bool
	opts     *doctorOptions
}

// explain is the run's explain, for a doctor line: the problem with the
// request it was about, the fix, and whether a credential was rejected
// (exit 4 rather than 1). A network failure's fix names the proxy, CA or
// base URL setting, never the credentials the request never got to present.
func (d *doctor) explain(err error) (problem, fix string, auth bool) {
	explain := d.opts.Explain
	if explain == nil {
		explain = (*invocation)(nil).explain
	}
	problem, fix, code := explain(err)
	return withDetails(problem, err), fix, code == exitAuth
}

func (d *doctor) ok(check, format string, a ...any) {
	d.passed++
	fmt.Fprintf(d.out, "✓ %s: %s\n", check, fmt.Sprintf(format, a...))
}

func (d *doctor) fail(check, problem, fix string) {
	d.failed++
	fmt.Fprintf(d.out, "✗ %s: %s%s\n", check, problem, fixSuffix(fix))
}

func (d *doctor) warn(check, problem, fix string) {
	d.warned++
	fmt.Fprintf(d.out, "⚠ %s: %s%s\n", check, problem, fixSuffix(fix))
}

// info prints a fact that is not a check (it neither passes nor fails).
func (d *doctor) info(check, format string, a ...any) {
	fmt.Fprintf(d.out, "• %s: %s\n", check, fmt.Sprintf(format, a...))
}

func (d *doctor) skip(check, why string) { fmt.Fprintf(d.out, "- %s: not checked, %s\n", check, why) }

// failErr reports a failed check from an error, explained.
func (d *doctor) failErr(check string, err error, fallbackFix string) {
	problem, fix, auth := d.explain(err)
	if fix == "" {
		fix = fallbackFix
	}
	if auth {
		d.authFailed = true
	}
	d.fail(check, problem, fix)
}

// clientFailed reports a client that could not be built; a CA bundle
// already reported by the network check is not reported again.
func (d *doctor) clientFailed(check string, err error) {
	var be *httpx.CABundleError
	if d.caFailed && errors.As(err, &be) {
		d.skip(check, "the CA certificates above cannot be used")
		return
	}
	d.failErr(check, err, "")
}

func fixSuffix(fix string) string {
	if fix == "" {
		return ""
	}
	return " — fix: " + fix
}

// doctorMaxWorkspaces bounds the repository check: every request counts
// against the consumer's hourly Bitbucket budget that the real run needs.
const doctorMaxWorkspaces = 25

func newDoctorCommand(rt *invocation) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the set-up: variables, log directory, Bitbucket token and scopes, workspaces, repositories, Snyk token, group, org integrations",
		Description: "Each check prints one line: ✓ with what was found, or ✗ with what is wrong and the fix.\n" +
			"Exits 0 when every check passed, 4 when a credential was rejected, 1 when another check failed.",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "source", Value: sourceApp, Usage: sourceUsage},
			&cli.StringFlag{Name: "sourceUrl", Usage: "Bitbucket API base (else BITBUCKET_APP_API_BASE)"},
			&cli.StringFlag{Name: "groupId", Usage: "Snyk group to check the token against (else the groups named in --orgsData)"},
			&cli.StringFlag{Name: "orgsData", Usage: "snyk-created-orgs.json: check each org has a Bitbucket integration"},
			&cli.StringSliceFlag{Name: "workspace", Usage: "check these workspace slugs instead of listing (repeatable)"},
			&cli.IntFlag{Name: "maxWorkspaces", Value: doctorMaxWorkspaces, Usage: "read one repository page of at most this many workspaces (0: all; each read spends the hourly Bitbucket budget)"},
			&cli.StringFlag{Name: "integrationType", Usage: "the integration key import:data will use (default by source)"},
		}, commonFlags()...)),
		Action: func(c *cli.Context) error {
			rt.actionStarted = true
			rt.parsed() // see urfaveGlobals
			if err := rt.setupLogging(c); err != nil {
				return err
			}
			if c.Args().Len() > 0 {
				return usagef("unexpected argument %q; flags take the form --name=value", c.Args().First())
			}
			if err := rt.checkBudgetFlags(c); err != nil {
				return err
			}
			source, err := checkSource(c.String("source"))
			if err != nil {
				return err
			}
			opts := &doctorOptions{
				Source: source, GroupID: strings.TrimSpace(c.String("groupId")), OrgsData: strings.TrimSpace(c.String("orgsData")),
				IntegrationType: strings.TrimSpace(c.String("integrationType")),
				Workspaces:      c.StringSlice("workspace"), MaxWorkspaces: c.Int("maxWorkspaces"),
				LogPathFlag: strings.TrimSpace(c.String("logPath")) != "",
				Getenv:      rt.Getenv,
				LogDir:      func() (string, error) { return rt.logPath(c) },
				Network:     func(d *doctor) { rt.doctorNetwork(c, d, source) },
				Bitbucket: func() (doctorBitbucket, error) {
					bb, err := rt.newBitbucket(c, source)
					if err != nil {
						return nil, err
					}
					return bitbucketDoctor{bb}, nil
				},
				Snyk:    func() (doctorSnyk, error) { return rt.newSnyk(c) },
				Explain: rt.explain,
				IO:      rt.commandIO(nil),
			}
			return runDoctor(c.Context, opts)
		},
	}
}

// doctorOptions are doctor's checked flags and its dependencies, so that
// runDoctor can be called with fake APIs and a fake environment.
type doctorOptions struct {
	Source, GroupID, OrgsData, IntegrationType string
	Workspaces                                 []string
	MaxWorkspaces                              int
	// LogPathFlag: --logPath was given (so SNYK_LOG_PATH is not needed).
	LogPathFlag bool

	// Getenv reads the environment (names are checked, values never shown).
	Getenv func(string) string
	// LogDir resolves the log directory (--logPath, else SNYK_LOG_PATH).
	LogDir func() (string, error)
	// Network prints the API bases, proxies and CA lines; nil prints none.
	Network func(*doctor)
	// Bitbucket and Snyk build the clients, once their variables are set.
	Bitbucket func() (doctorBitbucket, error)
	Snyk      func() (doctorSnyk, error)
	// Explain words an error (the invocation's explain); nil: without the
	// run's base URLs.
	Explain func(error) (problem, fix string, exitCode int)
	IO      *commandIO
}

// doctorBitbucket is what doctor reads from Bitbucket.
type doctorBitbucket interface {
	// TokenScopes exchanges the consumer's credentials for a token and says
	// the scopes granted; exchanged is false for a source without a token
	// exchange (bitbucket-cloud), which checks nothing here.
	TokenScopes(ctx context.Context) (scopes []string, exchanged bool, err error)
	ListWorkspacesIter(ctx context.Context) iter.Seq2[bitbucket.Workspace, error]
	// FirstRepoPage reads one repository of a workspace.
	FirstRepoPage(ctx context.Context, workspace string) error
}

// doctorSnyk is what doctor reads from Snyk (*snykClient satisfies it).
type doctorSnyk interface {
	ListGroupOrgs(ctx context.Context, groupID string, page, perPage int) (*snyk.GroupOrgs, error)
	ListIntegrations(ctx context.Context, orgID string) (map[string]string, error)
	BaseURL() *url.URL
	// Credential is the credential the stack carries and what the
	// environment said of it; nil when there is none to look at.
	Credential() (*credential.Credential, credentialSpec)
}

// bitbucketDoctor is the real client as doctor reads it.
type bitbucketDoctor struct{ *bitbucketClient }

func (b bitbucketDoctor) TokenScopes(ctx context.Context) ([]string, bool, error) {
	return b.Cred.Scopes(ctx)
}

func (b bitbucketDoctor) FirstRepoPage(ctx context.Context, ws string) error {
	_, _, err := b.Client.ListRepositories(ctx, ws, &bitbucket.RepositoryListOptions{PageLen: 1}, "")
	return err
}

func runDoctor(ctx context.Context, opts *doctorOptions) error {
	out := opts.IO.Out
	d := &doctor{out: out, opts: opts}
	d.checkEnv()
	if opts.Network != nil {
		opts.Network(d)
	}
	d.checkBitbucket(ctx)
	if err := ctx.Err(); err != nil {
		return err // interrupted: exit 130, not a failed check
	}
	group := d.checkSnyk(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if d.failed > 0 {
		fmt.Fprintf(out, "%s failed, %d passed: fix the ✗ lines above and run bbimport doctor again.\n",
			plural(d.failed, "check"), d.passed)
		if d.authFailed {
			return &authError{errSilent}
		}
		return errSilent
	}
	if d.warned > 0 {
		fmt.Fprintf(out, "All %d checks passed, with %s (⚠ above).\n", d.passed, plural(d.warned, "warning"))
	} else {
		fmt.Fprintf(out, "All %d checks passed.\n", d.passed)
	}
	if group == "" {
		group = "<Snyk group id>"
	}
	opts.IO.next(ctx, "bbimport orgs:data --source=%s --groupId=%s", opts.Source, group)
	return nil
}

// env is a variable of the run, trimmed.
func (d *doctor) env(name string) string { return strings.TrimSpace(d.opts.Getenv(name)) }

// doctorEnv checks that the variables are set (names only) and that the log
// directory is writable, and says whether a previous run's resume log is
// there (in CI: whether the artifact was restored).
func (d *doctor) checkEnv() {
	source := d.opts.Source
	var need []string
	switch source {
	case sourceApp:
		need = []string{envAppClientID, envAppClientSecret}
	case sourceCloud:
		need = []string{}
	}
	if spec, err := snykCredentialSpec(d.env, snyk.DefaultBaseURL); err == nil {
		need = append(need, credentialVars(spec.kind)...)
	} else if d.env(envSnykClientID) != "" || d.env(envSnykClientSecret) != "" {
		d.fail("Snyk credential", err.Error(), "")
	} else {
		need = append(need, envSnykToken)
	}
	if !d.opts.LogPathFlag {
		need = append(need, "SNYK_LOG_PATH")
	}
	var missing, set []string
	for _, v := range need {
		if d.env(v) == "" {
			missing = append(missing, v)
		} else {
			set = append(set, v)
		}
	}
	if source == sourceCloud {
		if spec, err := cloudCredentialSpec(d.env); err != nil {
			missing = append(missing, "BITBUCKET_CLOUD_*")
			d.fail("Bitbucket credentials", err.Error(), "set BITBUCKET_CLOUD_USERNAME + BITBUCKET_CLOUD_PASSWORD, or BITBUCKET_CLOUD_API_TOKEN, or BITBUCKET_CLOUD_OAUTH_TOKEN")
		} else {
			set = append(set, credentialVars(spec.kind)...)
		}
	}
	if len(missing) > 0 && !(len(missing) == 1 && missing[0] == "BITBUCKET_CLOUD_*") {
		var names []string
		for _, m := range missing {
			if m != "BITBUCKET_CLOUD_*" {
				names = append(names, m)
			}
		}
		d.fail("environment", "not set: "+strings.Join(names, ", "),
			"export each of them, from your CI's secret store for secrets (README → Environment variables)")
	} else if len(missing) == 0 {
		d.ok("environment", "%s set", strings.Join(set, ", "))
	}

	for _, name := range secretVars {
		if v := d.env(name); v != "" && len(v) < redact.MinSafeLen {
			d.warn("secrets", fmt.Sprintf("%s is %s long: bbimport masks secrets this short only where they stand alone, so logs may still show it inside longer text", name, plural(len(v), "character")),
				"use the real secret (OAuth consumer secrets have 32 characters, Snyk tokens 36)")
		}
	}

	dir, err := d.opts.LogDir()
	if err != nil {
		if d.env("SNYK_LOG_PATH") != "" || d.opts.LogPathFlag {
			d.fail("log directory", err.Error(), "")
		}
		return
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		d.fail("log directory", fmt.Sprintf("%s is not writable: %v", dir, err), "point SNYK_LOG_PATH at a directory this user can write")
		return
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	resume := filepath.Join(dir, importfiles.ImportedTargetsLog)
	n, err := countFileLines(resume)
	var refused *safefile.Error
	switch {
	case errors.As(err, &refused):
		d.fail("log directory", err.Error()+" (import would refuse it too)", refusedFix(refused))
	case err == nil:
		d.ok("log directory", "%s is writable; %s has %s from earlier runs, import will skip what they did", dir, importfiles.ImportedTargetsLog, plural(n, "line"))
	default:
		d.ok("log directory", "%s is writable; no %s yet (first run; in CI, restore the directory from the previous run so import resumes)", dir, importfiles.ImportedTargetsLog)
	}
}

func countFileLines(path string) (int, error) {
	f, err := safefile.Open(path, os.O_RDONLY, 0, safefile.Rules{})
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	r := bufio.NewReaderSize(f, 64<<10)
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (d *doctor) checkBitbucket(ctx context.Context) {
	source := d.opts.Source
	const token, wsCheck, repoCheck = "Bitbucket token", "workspaces", "repositories"
	if source == sourceApp && (d.env("BITBUCKET_APP_CLIENT_ID") == "" || d.env("BITBUCKET_APP_CLIENT_SECRET") == "") {
		d.skip(token, "BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET are needed")
		d.skip(wsCheck, "no Bitbucket credentials")
		d.skip(repoCheck, "no Bitbucket credentials")
		return
	}
	bb, err := d.opts.Bitbucket()
	if err != nil {
		d.clientFailed("Bitbucket client", err)
		d.skip(wsCheck, "no Bitbucket client")
		d.skip(repoCheck, "no Bitbucket client")
		return
	}
	if scopes, exchanged, err := bb.TokenScopes(ctx); exchanged {
		if err != nil {
			d.failErr(token, err, "check BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET and BITBUCKET_APP_TOKEN_URL")
			d.skip(wsCheck, "no Bitbucket token")
			d.skip(repoCheck, "no Bitbucket token")
			return
		}
		granted := strings.Join(scopes, " ")
		if granted == "" {
			granted = "(Bitbucket did not say)"
		}
		d.ok(token, "client_credentials exchange works; scopes granted: %s", granted)
		var missing []string
		for _, s := range []string{"account", "repository"} {
			if len(scopes) > 0 && !hasScope(scopes, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			d.warn("Bitbucket scopes", fmt.Sprintf("the consumer lacks %s (needed to %s)", quoteJoin(missing), scopeUses(missing)),
				fmt.Sprintf("in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick %s and save; the key and secret stay the same", scopeBoxes(missing)))
		}
	}

	slugs := d.opts.Workspaces
	if len(slugs) == 0 {
		for ws, err := range bb.ListWorkspacesIter(ctx) {
			if err != nil {
				d.failErr(wsCheck, err, "")
				d.skip(repoCheck, "no workspace list")
				return
			}
			slugs = append(slugs, ws.Slug)
		}
		if len(slugs) == 0 {
			d.fail(wsCheck, "none visible to these credentials (no workspaces found)",
				"the consumer's owner must be a member of each workspace to import; or pass --workspace=<slug> (as in bitbucket.org/<slug>) to doctor and orgs:data")
			d.skip(repoCheck, "no workspace")
			return
		}
		d.ok(wsCheck, "%d visible (%s)", len(slugs), firstFew(slugs, 5))
	} else {
		d.ok(wsCheck, "%s given with --workspace (%s)", plural(len(slugs), "workspace"), firstFew(slugs, 5))
	}

	check := slugs
	if max := d.opts.MaxWorkspaces; max > 0 && len(check) > max {
		check = check[:max]
	}
	type wsErr struct {
		slug string
		err  error
	}
	var errs []wsErr
	for _, ws := range check {
		err := bb.FirstRepoPage(ctx, ws)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		errs = append(errs, wsErr{ws, err})
	}
	failures := groupByCause(errs, func(w wsErr) (string, error) { return "", w.err })
	for _, f := range failures {
		problem, fix, auth := d.explain(f.err)
		if auth {
			d.authFailed = true
		}
		slugs := make([]string, len(f.items))
		for i, w := range f.items {
			slugs[i] = w.slug
		}
		what := fmt.Sprintf("cannot list %d of %d (%s): %s", len(slugs), len(check), firstFew(slugs, 5), problem)
		d.fail(repoCheck, what, fix)
	}
	if len(failures) == 0 {
		note := ""
		if len(check) < len(slugs) {
			note = fmt.Sprintf(" (checked the first %d of %d; --maxWorkspaces=0 checks all)", len(check), len(slugs))
		}
		d.ok(repoCheck, "first page readable in each of %s%s", plural(len(check), "workspace"), note)
	}
}

// hasScope accepts a scope that implies it ("project" and "pullrequest"
// imply "repository"; bitbucket.ScopeGranted has the list).
func hasScope(granted []string, scope string) bool {
	return bitbucket.ScopeGranted(granted, scope)
}

func quoteJoin(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " and ")
}

func scopeUses(scopes []string) string {
	uses := map[string]string{"account": "list workspaces", "repository": "list repositories"}
	var out []string
	for _, s := range scopes {
		out = append(out, uses[s])
	}
	return strings.Join(out, " and ")
}

func scopeBoxes(scopes []string) string {
	boxes := map[string]string{"account": "Account: Read", "repository": "Repositories: Read"}
	var out []string
	for _, s := range scopes {
		out = append(out, "'"+boxes[s]+"'")
	}
	return strings.Join(out, " and ")
}

func firstFew(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", … %d more", len(s)-n)
}

// doctorSnyk checks the token against the group(s), then each org of the
// created-orgs file for a Bitbucket integration. It returns the group id
// checked, for the next command.
func (d *doctor) checkSnyk(ctx context.Context) string {
	const tokenCheck, orgsCheck = "Snyk token", "orgs"
	if d.env(envSnykToken) == "" && d.env(envSnykOAuthToken) == "" && (d.env(envSnykClientID) == "" || d.env(envSnykClientSecret) == "") {
		d.skip(tokenCheck, "no Snyk credential is set (SNYK_CLIENT_ID + SNYK_CLIENT_SECRET, or SNYK_TOKEN)")
		return ""
	}
	sn, err := d.opts.Snyk()
	if err != nil {
		d.clientFailed("Snyk client", err)
		return ""
	}
	if !d.checkSnykCredential(ctx, sn) {
		d.skip(tokenCheck, "no Snyk token")
		return ""
	}
	orgsFile := d.opts.OrgsData
	var orgs []importfiles.CreatedOrg
	if orgsFile != "" {
		if orgs, err = importfiles.ReadCreatedOrgsFile(orgsFile); err != nil {
			d.fail("orgs file", err.Error(), "pass the snyk-created-orgs.json written by orgs:create")
			orgsFile = ""
		}
	}
	groups := []string{}
	if g := d.opts.GroupID; g != "" {
		groups = append(groups, g)
	} else {
		for _, o := range orgs {
			if o.GroupID != "" && !slices.Contains(groups, o.GroupID) {
				groups = append(groups, o.GroupID)
			}
		}
	}
	if len(groups) == 0 {
		d.skip(tokenCheck, "pass --groupId=<Snyk group id> (doctor checks the token by reading the group) and --orgsData=snyk-created-orgs.json to check each org's integration")
		if orgsFile == "" {
			return ""
		}
	}
	if len(groups) > 5 {
		groups = groups[:5]
	}
	tokenOK := false
	for _, g := range groups {
		page, err := sn.ListGroupOrgs(ctx, g, 1, 1)
		var se *snyk.ErrorResponse
		switch {
		case err == nil:
			if !tokenOK {
				d.ok(tokenCheck, "accepted by %s", strings.TrimSuffix(sn.BaseURL().String(), "/"))
				tokenOK = true
			}
			name := page.Name
			if name == "" {
				name = g
			}
			d.ok("Snyk group", "%q (%s) readable", name, g)
		case errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized:
			d.failErr(tokenCheck, err, "")
			d.skip("Snyk group", "the token was rejected")
			if orgsFile != "" {
				d.skip(orgsCheck, "the token was rejected")
			}
			return g
		default:
			if errors.As(err, &se) && !tokenOK {
				d.ok(tokenCheck, "accepted by %s", strings.TrimSuffix(sn.BaseURL().String(), "/"))
				tokenOK = true
			}
			d.failErr("Snyk group "+g, err, "")
		}
	}
	group := ""
	if len(groups) > 0 {
		group = groups[0]
	}
	if orgsFile == "" {
		return group
	}
	d.checkOrgs(ctx, sn, orgs, orgsFile)
	return group
}

// doctorOrgs checks that each org of the created-orgs file has an
// integration import:data can use, and names the key.
func (d *doctor) checkOrgs(ctx context.Context, sn doctorSnyk, orgs []importfiles.CreatedOrg, file string) {
	const check = "orgs"
	cands := importer.IntegrationCandidates(d.opts.Source, d.opts.IntegrationType)
	keys := map[string]int{}
	var without []string // "Name (id): has a, b"
	type orgErr struct {
		name string
		err  error
	}
	var errs []orgErr
	for _, o := range orgs {
		ints, err := sn.ListIntegrations(ctx, o.OrgID)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			errs = append(errs, orgErr{o.Name, err})
			continue
		}
		key := ""
		for _, k := range cands {
			if ints[k] != "" {
				key = k
				break
			}
		}
		if key == "" {
			have := make([]string, 0, len(ints))
			for k := range ints {
				have = append(have, k)
			}
			slices.Sort(have)
			without = append(without, fmt.Sprintf("%q (%s, has: %s)", o.Name, o.OrgID, orDash(strings.Join(have, ", "))))
			continue
		}
		keys[key]++
	}
	causes := groupByCause(errs, func(o orgErr) (string, error) { return "", o.err })
	for _, g := range causes {
		problem, fix, auth := d.explain(g.err)
		if auth {
			d.authFailed = true
		}
		names := make([]string, len(g.items))
		for i, o := range g.items {
			names[i] = o.name
		}
		d.fail(check, fmt.Sprintf("cannot read the integrations of %d of %d orgs (%s): %s", len(names), len(orgs), firstFew(names, 5), problem), fix)
	}
	if len(without) > 0 {
		d.fail(check, fmt.Sprintf("no %s integration in %d of %d orgs of %s: %s", strings.Join(cands, " or "), len(without), len(orgs), filepath.Base(file), firstFew(without, 5)),
			"in Snyk, open each org → Integrations → Bitbucket Cloud App and connect it (or create the orgs with --sourceOrgPublicId of an org that has it, or pass --integrationType=<a key they have> to import:data)")
	}
	if len(without) == 0 && len(causes) == 0 {
		var used []string
		for _, k := range cands {
			if keys[k] > 0 {
				used = append(used, fmt.Sprintf("%s: %d", k, keys[k]))
			}
		}
		d.ok(check, "all %d orgs in %s have a Bitbucket integration (%s)", len(orgs), filepath.Base(file), orDash(strings.Join(used, ", ")))
	}
}

// causeKey groups errors that have the same cause whatever workspace or org
// they were about.
func causeKey(err error) string {
	var (
		be *bitbucket.ErrorResponse
		se *snyk.ErrorResponse
	)
	switch {
	case errors.As(err, &be):
		return fmt.Sprintf("bitbucket %d %s", be.HTTPStatus(), strings.Join(be.RequiredScopes, ","))
	case errors.As(err, &se):
		return fmt.Sprintf("snyk %d", se.StatusCode)
	}
	return err.Error()
}

func orDash(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
