package sim

import (
	"crypto/rand"
	"math"
	"net/http"
	"strings"
)

// Snyk service accounts: POST /oauth2/token mints bearer tokens for the
// client_credentials grant (id and secret in the form, as Snyk documents;
// HTTP Basic is accepted too), which expire after SnykConfig.TokenTTL. An
// expired or unknown bearer token is refused with 401 like a wrong API
// token.
//
// Counters:
//
//	snyk.token_exchanges   tokens minted
//	snyk.token_errors      token requests refused with an OAuth error
//	snyk.401.expired       API requests refused for a minted token past its expiry

// Well-known service account of the simulated Snyk. They are fake.
const (
	SimSnykClientID     = "sim-snyk-client-id"
	SimSnykClientSecret = "sim-snyk-client-secret"
)

// serveToken is POST /oauth2/token.
func (st *snykState) serveToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := tokenRequest(w, r, st.tokenError)
	if !ok {
		return
	}
	if id != st.cfg.ClientID || secret != st.cfg.ClientSecret {
		st.tokenError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	if grant := r.PostForm.Get("grant_type"); grant != "client_credentials" {
		st.tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported.")
		return
	}
	token := "snyk-sa-" + rand.Text()
	st.mu.Lock()
	st.tokens[token] = st.cfg.Now().Add(st.cfg.TokenTTL)
	st.mu.Unlock()
	st.s.add("snyk.token_exchanges", 1)
	w.Header().Set("Cache-Control", "no-store")
	snykJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"expires_in":   int64(math.Ceil(st.cfg.TokenTTL.Seconds())),
		"scope":        "org.read group.read",
	})
}

func (st *snykState) tokenError(w http.ResponseWriter, status int, code, desc string) {
	st.s.add("snyk.token_errors", 1)
	snykJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// bearerValid reports whether tok is a minted token still alive, and
// counts an expired one.
func (st *snykState) bearerValid(tok string) bool {
	st.mu.Lock()
	exp, ok := st.tokens[tok]
	st.mu.Unlock()
	if ok && !st.cfg.Now().Before(exp) {
		st.s.add("snyk.401.expired", 1)
		return false
	}
	return ok
}

// ExpireSnykTokens makes every minted token expire now, so the next API
// call with one answers 401.
func (s *Server) ExpireSnykTokens() { expireTokens(&s.snyk.mu, s.snyk.tokens, s.snyk.cfg.Now()) }

// IssuedSnykTokens returns every access token the Snyk token endpoint has
// minted so far, expired ones included, sorted. Tests use it to assert
// that no token minted at run time leaks into output or files.
func (s *Server) IssuedSnykTokens() []string { return sortedTokens(&s.snyk.mu, s.snyk.tokens) }

// snykScheme splits an Authorization header into its lower-case scheme and
// token.
func snykScheme(h string) (scheme, tok string, ok bool) {
	scheme, tok, ok = strings.Cut(h, " ")
	return strings.ToLower(scheme), strings.TrimSpace(tok), ok
}
