package main

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/urfave/cli/v2"
)

// Defaults of the paced stacks (SPEC §2).
const (
	defaultBitbucketPerHour = 1000
	defaultSnykPerMinute    = 1500
)

// envRESTVersion overrides snyk.DefaultRESTVersion.
const envRESTVersion = "SNYK_REST_VERSION"

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

// newBitbucket assembles the Bitbucket stack for a source: the credential
// from the environment, its budget, retries, debug log.
func (rt *invocation) newBitbucket(c *cli.Context, source string) (*bitbucketClient, error) {
	perHour, err := rt.intSetting(c, "bitbucketRateLimit", "BITBUCKET_RATE_LIMIT", defaultBitbucketPerHour)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSpace(c.String("sourceUrl"))
	baseName := "--sourceUrl"
	if base == "" {
		base, baseName = rt.env("BITBUCKET_APP_API_BASE"), "BITBUCKET_APP_API_BASE"
	}
	if base == "" {
		base = bitbucket.DefaultBaseURL
	}
	if _, err := httpx.CheckBaseURL(base, baseName); err != nil {
		return nil, usagef("%v", err)
	}
	rt.noteBase("Bitbucket API", base, settingName(baseName, base == bitbucket.DefaultBaseURL && rt.env(baseName) == ""))
	spec, err := bitbucketCredentialSpec(source, rt.env)
	if err != nil {
		return nil, err
	}
	if spec.appPasswordRetiring() {
		rt.log.Warn().Str("auth", spec.kind.String()).Msg(appPasswordWarning)
	}
	if spec.kind.Minted() {
		rt.noteBase("Bitbucket token endpoint", spec.tokenURL, settingName(envAppTokenURL, spec.tokenURLFrom == "default"))
	}
	cred, err := rt.buildCredential(c, spec, "bitbucket-token")
	if err != nil {
		return nil, err
	}
	hc, err := rt.apiStack(c, cred, budgetSpec{api: "bitbucket", limit: perHour,
		window: windowOr(rt.Tuning.BitbucketWindow, time.Hour)})
	if err != nil {
		return nil, err
	}
	cl, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(base),
		bitbucket.WithUserAgent("bbimport/"+version),
		bitbucket.WithWarnFunc(func(msg string) { rt.log.Warn().Msg(msg) }))
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &bitbucketClient{Client: cl, Cred: cred}, nil
}

// newSnyk assembles the Snyk stack: the credential (a service account,
// SNYK_OAUTH_TOKEN or SNYK_TOKEN), SNYK_API, its budget.
func (rt *invocation) newSnyk(c *cli.Context) (*snykClient, error) {
	perMinute, err := rt.intSetting(c, "snykRateLimit", "SNYK_RATE_LIMIT", defaultSnykPerMinute)
	if err != nil {
		return nil, err
	}
	raw := rt.env("SNYK_API")
	if raw == "" {
		raw = snyk.DefaultBaseURL
	}
	base, note := snyk.NormalizeBaseURL(raw)
	if note != "" {
		rt.log.Info().Msg("SNYK_API " + strings.TrimSpace(raw) + " " + note)
	}
	baseURL, err := httpx.CheckBaseURL(base, "SNYK_API")
	if err != nil {
		return nil, usagef("%v", err)
	}
	rt.noteBase("Snyk API", base, settingName("SNYK_API", rt.env("SNYK_API") == ""))
	spec, err := snykCredentialSpec(rt.env, base)
	if err != nil {
		return nil, err
	}
	if spec.kind == credential.SnykAPIToken && snyk.OAuthOnly(baseURL) {
		rt.log.Warn().Str("auth", spec.kind.String()).Msgf("%s (Snyk for Government) accepts OAuth only and will refuse %s: set %s and %s of a service account (%s)",
			baseURL.Host, envSnykToken, envSnykClientID, envSnykClientSecret, snykServiceAccountUI)
	}
	if spec.kind.Minted() {
		rt.noteBase("Snyk token endpoint", spec.tokenURL, settingName(envSnykTokenURL, spec.tokenURLFrom == "default"))
	}
	cred, err := rt.buildCredential(c, spec, "snyk-token")
	if err != nil {
		return nil, err
	}
	hc, err := rt.apiStack(c, cred, budgetSpec{api: "snyk", limit: perMinute,
		window: windowOr(rt.Tuning.SnykWindow, time.Minute),
		// Snyk REST answers 429 "until requests stop for the duration of
		// the rate-limiting interval (one minute)": pause that long.
		pause: windowOr(rt.Tuning.SnykPause, time.Minute)})
	if err != nil {
		return nil, err
	}
	opts := []snyk.Option{snyk.WithHTTPClient(hc), snyk.WithBaseURL(base),
		snyk.WithUserAgent("bbimport/" + version), snyk.WithRedact(rt.redactor.String),
		snyk.WithDeprecationFunc(rt.httpObserver().deprecated)}
	if v := rt.env(envRESTVersion); v != "" {
		opts = append(opts, snyk.WithRESTVersion(v))
	}
	cl, err := snyk.NewClient(opts...)
	if errors.Is(err, snyk.ErrRESTVersion) {
		return nil, usagef("%s=%q is %v; unset it to use %s, the version bbimport is tested with", envRESTVersion, rt.env(envRESTVersion), snyk.ErrRESTVersion, snyk.DefaultRESTVersion)
	}
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &snykClient{Client: cl, Cred: cred, Spec: spec}, nil
}

