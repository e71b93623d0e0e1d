package main

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/ledger"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/routing"
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
	// building serialises building stacks: the router opens several
	// credentials' clients at once, and a stack's ledger and the ledgers
	// list are the factory's.
	building sync.Mutex
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
	f.building.Lock()
	defer f.building.Unlock()
	for _, l := range f.ledgers {
		l.Close()
	}
	f.ledgers = nil
}

// bitbucketSettings is the Bitbucket side of a run, checked: where the API
// is, the budget of each credential, and the credentials: the one of the
// original's variables, or those BITBUCKET_CREDENTIALS lists, each built
// into a client of its own, with its own budget, by newBitbucket.
type bitbucketSettings struct {
	BaseURL string
	PerHour int
	// PerHourFrom names where PerHour comes from: the flag, the variable,
	// or "" for the default, which a server's announcement may raise.
	PerHourFrom string
	Credentials []credentialSpec
}

// snykSettings is the Snyk side of a run, checked.
type snykSettings struct {
	BaseURL    string
	PerMinute  int
	Credential credentialSpec
	// options are the client's checked options (base, REST version).
	options []snyk.Option
	// scope is where the client sends requests, and so where its
	// credential may go (snyk.Client.Scope).
	scope *url.URL
}

// bitbucketSettings reads the Bitbucket API's settings for a source:
// sourceURL (--sourceUrl) or BITBUCKET_APP_API_BASE, the rate limit, the
// credentials and the CA bundles.
func (f *factory) bitbucketSettings(source, sourceURL string) (bitbucketSettings, error) {
	var s bitbucketSettings
	var err error
	def := defaultBitbucketPerHour
	if f.tuning.BitbucketDefault > 0 {
		def = f.tuning.BitbucketDefault
	}
	if s.PerHour, err = intSetting("bitbucketRateLimit", f.globals.BitbucketRateLimit, "BITBUCKET_RATE_LIMIT", f.env, def); err != nil {
		return s, err
	}
	switch {
	case strings.TrimSpace(f.globals.BitbucketRateLimit) != "":
		s.PerHourFrom = "--bitbucketRateLimit"
	case f.getenv("BITBUCKET_RATE_LIMIT") != "":
		s.PerHourFrom = "BITBUCKET_RATE_LIMIT"
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
	tokenURL, tokenURLFrom := f.getenv(envAppTokenURL), envAppTokenURL
	if tokenURL == "" {
		tokenURL, tokenURLFrom = bitbucket.DefaultTokenURL, "default"
	}
	specs, listed, err := bitbucketCredentialList(f.getenv, f.inputPath, tokenURL, tokenURLFrom)
	if err != nil {
		return s, err
	}
	if listed {
		f.warnUnlisted(specs)
	} else {
		spec, err := bitbucketCredentialSpec(source, f.getenv)
		if err != nil {
			return s, err
		}
		if err := spec.check(); err != nil {
			return s, err
		}
		if spec.kind == credential.BitbucketAppPassword {
			f.out.log.Warn().Str("auth", spec.kind.String()).Msg(appPasswordWarning)
		}
		specs = []credentialSpec{spec}
	}
	minted := false
	for _, spec := range specs {
		spec.teach(f.out.redactor.Add, f.out.redactor.AddBasic)
		minted = minted || spec.kind.Minted()
	}
	if minted {
		if _, err := httpx.CheckURL(tokenURL, envAppTokenURL); err != nil {
			return s, usagef("%v", err)
		}
		f.net.noteBase("Bitbucket token endpoint", tokenURL, settingName(envAppTokenURL, tokenURLFrom == "default"))
	}
	s.Credentials = specs
	_, err = f.net.transport()
	return s, err
}

// warnUnlisted says once which of the original's Bitbucket variables are
// set but unused because BITBUCKET_CREDENTIALS lists the credentials.
func (f *factory) warnUnlisted(specs []credentialSpec) {
	used := map[string]bool{}
	for _, s := range specs {
		for _, v := range s.variables() {
			used[v] = true
		}
	}
	var unused []string
	for _, v := range []string{envAppClientID, envAppClientSecret, envCloudUsername, envCloudPassword, envCloudAPIToken, envCloudOAuthToken} {
		if f.getenv(v) != "" && !used[v] {
			unused = append(unused, v)
		}
	}
	if len(unused) > 0 {
		f.out.log.Warn().Strs("unused", unused).Msgf("the Bitbucket credentials are listed (%s or %s), so these variables are not used: %s (a line of the list may name them)",
			envBitbucketCredentials, envBitbucketCredentialsFile, strings.Join(unused, ", "))
	}
}

// inputPath resolves a file named by a variable as input files are
// resolved: the current directory, else the log directory.
func (f *factory) inputPath(from, v string) (string, error) {
	return inputPath(from, v, f.globals.LogPath, f.globals.LogPathFrom)
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
	cl, err := snyk.NewClient(s.options...)
	if errors.Is(err, snyk.ErrRESTVersion) {
		return s, usagef("%s=%q is %v; unset it to use %s, the version bbimport is tested with", envRESTVersion, f.getenv(envRESTVersion), snyk.ErrRESTVersion, snyk.DefaultRESTVersion)
	} else if err != nil {
		return s, usagef("%v", err)
	}
	s.scope = cl.Scope()
	_, err = f.net.transport()
	return s, err
}

// bitbucketClient is a Bitbucket client plus the credential its stack
// carries, which doctor looks at.
type bitbucketClient struct {
	*bitbucket.Client
	Cred *credential.Credential
	Spec credentialSpec
	// Budget paces the credential's requests; doctor reads its limit.
	Budget *httpx.Budget
}

// snykClient is a Snyk client plus the credential its stack carries.
type snykClient struct {
	*snyk.Client
	Cred *credential.Credential
	Spec credentialSpec
}

// newBitbucket builds the Bitbucket stack of one credential of s: the
// credential, its budget (its own limit, else the run's), retries, debug
// log.
func (f *factory) newBitbucket(s bitbucketSettings, spec credentialSpec) (*bitbucketClient, error) {
	f.building.Lock()
	defer f.building.Unlock()
	cred, err := f.buildCredential(spec, "bitbucket-token")
	if err != nil {
		return nil, err
	}
	cred.Named(spec.name)
	limit, ceiling := s.limitOf(spec)
	// The credential goes under the API base only: behind a gateway that
	// serves Snyk too, a next-page link to /snyk/… is refused.
	scope, err := httpx.CheckBaseURL(s.BaseURL, "the Bitbucket API base")
	if err != nil {
		return nil, err
	}
	b := budgetSpec{api: "bitbucket", name: spec.name, limit: limit, ceiling: ceiling, scope: scope,
		window: windowOr(f.tuning.BitbucketWindow, time.Hour),
		class:  func(req *http.Request) string { return bitbucket.RequestClass(req.URL.Path) }}
	hc, budget, err := f.apiStack(cred, b)
	if err != nil {
		return nil, err
	}
	cl, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(s.BaseURL),
		bitbucket.WithUserAgent("bbimport/"+version),
		bitbucket.WithWarnFunc(func(msg string) { f.out.log.Warn().Msg(msg) }))
	if err != nil {
		return nil, err
	}
	return &bitbucketClient{Client: cl, Cred: cred, Spec: spec, Budget: budget}, nil
}

