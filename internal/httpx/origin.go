package httpx

import (
	"net/url"
	"path"
	"strings"
)

// SameOrigin reports whether a and b share scheme, host and port, with the
// scheme's default port filled in (https://h and https://h:443 are one
// origin). It is the one test of where credentials may go: redirects,
// pagination links and import job locations all use it.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// InScope reports whether u is within scope: scope's origin, and a path
// at or under scope's once dot segments are resolved (a server on the
// other side may resolve "/2.0/../snyk/" to "/snyk/", and decodes %2F).
// It is where a credential may go when one host serves several APIs
// behind a gateway, each under its own path.
func InScope(u, scope *url.URL) bool {
	if !SameOrigin(u, scope) {
		return false
	}
	under := path.Clean("/" + scope.Path)
	if under == "/" {
		return true
	}
	p := path.Clean("/" + u.Path)
	return p == under || strings.HasPrefix(p, under+"/")
}

// ScopeError is a request the stack refused to send with its credential:
// its URL (a next-page link, a job location, a redirect) is outside the
// API's scope, another origin or another path of the same host.
type ScopeError struct {
	// URL is the request's, without user info; Scope is where the
	// credential may go.
	URL, Scope string
}

func (e *ScopeError) Error() string {
	return "not sent: the credential is for " + e.Scope + " only"
}
