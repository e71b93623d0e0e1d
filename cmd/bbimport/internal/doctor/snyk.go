package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// The Snyk checks.
const (
	checkSnykCred  = "Snyk credential"
	checkSnykToken = "Snyk token"
	checkOrgs      = "orgs"
)

// serviceAccountFix is the way out of a Snyk token that lives too short.
const serviceAccountFix = "use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET), whose tokens bbimport renews"

// soonExpiry is how long a token must still live for doctor not to warn:
// a long import outlives less.
const soonExpiry = time.Hour

// snyk checks the credential, the token against the group(s), then each
// org of the created-orgs file for a Bitbucket integration.
func (r *run) snyk(ctx context.Context) {
	if !r.opts.Env.Snyk.Ready {
		r.skip(checkSnykToken, "no Snyk credential is set (SNYK_CLIENT_ID + SNYK_CLIENT_SECRET, or SNYK_TOKEN)")
		return
	}
	sn, err := r.opts.Snyk()
	if err != nil {
		r.clientFailed("Snyk client", err)
		return
	}
	if !r.credential(ctx, sn) {
		r.skip(checkSnykToken, "no Snyk token")
		return
	}
	orgsFile := r.opts.OrgsData
	var orgs []importfiles.CreatedOrg
	if orgsFile != "" {
		if orgs, err = importfiles.ReadCreatedOrgsFile(orgsFile); err != nil {
			r.fail("orgs file", err.Error(), "pass the snyk-created-orgs.json written by orgs:create")
			orgsFile = ""
		}
	}
	groups := []string{}
	if g := r.opts.GroupID; g != "" {
		groups = append(groups, g)
	} else {
		for _, o := range orgs {
			if o.GroupID != "" && !slices.Contains(groups, o.GroupID) {
				groups = append(groups, o.GroupID)
			}
		}
	}
	if len(groups) == 0 {
		r.skip(checkSnykToken, "pass --groupId=<Snyk group id> (doctor checks the token by reading the group) and --orgsData=snyk-created-orgs.json to check each org's integration")
		if orgsFile == "" {
			return
		}
	}
	if len(groups) > 5 {
		groups = groups[:5]
	}
	if !r.groups(ctx, sn, groups, orgsFile != "") || orgsFile == "" {
		return
	}
	r.orgs(ctx, sn, orgs, orgsFile)
}

// groups reads each group with the token, and reports whether the org
// checks can follow (the token was not rejected).
func (r *run) groups(ctx context.Context, sn Snyk, groups []string, orgsToCheck bool) bool {
	tokenOK := false
	accepted := func() {
		if !tokenOK {
			r.ok(checkSnykToken, "accepted by "+strings.TrimSuffix(sn.BaseURL().String(), "/"))
			tokenOK = true
		}
	}
	for _, g := range groups {
		if r.res.Group == "" {
			r.res.Group = g
		}
		page, err := sn.ListGroupOrgs(ctx, g, 1, 1)
		var se *snyk.ErrorResponse
		switch {
		case err == nil:
			accepted()
			name := page.Name
			if name == "" {
				name = g
			}
			r.ok("Snyk group", fmt.Sprintf("%q (%s) readable", name, g))
		case errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized:
			r.failErr(checkSnykToken, err, "")
			r.skip("Snyk group", "the token was rejected")
			if orgsToCheck {
				r.skip(checkOrgs, "the token was rejected")
			}
			r.res.Group = g
			return false
		default:
			if errors.As(err, &se) {
				accepted()
			}
			r.failErr("Snyk group "+g, err, "")
		}
	}
	return true
}

