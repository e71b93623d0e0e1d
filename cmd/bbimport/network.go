package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/importer"
)

// Extra CA bundles, added to the system roots. NODE_EXTRA_CA_CERTS is the
// variable users of the original already set; ours is for people who do
// not want a Node name in their Go job. In Go, SSL_CERT_FILE replaces the
// system roots instead, which breaks every other host behind a private CA.
const (
	envExtraCA     = "BBIMPORT_EXTRA_CA_CERTS"
	envNodeExtraCA = "NODE_EXTRA_CA_CERTS"
)

// network is what the run's HTTP stacks share: the trusted roots (built
// once) and the base URLs in use with the setting that chose each, so a
// network failure can name the variable to check. The proxy and the CA
// bundles come from getenv, the run's environment.
type network struct {
	getenv func(string) string

	once    sync.Once
	bundles []httpx.CABundle
	counts  []int
	pool    *x509.CertPool
	err     error

	mu    sync.Mutex
	bases []apiBase
}

// apiBase is one base URL the run talks to.
type apiBase struct {
	API     string // "Bitbucket API", "Bitbucket token endpoint", "Snyk API"
	URL     string
	Setting string // the variable or flag it came from, or "default"
}

// transport is the base transport for a new HTTP stack: nil (httpx's
// default) when no extra CA bundle is set, else one trusting the system
// roots plus the bundles. A bundle that cannot be used is a usage error
// naming its variable.
func (n *network) transport() (http.RoundTripper, error) {
	n.once.Do(func() {
		if n.err = checkCertFile(n.env("SSL_CERT_FILE")); n.err != nil {
			return
		}
		for _, name := range []string{envExtraCA, envNodeExtraCA} {
			if p := n.env(name); p != "" {
				n.bundles = append(n.bundles, httpx.CABundle{Setting: name, Path: p})
			}
		}
		if len(n.bundles) == 0 {
			return
		}
		pool, counts, err := httpx.RootsWithBundles(n.bundles)
		if err != nil {
			n.err = caBundleUsage(err)
			return
		}
		n.counts, n.pool = counts, pool
	})
	if n.err != nil {
		return nil, n.err
	}
	// The proxy comes from the invocation's environment, not the
	// process's, like every other setting: several runs in one process
	// (the tests) must not see each other's HTTPS_PROXY.
	return httpx.NewTransportEnv(n.pool, n.getenv), nil
}

// checkCertFile refuses an SSL_CERT_FILE that Go's own loading would hang
// on or read without end (a FIFO, /dev/zero), as the extra bundles are.
// A missing file is Go's to handle.
func checkCertFile(path string) error {
	if path == "" {
		return nil
	}
	f, err := safefile.Open(path, os.O_RDONLY, 0, httpx.BundleRules)
	if err == nil {
		return f.Close()
	}
	var refused *safefile.Error
	if !errors.As(err, &refused) {
		return nil
	}
	return caBundleUsage(&httpx.CABundleError{CABundle: httpx.CABundle{Setting: "SSL_CERT_FILE", Path: path}, Err: err})
}

func caBundleUsage(err error) error {
	var be *httpx.CABundleError
	if !errors.As(err, &be) {
		return err
	}
	var msg string
	var refused *safefile.Error
	switch {
	case errors.As(err, &refused):
		msg = fmt.Sprintf("%s=%s cannot be used: %v; point it at a PEM file of CA certificates, or unset it", be.Setting, be.Path, refused)
	case errors.Is(err, httpx.ErrNoCertificates):
		msg = fmt.Sprintf("%s=%s holds no PEM certificate (-----BEGIN CERTIFICATE-----); point it at your proxy's or private CA's certificate in PEM form, or unset it", be.Setting, be.Path)
	case errors.Is(err, os.ErrNotExist):
		msg = fmt.Sprintf("%s=%s: no such file; point it at a PEM file of CA certificates, or unset it", be.Setting, be.Path)
	default:
		msg = fmt.Sprintf("%s=%s cannot be read: %v; point it at a readable PEM file of CA certificates, or unset it", be.Setting, be.Path, errors.Unwrap(be))
	}
	return &usageError{&wordedError{msg: msg, err: err}}
}

