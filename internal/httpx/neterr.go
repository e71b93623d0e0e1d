package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"syscall"

	"github.com/hashicorp/go-retryablehttp"
)

// NetErrorKind says why a request could not reach its server in a way that
// waiting will not fix.
type NetErrorKind int

// Kinds of NetError.
const (
	// NetDNSNotFound: the API host name does not exist (NXDOMAIN), usually a
	// typo in a base URL variable.
	NetDNSNotFound NetErrorKind = iota + 1
	// NetUntrustedCert: the server's certificate does not verify against
	// the trusted roots (a TLS-inspecting proxy or a private CA).
	NetUntrustedCert
	// NetProxy: the proxy refused the connection, cannot be reached, does
	// not resolve, or refused to tunnel (407, 403: ProxyStatus).
	NetProxy
	// NetRefused: a host that is not loopback refused the connection
	// (wrong port, a firewall's reject). Loopback is left to retry: a local
	// server or simulator may be restarting.
	NetRefused
	// NetTimeout: the server did not answer within an attempt's timeout
	// (a firewall that drops packets, a host that accepts and says
	// nothing). Only AsSpentNetError reports it: a timeout may pass, so
	// the retry policy retries it.
	NetTimeout
)

func (k NetErrorKind) String() string {
	switch k {
	case NetDNSNotFound:
		return "DNS name not found"
	case NetUntrustedCert:
		return "certificate not trusted"
	case NetProxy:
		return "proxy failed"
	case NetRefused:
		return "connection refused"
	case NetTimeout:
		return "no answer in time"
	}
	return "network error"
}

// NetError is a transport error that cannot heal by waiting: the retry
// policy gives up on it at once. It describes the failure in neutral terms;
// what to do about it is the caller's to say.
type NetError struct {
	Kind NetErrorKind
	// Host is the host the request was for (from its URL, else the name
	// looked up or the address dialled).
	Host string
	// Proxy is the proxy's address for NetProxy, "" otherwise.
	Proxy string
	// Detail is the short technical reason ("no such host",
	// "x509: certificate signed by unknown authority").
	Detail string
	// ProxyStatus is the proxy's answer to CONNECT (407, 403) when that is
	// the failure, else 0.
	ProxyStatus int
	Err         error
}

// Error is the underlying error's text, so classifying an error never
// changes what callers already print.
func (e *NetError) Error() string { return e.Err.Error() }
func (e *NetError) Unwrap() error { return e.Err }

// AsNetError classifies err: a *NetError when it cannot heal by waiting,
// otherwise nil and false (the error may be transient, or not a network
// error at all).
func AsNetError(err error) (*NetError, bool) {
	if err == nil {
		return nil, false
	}
	var ne *NetError
	if errors.As(err, &ne) {
		return ne, true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, false
	}
	ne = &NetError{Err: err, Host: urlHost(err)}
	var pse *ProxyStatusError
	if errors.As(err, &pse) {
		// 407 asks for credentials the proxy setting lacks (or has wrong),
		// 403 forbids the host: asking again is answered the same. Its 5xx
		// may pass.
		if pse.StatusCode != http.StatusProxyAuthRequired && pse.StatusCode != http.StatusForbidden {
			return nil, false
		}
		ne.Kind, ne.Proxy, ne.Detail, ne.ProxyStatus = NetProxy, pse.Proxy, pse.Status, pse.StatusCode
		return ne, true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "proxyconnect" {
		if !proxyFailureIsFinal(op.Err) {
			return nil, false
		}
		ne.Kind, ne.Proxy, ne.Detail = NetProxy, proxyAddr(op), proxyDetail(op.Err)
		return ne, true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if !dnsErr.IsNotFound {
			return nil, false // a resolver timeout or SERVFAIL may pass
		}
		if ne.Host == "" {
			ne.Host = dnsErr.Name
		}
		ne.Kind, ne.Detail = NetDNSNotFound, "no such host"
		return ne, true
	}
	if detail, ok := certFailure(err); ok {
		ne.Kind, ne.Detail = NetUntrustedCert, detail
		return ne, true
	}
	if errors.As(err, &op) && op.Op == "dial" && errors.Is(op.Err, syscall.ECONNREFUSED) && !loopbackAddr(op.Addr) {
		if ne.Host == "" && op.Addr != nil {
			ne.Host = op.Addr.String()
		}
		ne.Kind, ne.Detail = NetRefused, "connection refused"
		return ne, true
	}
	return nil, false
}

// AsSpentNetError classifies a network error that is left after the
// retries: what AsNetError classifies, a request that timed out, and a
// connection refused by a loopback address, which the retry policy retries
// (a local server may be restarting) but which, once the retries are spent
// or not wanted, is the same failure to the person running the command.
func AsSpentNetError(err error) (*NetError, bool) {
	if ne, ok := AsNetError(err); ok {
		return ne, true
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() && !errors.Is(err, context.Canceled) {
		return &NetError{Kind: NetTimeout, Host: urlHost(err), Detail: "no answer in time", Err: err}, true
	}
	var op *net.OpError
	if err == nil || !errors.As(err, &op) || op.Op != "dial" || !errors.Is(op.Err, syscall.ECONNREFUSED) {
		return nil, false
	}
	ne := &NetError{Kind: NetRefused, Host: urlHost(err), Detail: "connection refused", Err: err}
	if ne.Host == "" && op.Addr != nil {
		ne.Host = op.Addr.String()
	}
	return ne, true
}

// proxyFailureIsFinal: a proxy that refuses, cannot be reached or does not
// resolve will do the same on the next attempt. Its timeouts may pass.
// (Its answers to CONNECT are ProxyStatusError.)
func proxyFailureIsFinal(err error) bool {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return dnsErr.IsNotFound
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	}
	return false
}

func proxyDetail(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "no such host " + dnsErr.Name
	}
	return err.Error()
}

