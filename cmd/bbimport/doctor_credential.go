package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// soonExpiry is how long a token must still live for doctor not to warn:
// a long import outlives less.
const soonExpiry = time.Hour

// Credential implements doctorSnyk.
func (s *snykClient) Credential() (*credential.Credential, credentialSpec) { return s.Cred, s.Spec }

// checkSnykCredential says which Snyk credential the run uses and how long
// its token lives: a service account's is minted here (a refused secret
// fails this check, exit 4), a static OAuth token's expiry is read from
// it. It reports whether the token checks can follow.
func (d *doctor) checkSnykCredential(ctx context.Context, sn doctorSnyk) bool {
	const check = "Snyk credential"
	cred, spec := sn.Credential()
	if cred == nil {
		return true
	}
	now := d.opts.IO.Now()
	switch cred.Kind() {
	case credential.SnykServiceAccount:
		if _, err := cred.Authorize(ctx); err != nil {
			d.failErr(check, err, "")
			return false
		}
		d.ok(check, "%s: token minted at %s, valid for %s; bbimport renews it before it expires",
			spec.describe(), spec.tokenURL, shortDuration(cred.Expiry().Sub(now).Round(time.Second)))
	case credential.SnykOAuthToken:
		exp := cred.Expiry()
		switch left := exp.Sub(now); {
		case exp.IsZero():
			d.ok(check, "%s; its lifetime cannot be read from it", spec.describe())
		case left <= 0:
			d.fail(check, fmt.Sprintf("%s expired at %s", spec.describe(), exp.UTC().Format(time.RFC3339)),
				"use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET), whose tokens bbimport renews, or mint a new token")
			d.authFailed = true
			return false
		case left < soonExpiry:
			d.warn(check, fmt.Sprintf("%s expires in %s: a run longer than that fails when it does", spec.describe(), shortDuration(left.Round(time.Second))),
				"use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET), whose tokens bbimport renews")
		default:
			d.ok(check, "%s, expires in %s", spec.describe(), shortDuration(left.Round(time.Second)))
		}
	default:
		if snyk.OAuthOnly(sn.BaseURL()) {
			d.fail(check, fmt.Sprintf("%s, but %s (Snyk for Government) accepts OAuth only", spec.describe(), sn.BaseURL().Host),
				"set SNYK_CLIENT_ID and SNYK_CLIENT_SECRET of a service account ("+snykServiceAccountUI+")")
			return false
		}
		d.ok(check, "%s", spec.describe())
	}
	return true
}
