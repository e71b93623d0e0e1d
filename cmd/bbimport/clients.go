package main

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/urfave/cli/v2"
)

// Defaults of the paced stacks (SPEC §2).
const (
	defaultBitbucketPerHour = 1000
	defaultSnykPerMinute    = 1500
)

// bitbucketClient is a Bitbucket client plus what doctor needs to look at.
type bitbucketClient struct {
	*bitbucket.Client
	Tokens *bitbucket.TokenSource // nil for the bitbucket-cloud source
	Creds  bitbucket.Credentials
}

// newBitbucket assembles the Bitbucket stack for a source: credentials from
// the environment, one limiter for this credential, retries, debug log.
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
	transport, err := rt.transport()
	if err != nil {
		return nil, err
	}

	wait, err := rt.rateLimitWait(c)
	if err != nil {
		return nil, err
	}
	out := &bitbucketClient{}
	var auth func(http.RoundTripper) http.RoundTripper
	kind := bitbucket.AuthOAuthConsumer
	identity := ""
	switch source {
	case sourceApp:
		id, secret := rt.env("BITBUCKET_APP_CLIENT_ID"), rt.env("BITBUCKET_APP_CLIENT_SECRET")
		if id == "" || secret == "" {
			return nil, usagef("the bitbucket-cloud-app source needs an OAuth consumer: set BITBUCKET_APP_CLIENT_ID (the consumer's Key) and BITBUCKET_APP_CLIENT_SECRET (its Secret); see README \"Setting up a Bitbucket OAuth consumer\"")
		}
		rt.redactor.Add(secret)
		// The token exchange sends id:secret as HTTP Basic, URL-encoded first.
		rt.redactor.AddBasic(id, secret)
		tokenURL := rt.env("BITBUCKET_APP_TOKEN_URL")
		if tokenURL == "" {
			tokenURL = bitbucket.DefaultTokenURL
		}
		if _, err := httpx.CheckURL(tokenURL, "BITBUCKET_APP_TOKEN_URL"); err != nil {
			return nil, usagef("%v", err)
		}
		rt.noteBase("Bitbucket token endpoint", tokenURL, settingName("BITBUCKET_APP_TOKEN_URL", rt.env("BITBUCKET_APP_TOKEN_URL") == ""))
		// The token endpoint is not the API: it is not paced by the hourly
		// budget, and bad credentials must fail fast, so few retries.
		tokenHTTP, err := httpx.New(httpx.Options{API: "bitbucket-token", RetryMax: 3, Observer: rt.httpObserver(), Transport: transport,
			RetryWaitMin: rt.Tuning.RetryWaitMin, RetryWaitMax: rt.Tuning.RetryWaitMax,
			AttemptTimeout: rt.Tuning.AttemptTimeout})
		if err != nil {
			return nil, err
		}
		src, err := bitbucket.NewTokenSource(bitbucket.TokenConfig{
			ClientID: id, ClientSecret: secret, TokenURL: tokenURL, HTTPClient: tokenHTTP,
		})
		if err != nil {
			return nil, usagef("%v", err)
		}
		out.Tokens = src
		identity = "consumer:" + id
		auth = func(base http.RoundTripper) http.RoundTripper {
			return bitbucket.OAuthTransport(src, learnAuthorization(rt.redactor, base))
		}
	case sourceCloud:
		creds, err := bitbucket.CredentialsFromEnv(rt.Getenv)
		if err != nil {
			return nil, usagef("%v", err)
		}
		// The env values are redacted already; the Basic header's base64 is
		// not a literal env value, so teach it too.
		rt.redactor.Add(creds.Secret)
		if creds.Basic {
			rt.redactor.AddBasic(creds.Username, creds.Secret)
		}
		if w := creds.Warning(); w != "" {
			rt.log.Warn().Str("auth", creds.Kind.String()).Msg(w)
		}
		out.Creds, kind = creds, creds.Kind
		identity = bitbucketIdentity(creds)
		auth = creds.Transport
	}
	hc, err := httpx.New(httpx.Options{
		API: "bitbucket",
		Budget: rt.newBudget(c, budgetSpec{api: "bitbucket", identity: identity, limit: perHour,
			window: windowOr(rt.Tuning.BitbucketWindow, time.Hour)}),
		RateLimitWait: wait,
		Transport:     transport,
		Auth:          auth,
		Observer:      rt.httpObserver(),
		RetryWaitMin:  rt.Tuning.RetryWaitMin, RetryWaitMax: rt.Tuning.RetryWaitMax,
		AttemptTimeout: rt.Tuning.AttemptTimeout,
	})
	if err != nil {
		return nil, err
	}
	cl, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(base),
		bitbucket.WithUserAgent("bbimport/"+version), bitbucket.WithAuthKind(kind),
		bitbucket.WithWarnFunc(func(msg string) { rt.log.Warn().Msg(msg) }))
	if err != nil {
		return nil, usagef("%v", err)
	}
	out.Client = cl
	return out, nil
}

