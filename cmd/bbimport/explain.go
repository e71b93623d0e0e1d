package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/listing"
	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/routing"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// explainer words errors; net knows the run's base URLs (nil: none are
// known, so a network failure is worded generically).
type explainer struct{ net *network }

// explain is the one place that words an error for the operator: what is
// wrong (problem), what to do about it (fix, naming this command's flags and
// variables; empty when there is nothing to say) and the exit code. The
// libraries' errors only state facts; the final error line, the stage
// summaries and doctor all word them here.
func (x explainer) explain(err error) (problem, fix string, exitCode int) {
	code := exitCodeOf(err)
	if ne, ok := httpx.AsSpentNetError(err); ok && x.net != nil {
		problem, fix = x.net.explainNet(ne)
		return problem, fix, code
	}
	var (
		te      *credential.TokenError
		be      *bitbucket.ErrorResponse
		brl     *bitbucket.RateLimitError
		se      *snyk.ErrorResponse
		srl     *snyk.RateLimitError
		ie      *listing.IncompleteError
		refused *safefile.Error
		spent   *httpx.RateLimitWaitError
		de      *routing.DiscoveryError
		ue      *routing.UnservedError
		nig     *importer.OrgNotInGroupError
	)
	switch {
	case errors.As(err, &nig):
		problem, fix = nig.Problem(), "check that SNYK_API and the Snyk credential are those of the group's tenant; or run orgs:data --groupId="+nig.GroupID+" and orgs:create again with them, and use the snyk-created-orgs.json they write"
	case errors.As(err, &spent):
		problem, fix = rateLimitWaitSpent(spent), rateLimitWaitFix
	case errors.As(err, &de):
		problem, fix = explainDiscovery(de)
	case errors.As(err, &ue):
		problem, fix = explainUnserved(ue)
	case errors.As(err, &ie):
		problem, fix = err.Error(), "nothing was changed on the strength of it; run again later, and if it repeats, check for a proxy or gateway between bbimport and the API"
	case errors.As(err, &te):
		problem, fix = explainToken(te)
	case errors.As(err, &be):
		problem, fix = explainBitbucket(be)
	case errors.As(err, &brl):
		problem, fix = brl.Problem(), "run again then, and lower BITBUCKET_RATE_LIMIT so the run stays under the budget"
	case errors.As(err, &se):
		problem, fix = explainSnyk(se)
	case errors.As(err, &srl):
		problem, fix = srl.Problem(), "lower SNYK_RATE_LIMIT or --concurrency"
	case errors.As(err, &refused):
		problem, fix = err.Error(), refusedFix(refused)
	default:
		problem = err.Error()
		if m, ok := fieldMessage(err); ok {
			problem = m
		}
	}
	return problem, fix, code
}

// rateLimitWaitFix is what to do about a run whose wait for 429s ran out.
const rateLimitWaitFix = "run again later (it resumes), or give this run a longer --rateLimitWait (BBIMPORT_RATE_LIMIT_WAIT)"

// exitCodeOf is the exit code of a command that ran and failed with err.
func exitCodeOf(err error) int { return exitCode(err, true) }

// apiError is what both clients' errors offer: the fact, and the request
// and the server's message to append to it.
type apiError interface {
	error
	Problem() string
	Details() string
}

// errMessage is an error as an error line or the final message shows it:
// the client error inside it explained, with its fix, in the place its own
// text had (so "listing workspace x: " prefixes stay), and a network
// failure that waiting cannot fix worded with its fix.
func (x explainer) errMessage(err error) string {
	if x.net != nil {
		if m, ok := x.net.netMessage(err); ok {
			return m
		}
	}
	if m, ok := fieldMessage(err); ok {
		return m
	}
	var refused *safefile.Error
	if errors.As(err, &refused) {
		return err.Error() + fixSuffix(refusedFix(refused))
	}
	var spent *httpx.RateLimitWaitError
	if errors.As(err, &spent) {
		return rateLimitWaitSpent(spent) + fixSuffix(rateLimitWaitFix)
	}
	var ae apiError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	problem, fix, _ := x.explain(err)
	text := problem
	if fix != "" {
		// Snyk's sentences have always read "what (status): what to check".
		sep := "; "
		switch ae.(type) {
		case *snyk.ErrorResponse, *snyk.RateLimitError:
			sep = ": "
		}
		text += sep + fix
	}
	text += ae.Details()
	full, own := err.Error(), ae.Error()
	if strings.Contains(full, own) {
		return strings.Replace(full, own, text, 1)
	}
	return text
}

// withDetails is a problem followed by the request and the server's message
// of the client error inside err, for doctor, whose lines put the fix last.
func withDetails(problem string, err error) string {
	var ae apiError
	if errors.As(err, &ae) && !strings.HasSuffix(problem, ae.Details()) {
		return problem + ae.Details()
	}
	return problem
}