// limitOf is a credential's hourly limit and how far a server's
// announcement may raise it: its own limit=, else the run's; whoever set
// one set the ceiling too, and a limit nobody set may rise to what the
// server announces, up to httpx.DefaultCeiling.
func (s bitbucketSettings) limitOf(spec credentialSpec) (limit, ceiling int) {
	switch {
	case spec.limit > 0:
		return spec.limit, spec.limit
	case s.PerHourFrom != "":
		return s.PerHour, s.PerHour
	}
	return s.PerHour, httpx.DefaultCeiling
}

// newRouter builds the run's Bitbucket router over the credentials of s,
// each client built on first use; only is the run's selection of
// workspaces (orgs:data and doctor's --workspace).
func (f *factory) newRouter(s bitbucketSettings, only []string) (*bitbucketRouter, error) {
	members := make([]routing.Member, len(s.Credentials))
	clients := make([]func() (*bitbucketClient, error), len(s.Credentials))
	for i, spec := range s.Credentials {
		var (
			once sync.Once
			c    *bitbucketClient
			err  error
		)
		clients[i] = func() (*bitbucketClient, error) {
			once.Do(func() { c, err = f.newBitbucket(s, spec) })
			return c, err
		}
		members[i] = routing.Member{Name: spec.name, Kind: spec.kind, Workspaces: spec.workspaces,
			Open: func() (routing.Client, error) {
				c, err := clients[i]()
				if err != nil {
					return nil, err
				}
				return c, nil
			}}
	}
	r, err := routing.New(members, only)
	if err != nil {
		return nil, err
	}
	return &bitbucketRouter{Router: r, settings: s, clients: clients}, nil
}

// bitbucketRouter is the run's router plus what doctor reads of its
// credentials.
type bitbucketRouter struct {
	*routing.Router
	settings bitbucketSettings
	// clients[i] builds credential i's client once, on first use.
	clients []func() (*bitbucketClient, error)
}

// newSnyk builds the Snyk stack of s: the credential, its budget, retries,
// debug log, the redactor and the Sunset/Deprecation hook.
func (f *factory) newSnyk(s snykSettings) (*snykClient, error) {
	f.building.Lock()
	defer f.building.Unlock()
	cred, err := f.buildCredential(s.Credential, "snyk-token")
	if err != nil {
		return nil, err
	}
	hc, _, err := f.apiStack(cred, budgetSpec{api: "snyk", limit: s.PerMinute, scope: s.scope,
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
		// The exchange carries the client secret (Basic, or the form) in
		// the request itself: a redirect away from the token URL, to
		// another API behind the same host, is not followed.
		if opts.Scope, err = httpx.CheckURL(spec.tokenURL, spec.tokenURLFrom); err != nil {
			return nil, err
		}
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
func (f *factory) apiStack(cred *credential.Credential, b budgetSpec) (*httpx.Client, *httpx.Budget, error) {
	opts, err := f.stackOptions(b.api)
	if err != nil {
		return nil, nil, err
	}
	b.identity, b.wait = cred.Identity(), f.globals.RateLimitWait
	opts.Budget, opts.Credential, opts.Scope = f.newBudget(b), cred, b.scope
	hc, err := httpx.New(opts)
	return hc, opts.Budget, err
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
		AttemptTimeout: f.tuning.AttemptTimeout, RetryMax: f.tuning.RetryMax,
		OneConnectAttempt: f.tuning.OneConnectAttempt}, nil
}

// getenv is a variable of the run, trimmed.
func (f *factory) getenv(name string) string { return trimmedEnv(f.env, name) }
