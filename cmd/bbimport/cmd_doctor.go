package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/doctor"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
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
	network, caErr := doctorNetwork(rt.net, c.String("sourceUrl"), source)
	return &doctorOptions{IO: rt.commandIO(nil), Checks: doctor.Options{
		Source: source, GroupID: strings.TrimSpace(c.String("groupId")), OrgsData: strings.TrimSpace(c.String("orgsData")),
		IntegrationType: strings.TrimSpace(c.String("integrationType")),
		Workspaces:      c.StringSlice("workspace"), MaxWorkspaces: c.Int("maxWorkspaces"),
		Env:     doctorEnv(source, rt.Getenv, strings.TrimSpace(c.String("logPath")) != ""),
		LogDir:  g.requireLogDir,
		Network: network, CAFailed: caErr != nil,
		Bitbucket: func() (doctor.Bitbucket, error) {
			s, err := f.bitbucketSettings(source, c.String("sourceUrl"))
			if err != nil {
				return nil, err
			}
			bb, err := f.newBitbucket(s, s.Credentials[0])
			if err != nil {
				return nil, err
			}
			return bitbucketDoctor{bb}, nil
		},
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
// each credential, as the commands read them (credentials.go).
func doctorEnv(source string, getenv func(string) string, logPathFlag bool) doctor.Env {
	env := func(name string) string { return trimmedEnv(getenv, name) }
	e := doctor.Env{Getenv: getenv, LogPathFlag: logPathFlag, Secrets: secretVars}
	switch source {
	case sourceApp:
		e.Bitbucket = doctor.Credential{Need: credentialVars(credential.BitbucketConsumer),
			Ready: env(envAppClientID) != "" && env(envAppClientSecret) != ""}
	case sourceCloud:
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

// bitbucketDoctor is the real client as doctor reads it.
type bitbucketDoctor struct{ *bitbucketClient }

func (b bitbucketDoctor) TokenScopes(ctx context.Context) ([]string, bool, error) {
	return b.Cred.Scopes(ctx)
}

func (b bitbucketDoctor) FirstRepoPage(ctx context.Context, ws string) error {
	_, _, err := b.Client.ListRepositories(ctx, ws, &bitbucket.RepositoryListOptions{PageLen: 1}, "")
	return err
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
