package bitbucket

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/redact"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DefaultTokenURL is Bitbucket's OAuth 2.0 token endpoint (on bitbucket.org,
// not api.bitbucket.org).
const DefaultTokenURL = "https://bitbucket.org/site/oauth2/access_token"

// defaultTokenTTL is assumed when the token response has no expires_in, as
// snyk-api-import does.
const defaultTokenTTL = 50 * time.Minute

// maxTokenTTL caps expires_in: a token endpoint answering a lifetime of
// years (or one that overflows time.Duration, which came out negative and
// renewed the token on every call) is treated as one that lasts a day. A
// token that really dies sooner is renewed by the 401 path.
const maxTokenTTL = 24 * time.Hour

// maxRenewMargin is how long before expiry a token is renewed, at most; a
// short-lived token is renewed after four fifths of its life instead.
const maxRenewMargin = 5 * time.Minute

// TokenConfig configures [NewTokenSource].
type TokenConfig struct {
	// ClientID and ClientSecret are the OAuth consumer's key and secret
	// (BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET).
	ClientID     string
	ClientSecret string
	// TokenURL defaults to [DefaultTokenURL]. Plain http:// is refused
	// unless the host is a loopback address.
	TokenURL string
	// HTTPClient sends the token requests; nil means http.DefaultClient. It
	// must not carry the TokenSource's own OAuthTransport.
	HTTPClient *http.Client
	// Now is the clock used to decide when to renew; nil means time.Now.
	Now func() time.Time
}

// TokenSource hands out an OAuth consumer's client_credentials access token.
// The token is cached and shared by every goroutine; at most one exchange
// runs at a time, and a token is renewed shortly before expires_in runs out
// (5 minutes before, or after four fifths of its life if that is shorter).
type TokenSource struct {
	cfg    clientcredentials.Config
	secret string
	hc     *http.Client
	now    func() time.Time

	mu      sync.Mutex
	tok     *oauth2.Token
	renewAt time.Time
	// expiresAt is when tok stops working. Between renewAt and expiresAt a
	// renewal is due but tok is still good: callers get it rather than wait
	// on, or fail with, a slow or failing token endpoint.
	expiresAt time.Time
	flight    *tokenCall
}

// tokenCall is one exchange in progress; waiters block on done.
type tokenCall struct {
	done      chan struct{}
	tok       *oauth2.Token
	renewAt   time.Time
	expiresAt time.Time
	err       error
}

// renewRetry is how long a failed renewal waits before the next try while
// the current token is still valid, so an outage of the token endpoint does
// not turn every API request into a token request.
const renewRetry = 10 * time.Second

// expirySkew keeps a token from being used in its last seconds, when it
// could expire on the way to Bitbucket.
const expirySkew = 10 * time.Second

// NewTokenSource returns a token source for the OAuth consumer in cfg. It
// makes no request until a token is needed.
func NewTokenSource(cfg TokenConfig) (*TokenSource, error) {
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("bitbucket: the OAuth consumer key is empty; set BITBUCKET_APP_CLIENT_ID")
	}
	if strings.TrimSpace(cfg.ClientSecret) == "" {
		return nil, errors.New("bitbucket: the OAuth consumer secret is empty; set BITBUCKET_APP_CLIENT_SECRET")
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	u, err := checkURL("token URL (BITBUCKET_APP_TOKEN_URL)", tokenURL)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &TokenSource{
		cfg: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     u.String(),
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		secret: cfg.ClientSecret,
		hc:     cfg.HTTPClient,
		now:    now,
	}, nil
}

// Token returns the cached token, or exchanges the consumer's credentials for
// a new one when there is none or it is due for renewal. Concurrent callers
// share one exchange. A failed exchange returns a *TokenError for the token
// endpoint's RFC 6749 errors. The returned token must not be modified.
func (s *TokenSource) Token(ctx context.Context) (*oauth2.Token, error) {
	tok, _, err := s.token(ctx)
	return tok, err
}