// explainToken words a failed client_credentials exchange by RFC 6749
// code, for the credential whose exchange failed.
func explainToken(te *credential.TokenError) (problem, fix string) {
	problem = te.Error()
	if te.Kind == credential.SnykServiceAccount {
		return problem, snykTokenFix(te)
	}
	if te.Name != "" {
		problem = fmt.Sprintf("Bitbucket credential %q: %s", te.Name, problem)
	}
	switch te.Code {
	case "invalid_client":
		fix = "set BITBUCKET_APP_CLIENT_ID to the consumer's Key and BITBUCKET_APP_CLIENT_SECRET to its Secret (Bitbucket → Workspace settings → OAuth consumers → click the consumer's name)"
		if te.Name != "" {
			fix = "set the variables that id= and secret= name on the line of " + strconv.Quote(te.Name) + " in " + envBitbucketCredentials + " to the consumer's Key and Secret (Bitbucket → Workspace settings → OAuth consumers → click the consumer's name)"
		}
	case "unauthorized_client":
		fix = "in Bitbucket → Workspace settings → OAuth consumers → Edit, tick 'This is a private consumer' and save; the key and secret stay the same"
	case "invalid_scope":
		fix = "in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick Account: Read, Workspace membership: Read, Repositories: Read and Projects: Read"
	case "invalid_grant":
		fix = "check that BITBUCKET_APP_TOKEN_URL is unset or " + bitbucket.DefaultTokenURL + ", and that the consumer is private"
	case "":
		fix = "check BITBUCKET_APP_TOKEN_URL, or try again later"
	default:
		fix = "check BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET and the consumer's settings"
	}
	return problem, fix
}

// snykTokenFix is what to do when Snyk's token endpoint refused the
// service account.
func snykTokenFix(te *credential.TokenError) string {
	switch {
	case te.Code == "invalid_client" || te.Code == "" && te.CredentialsRejected():
		return "check SNYK_CLIENT_SECRET (and SNYK_CLIENT_ID): Snyk shows a service account's client secret once, when it is created; if it is lost, create a new service account in " + snykServiceAccountUI + " (Group Admin role, OAuth 2.0 client credentials)"
	case te.Code == "":
		return "check SNYK_OAUTH_TOKEN_URL (unset, it is " + snykTokenPathOnAPI + " on the SNYK_API host), or try again later"
	}
	return "check SNYK_CLIENT_ID, SNYK_CLIENT_SECRET and the service account in " + snykServiceAccountUI + " (it must use OAuth 2.0 client credentials)"
}

// explainBitbucket words a Bitbucket API error by status, endpoint and the
// kind of credentials.
func explainBitbucket(e *bitbucket.ErrorResponse) (problem, fix string) {
	problem = e.Problem()
	switch status := e.HTTPStatus(); {
	case status == http.StatusUnauthorized && e.AuthKind == credential.BitbucketAppPassword:
		fix = apiTokenFix
	case status == http.StatusUnauthorized && e.AuthName != "":
		fix = "check the variables named on the line of " + strconv.Quote(e.AuthName) + " in " + envBitbucketCredentials + " (or the file " + envBitbucketCredentialsFile + " names)"
		if e.AuthKind == credential.BitbucketAPIToken {
			fix += ": email= must name the Atlassian account's e-mail the API token belongs to"
		}
	case status == http.StatusUnauthorized:
		fix = "check " + authVariables(e.AuthKind)
	case status == http.StatusForbidden:
		if e.Endpoint() == bitbucket.EndpointProjects && e.Workspace != "" {
			problem += " (needed by --orgPer=project)"
		}
		if consumer := e.AuthKind == credential.BitbucketConsumer || e.AuthKind == credential.Unknown; consumer && len(e.GrantedScopes) > 0 && e.Scope() != "" {
			problem += " (granted: " + strings.Join(e.GrantedScopes, " ") + ")"
		}
		fix = forbiddenFix(e)
	case status == http.StatusNotFound && e.Workspace != "":
		fix = "check the slug (as in bitbucket.org/<slug>) and that " + memberHint(e.AuthKind)
		if e.AuthName != "" {
			fix += ", or give the workspace to another credential in " + envBitbucketCredentials
		}
	case status == http.StatusGone && e.Removed():
		fix = "pass the workspaces with --workspace instead"
	case status == http.StatusGone:
		ws := e.GoneWorkspace()
		fix = fmt.Sprintf("open bitbucket.org/%s to check, ask Atlassian support to restore it, or leave the workspace out", ws)
	case status >= 500 && e.Endpoint() == bitbucket.EndpointUserWorkspaces && (e.AuthKind == credential.BitbucketConsumer || e.AuthKind == credential.Unknown):
		// Bitbucket does not document this listing for a consumer's app
		// user: a lasting failure may be its answer to one.
		fix = "try again later; if it lasts (the listing is not documented for a consumer's app user), " + pinFix(e.AuthName, credential.BitbucketConsumer)
	case status >= 500:
		fix = "try again later"
	}
	return problem, fix
}

