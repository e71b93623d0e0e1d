package main

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/ledger"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Defaults of the paced stacks (SPEC §2).
const (
	defaultBitbucketPerHour = 1000
	defaultSnykPerMinute    = 1500
)

// envRESTVersion overrides snyk.DefaultRESTVersion.
const envRESTVersion = "SNYK_REST_VERSION"

// factory builds the run's API clients (cli/cli's cmdutil.Factory) in two
// steps: a command's binding reads each API's settings (bitbucketSettings,
// snykSettings: flags, variables, credentials, every usage error), and its
// run builds a client per credential from them (newBitbucket, newSnyk).
// Every stack of the run shares its transport, observer and ledgers.
type factory struct {
	env     func(string) string
	tuning  tuning
	globals globalOptions
	out     *output
	net     *network
	// observer is shared by every stack so rate-limit notices (and the
	// deprecation warning) are said once across them.
	observer *httpLog
	// ledgers are the budgets' request ledgers, closed when the run ends.
	ledgers []*ledger.File
}

func newFactory(env func(string) string, t tuning, g globalOptions, out *output, net *network) *factory {
	obs := newHTTPLog(out.log)
	obs.setRetryFor(g.RateLimitWait)
	return &factory{env: env, tuning: t, globals: g, out: out, net: net, observer: obs}
}

// close releases the ledgers' lock files at the end of a run.
func (f *factory) close() {
	if f == nil {
		return
	}
	for _, l := range f.ledgers {
		l.Close()
	}
	f.ledgers = nil
}

// bitbucketSettings is the Bitbucket side of a run, checked: where the API
// is, the budget of each credential, and the credentials. A run has one
// credential today; several (OAuth consumers, access tokens, API tokens)
// would be more specs here, each built into a client of its own, with its
// own budget, by newBitbucket.
type bitbucketSettings struct {
	BaseURL     string
	PerHour     int
	Credentials []credentialSpec
}

// snykSettings is the Snyk side of a run, checked.
type snykSettings struct {
	BaseURL    string
	PerMinute  int
	Credential credentialSpec
	// options are the client's checked options (base, REST version).
	options []snyk.Option
}

// bitbucketSettings reads the Bitbucket API's settings for a source:
// sourceURL (--sourceUrl) or BITBUCKET_APP_API_BASE, the rate limit, the
// credentials and the CA bundles.
func (f *factory) bitbucketSettings(source, sourceURL string) (bitbucketSettings, error) {
	var s bitbucketSettings
	var err error
	if s.PerHour, err = intSetting("bitbucketRateLimit", f.globals.BitbucketRateLimit, "BITBUCKET_RATE_LIMIT", f.env, defaultBitbucketPerHour); err != nil {
		return s, err
	}
	base, baseName := strings.TrimSpace(sourceURL), "--sourceUrl"
	if base == "" {
		base, baseName = f.getenv("BITBUCKET_APP_API_BASE"), "BITBUCKET_APP_API_BASE"
	}
	if base == "" {
		base = bitbucket.DefaultBaseURL
	}
	if _, err := httpx.CheckBaseURL(base, baseName); err != nil {
		return s, usagef("%v", err)
	}
	s.BaseURL = base
	f.net.noteBase("Bitbucket API", base, settingName(baseName, base == bitbucket.DefaultBaseURL && f.getenv(baseName) == ""))
	spec, err := bitbucketCredentialSpec(source, f.getenv)
	if err != nil {
		return s, err
	}
	if err := spec.check(); err != nil {
		return s, err
	}
	if spec.appPasswordRetiring() {
		f.out.log.Warn().Str("auth", spec.kind.String()).Msg(appPasswordWarning)
	}
	if spec.kind.Minted() {
		f.net.noteBase("Bitbucket token endpoint", spec.tokenURL, settingName(envAppTokenURL, spec.tokenURLFrom == "default"))
	}
	s.Credentials = []credentialSpec{spec}
	_, err = f.net.transport()
	return s, err
}

// snykSettings reads the Snyk API's settings: SNYK_API, the rate limit,
// the credential (a service account, SNYK_OAUTH_TOKEN or SNYK_TOKEN),
// SNYK_REST_VERSION and the CA bundles.
func (f *factory) snykSettings() (snykSettings, error) {
	var s snykSettings
	var err error
	if s.PerMinute, err = intSetting("snykRateLimit", f.globals.SnykRateLimit, "SNYK_RATE_LIMIT", f.env, defaultSnykPerMinute); err != nil {
		return s, err
	}
	raw := f.getenv("SNYK_API")
	if raw == "" {
		raw = snyk.DefaultBaseURL
	}
	base, note := snyk.NormalizeBaseURL(raw)
	if note != "" {
		f.out.log.Info().Msg("SNYK_API " + strings.TrimSpace(raw) + " " + note)
	}
	baseURL, err := httpx.CheckBaseURL(base, "SNYK_API")
	if err != nil {
		return s, usagef("%v", err)
	}
	s.BaseURL = base
	f.net.noteBase("Snyk API", base, settingName("SNYK_API", f.getenv("SNYK_API") == ""))
	if s.Credential, err = snykCredentialSpec(f.getenv, base); err != nil {
		return s, err
	}
	spec := s.Credential
	if err := spec.check(); err != nil {
		return s, err
	}
	if spec.kind == credential.SnykAPIToken && snyk.OAuthOnly(baseURL) {
		f.out.log.Warn().Str("auth", spec.kind.String()).Msgf("%s (Snyk for Government) accepts OAuth only and will refuse %s: set %s and %s of a service account (%s)",
			baseURL.Host, envSnykToken, envSnykClientID, envSnykClientSecret, snykServiceAccountUI)
	}
	if spec.kind.Minted() {
		f.net.noteBase("Snyk token endpoint", spec.tokenURL, settingName(envSnykTokenURL, spec.tokenURLFrom == "default"))
	}
	s.options = []snyk.Option{snyk.WithBaseURL(base), snyk.WithUserAgent("bbimport/" + version)}
	if v := f.getenv(envRESTVersion); v != "" {
		s.options = append(s.options, snyk.WithRESTVersion(v))
	}
	if _, err := snyk.NewClient(s.options...); errors.Is(err, snyk.ErrRESTVersion) {
		return s, usagef("%s=%q is %v; unset it to use %s, the version bbimport is tested with", envRESTVersion, f.getenv(envRESTVersion), snyk.ErrRESTVersion, snyk.DefaultRESTVersion)
	} else if err != nil {
		return s, usagef("%v", err)
	}
	_, err = f.net.transport()
	return s, err
}