// credential says which Snyk credential the run uses and how long its
// token lives: a service account's is minted here (a refused secret fails
// this check), a static OAuth token's expiry is read from it. It reports
// whether the token checks can follow.
func (r *run) credential(ctx context.Context, sn Snyk) bool {
	cred, describe, tokenURL := sn.Credential()
	if cred == nil {
		return true
	}
	now := r.opts.Now()
	switch cred.Kind() {
	case credential.SnykServiceAccount:
		if _, err := cred.Authorize(ctx); err != nil {
			r.failErr(checkSnykCred, err, "")
			return false
		}
		r.ok(checkSnykCred, fmt.Sprintf("%s: token minted at %s, valid for %s; bbimport renews it before it expires",
			describe, tokenURL, english.Duration(cred.Expiry().Sub(now).Round(time.Second))))
	case credential.SnykOAuthToken:
		exp := cred.Expiry()
		switch left := exp.Sub(now); {
		case exp.IsZero():
			r.ok(checkSnykCred, describe+"; its lifetime cannot be read from it")
		case left <= 0:
			r.fail(checkSnykCred, fmt.Sprintf("%s expired at %s", describe, exp.UTC().Format(time.RFC3339)), serviceAccountFix+", or mint a new token")
			r.res.AuthFailed = true
			return false
		case left < soonExpiry:
			r.warn(checkSnykCred, fmt.Sprintf("%s expires in %s: a run longer than that fails when it does", describe, english.Duration(left.Round(time.Second))), serviceAccountFix)
		default:
			r.ok(checkSnykCred, fmt.Sprintf("%s, expires in %s", describe, english.Duration(left.Round(time.Second))))
		}
	default:
		if snyk.OAuthOnly(sn.BaseURL()) {
			r.fail(checkSnykCred, fmt.Sprintf("%s, but %s (Snyk for Government) accepts OAuth only", describe, sn.BaseURL().Host),
				"set SNYK_CLIENT_ID and SNYK_CLIENT_SECRET of a service account (Snyk → Group settings → Service accounts)")
			return false
		}
		r.ok(checkSnykCred, describe)
	}
	return true
}

// orgs checks that each org of the created-orgs file has an integration
// import:data can use, and names the key.
func (r *run) orgs(ctx context.Context, sn Snyk, orgs []importfiles.CreatedOrg, file string) {
	cands := importer.IntegrationCandidates(r.opts.Source, r.opts.IntegrationType)
	keys := map[string]int{}
	var without []string // "Name (id): has a, b"
	var errs []failed
	for _, o := range orgs {
		ints, err := sn.ListIntegrations(ctx, o.OrgID)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			errs = append(errs, failed{o.Name, err})
			continue
		}
		key := ""
		for _, k := range cands {
			if ints[k] != "" {
				key = k
				break
			}
		}
		if key == "" {
			have := strings.Join(importfiles.SortedIntegrationKeys(ints), ", ")
			without = append(without, fmt.Sprintf("%q (%s, has: %s)", o.Name, o.OrgID, orNone(have)))
			continue
		}
		keys[key]++
	}
	causes := r.failByCause(checkOrgs, errs, func(names string, n int, problem string) string {
		return fmt.Sprintf("cannot read the integrations of %d of %d orgs (%s): %s", n, len(orgs), names, problem)
	})
	if len(without) > 0 {
		r.fail(checkOrgs, fmt.Sprintf("no %s integration in %d of %d orgs of %s: %s", strings.Join(cands, " or "), len(without), len(orgs), filepath.Base(file), english.FirstFew(without, 5)),
			"in Snyk, open each org → Integrations → Bitbucket Cloud App and connect it (or create the orgs with --sourceOrgPublicId of an org that has it, or pass --integrationType=<a key they have> to import:data)")
	}
	if len(without) == 0 && causes == 0 {
		var used []string
		for _, k := range cands {
			if keys[k] > 0 {
				used = append(used, fmt.Sprintf("%s: %d", k, keys[k]))
			}
		}
		r.ok(checkOrgs, fmt.Sprintf("all %d orgs in %s have a Bitbucket integration (%s)", len(orgs), filepath.Base(file), orNone(strings.Join(used, ", "))))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