// wordedError is an error in our words that keeps its cause for errors.As.
type wordedError struct {
	msg string
	err error
}

func (e *wordedError) Error() string { return e.msg }
func (e *wordedError) Unwrap() error { return e.err }

// noteBase records a base URL the run uses (for doctor and for fixes).
func (n *network) noteBase(api, rawURL, setting string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range n.bases {
		if b.API == api {
			return
		}
	}
	// Shown as people write it: normalised bases carry a trailing slash.
	n.bases = append(n.bases, apiBase{API: api, URL: strings.TrimSuffix(rawURL, "/"), Setting: setting})
}

func (n *network) apiBases() []apiBase {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]apiBase(nil), n.bases...)
}

// baseForHost finds which base URL a failed host belongs to.
func (n *network) baseForHost(host string) (apiBase, bool) {
	for _, b := range n.apiBases() {
		if u, err := url.Parse(b.URL); err == nil && (strings.EqualFold(u.Host, host) || strings.EqualFold(u.Hostname(), host)) {
			return b, true
		}
	}
	return apiBase{}, false
}

// explainNet words a network failure that waiting cannot fix: what is wrong
// and the setting to check.
func (n *network) explainNet(ne *httpx.NetError) (problem, fix string) {
	what, setting := "the API", "the API base URL (BITBUCKET_APP_API_BASE or --sourceUrl, BITBUCKET_APP_TOKEN_URL, SNYK_API)"
	if b, ok := n.baseForHost(ne.Host); ok {
		what = b.API
		if b.Setting == "default" {
			setting = "that this machine can reach " + b.URL + " (the default; " + b.API + " base)"
		} else {
			setting = b.Setting + " (" + b.URL + ")"
		}
	}
	host := ne.Host
	switch ne.Kind {
	case httpx.NetDNSNotFound:
		return fmt.Sprintf("cannot reach %s: the host name %q does not resolve (no such host)", what, hostOnly(host)),
			"check " + setting + " for a typo; if this machine reaches the internet through a proxy, set HTTPS_PROXY"
	case httpx.NetUntrustedCert:
		return fmt.Sprintf("cannot reach %s: the TLS certificate of %s is not trusted%s", what, host, inParens(ne.Detail)),
			"if a TLS-inspecting proxy or a private CA signs it, point " + envExtraCA + " (or " + envNodeExtraCA + ") at that CA's certificate in PEM form: both add to the system roots, while SSL_CERT_FILE replaces them"
	case httpx.NetProxy:
		proxy := n.proxyLabel(ne.Proxy)
		switch {
		case ne.ProxyStatus == http.StatusProxyAuthRequired && strings.Contains(proxy, "credentials not shown"):
			return fmt.Sprintf("cannot reach %s: the proxy %s refused the credentials it was given (407 Proxy Authentication Required)", what, proxy),
				"check the user and password in HTTPS_PROXY (written user:password@ after http://, special characters percent-encoded); the Bitbucket and Snyk credentials were not tried"
		case ne.ProxyStatus == http.StatusProxyAuthRequired:
			return fmt.Sprintf("cannot reach %s: the proxy %s asks for credentials (407 Proxy Authentication Required)", what, proxy),
				"put the proxy's user and password in HTTPS_PROXY (written user:password@ after http://), or ask for this host to be allowed; the Bitbucket and Snyk credentials were not tried"
		case ne.ProxyStatus == http.StatusForbidden:
			return fmt.Sprintf("cannot reach %s: the proxy %s does not allow it (403 Forbidden)", what, proxy),
				"ask for this host to be allowed through the proxy, or list it in NO_PROXY if it is reachable directly"
		}
		return fmt.Sprintf("cannot reach %s: the proxy %s failed%s", what, proxy, inParens(ne.Detail)),
			"check HTTPS_PROXY (and HTTP_PROXY, NO_PROXY): the proxy must be running and reachable from here; unset it for a direct connection"
	case httpx.NetRefused:
		return fmt.Sprintf("cannot reach %s: %s refused the connection", what, host),
			"check " + setting + " (host and port) and any firewall between this machine and it"
	case httpx.NetTimeout:
		return fmt.Sprintf("cannot reach %s: %s did not answer in time", what, host),
			"check " + setting + " (host and port), and any firewall or proxy (HTTPS_PROXY) between this machine and it"
	}
	return ne.Error(), ""
}