// bitbucketClient is a Bitbucket client plus the credential its stack
// carries, which doctor looks at.
type bitbucketClient struct {
	*bitbucket.Client
	Cred *credential.Credential
}

// snykClient is a Snyk client plus the credential its stack carries.
type snykClient struct {
	*snyk.Client
	Cred *credential.Credential
	Spec credentialSpec
}

// newBitbucket builds the Bitbucket stack of one credential of s: the
// credential, its budget, retries, debug log.
func (f *factory) newBitbucket(s bitbucketSettings, spec credentialSpec) (*bitbucketClient, error) {
	cred, err := f.buildCredential(spec, "bitbucket-token")
	if err != nil {
		return nil, err
	}
	hc, err := f.apiStack(cred, budgetSpec{api: "bitbucket", limit: s.PerHour,
		window: windowOr(f.tuning.BitbucketWindow, time.Hour)})
	if err != nil {
		return nil, err
	}
	cl, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(s.BaseURL),
		bitbucket.WithUserAgent("bbimport/"+version),
		bitbucket.WithWarnFunc(func(msg string) { f.out.log.Warn().Msg(msg) }))
	if err != nil {
		return nil, err
	}
	return &bitbucketClient{Client: cl, Cred: cred}, nil
}

// newSnyk builds the Snyk stack of s: the credential, its budget, retries,
// debug log, the redactor and the Sunset/Deprecation hook.
func (f *factory) newSnyk(s snykSettings) (*snykClient, error) {
	cred, err := f.buildCredential(s.Credential, "snyk-token")
	if err != nil {
		return nil, err
	}
	hc, err := f.apiStack(cred, budgetSpec{api: "snyk", limit: s.PerMinute,
		window: windowOr(f.tuning.SnykWindow, time.Minute),
		// Snyk REST answers 429 "until requests stop for the duration of
		// the rate-limiting interval (one minute)": pause that long.
		pause: windowOr(f.tuning.SnykPause, time.Minute)})
	if err != nil {
		return nil, err
	}
	cl, err := snyk.NewClient(append(s.options, snyk.WithHTTPClient(hc),
		snyk.WithRedact(f.out.redactor.String), snyk.WithDeprecationFunc(f.observer.deprecated))...)
	if err != nil {
		return nil, err
	}
	return &snykClient{Client: cl, Cred: cred, Spec: s.Credential}, nil
}

// buildCredential teaches the redactor the spec's secrets and builds the
// credential. A minted one gets a client for its token endpoint: the run's
// transport and observer, a budget of its own without a limit (the token
// endpoint is not the API and has no budget of the API's), and the usual
// retries of its outages, cut answers included (a refusal is final); the
// API's requests do not retry a token that could not be had on top.
func (f *factory) buildCredential(spec credentialSpec, tokenAPI string) (*credential.Credential, error) {
	spec.teach(f.out.redactor.Add, f.out.redactor.AddBasic)
	var tokenHTTP *http.Client
	if spec.kind.Minted() {
		opts, err := f.stackOptions(tokenAPI)
		if err != nil {
			return nil, err
		}
		opts.Replayable = true
		opts.Budget = httpx.NewBudget(httpx.BudgetConfig{API: tokenAPI, PauseMin: f.tuning.RetryWaitMin, PauseMax: f.tuning.RetryWaitMax,
			Observer: f.observer, RateLimitWait: f.globals.RateLimitWait})
		hc, err := httpx.New(opts)
		if err != nil {
			return nil, err
		}
		tokenHTTP = hc.StandardClient()
	}
	return spec.build(tokenHTTP, f.out.redactor.Add)
}

// apiStack is the one HTTP stack of an API: cred attached after the wait of
// its budget (keyed by cred's identity), 429s waited out for
// --rateLimitWait, failures retried, every send reported.
func (f *factory) apiStack(cred *credential.Credential, b budgetSpec) (*httpx.Client, error) {
	opts, err := f.stackOptions(b.api)
	if err != nil {
		return nil, err
	}
	b.identity, b.wait = cred.Identity(), f.globals.RateLimitWait
	opts.Budget, opts.Credential = f.newBudget(b), cred
	return httpx.New(opts)
}

// stackOptions are what every stack of the run shares: the transport
// (proxy, CA bundles), the observer, the tuned waits.
func (f *factory) stackOptions(api string) (httpx.Options, error) {
	transport, err := f.net.transport()
	if err != nil {
		return httpx.Options{}, err
	}
	return httpx.Options{API: api, Transport: transport, Observer: f.observer,
		RetryWaitMin: f.tuning.RetryWaitMin, RetryWaitMax: f.tuning.RetryWaitMax,
		AttemptTimeout: f.tuning.AttemptTimeout}, nil
}

// getenv is a variable of the run, trimmed.
func (f *factory) getenv(name string) string { return trimmedEnv(f.env, name) }
