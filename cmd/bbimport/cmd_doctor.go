package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/doctor"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/routing"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/urfave/cli/v2"
)

// doctorMaxWorkspaces bounds the repository check: every request counts
// against the consumer's hourly Bitbucket budget that the real run needs.
const doctorMaxWorkspaces = 25

func newDoctorCommand(rt *invocation, run func(context.Context, *doctorOptions) error) *cli.Command {
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
		// Doctor only reads: no stage summary, no lock, and a missing log
		// directory or credential is a failed check, not a usage error.
		Action: func(c *cli.Context) error {
			g, err := rt.begin(c)
			if err != nil {
				return err
			}
			opts, err := bindDoctor(c, g, rt)
			if err != nil {
				return err
			}
			return run(c.Context, opts)
		},
	}
}

// doctorAttemptTimeout bounds each of doctor's requests: one page each;
// doctorRetries are the retries of an answer that may pass (5xx).
const (
	doctorAttemptTimeout = 4 * time.Second
	doctorRetries        = 2
)

// doctorOptions are doctor's checks (doctor.Options: the checked flags, the
// environment, the clients) and where its report goes.
type doctorOptions struct {
	Checks doctor.Options
	IO     *commandIO
}

func bindDoctor(c *cli.Context, g globalOptions, rt *invocation) (*doctorOptions, error) {
	source, err := checkSource(c.String("source"))
	if err != nil {
		return nil, err
	}
	f, x := rt.clients, explainer{rt.net}
	// A check is one question, answered soon: an API that cannot be reached
	// is asked once and fails its check in seconds, naming the variable to
	// fix, instead of minutes of retries; a 5xx is asked again twice.
	f.tuning.OneConnectAttempt, f.tuning.RetryMax = true, doctorRetries
	if t := f.tuning.AttemptTimeout; t <= 0 || t > doctorAttemptTimeout {
		f.tuning.AttemptTimeout = doctorAttemptTimeout
	}
	network, caErr := doctorNetwork(rt.net, c.String("sourceUrl"), source)
	return &doctorOptions{IO: rt.commandIO(nil), Checks: doctor.Options{
		Source: source, GroupID: strings.TrimSpace(c.String("groupId")), OrgsData: strings.TrimSpace(c.String("orgsData")),
		IntegrationType: strings.TrimSpace(c.String("integrationType")),
		Workspaces:      c.StringSlice("workspace"), MaxWorkspaces: c.Int("maxWorkspaces"),
		Env: doctorEnv(source, rt.Getenv, strings.TrimSpace(c.String("logPath")) != "",
			func(from, v string) (string, error) { return inputPath(from, v, g.LogPath, g.LogPathFrom) }),
		LogDir:  g.requireLogDir,
		Network: network, CAFailed: caErr != nil,
		Bitbucket: func() (doctor.Bitbucket, error) {
			s, err := f.bitbucketSettings(source, c.String("sourceUrl"))
			if err != nil {
				return nil, err
			}
			r, err := f.newRouter(s, c.StringSlice("workspace"))
			if err != nil {
				return nil, err
			}
			return bitbucketDoctor{r}, nil
		},
		ListedNone: listedNone,
		Snyk: func() (doctor.Snyk, error) {
			s, err := f.snykSettings()
			if err != nil {
				return nil, err
			}
			return f.newSnyk(s)
		},
		Explain: x.doctorExplain,
		Now:     rt.Now,
	}}, nil
}

// runDoctor runs the checks, one line on stdout each: ✓ and what was found,
// or ✗, what is wrong and the fix, so that a CI log grepped for ✗ says what
// to do. Warnings (⚠) do not fail the run; "-" marks a check that could
// not run because an earlier one failed. It never prints a secret (and
// stdout is redacted besides).
func runDoctor(ctx context.Context, opts *doctorOptions) error {
	out := opts.IO.Out
	checks := opts.Checks
	checks.Report = func(l doctor.Line) { printCheck(out, l) }
	if checks.Now == nil {
		checks.Now = opts.IO.Now
	}
	if checks.Explain == nil {
		checks.Explain = explainer{}.doctorExplain
	}
	if checks.ListedNone == nil {
		checks.ListedNone = listedNone
	}
	res, err := doctor.Run(ctx, checks)
	if err != nil {
		return err // interrupted: exit 130, not a failed check
	}
	fmt.Fprintln(out)
	if res.Failed > 0 {
		fmt.Fprintf(out, "%s failed, %d passed: fix the ✗ lines above and run bbimport doctor again.\n",
			english.Plural(res.Failed, "check"), res.Passed)
		if res.AuthFailed {
			return &authError{errSilent}
		}
		return errSilent
	}
	if res.Warned > 0 {
		fmt.Fprintf(out, "All %d checks passed, with %s (⚠ above).\n", res.Passed, english.Plural(res.Warned, "warning"))
	} else {
		fmt.Fprintf(out, "All %d checks passed.\n", res.Passed)
	}
	group := res.Group
	if group == "" {
		group = "<Snyk group id>"
	}
	opts.IO.next(ctx, "bbimport orgs:data --source=%s --groupId=%s", checks.Source, group)
	return nil
}