func proxyAddr(op *net.OpError) string {
	var inner *net.OpError
	if errors.As(op.Err, &inner) && inner.Addr != nil {
		return inner.Addr.String()
	}
	var dnsErr *net.DNSError
	if errors.As(op.Err, &dnsErr) {
		return dnsErr.Name
	}
	if op.Addr != nil {
		return op.Addr.String()
	}
	return ""
}

// certFailure recognises a certificate that did not verify, however Go
// wraps it (tls.CertificateVerificationError since Go 1.20; retryablehttp's
// own check knows only the older bare x509 errors).
func certFailure(err error) (string, bool) {
	var (
		verr *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		inv  x509.CertificateInvalidError
		host x509.HostnameError
	)
	switch {
	case errors.As(err, &ua), errors.As(err, &inv), errors.As(err, &host):
	case errors.As(err, &verr):
		err = verr.Err
	default:
		return "", false
	}
	if errors.As(err, &verr) {
		err = verr.Err
	}
	return err.Error(), true
}

// urlHost is the host of the innermost request in err: a token exchange
// failing under an API request is about the token endpoint's host.
func urlHost(err error) string {
	var ue *url.Error
	for e := err; e != nil; e = errors.Unwrap(e) {
		if u, ok := e.(*url.Error); ok {
			ue = u
		}
	}
	if ue != nil || errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return u.Host
		}
	}
	return ""
}

func loopbackAddr(a net.Addr) bool {
	if a == nil {
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		host = a.String()
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Retry describes an attempt that failed in a way worth retrying (a
// transport error or a 5xx; 429 goes to Observer.RateLimited), reported
// before the backoff so a person hears of trouble at the first retry rather
// than when the retries run out.
type Retry struct {
	API    string
	Method string
	URL    string // userinfo password masked
	// Attempt is the attempt that failed (1 for the first); MaxAttempts is
	// how many there will be at most.
	Attempt, MaxAttempts int
	Status               int   // 0 for a transport error
	Err                  error // nil when a response came back
}

// RetryObserver is implemented by an Observer that also wants Retry reports.
// It is a separate interface so Observers written before it still compile.
type RetryObserver interface {
	Retrying(Retry)
}

// reportRetries wraps a CheckRetry so that every decision to retry a
// transport error or a 5xx is reported to obs, if it listens. retryMax is
// the client's; a retry follows attempt n only while n <= retryMax.
func reportRetries(obs Observer, api string, retryMax int, check retryablehttp.CheckRetry) retryablehttp.CheckRetry {
	ro, ok := obs.(RetryObserver)
	if !ok {
		return check
	}
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		retry, cerr := check(ctx, resp, err)
		if !retry || cerr != nil || (resp != nil && resp.StatusCode == http.StatusTooManyRequests) {
			return retry, cerr
		}
		st := attemptStateFrom(ctx)
		if st == nil || int(st.attempt.Load()) > retryMax {
			return retry, cerr
		}
		r := Retry{API: api, Attempt: int(st.attempt.Load()), MaxAttempts: retryMax + 1, Err: err}
		if resp != nil {
			r.Status = resp.StatusCode
			if resp.Request != nil {
				r.Method, r.URL = resp.Request.Method, resp.Request.URL.Redacted()
			}
		} else if ue, ok := errors.AsType[*url.Error](err); ok {
			r.Method = ue.Op
			if u, perr := url.Parse(ue.URL); perr == nil {
				r.URL = u.Redacted()
			}
		}
		ro.Retrying(r)
		return retry, cerr
	}
}