// token is Token that also says when the token stops working.
func (s *TokenSource) token(ctx context.Context) (*oauth2.Token, time.Time, error) {
	for {
		s.mu.Lock()
		if s.tok != nil && s.now().Before(s.renewAt) {
			tok, exp := s.tok, s.expiresAt
			s.mu.Unlock()
			return tok, exp, nil
		}
		call, leader := s.joinFlight()
		stillValid := s.tok != nil && s.now().Before(s.expiresAt.Add(-expirySkew))
		current, currentExp := s.tok, s.expiresAt
		s.mu.Unlock()

		if leader {
			s.exchange(ctx, call)
			if call.err != nil && stillValid && ctx.Err() == nil {
				return current, currentExp, nil
			}
			return call.tok, call.expiresAt, call.err
		}
		if stillValid {
			return current, currentExp, nil
		}
		if tok, exp, again, err := awaitFlight(ctx, call); !again {
			return tok, exp, err
		}
	}
}

// joinFlight returns the exchange in flight, or starts one and makes the
// caller its leader; s.mu is held.
func (s *TokenSource) joinFlight() (call *tokenCall, leader bool) {
	if s.flight == nil {
		s.flight = &tokenCall{done: make(chan struct{})}
		return s.flight, true
	}
	return s.flight, false
}

// awaitFlight waits for another caller's exchange and returns its result,
// or again when the caller should look once more (see retryFlight).
func awaitFlight(ctx context.Context, call *tokenCall) (tok *oauth2.Token, exp time.Time, again bool, err error) {
	select {
	case <-call.done:
		if retryFlight(ctx, call) {
			return nil, time.Time{}, true, nil
		}
		return call.tok, call.expiresAt, false, call.err
	case <-ctx.Done():
		return nil, time.Time{}, false, ctx.Err()
	}
}

// retryFlight reports whether a waiter should try again after call: the
// leader's request may have ended with its own context, while the waiter's
// is still live.
func retryFlight(ctx context.Context, call *tokenCall) bool {
	return call.err != nil && ctx.Err() == nil &&
		(errors.Is(call.err, context.Canceled) || errors.Is(call.err, context.DeadlineExceeded))
}

// tokenAfter returns a token to retry a request whose token, rejected, the
// API refused: the cached token if it is another one and should outlive
// need (how long the refused attempt took, so about as long as the retry
// may queue), else the token of a fresh exchange. Callers rejected with
// the same token share that exchange, so a burst of 401s renews once.
func (s *TokenSource) tokenAfter(ctx context.Context, rejected string, need time.Duration) (*oauth2.Token, time.Time, error) {
	for {
		s.mu.Lock()
		if s.tok != nil && s.tok.AccessToken != rejected && s.now().Add(need).Before(s.expiresAt) {
			tok, exp := s.tok, s.expiresAt
			s.mu.Unlock()
			return tok, exp, nil
		}
		call, leader := s.joinFlight()
		s.mu.Unlock()

		if leader {
			s.exchange(ctx, call)
			return call.tok, call.expiresAt, call.err
		}
		// An exchange that ended after the rejection is as fresh as one of
		// our own would be: take its token even if it is short.
		if tok, exp, again, err := awaitFlight(ctx, call); !again {
			return tok, exp, err
		}
	}
}

// exchange performs one client_credentials request and publishes the result.
func (s *TokenSource) exchange(ctx context.Context, call *tokenCall) {
	defer func() {
		s.mu.Lock()
		switch {
		case call.err == nil:
			s.tok, s.renewAt, s.expiresAt = call.tok, call.renewAt, call.expiresAt
		case s.tok != nil && s.now().Before(s.expiresAt.Add(-expirySkew)):
			s.renewAt = s.now().Add(renewRetry)
		}
		s.flight = nil
		s.mu.Unlock()
		close(call.done)
	}()

	start := s.now()
	if s.hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, s.hc)
	}
	tok, err := s.cfg.Token(ctx)
	if err != nil {
		call.err = s.tokenError(ctx, err)
		return
	}
	ttl := tokenTTL(tok)
	call.tok = tok
	call.renewAt = start.Add(ttl - min(maxRenewMargin, ttl/5))
	call.expiresAt = start.Add(ttl)
}

func (s *TokenSource) tokenError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if te := newTokenError(err, s.secret); te != err {
		return te
	}
	msg := redact.Literal(err.Error(), s.secret)
	return &redact.Error{Msg: "bitbucket: requesting an OAuth token from " + s.cfg.TokenURL + ": " + msg, Err: err}
}