// forbiddenFix says where the missing permission is granted, for each kind
// of credentials.
func forbiddenFix(e *bitbucket.ErrorResponse) string {
	scope := e.Scope()
	if scope == "" {
		if e.AuthKind == credential.BitbucketConsumer || e.AuthKind == credential.Unknown {
			return "check its permissions under Workspace settings → OAuth consumers → Edit"
		}
		return "check the scopes the token was given"
	}
	label, tokenScope := scopeLabel(scope)
	tokenScopes := tokenScope + " scope"
	if e.Endpoint() == bitbucket.EndpointUserWorkspaces {
		// GET /2.0/user/workspaces is about the user as much as the
		// workspaces: API tokens need both (docs/api-notes.md).
		tokenScopes = tokenScope + " and read:user:bitbucket scopes"
	}
	switch e.AuthKind {
	case credential.BitbucketAPIToken, credential.BitbucketUser:
		return "create a token with the " + tokenScopes + " and set " + tokenVariable(e.AuthName, envCloudAPIToken)
	case credential.BitbucketAppPassword:
		return "app passwords were removed on " + bitbucket.AppPasswordsRemoved + ": create an Atlassian API token with the " + tokenScopes + " and use it instead"
	case credential.BitbucketAccessToken:
		return "access tokens cannot be edited: create a new one (Workspace, Project or Repository settings → Access tokens) with the " + label + " scope ticked and set " + tokenVariable(e.AuthName, envCloudAPIToken)
	case credential.BitbucketOAuthToken:
		return "issue a new token from a consumer with " + label + " ticked and set " + envCloudOAuthToken
	}
	return "in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick '" + label + "' and save; the key and secret stay the same"
}

// scopeLabel names an OAuth scope as the consumer settings page shows it,
// and the matching Atlassian API token scope.
func scopeLabel(scope string) (label, tokenScope string) {
	switch strings.TrimSuffix(scope, ":write") {
	case "account":
		return "Account: Read", "read:workspace:bitbucket"
	case "repository":
		return "Repositories: Read", "read:repository:bitbucket"
	case "project":
		return "Projects: Read", "read:project:bitbucket"
	case "team":
		return "Workspace membership: Read", "read:workspace:bitbucket"
	}
	return scope, scope
}

// tokenVariable is where a credential's token is set: the variable token=
// names on its line of the list, else the original's variable.
func tokenVariable(name, legacy string) string {
	if name == "" {
		return legacy
	}
	return "the variable token= names on the line of " + strconv.Quote(name) + " in " + envBitbucketCredentials
}

// authVariables names the environment variables behind k, with what to
// check about them.
func authVariables(k credential.Kind) string {
	switch k {
	case credential.BitbucketConsumer:
		return "BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET"
	case credential.BitbucketUser:
		return "BITBUCKET_CLOUD_USERNAME (the Atlassian account email) and BITBUCKET_CLOUD_PASSWORD (an API token: Bitbucket takes no account password)"
	case credential.BitbucketAppPassword:
		return "BITBUCKET_CLOUD_USERNAME and BITBUCKET_CLOUD_PASSWORD"
	case credential.BitbucketAPIToken:
		return "BITBUCKET_CLOUD_API_TOKEN (and that BITBUCKET_CLOUD_USERNAME is the Atlassian account email an API token belongs to)"
	case credential.BitbucketAccessToken:
		return "BITBUCKET_CLOUD_API_TOKEN: without an email in BITBUCKET_CLOUD_USERNAME it is sent as Bearer, as a workspace, project or repository access token; an Atlassian API token needs BITBUCKET_CLOUD_USERNAME set to the account email it belongs to"
	case credential.BitbucketOAuthToken:
		return "BITBUCKET_CLOUD_OAUTH_TOKEN (OAuth access tokens expire after an hour or two)"
	}
	return "BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET (or the BITBUCKET_CLOUD_* variables for the bitbucket-cloud source)"
}

// memberHint is what must hold for a credential to see a workspace, as of
// 2026: a consumer's token is an app user of the workspace owning the
// consumer, an access token sees the workspace (or project, repository) it
// was made in.
func memberHint(k credential.Kind) string {
	switch k {
	case credential.BitbucketConsumer, credential.Unknown:
		return "the consumer belongs to it (since 2026-05-04 a consumer's token is an app user that sees the workspace owning the consumer; use a consumer of each workspace, or an API token of a member)"
	case credential.BitbucketAccessToken:
		return "the access token was made in it (an access token sees only its own workspace, project or repository)"
	}
	return "the account is a member of it"
}

