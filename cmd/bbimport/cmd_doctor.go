package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
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
	rt       *runtime
}

// explain is explain() that first recognises a network failure waiting
// cannot fix: its fix names the proxy, CA or base URL setting, never the
// credentials the request never got to present.
func (d *doctor) explain(err error) (problem, fix string, auth bool) {
	if ne, ok := httpx.AsNetError(err); ok && d.rt != nil {
		problem, fix = d.rt.explainNet(ne)
		return problem, fix, false
	}
	return explain(err)
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

func newDoctorCommand(rt *runtime) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the set-up: variables, log directory, Bitbucket token and scopes, workspaces, repositories, Snyk token, group, org integrations",
		Description: "Each check prints one line: ✓ with what was found, or ✗ with what is wrong and the fix.\n" +
			"Exits 0 when every check passed, 4 when a credential was rejected, 1 when another check failed.",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "source", Value: sourceApp, Usage: "bitbucket-cloud-app (OAuth consumer) or bitbucket-cloud"},
			&cli.StringFlag{Name: "sourceUrl", Usage: "Bitbucket API base (else BITBUCKET_APP_API_BASE)"},
			&cli.StringFlag{Name: "groupId", Usage: "Snyk group to check the token against (else the groups named in --orgsData)"},
			&cli.StringFlag{Name: "orgsData", Usage: "snyk-created-orgs.json: check each org has a Bitbucket integration"},
			&cli.StringSliceFlag{Name: "workspace", Usage: "check these workspace slugs instead of listing (repeatable)"},
			&cli.IntFlag{Name: "maxWorkspaces", Value: doctorMaxWorkspaces, Usage: "read one repository page of at most this many workspaces (0: all; each read spends the hourly Bitbucket budget)"},
			&cli.StringFlag{Name: "integrationType", Usage: "the integration key import:data will use (default by source)"},
		}, commonFlags()...)),
		Action: func(c *cli.Context) error {
			rt.actionStarted = true
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
			d := &doctor{out: rt.Stdout, rt: rt}
			rt.doctorEnv(c, d, source)
			rt.doctorNetwork(c, d, source)
			rt.doctorBitbucket(c, d, source)
			if err := c.Context.Err(); err != nil {
				return err // interrupted: exit 130, not a failed check
			}
			group := rt.doctorSnyk(c, d, source)
			if err := c.Context.Err(); err != nil {
				return err
			}
			fmt.Fprintln(rt.Stdout)
			if d.failed > 0 {
				fmt.Fprintf(rt.Stdout, "%s failed, %d passed: fix the ✗ lines above and run bbimport doctor again.\n",
					plural(d.failed, "check"), d.passed)
				if d.authFailed {
					return &authError{errSilent}
				}
				return errSilent
			}
			if d.warned > 0 {
				fmt.Fprintf(rt.Stdout, "All %d checks passed, with %s (⚠ above).\n", d.passed, plural(d.warned, "warning"))
			} else {
				fmt.Fprintf(rt.Stdout, "All %d checks passed.\n", d.passed)
			}
			if group == "" {
				group = "<Snyk group id>"
			}
			rt.next("bbimport orgs:data --source=%s --groupId=%s", source, group)
			return nil
		},
	}
}