// tokenTTL reads expires_in (seconds) from the token response.
func tokenTTL(tok *oauth2.Token) time.Duration {
	var secs float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64:
		secs = float64(v)
	case json.Number:
		secs, _ = v.Float64()
	case string:
		secs, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
	}
	if !(secs > 0) { // also NaN
		return defaultTokenTTL
	}
	if secs >= maxTokenTTL.Seconds() { // also +Inf; compared before converting, which would overflow
		return maxTokenTTL
	}
	return time.Duration(secs * float64(time.Second))
}

// Scopes returns the scopes Bitbucket granted the consumer (the token
// response's space-separated `scopes`), exchanging for a token if needed. It
// is nil when Bitbucket did not say.
func (s *TokenSource) Scopes(ctx context.Context) ([]string, error) {
	tok, err := s.Token(ctx)
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("scopes").(string)
	if raw == "" {
		raw, _ = tok.Extra("scope").(string)
	}
	return strings.Fields(raw), nil
}

// OAuthTransport returns a RoundTripper that sends every request through
// base (nil means http.DefaultTransport) with `Authorization: Bearer` and a
// token from src. When the API answers 401 it retries, if the request has
// no body or can replay it (GetBody), with a token other than the refused
// one: the newest if it should outlive the retry, else a fresh exchange's.
// If the retry is refused too and its token had expired by then (it aged
// out while the request queued at a busy server), it retries once more the
// same way; at most two retries per request. A failed renewal returns the
// *TokenError.
func OAuthTransport(src *TokenSource, base http.RoundTripper) http.RoundTripper {
	return &oauthTransport{src: src, base: base}
}

// maxAuthRetries bounds the 401 retries of one request.
const maxAuthRetries = 2

type oauthTransport struct {
	src  *TokenSource
	base http.RoundTripper
}

func (t *oauthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, exp, err := t.src.token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	attempt := withAuth(req, "Bearer "+tok.AccessToken)
	for retry := 0; ; retry++ {
		sent := t.src.now()
		resp, err := roundTripper(t.base).RoundTrip(attempt)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable || retry == maxAuthRetries {
			return resp, err
		}
		// Bitbucket does not document its 401 wording, so the body is not
		// read: a second retry is earned by our own clock saying the token
		// the server refused had run out (its expiry is computed from
		// expires_in before the exchange, so it is never later than the
		// server's). Any other persistent 401 ends after one retry.
		if retry > 0 && t.src.now().Before(exp.Add(-expirySkew)) {
			return resp, nil
		}
		fresh, freshExp, err := t.src.tokenAfter(ctx, tok.AccessToken, t.src.now().Sub(sent))
		if err != nil {
			drain(resp)
			return nil, err
		}
		if fresh.AccessToken == tok.AccessToken {
			return resp, nil // the endpoint handed back the same token; a retry cannot help
		}
		attempt = withAuth(req, "Bearer "+fresh.AccessToken)
		if req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return resp, nil
			}
			attempt.Body = body
		}
		drain(resp)
		tok, exp = fresh, freshExp
	}
}

// BasicTransport returns a RoundTripper that adds HTTP Basic user:pass to
// every request sent through base (nil means http.DefaultTransport).
func BasicTransport(user, pass string, base http.RoundTripper) http.RoundTripper {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return &headerTransport{value: r.Header.Get("Authorization"), base: base}
}

// BearerTransport returns a RoundTripper that adds `Authorization: Bearer
// token` to every request sent through base (nil means http.DefaultTransport).
func BearerTransport(token string, base http.RoundTripper) http.RoundTripper {
	return &headerTransport{value: "Bearer " + token, base: base}
}

type headerTransport struct {
	value string
	base  http.RoundTripper
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return roundTripper(t.base).RoundTrip(withAuth(req, t.value))
}

// withAuth clones req (RoundTrippers must not modify their request) and sets
// the Authorization header.
func withAuth(req *http.Request, value string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", value)
	return r
}

func roundTripper(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// drain reads a little of resp's body so the connection can be reused, then
// closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
