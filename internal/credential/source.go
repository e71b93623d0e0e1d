package credential

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/redact"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

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

// renewRetry is how long a failed renewal waits before the next try while
// the current token is still valid, so an outage of the token endpoint does
// not turn every API request into a token request.
const renewRetry = 10 * time.Second

// expirySkew keeps a token from being used in its last seconds, when it
// could expire on the way to the API.
const expirySkew = 10 * time.Second

// Config is an OAuth 2.0 client_credentials client.
type Config struct {
	ClientID     string
	ClientSecret string
	// TokenURL is the token endpoint, already checked by the caller
	// (httpx.CheckURL: https, or plain http on loopback only).
	TokenURL string
	// InForm sends the id and secret in the form body, as Snyk asks; by
	// default they go as HTTP Basic, as Bitbucket's documentation shows.
	InForm bool
	// HTTPClient sends the token requests; nil means http.DefaultClient. It
	// must not itself carry this credential.
	HTTPClient *http.Client
	// Now is the clock that decides renewal; nil means time.Now.
	Now func() time.Time
	// Minted, if set, hears of each new access token before any request
	// carries it, so the caller can keep it out of every output.
	Minted func(accessToken string)
}

// source hands out a client's access token. The token is cached and shared
// by every goroutine; at most one exchange runs at a time, and a token is
// renewed shortly before expires_in runs out (5 minutes before, or after
// four fifths of its life if that is shorter).
type source struct {
	kind   Kind
	name   string
	cfg    clientcredentials.Config
	secret string
	hc     *http.Client
	now    func() time.Time
	minted func(string)

	mu      sync.Mutex
	tok     *oauth2.Token
	renewAt time.Time
	// expiresAt is when tok stops working. Between renewAt and expiresAt a
	// renewal is due but tok is still good: callers get it rather than wait
	// on, or fail with, a slow or failing token endpoint.
	expiresAt time.Time
	flight    *exchange
	// refused is the endpoint's refusal of the client's credentials: it
	// would refuse them again, so every later caller gets it at once
	// instead of sending another exchange.
	refused error
}

// exchange is one token request in progress; waiters block on done.
type exchange struct {
	done      chan struct{}
	tok       *oauth2.Token
	renewAt   time.Time
	expiresAt time.Time
	err       error
}

func newSource(kind Kind, cfg Config) (*source, error) {
	switch {
	case strings.TrimSpace(cfg.ClientID) == "":
		return nil, &FieldError{Field: "ClientID", Problem: "is empty"}
	case strings.TrimSpace(cfg.ClientSecret) == "":
		return nil, &FieldError{Field: "ClientSecret", Problem: "is empty"}
	case strings.TrimSpace(cfg.TokenURL) == "":
		return nil, &FieldError{Field: "TokenURL", Problem: "is empty"}
	}
	style := oauth2.AuthStyleInHeader
	if cfg.InForm {
		style = oauth2.AuthStyleInParams
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &source{
		kind: kind,
		cfg: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
			AuthStyle:    style,
		},
		secret: cfg.ClientSecret,
		hc:     cfg.HTTPClient,
		now:    now,
		minted: cfg.Minted,
	}, nil
}

// token returns the cached token and when it stops working, or exchanges
// for a new one when there is none or it is due for renewal. Concurrent
// callers share one exchange. A failed exchange is a *TokenError for the
// endpoint's RFC 6749 errors. The token must not be modified.
func (s *source) token(ctx context.Context) (*oauth2.Token, time.Time, error) {
	for {
		s.mu.Lock()
		if s.refused != nil {
			err := s.refused
			s.mu.Unlock()
			return nil, time.Time{}, err
		}
		if s.tok != nil && s.now().Before(s.renewAt) {
			tok, exp := s.tok, s.expiresAt
			s.mu.Unlock()
			return tok, exp, nil
		}
		call, leader := s.join()
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
		if tok, exp, again, err := await(ctx, call); !again {
			return tok, exp, err
		}
	}
}

// tokenAfter returns a token to retry a request the API refused with
// rejected: the cached token if it is another one and should outlive need
// (how long the refused attempt took, so about as long as the retry may
// queue), else the token of a fresh exchange. Callers rejected with the
// same token share that exchange, so a burst of 401s renews once.
func (s *source) tokenAfter(ctx context.Context, rejected string, need time.Duration) (*oauth2.Token, time.Time, error) {
	for {
		s.mu.Lock()
		if s.refused != nil {
			err := s.refused
			s.mu.Unlock()
			return nil, time.Time{}, err
		}
		if s.tok != nil && s.tok.AccessToken != rejected && s.now().Add(need).Before(s.expiresAt) {
			tok, exp := s.tok, s.expiresAt
			s.mu.Unlock()
			return tok, exp, nil
		}
		call, leader := s.join()
		s.mu.Unlock()

		if leader {
			s.exchange(ctx, call)
			return call.tok, call.expiresAt, call.err
		}
		// An exchange that ended after the rejection is as fresh as one of
		// our own would be: take its token even if it is short.
		if tok, exp, again, err := await(ctx, call); !again {
			return tok, exp, err
		}
	}
}

// join returns the exchange in flight, or starts one and makes the caller
// its leader; s.mu is held.
func (s *source) join() (call *exchange, leader bool) {
	if s.flight == nil {
		s.flight = &exchange{done: make(chan struct{})}
		return s.flight, true
	}
	return s.flight, false
}

// await waits for another caller's exchange and returns its result, or
// again when the caller should look once more: the leader's request may
// have ended with its own context while the waiter's is still live.
func await(ctx context.Context, call *exchange) (tok *oauth2.Token, exp time.Time, again bool, err error) {
	select {
	case <-call.done:
		if call.err != nil && ctx.Err() == nil &&
			(errors.Is(call.err, context.Canceled) || errors.Is(call.err, context.DeadlineExceeded)) {
			return nil, time.Time{}, true, nil
		}
		return call.tok, call.expiresAt, false, call.err
	case <-ctx.Done():
		return nil, time.Time{}, false, ctx.Err()
	}
}

// exchange performs one client_credentials request and publishes the result.
func (s *source) exchange(ctx context.Context, call *exchange) {
	defer func() {
		s.mu.Lock()
		var te *TokenError
		switch {
		case call.err == nil:
			s.tok, s.renewAt, s.expiresAt = call.tok, call.renewAt, call.expiresAt
		case errors.As(call.err, &te) && te.CredentialsRejected():
			s.refused = call.err
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
	if s.minted != nil {
		s.minted(tok.AccessToken)
	}
	ttl := tokenTTL(tok)
	call.tok = tok
	call.renewAt = start.Add(ttl - min(maxRenewMargin, ttl/5))
	call.expiresAt = start.Add(ttl)
}

func (s *source) tokenError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if te := newTokenError(s.kind, err, s.secret); te != err {
		te.(*TokenError).Name = s.name
		return te
	}
	msg := redact.Literal(err.Error(), s.secret)
	return &redact.Error{Msg: "requesting an OAuth token from " + s.cfg.TokenURL + ": " + msg, Err: err}
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

// scopes returns the scopes granted (the token response's space-separated
// `scopes`, as Bitbucket says it, or `scope`), exchanging for a token if
// needed; nil when the endpoint did not say.
func (s *source) scopes(ctx context.Context) ([]string, error) {
	tok, _, err := s.token(ctx)
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("scopes").(string)
	if raw == "" {
		raw, _ = tok.Extra("scope").(string)
	}
	return strings.Fields(raw), nil
}

// expiry is when the cached token stops working; zero before the first
// exchange.
func (s *source) expiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expiresAt
}