// doctorEnv checks that the variables are set (names only) and that the log
// directory is writable, and says whether a previous run's resume log is
// there (in CI: whether the artifact was restored).
func (rt *runtime) doctorEnv(c *cli.Context, d *doctor, source string) {
	var need []string
	switch source {
	case sourceApp:
		need = []string{"BITBUCKET_APP_CLIENT_ID", "BITBUCKET_APP_CLIENT_SECRET"}
	case sourceCloud:
		need = []string{}
	}
	if rt.env("SNYK_OAUTH_TOKEN") == "" {
		need = append(need, "SNYK_TOKEN")
	}
	if strings.TrimSpace(c.String("logPath")) == "" {
		need = append(need, "SNYK_LOG_PATH")
	}
	var missing, set []string
	for _, v := range need {
		if rt.env(v) == "" {
			missing = append(missing, v)
		} else {
			set = append(set, v)
		}
	}
	if source == sourceCloud {
		if creds, err := bitbucket.CredentialsFromEnv(rt.Getenv); err != nil {
			missing = append(missing, "BITBUCKET_CLOUD_*")
			d.fail("Bitbucket credentials", err.Error(), "set BITBUCKET_CLOUD_USERNAME + BITBUCKET_CLOUD_PASSWORD, or BITBUCKET_CLOUD_API_TOKEN, or BITBUCKET_CLOUD_OAUTH_TOKEN")
		} else {
			set = append(set, cloudVars(creds.Kind)...)
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

	dir, err := rt.logPath(c)
	if err != nil {
		if rt.env("SNYK_LOG_PATH") != "" || strings.TrimSpace(c.String("logPath")) != "" {
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
	resume := filepath.Join(dir, importer.ImportedTargetsLog)
	if n, err := countFileLines(resume); err == nil {
		d.ok("log directory", "%s is writable; %s has %s from earlier runs, import will skip what they did", dir, importer.ImportedTargetsLog, plural(n, "line"))
	} else {
		d.ok("log directory", "%s is writable; no %s yet (first run; in CI, restore the directory from the previous run so import resumes)", dir, importer.ImportedTargetsLog)
	}
}

func cloudVars(k bitbucket.AuthKind) []string {
	switch k {
	case bitbucket.AuthUser:
		return []string{bitbucket.EnvCloudUsername, bitbucket.EnvCloudPassword}
	case bitbucket.AuthAPIToken:
		return []string{bitbucket.EnvCloudAPIToken}
	case bitbucket.AuthOAuthToken:
		return []string{bitbucket.EnvCloudOAuthToken}
	}
	return nil
}

func countFileLines(path string) (int, error) {
	f, err := os.Open(path)
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

func (rt *runtime) doctorBitbucket(c *cli.Context, d *doctor, source string) {
	ctx := c.Context
	const token, wsCheck, repoCheck = "Bitbucket token", "workspaces", "repositories"
	if source == sourceApp && (rt.env("BITBUCKET_APP_CLIENT_ID") == "" || rt.env("BITBUCKET_APP_CLIENT_SECRET") == "") {
		d.skip(token, "BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET are needed")
		d.skip(wsCheck, "no Bitbucket credentials")
		d.skip(repoCheck, "no Bitbucket credentials")
		return
	}
	bb, err := rt.newBitbucket(c, source)
	if err != nil {
		d.clientFailed("Bitbucket client", err)
		d.skip(wsCheck, "no Bitbucket client")
		d.skip(repoCheck, "no Bitbucket client")
		return
	}
	if bb.Tokens != nil {
		scopes, err := bb.Tokens.Scopes(ctx)
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

	slugs := c.StringSlice("workspace")
	if len(slugs) == 0 {
		for ws, err := range bb.ListWorkspaces(ctx) {
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
	if max := c.Int("maxWorkspaces"); max > 0 && len(check) > max {
		check = check[:max]
	}
	type wsErr struct {
		slug string
		err  error
	}
	var errs []wsErr
	for _, ws := range check {
		err := firstRepoPage(ctx, bb.Client, ws)
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

func firstRepoPage(ctx context.Context, c *bitbucket.Client, ws string) error {
	_, _, err := c.ListRepositoriesPage(ctx, ws, &bitbucket.RepositoryListOptions{PageLen: 1}, "")
	return err
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
func (rt *runtime) doctorSnyk(c *cli.Context, d *doctor, source string) string {
	ctx := c.Context
	const tokenCheck, orgsCheck = "Snyk token", "orgs"
	if rt.env("SNYK_TOKEN") == "" && rt.env("SNYK_OAUTH_TOKEN") == "" {
		d.skip(tokenCheck, "SNYK_TOKEN is not set")
		return ""
	}
	sn, err := rt.newSnyk(c)
	if err != nil {
		d.clientFailed("Snyk client", err)
		return ""
	}
	orgsFile := strings.TrimSpace(c.String("orgsData"))
	var orgs []importer.CreatedOrg
	if orgsFile != "" {
		if orgs, err = importer.ReadCreatedOrgsFile(orgsFile); err != nil {
			d.fail("orgs file", err.Error(), "pass the snyk-created-orgs.json written by orgs:create")
			orgsFile = ""
		}
	}
	groups := []string{}
	if g := strings.TrimSpace(c.String("groupId")); g != "" {
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
		page, err := sn.ListGroupOrgsPage(ctx, g, 1, 1)
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
	rt.doctorOrgs(ctx, d, sn, orgs, orgsFile, source, strings.TrimSpace(c.String("integrationType")))
	return group
}

// doctorOrgs checks that each org of the created-orgs file has an
// integration import:data can use, and names the key.
func (rt *runtime) doctorOrgs(ctx context.Context, d *doctor, sn *snyk.Client, orgs []importer.CreatedOrg, file, source, integrationType string) {
	const check = "orgs"
	cands := importer.IntegrationCandidates(source, integrationType)
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

// explain splits an error into what is wrong and the fix, for the errors a
// set-up produces; auth reports a rejected credential. Other errors keep
// their own text, which for our clients' errors already says what to do.
func explain(err error) (problem, fix string, auth bool) {
	var (
		te *bitbucket.TokenError
		be *bitbucket.ErrorResponse
		se *snyk.ErrorResponse
	)
	switch {
	case errors.As(err, &te):
		detail := te.Code
		if te.Description != "" {
			detail += ": " + te.Description
		}
		switch te.Code {
		case "invalid_client":
			return "Bitbucket rejected the OAuth consumer key or secret (" + detail + ")",
				"set BITBUCKET_APP_CLIENT_ID to the consumer's Key and BITBUCKET_APP_CLIENT_SECRET to its Secret (Bitbucket → Workspace settings → OAuth consumers → click the consumer's name)", true
		case "unauthorized_client":
			return "the OAuth consumer is public (" + detail + "); client_credentials needs a private consumer",
				"in Bitbucket → Workspace settings → OAuth consumers → Edit, tick 'This is a private consumer' and save; the key and secret stay the same", true
		case "invalid_scope":
			return "the consumer does not have the permissions asked for (" + detail + ")",
				"in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick Account: Read, Workspace membership: Read, Repositories: Read and Projects: Read", true
		case "invalid_grant":
			return "Bitbucket refused the client_credentials grant (" + detail + ")",
				"check that BITBUCKET_APP_TOKEN_URL is unset or " + bitbucket.DefaultTokenURL + ", and that the consumer is private", true
		}
		return te.Error(), "", bitbucket.IsAuthError(err)
	case errors.As(err, &be) && be.HTTPStatus() == http.StatusForbidden && (be.AuthKind == bitbucket.AuthOAuthConsumer || be.AuthKind == bitbucket.AuthUnknown):
		scope := ""
		if len(be.RequiredScopes) > 0 {
			scope = be.RequiredScopes[0]
		} else if be.Workspace != "" {
			scope = "repository"
		}
		if scope == "" {
			return be.Error(), "", false
		}
		granted := strings.Join(be.GrantedScopes, " ")
		if granted == "" {
			granted = "not listed"
		}
		label := map[string]string{"account": "Account: Read", "repository": "Repositories: Read", "project": "Projects: Read"}[strings.TrimSuffix(scope, ":write")]
		if label == "" {
			label = scope
		}
		return fmt.Sprintf("Bitbucket answered 403: the OAuth consumer lacks the %q permission (granted: %s)", scope, granted),
			fmt.Sprintf("in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick '%s' and save; the key and secret stay the same", label), false
	case errors.As(err, &be):
		return be.Error(), "", bitbucket.IsAuthError(err)
	case errors.As(err, &se):
		switch {
		case se.StatusCode == http.StatusUnauthorized:
			return fmt.Sprintf("Snyk rejected SNYK_TOKEN (401%s)", snykMessage(se)),
				"set SNYK_TOKEN to a valid API token (Snyk → Account settings → API token, or a service account token of the group), and check SNYK_API is your region's API (https://api.snyk.io/v1, https://api.eu.snyk.io/v1, https://api.au.snyk.io/v1)", true
		case se.StatusCode == http.StatusForbidden:
			return fmt.Sprintf("Snyk refused the token access to %s (403%s)", snykSubject(se), snykMessage(se)),
				"use the token of a Group Admin, or of a service account of the group with the Group Admin role", false
		case se.StatusCode == http.StatusNotFound && se.GroupID != "" && !snykV1Path(se):
			// Every call 404s when SNYK_API is not a v1 base: the group id is
			// not what to check first.
			return fmt.Sprintf("Snyk answered 404 for group %q, and SNYK_API does not point at a v1 API", se.GroupID),
				"set SNYK_API to your region's API (https://api.snyk.io, https://api.eu.snyk.io, https://api.au.snyk.io; /v1 is added), then run doctor again", false
		case se.StatusCode == http.StatusNotFound && se.GroupID != "":
			return fmt.Sprintf("Snyk has no group %q visible to this token (404)", se.GroupID),
				"check --groupId (Snyk → Group settings → General → Group ID) and that SNYK_API is the region the group lives in", false
		case se.StatusCode == http.StatusNotFound && se.OrgID != "":
			return fmt.Sprintf("Snyk has no org %q visible to this token (404)", se.OrgID),
				"run orgs:create again to refresh snyk-created-orgs.json, and check SNYK_API is the right region", false
		}
		return se.Error(), "", false
	}
	return err.Error(), "", false
}

// snykV1Path reports whether the failed request went to a v1 API path
// (…/v1/… or …/api/v1/…), as every v1 call of a right SNYK_API does.
func snykV1Path(se *snyk.ErrorResponse) bool {
	if se.Response == nil || se.Response.Request == nil || se.Response.Request.URL == nil {
		return true
	}
	p := se.Response.Request.URL.Path
	return strings.HasPrefix(p, "/v1/") || strings.Contains(p, "/v1/group/") || strings.Contains(p, "/v1/org/")
}

func snykSubject(se *snyk.ErrorResponse) string {
	switch {
	case se.OrgID != "":
		return fmt.Sprintf("org %q", se.OrgID)
	case se.GroupID != "":
		return fmt.Sprintf("group %q", se.GroupID)
	}
	return "the resource"
}

func snykMessage(se *snyk.ErrorResponse) string {
	if se.Message == "" {
		return ""
	}
	return ": " + se.Message
}

func orDash(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
