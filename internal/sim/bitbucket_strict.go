package sim

import (
	"net/url"
	"strings"
)

// Where the published Bitbucket API is stricter than a friendly fake, the
// simulator follows the API by default; BitbucketConfig's lenient knobs
// restore the friendly form. Sources are in docs/api-notes.md.

// bbImplies is kept apart from pkg/bitbucket's table on purpose: the
// simulator is our picture of the server, and one shared table would let a
// mistake in it pass on both sides.
//
// bbImplies is what each OAuth scope implicitly grants, per Atlassian's
// scope list (developer.atlassian.com/cloud/bitbucket/rest/intro/#authentication):
// project and pullrequest imply repository, the :write forms imply their
// read form (pullrequest:write also repository:write). The :admin forms
// imply nothing. Forge/API-token scopes (read:…:bitbucket) imply nothing
// either.
var bbImplies = map[string][]string{
	"project":           {"repository"},
	"repository:write":  {"repository"},
	"pullrequest":       {"repository"},
	"pullrequest:write": {"pullrequest", "repository:write", "repository"},
	"issue:write":       {"issue"},
	"snippet:write":     {"snippet"},
	"account:write":     {"account"},
	"team:write":        {"team"},
}

// hasScope reports whether the granted scopes include scope, directly, by
// implication (bbImplies), or as its API-token form read:<scope>:bitbucket.
func (st *bitbucketState) hasScope(scope string) bool {
	for _, g := range st.scopes {
		if g == scope || g == "read:"+scope+":bitbucket" {
			return true
		}
		for _, implied := range bbImplies[g] {
			if implied == scope {
				return true
			}
		}
	}
	return false
}

// bbqlZoneZ reports whether q writes a date with the `Z` zone designator,
// which Bitbucket's BBQL parser has been seen to refuse.
func bbqlZoneZ(q string) bool {
	toks, err := bbLex(q)
	if err != nil {
		return false
	}
	for _, t := range toks {
		if (t.kind == 'w' || t.kind == 's') && len(t.text) > 10 && t.text[4] == '-' &&
			strings.EqualFold(t.text[len(t.text)-1:], "Z") {
			return true
		}
	}
	return false
}

// bbWorkspaceAccessJSON is the `workspace` of a GET /2.0/user/workspaces
// item: the spec's workspace_base (no name) unless WorkspaceAccessNames.
func (st *bitbucketState) bbWorkspaceAccessJSON(base string, ws *WorkspaceSpec) map[string]any {
	if st.cfg.WorkspaceAccessNames {
		return bbWorkspaceJSON(base, ws)
	}
	return map[string]any{
		"type": "workspace_base",
		"uuid": ws.UUID,
		"slug": ws.Slug,
		"links": map[string]any{
			"self":   bbHref(base + "/2.0/workspaces/" + url.PathEscape(ws.Slug)),
			"html":   bbHref("https://bitbucket.org/" + url.PathEscape(ws.Slug) + "/"),
			"avatar": bbHref("https://bitbucket.org/workspaces/" + url.PathEscape(ws.Slug) + "/avatar/?ts=1700000000"),
		},
	}
}