// buildCredential teaches the redactor the spec's secrets and builds the
// credential. A minted one gets a client for its token endpoint: the run's
// transport and observer, a budget of its own without a limit (the token
// endpoint is not the API and has no budget of the API's), and the usual
// retries of its outages, cut answers included (a refusal is final); the
// API's requests do not retry a token that could not be had on top.
func (rt *invocation) buildCredential(c *cli.Context, spec credentialSpec, tokenAPI string) (*credential.Credential, error) {
	spec.teach(rt.redactor.Add, rt.redactor.AddBasic)
	var tokenHTTP *http.Client
	if spec.kind.Minted() {
		opts, wait, err := rt.stackOptions(c, tokenAPI)
		if err != nil {
			return nil, err
		}
		opts.Replayable = true
		opts.Budget = httpx.NewBudget(httpx.BudgetConfig{API: tokenAPI, PauseMin: rt.Tuning.RetryWaitMin, PauseMax: rt.Tuning.RetryWaitMax,
			Observer: rt.httpObserver(), RateLimitWait: wait})
		hc, err := httpx.New(opts)
		if err != nil {
			return nil, err
		}
		tokenHTTP = hc.StandardClient()
	}
	return spec.build(tokenHTTP, rt.redactor.Add)
}

// apiStack is the one HTTP stack of an API: cred attached after the wait of
// its budget (keyed by cred's identity), 429s waited out for
// --rateLimitWait, failures retried, every send reported.
func (rt *invocation) apiStack(c *cli.Context, cred *credential.Credential, b budgetSpec) (*httpx.Client, error) {
	opts, wait, err := rt.stackOptions(c, b.api)
	if err != nil {
		return nil, err
	}
	b.identity, b.wait = cred.Identity(), wait
	opts.Budget, opts.Credential = rt.newBudget(c, b), cred
	return httpx.New(opts)
}

// stackOptions are what every stack of the run shares: the transport
// (proxy, CA bundles), the observer, the tuned waits; and how long a 429
// is held (--rateLimitWait), for its budget.
func (rt *invocation) stackOptions(c *cli.Context, api string) (httpx.Options, time.Duration, error) {
	transport, err := rt.transport()
	if err != nil {
		return httpx.Options{}, 0, err
	}
	wait, err := rt.rateLimitWait(c)
	if err != nil {
		return httpx.Options{}, 0, err
	}
	return httpx.Options{API: api, Transport: transport, Observer: rt.httpObserver(),
		RetryWaitMin: rt.Tuning.RetryWaitMin, RetryWaitMax: rt.Tuning.RetryWaitMax,
		AttemptTimeout: rt.Tuning.AttemptTimeout}, wait, nil
}

// httpObserver is shared by every stack of the run so rate-limit notices
// (and the deprecation warning) are said once across them.
func (rt *invocation) httpObserver() *httpLog {
	rt.observerOnce.Do(func() { rt.observer = newHTTPLog(rt.log) })
	return rt.observer
}