// snykRegions lists the regional API bases, for a fix that names SNYK_API.
const snykRegions = "https://api.snyk.io (US-01), https://api.us.snyk.io (US-02), https://api.eu.snyk.io, https://api.au.snyk.io, https://api.snykgov.io (Snyk for Government)"

// snyk401Fix says what to check when Snyk refused the credential actually
// sent, by its kind.
func snyk401Fix(k credential.Kind, subject string) string {
	region := "; and check SNYK_API is your region's API (" + snykRegions + "; /v1 is added)"
	switch k {
	case credential.SnykServiceAccount:
		return "Snyk refused a token minted for the service account SNYK_CLIENT_ID, for " + subject +
			": check the service account still exists in " + snykServiceAccountUI + " and can see it" + region
	case credential.SnykOAuthToken:
		return "SNYK_OAUTH_TOKEN is invalid, expired (OAuth access tokens live an hour) or has no access to " + subject +
			"; for long runs use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET), whose tokens bbimport renews" + region
	}
	return "SNYK_TOKEN is invalid or has no access to " + subject +
		"; set SNYK_TOKEN to a valid API token (Snyk → Account settings → API token), or use a service account (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET; Snyk for Government accepts nothing else)" + region
}

// explainSnyk words a Snyk API error by status and what it was about.
func explainSnyk(se *snyk.ErrorResponse) (problem, fix string) {
	subject := se.Subject()
	switch {
	case se.StatusCode == http.StatusUnauthorized:
		return "Snyk rejected the token (401)", snyk401Fix(se.AuthKind, subject)
	case se.StatusCode == http.StatusForbidden:
		who := "the account behind " + strings.Join(credentialVars(snykKind(se.AuthKind)), " and ")
		return "Snyk refused the request (403)",
			who + " needs admin access to " + subject +
				"; use a service account of the group with the Group Admin role (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET), or the token of a Group Admin"
	case se.StatusCode == http.StatusNotFound && se.JobID != "":
		return se.Problem(), ""
	case se.StatusCode == http.StatusNotFound && se.IntegrationID != "" && se.OrgID != "":
		return se.Problem(), fmt.Sprintf("check the integration id (GET /org/%s/integrations lists them) and that %s can see the org", se.OrgID, credentialName(se.AuthKind))
	case se.StatusCode == http.StatusNotFound && se.GroupID != "" && se.OrgID == "" && !snykV1Path(se):
		// Every call 404s when SNYK_API is not a v1 base: the group id is
		// not what to check first.
		return fmt.Sprintf("Snyk answered 404 for group %q, and SNYK_API does not point at a v1 API", se.GroupID),
			"set SNYK_API to your region's API (" + snykRegions + "; /v1 is added), then run doctor again"
	case se.StatusCode == http.StatusNotFound && (se.GroupID != "" || se.OrgID != ""):
		return se.Problem(), "check the id and that " + credentialName(se.AuthKind) + " can see it"
	}
	return se.Problem(), ""
}

// snykKind is k, or the API token when nothing says which Snyk credential
// was sent (an answer without its request).
func snykKind(k credential.Kind) credential.Kind {
	if !k.Snyk() {
		return credential.SnykAPIToken
	}
	return k
}

// credentialName names a Snyk credential in a sentence.
func credentialName(k credential.Kind) string {
	if k = snykKind(k); k == credential.SnykServiceAccount {
		return "the service account (SNYK_CLIENT_ID)"
	}
	return credentialVars(k)[0]
}

// snykV1Path reports whether the failed request went to a v1 API path
// (…/v1/… or …/api/v1/…), as every v1 call of a right SNYK_API does.
func snykV1Path(se *snyk.ErrorResponse) bool {
	if se.Response == nil || se.Response.Request == nil || se.Response.Request.URL == nil {
		return true
	}
	p := se.Response.Request.URL.Path
	return strings.HasPrefix(p, "/v1/") || strings.Contains(p, "/v1/group/") || strings.Contains(p, "/v1/org/")
}

// refusedFix says what to do about a file in the log or state directory
// that safefile refused (a planted link, a FIFO, a second name).
func refusedFix(e *safefile.Error) string {
	switch e.Kind {
	case safefile.Symlink:
		return "replace the link with the file itself, or remove it"
	case safefile.HardLinked:
		return "remove it if it is a lock file; otherwise give it a name of its own (copy it, then move the copy over it)"
	case safefile.NotOwned, safefile.OpenToOthers:
		return "remove it (bbimport makes its own), or, if it is yours, chmod 600 it"
	}
	return "remove it: bbimport uses only regular files there"
}