// doctorExplain is explain for a doctor line: the problem with the request
// it was about, the fix, and whether a credential was rejected (exit 4
// rather than 1). A network failure's fix names the proxy, CA or base URL
// setting, never the credentials the request never got to present.
func (x explainer) doctorExplain(err error) (problem, fix string, auth bool) {
	problem, fix, code := x.explain(err)
	return withDetails(problem, err), fix, code == exitAuth
}

// printCheck renders one line of doctor's report.
func printCheck(w io.Writer, l doctor.Line) {
	switch l.Mark {
	case doctor.Pass:
		fmt.Fprintf(w, "✓ %s: %s\n", l.Check, l.Text)
	case doctor.Fail:
		fmt.Fprintf(w, "✗ %s: %s%s\n", l.Check, l.Text, fixSuffix(l.Fix))
	case doctor.Warn:
		fmt.Fprintf(w, "⚠ %s: %s%s\n", l.Check, l.Text, fixSuffix(l.Fix))
	case doctor.Info:
		fmt.Fprintf(w, "• %s: %s\n", l.Check, l.Text)
	case doctor.Skip:
		fmt.Fprintf(w, "- %s: not checked, %s\n", l.Check, l.Text)
	}
}

func fixSuffix(fix string) string {
	if fix == "" {
		return ""
	}
	return " — fix: " + fix
}

// doctorEnv is what doctor checks of the environment: the variables behind
// each credential, as the commands read them (credentials.go,
// bbcredentials.go).
func doctorEnv(source string, getenv func(string) string, logPathFlag bool, inputPath func(from, v string) (string, error)) doctor.Env {
	env := func(name string) string { return trimmedEnv(getenv, name) }
	e := doctor.Env{Getenv: getenv, LogPathFlag: logPathFlag, Secrets: secretVars}
	specs, listed, err := bitbucketCredentialList(env, inputPath, bitbucket.DefaultTokenURL, "default")
	switch {
	case listed && err != nil:
		e.Bitbucket.Err, e.Bitbucket.Fix = err, "fix the list of Bitbucket credentials (README \"Several Bitbucket credentials\")"
	case listed:
		e.Bitbucket.Ready = true
		e.Bitbucket.Have = []string{envBitbucketCredentials}
		if env(envBitbucketCredentialsFile) != "" {
			e.Bitbucket.Have = []string{envBitbucketCredentialsFile}
		}
		for _, s := range specs {
			e.Bitbucket.Have = append(e.Bitbucket.Have, s.variables()...)
			e.Secrets = append(e.Secrets, s.secretVariables()...)
		}
	case source == sourceApp:
		e.Bitbucket = doctor.Credential{Need: credentialVars(credential.BitbucketConsumer),
			Ready: env(envAppClientID) != "" && env(envAppClientSecret) != ""}
	case source == sourceCloud:
		e.Bitbucket.Ready = true // the client says what is missing
		if spec, err := cloudCredentialSpec(env); err != nil {
			e.Bitbucket.Err, e.Bitbucket.Fix = err, "set "+envCloudUsername+" + "+envCloudPassword+", or "+envCloudAPIToken+", or "+envCloudOAuthToken
		} else {
			e.Bitbucket.Have = credentialVars(spec.kind)
		}
	}
	halfAccount := env(envSnykClientID) != "" || env(envSnykClientSecret) != ""
	switch spec, err := snykCredentialSpec(env, snyk.DefaultBaseURL); {
	case err == nil:
		e.Snyk.Need = credentialVars(spec.kind)
	case halfAccount:
		e.Snyk.Err = err
	default:
		e.Snyk.Need = []string{envSnykToken}
	}
	e.Snyk.Ready = env(envSnykToken) != "" || env(envSnykOAuthToken) != "" || (env(envSnykClientID) != "" && env(envSnykClientSecret) != "")
	return e
}

// bitbucketDoctor is the run's router as doctor reads it.
type bitbucketDoctor struct{ *bitbucketRouter }

// Credentials implements doctor.Bitbucket: every credential of the run, a
// client built for each (no request yet).
func (b bitbucketDoctor) Credentials() []doctor.BitbucketCredential {
	out := make([]doctor.BitbucketCredential, len(b.settings.Credentials))
	for i, spec := range b.settings.Credentials {
		out[i] = doctorCredential{spec: spec, settings: b.settings, client: b.clients[i]}
	}
	return out
}

// FirstRepoPage reads one repository with the credential that serves ws.
func (b bitbucketDoctor) FirstRepoPage(ctx context.Context, ws string) error {
	for _, err := range b.ListRepositoriesIter(ctx, ws, &bitbucket.RepositoryListOptions{PageLen: 1}) {
		return err
	}
	return nil
}

