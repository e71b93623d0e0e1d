package sim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Bitbucket identities as they are since 2026-05-04 (shared/research
// api-facts.md §0): a client_credentials token authenticates as an app user
// that reaches only the workspaces owning its consumer, and workspace access
// tokens are bound to one workspace with a scaled limit of their own,
// announced in X-RateLimit-* headers. What GET /2.0/user/workspaces answers
// either of them is not documented, so it is a knob (UserWorkspaces).
//
// Counters:
//
//	bitbucket.auth.access               requests sent with an AccessTokens token
//	bitbucket.identity.<label>          /2.0 requests per identity that authenticated: the
//	                                    consumer's client id, an access token's Name, "user:<name>"
//	bitbucket.403.elsewhere             403s of an identity asking for a workspace not its own

// UserWorkspaces is what GET /2.0/user/workspaces answers an app user or an
// access token: "owned" (the default for consumers: the workspaces it
// owns), "empty" (a page without values), or an HTTP status ("403", the
// default for access tokens; "401", "404", "410", "500", …) with an error
// body.
type UserWorkspaces string

// The non-status answers of UserWorkspaces.
const (
	UserWorkspacesOwned UserWorkspaces = "owned"
	UserWorkspacesEmpty UserWorkspaces = "empty"
)

// ParseUserWorkspaces checks a UserWorkspaces value (bbsim's flag).
func ParseUserWorkspaces(s string) (UserWorkspaces, error) {
	u := UserWorkspaces(strings.TrimSpace(s))
	if _, ok := u.status(); ok || u == "" || u == UserWorkspacesOwned || u == UserWorkspacesEmpty {
		return u, nil
	}
	return "", fmt.Errorf("user workspaces %q: want owned, empty or an HTTP status from 400 to 599", s)
}

func (u UserWorkspaces) status() (int, bool) {
	n, err := strconv.Atoi(string(u))
	return n, err == nil && n >= 400 && n < 600
}

// ConsumerSpec is an OAuth consumer owned by a workspace: its tokens are an
// app user that reaches the workspaces of Owns and is answered 403 for any
// other.
type ConsumerSpec struct {
	ClientID, ClientSecret string
	// Owns are the slugs of the workspaces the app user reaches.
	Owns []string
	// UserWorkspaces is what GET /2.0/user/workspaces answers it (default
	// owned).
	UserWorkspaces UserWorkspaces
}

// AccessTokenSpec is a workspace access token: Bearer, bound to one
// workspace, with a scaled limit of its own on the "api" resource group
// (GET /2.0/repositories/…), announced on each of its answers there in
// X-RateLimit-Limit, X-RateLimit-Resource and X-RateLimit-NearLimit (true
// when under 20 % of the limit is left in the rolling window).
type AccessTokenSpec struct {
	// Name labels it in counters (the token itself is never a counter's
	// name).
	Name      string
	Token     string
	Workspace string
	// Limit is its limit per RateLimitWindow on the api group: announced
	// and enforced (0: RateLimitPerToken, announced as 1,000 when that is
	// 0 too). Its other requests are counted apart, under RateLimitPerToken.
	Limit int
	// UserWorkspaces is what GET /2.0/user/workspaces answers it (default
	// 403).
	UserWorkspaces UserWorkspaces
	// NoHeaders leaves the X-RateLimit-* headers out (a token that does not
	// announce its limit).
	NoHeaders bool
}

// principal is who a /2.0 request authenticated as.
type principal struct {
	// key is the budget's key: one per credential ("consumer:<id>",
	// "static:<token>", "basic:<user>", "access:<name>").
	key   string
	kind  string // counter kind: basic, static, consumer, access
	label string // counter label
	// owns is nil when the identity reaches every workspace.
	owns   []string
	userWS UserWorkspaces
	// access is the access token, if the identity is one.
	access *AccessTokenSpec
}

// reaches reports whether the identity may read workspace id (slug or
// {uuid}); an unknown workspace is left to the handler's 404.
func (p *principal) reaches(st *bitbucketState, id string) bool {
	if p.owns == nil {
		return true
	}
	ws := st.workspace(id)
	return ws == nil || slices.Contains(p.owns, ws.Slug)
}

// consumer finds a consumer by its credentials: the default one (index -1)
// or one of Consumers.
func (st *bitbucketState) consumer(id, secret string) (int, bool) {
	if id == st.cfg.ClientID && secret == st.cfg.ClientSecret {
		return -1, true
	}
	for i, c := range st.cfg.Consumers {
		if id == c.ClientID && secret == c.ClientSecret {
			return i, true
		}
	}
	return 0, false
}

// consumerPrincipal is the identity of a token issued to consumer i.
func (st *bitbucketState) consumerPrincipal(i int) *principal {
	if i < 0 {
		return &principal{key: "consumer:" + st.cfg.ClientID, kind: "consumer", label: st.cfg.ClientID}
	}
	c := st.cfg.Consumers[i]
	u := c.UserWorkspaces
	if u == "" {
		u = UserWorkspacesOwned
	}
	return &principal{key: "consumer:" + c.ClientID, kind: "consumer", label: c.ClientID, owns: append([]string{}, c.Owns...), userWS: u}
}

// accessPrincipal is the identity of an access token, or nil.
func (st *bitbucketState) accessPrincipal(tok string) *principal {
	for i := range st.cfg.AccessTokens {
		a := &st.cfg.AccessTokens[i]
		if a.Token != tok {
			continue
		}
		u := a.UserWorkspaces
		if u == "" {
			u = "403"
		}
		return &principal{key: "access:" + a.Name, kind: "access", label: a.Name, owns: []string{a.Workspace}, userWS: u, access: a}
	}
	return nil
}

// elsewhere answers a request for a workspace the identity does not reach,
// as Bitbucket answers an app user outside its workspace.
func (st *bitbucketState) elsewhere(w http.ResponseWriter, id string) {
	st.s.add("bitbucket.403.elsewhere", 1)
	st.apiError(w, http.StatusForbidden, "You do not have access to workspace '"+id+"'.", nil, nil)
}

// userWorkspaces answers GET /2.0/user/workspaces for an identity that is
// not an ordinary user; it reports false when the ordinary listing should
// answer instead.
func (st *bitbucketState) userWorkspaces(w http.ResponseWriter, r *http.Request, p *principal) bool {
	if p.userWS == "" {
		return false
	}
	if status, ok := p.userWS.status(); ok {
		msg := "This API is not available to this kind of credential."
		if status >= 500 {
			msg = "Something went wrong."
		}
		st.apiError(w, status, msg, nil, nil)
		return true
	}
	owned := p.owns
	if p.userWS == UserWorkspacesEmpty {
		owned = []string{}
	}
	st.listWorkspacesOf(w, r, func(ws *WorkspaceSpec) bool { return slices.Contains(owned, ws.Slug) })
	return true
}

// scaledLimit is an access token's limit on the api group and whether the
// request is of that group; other requests keep RateLimitPerToken.
func (st *bitbucketState) scaledLimit(p *principal, route string) (int, bool) {
	if p.access == nil || (route != "repositories" && route != "repository") {
		return st.cfg.RateLimitPerToken, false
	}
	if p.access.Limit > 0 {
		return p.access.Limit, true
	}
	return st.cfg.RateLimitPerToken, true
}

// announce sets the scaled-limit headers on an access token's answer in the
// api group: the limit, the group, and whether under 20 % of it is left.
func (st *bitbucketState) announce(w http.ResponseWriter, p *principal, limit, used int) {
	if p.access == nil || p.access.NoHeaders {
		return
	}
	if limit <= 0 {
		limit = 1000
	}
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Resource", "api")
	w.Header().Set("X-RateLimit-NearLimit", strconv.FormatBool(limit-used < limit/5))
}

// WorkspaceConsumer is the key and secret of the consumer that
// PerWorkspaceConsumers gives workspace slug.
func WorkspaceConsumer(slug string) (id, secret string) {
	return "sim-consumer-" + slug, "sim-consumer-secret-" + slug + "-0123456789abcdef"
}

// WorkspaceAccessToken is the access token PerWorkspaceAccessTokens gives
// workspace slug.
func WorkspaceAccessToken(slug string) string { return "sim-access-token-" + slug + "-0123456789" }

// PerWorkspaceConsumers is one consumer owned by each workspace of estate
// (WorkspaceConsumer), whose app user /user/workspaces answers as u says.
func PerWorkspaceConsumers(estate []WorkspaceSpec, u UserWorkspaces) []ConsumerSpec {
	out := make([]ConsumerSpec, len(estate))
	for i, w := range estate {
		id, secret := WorkspaceConsumer(w.Slug)
		out[i] = ConsumerSpec{ClientID: id, ClientSecret: secret, Owns: []string{w.Slug}, UserWorkspaces: u}
	}
	return out
}

// PerWorkspaceAccessTokens is one access token made in each workspace of
// estate (WorkspaceAccessToken, named after the workspace), each with the
// scaled limit limit.
func PerWorkspaceAccessTokens(estate []WorkspaceSpec, limit int) []AccessTokenSpec {
	out := make([]AccessTokenSpec, len(estate))
	for i, w := range estate {
		out[i] = AccessTokenSpec{Name: w.Slug, Token: WorkspaceAccessToken(w.Slug), Workspace: w.Slug, Limit: limit}
	}
	return out
}
