package snyk

import (
	"net/url"
	"strings"
)

// NormalizeBaseURL turns a configured API address into the v1 base URL the
// client needs. Snyk documents the v1 base as https://api.<region>.snyk.io/v1/,
// but the Snyk CLI's convention (the bare host https://api.eu.snyk.io) and
// older docs (https://snyk.io/api/v1) are what users copy, so on a Snyk host
// (*.snyk.io, and snykgov.io for Snyk for Government):
//
//   - a bare host gets /v1;
//   - /api/v1 becomes /v1, and the web hosts snyk.io and app.<region>.snyk.io
//     (app.snykgov.io) become api.<region>.snyk.io (api.snykgov.io), which
//     serve the API;
//   - a REST base (/rest) becomes the v1 base beside it.
//
// On other hosts (a proxy, the simulator) only a bare host gets /v1. A
// trailing slash is never significant. note says what was changed, to
// complete a sentence about raw ("is not a v1 API base; using …"); it is ""
// when raw was used as given. Values that are not absolute URLs are
// returned unchanged, for [WithBaseURL] to refuse.
func NormalizeBaseURL(raw string) (base, note string) {
	trimmed := strings.TrimSpace(raw)
	u, err := url.Parse(trimmed)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return raw, ""
	}
	p := strings.TrimRight(u.Path, "/")
	snykHost := isSnykHost(u.Hostname())
	switch {
	case p == "":
		p = "/v1"
	case snykHost && strings.HasSuffix(p, "/api/v1"):
		p = strings.TrimSuffix(p, "/api/v1") + "/v1"
	case snykHost && strings.HasSuffix(p, "/rest"):
		p = strings.TrimSuffix(p, "/rest") + "/v1"
	}
	if snykHost {
		u.Host = apiHost(u.Host)
	}
	u.Path, u.RawPath = p+"/", ""
	base = u.String()
	if strings.TrimRight(base, "/") != strings.TrimRight(trimmed, "/") {
		note = "is not a v1 API base; using " + base + " (REST: " + restBaseFor(u).String() + ")"
	}
	return base, note
}

func isSnykHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	return h == "snyk.io" || strings.HasSuffix(h, ".snyk.io") || isGovHost(h)
}

func isGovHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	return h == "snykgov.io" || strings.HasSuffix(h, ".snykgov.io")
}

// OAuthOnly reports a Snyk host that accepts no API token, only OAuth
// bearer tokens (a service account's, or one minted elsewhere): Snyk for
// Government, api.snykgov.io.
func OAuthOnly(base *url.URL) bool { return base != nil && isGovHost(base.Hostname()) }

// apiHost maps Snyk's web hosts to the API host of the same region:
// snyk.io and app.snyk.io → api.snyk.io, app.eu.snyk.io → api.eu.snyk.io,
// snykgov.io and app.snykgov.io → api.snykgov.io.
func apiHost(hostport string) string {
	lower := strings.ToLower(hostport)
	switch {
	case lower == "snyk.io" || strings.HasPrefix(lower, "snyk.io:"),
		lower == "snykgov.io" || strings.HasPrefix(lower, "snykgov.io:"):
		return "api." + hostport
	case strings.HasPrefix(lower, "app."):
		return "api." + hostport[len("app."):]
	}
	return hostport
}

// restBaseFor derives the REST base from a v1 base: the same scheme, host
// and path prefix, with the trailing /v1 or /api/v1 replaced by /rest.
func restBaseFor(v1 *url.URL) *url.URL {
	p := strings.TrimRight(v1.Path, "/")
	switch {
	case strings.HasSuffix(p, "/api/v1"):
		p = strings.TrimSuffix(p, "/api/v1")
	case strings.HasSuffix(p, "/v1"):
		p = strings.TrimSuffix(p, "/v1")
	default:
		p = ""
	}
	return &url.URL{Scheme: v1.Scheme, Host: v1.Host, Path: p + "/rest/"}
}