func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// proxyLabel names the proxy without its credentials.
func (n *network) proxyLabel(addr string) string {
	if n == nil {
		return addr
	}
	for _, name := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if v := n.getenv(name); v != "" {
			u, creds := safeProxyURL(v)
			if creds {
				return u + " (" + name + ", credentials not shown)"
			}
			return u + " (" + name + ")"
		}
	}
	return addr
}

// safeProxyURL drops any user and password from a proxy URL, and says
// whether there were any.
func safeProxyURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// "user:pw@proxy:3128" without a scheme is how some people write it.
		if at := strings.LastIndex(raw, "@"); at >= 0 {
			return raw[at+1:], true
		}
		return raw, false
	}
	creds := u.User != nil
	u.User = nil
	return u.String(), creds
}

func hostOnly(hostport string) string {
	if u, err := url.Parse("//" + hostport); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return hostport
}

// netMessage is the final line for an error that is, at bottom, a network
// failure that waiting cannot fix; ok is false for any other error.
func (n *network) netMessage(err error) (string, bool) {
	ne, ok := httpx.AsSpentNetError(err)
	if !ok {
		return "", false
	}
	problem, fix := n.explainNet(ne)
	return problem + fixSuffix(fix), true
}

// netHint is the fix for failures of many items that share a network
// cause waiting cannot fix (every import kick-off failing on DNS): the
// failure groups keep only the cause's name, and api says which base URL
// the items were sent to. "" when no group has such a cause.
func (n *network) netHint(api string, groups []importer.FailureGroup) string {
	host := ""
	for _, b := range n.apiBases() {
		if u, err := url.Parse(b.URL); err == nil && b.API == api {
			host = u.Host
		}
	}
	for _, g := range groups {
		for k := httpx.NetDNSNotFound; k <= httpx.NetRefused; k++ {
			if g.Cause == k.String() {
				problem, fix := n.explainNet(&httpx.NetError{Kind: k, Host: host})
				return ". " + problem + fixSuffix(fix)
			}
		}
	}
	return ""
}

// caSource describes where trusted roots come from, for doctor.
func (n *network) caSource() string {
	base := "the system's roots"
	if f := n.env("SSL_CERT_FILE"); f != "" {
		base = "SSL_CERT_FILE=" + f + " (replaces the system's roots)"
	}
	if d := n.env("SSL_CERT_DIR"); d != "" {
		base += ", SSL_CERT_DIR=" + d
	}
	if _, err := n.transport(); err != nil {
		return base
	}
	parts := []string{base}
	for i, b := range n.bundles {
		parts = append(parts, fmt.Sprintf("%s from %s=%s", english.Plural(n.counts[i], "certificate"), b.Setting, b.Path))
	}
	return strings.Join(parts, " + ")
}

// proxySummary says which proxy each base URL goes through, credentials
// never shown. The proxy is read from getenv, as the transport reads it.
func proxySummary(bases []apiBase, getenv func(string) string) string {
	byProxy := map[string][]string{}
	var order []string
	for _, b := range bases {
		p := "direct"
		if u, err := httpx.ProxyFor(b.URL, getenv); err != nil {
			p = "invalid proxy setting: " + err.Error()
		} else if u != nil {
			var creds bool
			if p, creds = safeProxyURL(u.String()); creds {
				p += " (credentials not shown)"
			}
		}
		if _, ok := byProxy[p]; !ok {
			order = append(order, p)
		}
		byProxy[p] = append(byProxy[p], b.API)
	}
	if len(order) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(order))
	for _, p := range order {
		parts = append(parts, p+" for "+strings.Join(byProxy[p], ", "))
	}
	s := strings.Join(parts, "; ")
	if np := firstEnv(getenv, "NO_PROXY", "no_proxy"); np != "" {
		s += " (NO_PROXY=" + np + ")"
	}
	return s
}

func firstEnv(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// settingName is the setting a base URL came from, or "default".
func settingName(name string, isDefault bool) string {
	if isDefault {
		return "default"
	}
	return name
}

// env is a variable of the run, trimmed.
func (n *network) env(name string) string { return trimmedEnv(n.getenv, name) }
