package sim

import (
	"crypto/rand"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The simulated Bitbucket Cloud.
//
// Routes:
//
//	POST /site/oauth2/access_token           client_credentials token endpoint
//	GET  /2.0/user/workspaces                 workspace_access items (scope account)
//	GET  /2.0/repositories/{workspace}        repositories; slug or {uuid} (scope repository)
//	GET  /2.0/workspaces/{workspace}          one workspace (scope account)
//	GET  /2.0/workspaces/{workspace}/projects the workspace's projects (scope project)
//	GET  /2.0/user                            the authenticated user (scope account)
//	*    /2.0/workspaces, /2.0/repositories,
//	     /2.0/user/permissions/{workspaces,repositories}
//	                                          410 Gone, the CHANGE-2770 body
//
// Listings paginate as Bitbucket does (page, pagelen default 10 and at most
// MaxPageLen, size, values, absolute next/previous URLs built from the
// request's Host and keeping its query) and honour fields= (bitbucket_query.go);
// q= filters repositories before pagination; sort= is ignored, and so is q=
// on /2.0/user/workspaces and on projects.
//
// Every /2.0 request passes, in order: the fault layer (Faults), the removed
// endpoints (410, before auth), authentication (401), the per-credential
// budget (429; an access token's scaled limit announced), the scope check
// (403), the identity's reach (403 for a workspace that is not an app
// user's or access token's own), then the handler. The token endpoint
// has its own fault layer (TokenFaults, counted as "bitbucket.token.429" and
// "bitbucket.token.5xx").
//
// Counters (a contract for other packages' tests):
//
//	bitbucket.requests                  /2.0 requests that reached a handler (after the fault layer)
//	bitbucket.requests.<route>          the same per route: user_workspaces, repositories,
//	                                    projects, workspace, user, removed, unknown
//	bitbucket.workspaces_pages          200 pages of /2.0/user/workspaces
//	bitbucket.repositories_pages        200 pages of /2.0/repositories/{workspace}
//	bitbucket.repositories_pages.<slug> the same per workspace (by slug, even when asked by uuid)
//	bitbucket.projects_pages            200 pages of /2.0/workspaces/{workspace}/projects
//	bitbucket.projects_pages.<slug>     the same per workspace
//	bitbucket.auth.<kind>               authenticated /2.0 requests by kind of credential:
//	                                    basic (Users), static (StaticTokens as Bearer),
//	                                    consumer (tokens issued to the OAuth consumers), access
//	                                    (AccessTokens); more in bitbucket_identities.go
//	bitbucket.token_exchanges           tokens issued by the token endpoint
//	bitbucket.token_errors              token endpoint requests answered with an OAuth error
//	bitbucket.max_pagelen               the largest pagelen asked for (even if refused)
//	bitbucket.bytes                     body bytes of the 200 list pages (workspaces + repositories)
//	bitbucket.400, .401, .403, .404, .405, .410
//	                                    error answers of the /2.0 handlers
//	bitbucket.429                       429s: the fault layer's and the per-credential budget's
//	bitbucket.5xx                       the fault layer's 503s (and ListStatus ≥ 500 answers)

// Defaults of BitbucketConfig.
const (
	DefaultBitbucketClientID     = "sim-client-id"
	DefaultBitbucketClientSecret = "sim-client-secret"
	// DefaultBitbucketScopes is what a consumer with Account: Read,
	// Repositories: Read and Projects: Read ticked shows: Bitbucket lists only
	// the ticked scopes that are not implied by another (project implies
	// repository), as real tokens do ("pipeline runner pullrequest team
	// project account issue snippet").
	DefaultBitbucketScopes = "project account"
)

// LastPageNext is a pagination quirk of real Bitbucket, for client tests.
type LastPageNext string

const (
	// LastPageNextNone: the last page has no `next` (the normal behaviour).
	LastPageNextNone LastPageNext = ""
	// LastPageNextEmpty: the last page links to a further page that has an
	// empty `values` and no `next` (BCLOUD-22441).
	LastPageNextEmpty LastPageNext = "empty"
	// LastPageNextSame: the last page's `next` is its own URL; a client that
	// does not stop on a repeated `next` loops forever.
	LastPageNextSame LastPageNext = "same"
)

// BitbucketConfig configures the simulated Bitbucket Cloud. The zero value
// is a working server with FixtureWorkspaces and the default credentials.
type BitbucketConfig struct {
	// Faults apply to every /2.0 request.
	Faults Faults
	// TokenFaults apply to the token endpoint.
	TokenFaults Faults

	// ClientID and ClientSecret are the OAuth consumer's key and secret
	// (defaults DefaultBitbucketClientID, DefaultBitbucketClientSecret).
	ClientID     string
	ClientSecret string
	// TokenTTL is the lifetime of issued tokens (default 1h); expires_in is
	// its whole seconds, rounded up.
	TokenTTL time.Duration
	// PublicConsumer makes the token endpoint refuse client_credentials with
	// 400 unauthorized_client, as Bitbucket does for a public consumer.
	PublicConsumer bool
	// TokenError, when set, is the OAuth error code ("invalid_grant",
	// "invalid_scope", ...) that the token endpoint answers to every request.
	TokenError string
	// Scopes are the space-separated scopes granted to every credential
	// (default DefaultBitbucketScopes). Without "account", the workspace and
	// user routes answer 403; without "repository" (or a scope implying it:
	// repository:write, project, pullrequest, pullrequest:write), repository
	// listing does; without "project", project listing does.
	Scopes string

	// Lenient knobs: each restores a friendlier behaviour than the published
	// API's (bitbucket_strict.go), for tests that are about something else.

	// BBQLAcceptZ makes q= accept dates written with `Z`; by default they
	// are refused with 400 "Illegal character in input: 'Z'", as reported
	// for Bitbucket.
	BBQLAcceptZ bool
	// WorkspaceAccessNames puts `name` (and type "workspace") in the
	// `workspace` of GET /2.0/user/workspaces items; by default they are the
	// spec's workspace_base {type, uuid, slug, links}, without a name.
	WorkspaceAccessNames bool

	// Users are the bitbucket-cloud source's Basic credentials: username
	// (or e-mail) → app password or API token.
	Users map[string]string
	// StaticTokens are accepted as Bearer tokens (API / OAuth / access
	// tokens); they never expire.
	StaticTokens []string
	// Consumers are OAuth consumers besides ClientID, each owned by a
	// workspace, whose tokens are app users reaching only that workspace;
	// AccessTokens are workspace access tokens with scaled limits
	// (bitbucket_identities.go). ClientID's tokens and StaticTokens reach
	// every workspace, as before 2026.
	Consumers    []ConsumerSpec
	AccessTokens []AccessTokenSpec

	// Workspaces is the estate; nil means FixtureWorkspaces(), an empty
	// non-nil slice means no workspace at all.
	Workspaces []WorkspaceSpec

	// RateLimitPerToken is the number of /2.0 requests a credential may make
	// per RateLimitWindow (0 = unlimited); beyond it the API answers 429
	// "Rate limit for this resource has been exceeded". Bitbucket does not
	// document a Retry-After on it (only a third-party summary claims one),
	// so none is sent unless RateLimitRetryAfter asks (whole seconds until a
	// request leaves the rolling window).
	// Tokens issued to one OAuth consumer share one budget (Bitbucket counts
	// per consumer); each consumer, static token, access token (with its
	// own scaled Limit on the api group) and Basic user has its own.
	RateLimitPerToken   int
	RateLimitRetryAfter bool
	// RateLimitWindow is the rolling window of RateLimitPerToken (default 1h).
	RateLimitWindow time.Duration

	// MaxPageLen is the largest pagelen accepted (default 100); above it the
	// API answers 400.
	MaxPageLen int
	// LastPageNext selects a pagination quirk for both listings.
	LastPageNext LastPageNext

	// SerialHandling, when positive, is the serialising mode: /2.0
	// requests are handled one at a time, each taking this long, and the
	// token is checked when a request's handling starts (after its wait in
	// the queue). With N requests in flight a request waits about
	// N × SerialHandling (bitbucket_serial.go).
	SerialHandling time.Duration

	// Now is the clock for token expiry and the budget (default time.Now).
	Now func() time.Time
}

// bitbucketState is the Bitbucket half's state.
type bitbucketState struct {
	s      *Server
	cfg    BitbucketConfig
	scopes []string
	ws     []WorkspaceSpec // normalised
	byID   map[string]int  // slug, lower-cased uuid → index into ws

	mu      sync.Mutex
	tokens  map[string]time.Time   // access token → expiry
	issued  map[string]int         // access token → its consumer (-1: ClientID's)
	budgets map[string][]time.Time // credential → request times in the window

	overlay estateOverlay // changes between runs (estate_changes.go)
	serial  chan struct{} // the one request being handled (SerialHandling)
}

func newBitbucketState(s *Server, cfg BitbucketConfig) *bitbucketState {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultBitbucketClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = DefaultBitbucketClientSecret
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Scopes == "" {
		cfg.Scopes = DefaultBitbucketScopes
	}
	if cfg.RateLimitWindow <= 0 {
		cfg.RateLimitWindow = time.Hour
	}
	if cfg.MaxPageLen <= 0 {
		cfg.MaxPageLen = 100
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	specs := cfg.Workspaces
	if specs == nil {
		specs = FixtureWorkspaces()
	}
	st := &bitbucketState{
		s:       s,
		cfg:     cfg,
		scopes:  strings.Fields(cfg.Scopes),
		byID:    map[string]int{},
		tokens:  map[string]time.Time{},
		issued:  map[string]int{},
		budgets: map[string][]time.Time{},
		serial:  make(chan struct{}, 1),
	}
	for _, w := range specs {
		w = w.normalized()
		st.byID[w.Slug] = len(st.ws)
		st.byID[strings.ToLower(w.UUID)] = len(st.ws)
		st.ws = append(st.ws, w)
	}
	return st
}

func (s *Server) registerBitbucket(mux *http.ServeMux) {
	mux.HandleFunc("/site/oauth2/access_token", s.bb.serveToken)
	mux.HandleFunc("/2.0/", s.bb.serveAPI)
}

// BitbucketWorkspaces returns the simulated estate, with derived names and
// UUIDs filled in.
func (s *Server) BitbucketWorkspaces() []WorkspaceSpec {
	return append([]WorkspaceSpec(nil), s.bb.ws...)
}

// ExpectedRepositories is the number of repositories of a workspace (slug or
// {uuid}), or -1 if there is no such workspace.
func (s *Server) ExpectedRepositories(workspace string) int {
	w := s.bb.workspace(workspace)
	if w == nil {
		return -1
	}
	return w.Repos
}

// ExpireBitbucketTokens makes every issued access token expire now, so the
// next API call with one answers 401 "Access token expired.".
func (s *Server) ExpireBitbucketTokens() { expireTokens(&s.bb.mu, s.bb.tokens, s.bb.cfg.Now()) }

// workspace finds a workspace by slug or {uuid}.
func (st *bitbucketState) workspace(id string) *WorkspaceSpec {
	i, ok := st.byID[id]
	if !ok {
		i, ok = st.byID[strings.ToLower(id)]
		if !ok || !strings.HasPrefix(id, "{") {
			return nil
		}
	}
	return &st.ws[i]
}

// ---- token endpoint ----

// serveToken is POST /site/oauth2/access_token.
func (st *bitbucketState) serveToken(w http.ResponseWriter, r *http.Request) {
	if st.s.inject(w, r, "bitbucket.token", st.cfg.TokenFaults) {
		return
	}
	id, secret, ok := tokenRequest(w, r, st.tokenError)
	if !ok {
		return
	}
	if st.cfg.TokenError != "" {
		st.tokenError(w, http.StatusBadRequest, st.cfg.TokenError, "Simulated "+st.cfg.TokenError+".")
		return
	}
	consumer, known := st.consumer(id, secret)
	if !known {
		st.tokenError(w, http.StatusBadRequest, "invalid_client", "Invalid OAuth client credentials")
		return
	}
	grant := r.PostForm.Get("grant_type")
	if grant != "client_credentials" {
		if grant == "" {
			grant = "None"
		}
		st.tokenError(w, http.StatusBadRequest, "invalid_grant", "Unsupported grant type: "+grant)
		return
	}
	if st.cfg.PublicConsumer {
		st.tokenError(w, http.StatusBadRequest, "unauthorized_client",
			"Client credentials are not allowed for public consumers. Make the consumer private.")
		return
	}
	for _, want := range strings.Fields(r.PostForm.Get("scope")) {
		if !st.hasScope(want) {
			st.tokenError(w, http.StatusBadRequest, "invalid_scope", "Invalid scope: "+want)
			return
		}
	}
	token, refresh := rand.Text(), rand.Text()
	st.mu.Lock()
	st.tokens[token] = st.cfg.Now().Add(st.cfg.TokenTTL)
	st.issued[token] = consumer
	st.mu.Unlock()
	st.s.add("bitbucket.token_exchanges", 1)
	w.Header().Set("Cache-Control", "no-store")
	bbWriteJSON(w, http.StatusOK, map[string]any{
		"access_token":  token,
		"token_type":    "bearer",
		"expires_in":    int64(math.Ceil(st.cfg.TokenTTL.Seconds())),
		"scopes":        st.cfg.Scopes,
		"refresh_token": refresh,
	})
}

func (st *bitbucketState) tokenError(w http.ResponseWriter, status int, code, desc string) {
	st.s.add("bitbucket.token_errors", 1)
	bbWriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// ---- API auth, budget, errors ----

// authenticate checks the Authorization header. It returns who the
// request authenticated as, or nil and the message for a 401.
func (st *bitbucketState) authenticate(r *http.Request) (*principal, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, "Authentication required: send an Authorization header."
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if want, found := st.cfg.Users[user]; found && want == pass {
			return &principal{key: "basic:" + user, kind: "basic", label: "user:" + user}, ""
		}
		return nil, "Invalid credentials: the username or app password / API token is wrong."
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil, "Unsupported Authorization scheme."
	}
	for _, t := range st.cfg.StaticTokens {
		if t == tok {
			return &principal{key: "static:" + tok, kind: "static", label: "static"}, ""
		}
	}
	if p := st.accessPrincipal(tok); p != nil {
		return p, ""
	}
	st.mu.Lock()
	exp, ok := st.tokens[tok]
	consumer := st.issued[tok]
	st.mu.Unlock()
	if !ok || !st.cfg.Now().Before(exp) {
		return nil, "Access token expired."
	}
	return st.consumerPrincipal(consumer), ""
}

// spend takes one request from a credential's budget of limit a window (0:
// unlimited); when it is spent it returns false and how long until a
// request leaves the window. used is the window's count with this request.
func (st *bitbucketState) spend(key string, limit int) (wait time.Duration, used int, ok bool) {
	if limit <= 0 {
		return 0, 0, true
	}
	now := st.cfg.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	times := st.budgets[key]
	k := 0
	for k < len(times) && !times[k].After(now.Add(-st.cfg.RateLimitWindow)) {
		k++
	}
	times = times[k:]
	if len(times) >= limit {
		st.budgets[key] = times
		return times[0].Add(st.cfg.RateLimitWindow).Sub(now), len(times), false
	}
	st.budgets[key] = append(times, now)
	return 0, len(times) + 1, true
}

// apiError writes Bitbucket's error body {"type":"error","error":{...}} and
// counts the status.
func (st *bitbucketState) apiError(w http.ResponseWriter, status int, msg string, detail any, data any) {
	e := map[string]any{"message": msg}
	if detail != nil {
		e["detail"] = detail
	}
	if data != nil {
		e["data"] = data
	}
	if status >= 500 {
		st.s.add("bitbucket.5xx", 1)
	} else {
		st.s.add("bitbucket."+strconv.Itoa(status), 1)
	}
	bbWriteJSON(w, status, map[string]any{"type": "error", "error": e})
}

// gone answers a CHANGE-2770 removed endpoint.
func (st *bitbucketState) gone(w http.ResponseWriter) {
	st.apiError(w, http.StatusGone, "CHANGE-2770 - Functionality has been deprecated",
		"Please read the changelog entry for more details.",
		map[string]string{"announcement_url": "https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770"})
}

// lacksScope answers 403 the way Bitbucket does for a missing scope.
func (st *bitbucketState) lacksScope(w http.ResponseWriter, scope string) {
	st.apiError(w, http.StatusForbidden, "Your credentials lack one or more required privilege scopes.",
		map[string]any{"required": []string{scope}, "granted": st.scopes}, nil)
}

// writeJSON writes v with status and returns the body's length.
func bbWriteJSON(w http.ResponseWriter, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return 0
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	n, _ := w.Write(b)
	return n
}