// newSnyk assembles the Snyk stack: SNYK_OAUTH_TOKEN or SNYK_TOKEN,
// SNYK_API, its own limiter.
func (rt *invocation) newSnyk(c *cli.Context) (*snyk.Client, error) {
	token, oauth, err := rt.snykCredential()
	if err != nil {
		return nil, err
	}
	perMinute, err := rt.intSetting(c, "snykRateLimit", "SNYK_RATE_LIMIT", defaultSnykPerMinute)
	if err != nil {
		return nil, err
	}
	base := rt.env("SNYK_API")
	if base == "" {
		base = snyk.DefaultBaseURL
	}
	base, note := snyk.NormalizeBaseURL(base)
	if note != "" {
		rt.log.Info().Msg(note)
	}
	if _, err := httpx.CheckBaseURL(base, "SNYK_API"); err != nil {
		return nil, usagef("%v", err)
	}
	rt.noteBase("Snyk API", base, settingName("SNYK_API", rt.env("SNYK_API") == ""))
	transport, err := rt.transport()
	if err != nil {
		return nil, err
	}
	wait, err := rt.rateLimitWait(c)
	if err != nil {
		return nil, err
	}
	hc, err := httpx.New(httpx.Options{
		API: "snyk",
		// Snyk REST answers 429 "until requests stop for the duration of
		// the rate-limiting interval (one minute)": pause that long.
		Budget: rt.newBudget(c, budgetSpec{api: "snyk", identity: rt.env("SNYK_OAUTH_TOKEN") + "\x00" + rt.env("SNYK_TOKEN"),
			limit: perMinute, window: windowOr(rt.Tuning.SnykWindow, time.Minute), pause: windowOr(rt.Tuning.SnykPause, time.Minute)}),
		RateLimitWait: wait,
		Transport:     transport,
		Auth:          func(base http.RoundTripper) http.RoundTripper { return snyk.Transport(token, oauth, base) },
		Observer:      rt.httpObserver(),
		RetryWaitMin:  rt.Tuning.RetryWaitMin, RetryWaitMax: rt.Tuning.RetryWaitMax,
		AttemptTimeout: rt.Tuning.AttemptTimeout,
	})
	if err != nil {
		return nil, err
	}
	cl, err := snyk.NewClient(snyk.WithHTTPClient(hc), snyk.WithBaseURL(base), snyk.WithTransportCredential(token, oauth),
		snyk.WithUserAgent("bbimport/"+version),
		snyk.WithRedact(rt.redactor.String))
	if err != nil {
		return nil, usagef("%v", err)
	}
	return cl, nil
}

// snykCredential follows snyk-request-manager: a non-blank SNYK_OAUTH_TOKEN
// wins over SNYK_TOKEN and is sent as `Authorization: Bearer`. Unlike the
// original, SNYK_TOKEN need not be set as well.
func (rt *invocation) snykCredential() (token string, oauth bool, err error) {
	if t := rt.env("SNYK_OAUTH_TOKEN"); t != "" {
		return t, true, nil
	}
	if t := rt.env("SNYK_TOKEN"); t != "" {
		return t, false, nil
	}
	return "", false, usagef("SNYK_TOKEN is not set: export SNYK_TOKEN=<your Snyk API token> (Account settings → API token; a service account token of the group is best), or SNYK_OAUTH_TOKEN=<an OAuth access token>")
}

// httpObserver is shared by every stack of the run so rate-limit notices are
// deduplicated across them.
func (rt *invocation) httpObserver() httpx.Observer {
	rt.observerOnce.Do(func() { rt.observer = newHTTPLog(rt.log) })
	return rt.observer
}

// learnAuthorization teaches the redactor each access token as the OAuth
// transport starts using it, so a token can never leak into a log line even
// if some error text were to echo it.
func learnAuthorization(r *redact.Redactor, base http.RoundTripper) http.RoundTripper {
	var mu sync.Mutex
	last := ""
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if v := req.Header.Get("Authorization"); v != "" {
			mu.Lock()
			if v != last {
				last = v
				r.Add(strings.TrimSpace(strings.TrimPrefix(v, "Bearer")))
			}
			mu.Unlock()
		}
		return base.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
