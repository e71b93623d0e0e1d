package sim

import (
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Both token endpoints (Bitbucket's consumer, Snyk's service account) read
// a client_credentials request the same way.

// tokenRequest reads a request to a token endpoint: POST only, the form
// parsed, the client's id and secret from HTTP Basic, else from the form. A
// malformed request is refused through refuse, and ok is false.
func tokenRequest(w http.ResponseWriter, r *http.Request, refuse func(w http.ResponseWriter, status int, code, desc string)) (id, secret string, ok bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST.")
		return "", "", false
	}
	if err := r.ParseForm(); err != nil {
		refuse(w, http.StatusBadRequest, "invalid_request", "Malformed request body.")
		return "", "", false
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id, secret, true
}

// sortedTokens lists the access tokens of an endpoint, expired ones
// included, sorted; mu guards tokens.
func sortedTokens(mu *sync.Mutex, tokens map[string]time.Time) []string {
	mu.Lock()
	defer mu.Unlock()
	return slices.Sorted(maps.Keys(tokens))
}

// expireTokens makes every token of an endpoint expire at now; mu guards
// tokens.
func expireTokens(mu *sync.Mutex, tokens map[string]time.Time, now time.Time) {
	mu.Lock()
	defer mu.Unlock()
	for t := range tokens {
		tokens[t] = now
	}
}
