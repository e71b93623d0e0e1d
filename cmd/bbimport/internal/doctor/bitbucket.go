package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// The Bitbucket checks.
const (
	checkToken = "Bitbucket token"
	checkWS    = "workspaces"
	checkRepos = "repositories"
)

// bitbucket checks the credential (a consumer's token exchange and its
// scopes), the workspaces it sees, and one repository page of each.
func (r *run) bitbucket(ctx context.Context) {
	if !r.opts.Env.Bitbucket.Ready {
		r.skip(checkToken, strings.Join(r.opts.Env.Bitbucket.Need, " and ")+" are needed")
		r.skip(checkWS, "no Bitbucket credentials")
		r.skip(checkRepos, "no Bitbucket credentials")
		return
	}
	bb, err := r.opts.Bitbucket()
	if err != nil {
		r.clientFailed("Bitbucket client", err)
		r.skip(checkWS, "no Bitbucket client")
		r.skip(checkRepos, "no Bitbucket client")
		return
	}
	if !r.token(ctx, bb) {
		r.skip(checkWS, "no Bitbucket token")
		r.skip(checkRepos, "no Bitbucket token")
		return
	}
	slugs := r.opts.Workspaces
	if len(slugs) == 0 {
		for ws, err := range bb.ListWorkspacesIter(ctx) {
			if err != nil {
				r.failErr(checkWS, err, "")
				r.skip(checkRepos, "no workspace list")
				return
			}
			slugs = append(slugs, ws.Slug)
		}
		if len(slugs) == 0 {
			r.fail(checkWS, "none visible to these credentials (no workspaces found)",
				"the consumer's owner must be a member of each workspace to import; or pass --workspace=<slug> (as in bitbucket.org/<slug>) to doctor and orgs:data")
			r.skip(checkRepos, "no workspace")
			return
		}
		r.ok(checkWS, fmt.Sprintf("%d visible (%s)", len(slugs), english.FirstFew(slugs, 5)))
	} else {
		r.ok(checkWS, fmt.Sprintf("%s given with --workspace (%s)", english.Plural(len(slugs), "workspace"), english.FirstFew(slugs, 5)))
	}
	r.repositories(ctx, bb, slugs)
}

// token checks a consumer's token exchange and the scopes it grants, and
// reports whether the other checks can follow.
func (r *run) token(ctx context.Context, bb Bitbucket) bool {
	scopes, exchanged, err := bb.TokenScopes(ctx)
	if !exchanged {
		return true
	}
	if err != nil {
		r.failErr(checkToken, err, "check BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET and BITBUCKET_APP_TOKEN_URL")
		return false
	}
	granted := strings.Join(scopes, " ")
	if granted == "" {
		granted = "(Bitbucket did not say)"
	}
	r.ok(checkToken, "client_credentials exchange works; scopes granted: "+granted)
	var missing []string
	for _, s := range []string{"account", "repository"} {
		if len(scopes) > 0 && !bitbucket.ScopeGranted(scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		r.warn("Bitbucket scopes", fmt.Sprintf("the consumer lacks %s (needed to %s)", strings.Join(english.Quoted(missing), " and "), scopeWords(missing, scopeUses)),
			fmt.Sprintf("in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick %s and save; the key and secret stay the same", scopeWords(missing, scopeBoxes)))
	}
	return true
}

// repositories reads one repository page of each workspace, up to
// MaxWorkspaces: each read spends the hourly Bitbucket budget.
func (r *run) repositories(ctx context.Context, bb Bitbucket, slugs []string) {
	check := slugs
	if max := r.opts.MaxWorkspaces; max > 0 && len(check) > max {
		check = check[:max]
	}
	var errs []failed
	for _, ws := range check {
		err := bb.FirstRepoPage(ctx, ws)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		errs = append(errs, failed{ws, err})
	}
	causes := r.failByCause(checkRepos, errs, func(names string, n int, problem string) string {
		return fmt.Sprintf("cannot list %d of %d (%s): %s", n, len(check), names, problem)
	})
	if causes == 0 {
		note := ""
		if len(check) < len(slugs) {
			note = fmt.Sprintf(" (checked the first %d of %d; --maxWorkspaces=0 checks all)", len(check), len(slugs))
		}
		r.ok(checkRepos, fmt.Sprintf("first page readable in each of %s%s", english.Plural(len(check), "workspace"), note))
	}
}

// What a missing scope stops, and where it is ticked.
var (
	scopeUses  = map[string]string{"account": "list workspaces", "repository": "list repositories"}
	scopeBoxes = map[string]string{"account": "'Account: Read'", "repository": "'Repositories: Read'"}
)

func scopeWords(scopes []string, words map[string]string) string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = words[s]
	}
	return strings.Join(out, " and ")
}
