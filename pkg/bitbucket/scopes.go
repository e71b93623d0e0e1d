package bitbucket

import "slices"

// impliedScopes is what each OAuth 2.0 scope implicitly grants, from
// Atlassian's list of Bitbucket Cloud scopes
// (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#authentication):
// "project … implies the repository scope", "repository:write … implicitly
// grants the repository scope", "pullrequest … implies the repository scope",
// "pullrequest:write implicitly grants the pullrequest scope … [and] the
// repository:write scope", issue:write and snippet:write grant issue and
// snippet. The :admin scopes are documented as granting nothing else.
// account:write and team:write are not documented either way; they are
// taken to include their read form, so no false warning is given.
// A token's `scopes` lists only what was ticked, so `repository` is often
// absent from a consumer that can read repositories
// ("pipeline runner pullrequest team project account issue snippet").
var impliedScopes = map[string][]string{
	"project":           {"repository"},
	"repository:write":  {"repository"},
	"pullrequest":       {"repository"},
	"pullrequest:write": {"pullrequest", "repository:write", "repository"},
	"issue:write":       {"issue"},
	"snippet:write":     {"snippet"},
	"account:write":     {"account"},
	"team:write":        {"team"},
}

// ScopeGranted reports whether an OAuth token with the granted scopes (the
// token response's `scopes`) has scope, directly or by implication.
// API-token scopes (read:…:bitbucket) imply nothing, as Atlassian documents,
// but read:<scope>:bitbucket counts as <scope>.
func ScopeGranted(granted []string, scope string) bool {
	for _, g := range granted {
		if g == scope || g == "read:"+scope+":bitbucket" || slices.Contains(impliedScopes[g], scope) {
			return true
		}
	}
	return false
}