// doctorCredential is one credential as doctor reports it.
type doctorCredential struct {
	spec     credentialSpec
	settings bitbucketSettings
	// client builds its client once.
	client func() (*bitbucketClient, error)
}

func (c doctorCredential) Name() string          { return c.spec.name }
func (c doctorCredential) Kind() credential.Kind { return c.spec.kind }
func (c doctorCredential) Describe() string      { return c.spec.describe() }
func (c doctorCredential) AppPasswordFix() string {
	return apiTokenFix
}

// TokenScopes exchanges a consumer's credentials (opening its client).
func (c doctorCredential) TokenScopes(ctx context.Context) ([]string, bool, error) {
	if !c.spec.kind.Minted() {
		return nil, false, nil
	}
	cl, err := c.client()
	if err != nil {
		return nil, true, err
	}
	return cl.Cred.Scopes(ctx)
}

// Limit is the hourly limit the credential's budget paces by after
// doctor's requests: announced by Bitbucket (X-RateLimit-Limit), or
// configured, and where from.
func (c doctorCredential) Limit() string {
	limit, ceiling := c.settings.limitOf(c.spec)
	from := "the default"
	switch {
	case c.spec.limit > 0:
		from = "limit= of its line"
	case c.settings.PerHourFrom != "":
		from = c.settings.PerHourFrom
	}
	if cl, err := c.client(); err == nil && cl.Budget != nil {
		if n, announced := cl.Budget.InForce(); announced {
			most := fmt.Sprintf("at most %s as %s says", thousands(limit), from)
			if ceiling > limit {
				most = fmt.Sprintf("at most %s unless BITBUCKET_RATE_LIMIT or limit= says more", thousands(ceiling))
			}
			return fmt.Sprintf("%s requests an hour, from Bitbucket's announcement (X-RateLimit-Limit; %s)", thousands(n), most)
		}
	}
	text := fmt.Sprintf("%s requests an hour (%s)", thousands(limit), from)
	if ceiling > limit {
		text += fmt.Sprintf("; a limit Bitbucket announces raises it, up to %s", thousands(ceiling))
	}
	return text
}

// listedNone words a credential whose workspace listing was empty.
func listedNone(f routing.Found) (problem, fix string) {
	problem = "none visible to these credentials (no workspaces found)"
	if f.Name != "" {
		problem = "GET /2.0/user/workspaces lists none, so it serves none"
	}
	if note := userNote(f.Kind); note != "" {
		problem += " (" + note + ")"
	}
	return problem, pinFix(f.Name, f.Kind)
}

// Credential implements doctor.Snyk.
func (s *snykClient) Credential() (*credential.Credential, string, string) {
	return s.Cred, s.Spec.describe(), s.Spec.tokenURL
}

// doctorNetwork is where the run's requests go: each API base and the
// setting behind it, the proxy of each, and which certificates are trusted.
// CA bundles that cannot be used are a failed check (and the error).
func doctorNetwork(n *network, sourceURL, source string) ([]doctor.Line, error) {
	bbBase, bbSetting := strings.TrimSpace(sourceURL), "--sourceUrl"
	if bbBase == "" {
		bbBase, bbSetting = n.env("BITBUCKET_APP_API_BASE"), "BITBUCKET_APP_API_BASE"
	}
	if bbBase == "" {
		bbBase, bbSetting = bitbucket.DefaultBaseURL, "default"
	}
	bases := []apiBase{{API: "Bitbucket API", URL: bbBase, Setting: bbSetting}}
	if source == sourceApp {
		tok, setting := n.env(envAppTokenURL), envAppTokenURL
		if tok == "" {
			tok, setting = bitbucket.DefaultTokenURL, "default"
		}
		bases = append(bases, apiBase{API: "Bitbucket token endpoint", URL: tok, Setting: setting})
	}
	sn, setting := n.env("SNYK_API"), "SNYK_API"
	if sn == "" {
		sn, setting = snyk.DefaultBaseURL, "default"
	}
	bases = append(bases, apiBase{API: "Snyk API", URL: sn, Setting: setting})
	parts := make([]string, len(bases))
	for i, b := range bases {
		parts[i] = fmt.Sprintf("%s %s (%s)", b.API, b.URL, b.Setting)
	}
	lines := []doctor.Line{
		{Mark: doctor.Info, Check: "API bases", Text: strings.Join(parts, ", ") + "; Snyk REST on the same host under /rest"},
		{Mark: doctor.Info, Check: "proxy", Text: proxySummary(bases, n.getenv)},
	}
	if _, err := n.transport(); err != nil {
		return append(lines, doctor.Line{Mark: doctor.Fail, Check: "CA certificates", Text: err.Error()}), err
	}
	return append(lines, doctor.Line{Mark: doctor.Info, Check: "CA certificates", Text: n.caSource()}), nil
}
