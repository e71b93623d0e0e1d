package httpx

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// CheckURL parses an API URL (a base or an endpoint such as the token URL)
// taken from the variable or flag name. It refuses anything but an absolute
// https URL, except that plain http is accepted for loopback hosts
// (127.0.0.0/8, ::1, localhost): tokens must not cross a network in clear
// text, but tests and the simulator run locally. It also refuses user info,
// a query and a fragment, and its errors never echo a password.
func CheckURL(raw, name string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid URL", name)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%s: %q is not an absolute https URL such as https://api.example.com/v1", name, u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: the URL must not contain credentials; use the variables for them", name)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: %q uses plain http; use https (plain http is accepted only for loopback hosts such as 127.0.0.1 or localhost)", name, u.Redacted())
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("%s: the URL has a query or fragment; give it without them", name)
	}
	return u, nil
}

// CheckBaseURL is CheckURL for an API base: it returns the URL with a
// trailing "/", so relative endpoint paths resolve beneath it.
func CheckBaseURL(raw, name string) (*url.URL, error) {
	u, err := CheckURL(raw, name)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
