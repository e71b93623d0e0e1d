package httpx

import (
	"net/url"
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
