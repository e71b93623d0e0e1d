package doctor

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/routing"
)

// The Bitbucket checks.
const (
	checkCred  = "Bitbucket credential"
	checkToken = "Bitbucket token"
	checkWS    = "workspaces"
	checkRepos = "repositories"
	checkLimit = "Bitbucket limit"
)

// bitbucket checks each credential (its kind, a consumer's token exchange
// and the scopes granted), what each can see, one repository page of each
// workspace with the credential that serves it, and says the limit in
// force for each.
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
	creds := bb.Credentials()
	for _, c := range creds {
		r.report(Line{Mark: Info, Check: named(checkCred, c.Name()), Text: c.Describe()})
		if c.Kind() == credential.BitbucketAppPassword {
			r.warn(named(checkCred, c.Name()), "an app password: Atlassian removed app passwords on "+bitbucket.AppPasswordsRemoved+" and Bitbucket answers them 401", c.AppPasswordFix())
		}
	}
	ok := true
	for _, c := range creds {
		ok = r.token(ctx, c) && ok
	}
	if !ok {
		r.skip(checkWS, "no Bitbucket token")
		r.skip(checkRepos, "no Bitbucket token")
		return
	}
	slugs, ok := r.workspaces(ctx, bb, len(creds) > 1)
	if ok {
		r.repositories(ctx, bb, slugs)
	}
	for _, c := range creds {
		if limit := c.Limit(); limit != "" {
			r.report(Line{Mark: Info, Check: named(checkLimit, c.Name()), Text: limit})
		}
	}
}

// named is a check's name for one credential of several.
func named(check, name string) string {
	if name == "" {
		return check
	}
	return check + " " + strconv.Quote(name)
}

// workspaces reports what each credential serves and returns the
// workspaces to read a page of: the --workspace selection, else every
// workspace pinned or listed.
func (r *run) workspaces(ctx context.Context, bb Bitbucket, several bool) ([]string, bool) {
	if err := bb.Discover(ctx); err != nil {
		r.failErr(checkWS, err, "")
		r.skip(checkRepos, "no workspace list")
		return nil, false
	}
	var slugs []string
	seen := map[string]bool{}
	failed := false
	for _, f := range bb.Found() {
		check := named(checkWS, f.Name)
		switch f.Case {
		case routing.Listed:
			if several {
				r.ok(check, fmt.Sprintf("lists %s (%s)", english.Plural(len(f.Workspaces), "workspace"), english.FirstFew(f.Workspaces, 5)))
			} else {
				r.ok(check, fmt.Sprintf("%d visible (%s)", len(f.Workspaces), english.FirstFew(f.Workspaces, 5)))
			}
		case routing.Pinned:
			if several {
				r.ok(check, fmt.Sprintf("%s named for it (%s)", english.Plural(len(f.Workspaces), "workspace"), english.FirstFew(f.Workspaces, 5)))
			} else {
				r.ok(check, fmt.Sprintf("%s given with --workspace (%s)", english.Plural(len(f.Workspaces), "workspace"), english.FirstFew(f.Workspaces, 5)))
			}
		case routing.ListedNone:
			problem, fix := r.opts.ListedNone(f)
			if several {
				r.warn(check, problem, fix)
			} else {
				r.fail(check, problem, fix)
				failed = true
			}
		case routing.Refused:
			r.failErr(check, &routing.DiscoveryError{Refused: []routing.Found{f}}, "")
			failed = true
		}
		for _, ws := range f.Workspaces {
			if k := strings.ToLower(ws); !seen[k] {
				seen[k] = true
				slugs = append(slugs, ws)
			}
		}
	}
	if several && len(r.opts.Workspaces) > 0 {
		slugs = r.opts.Workspaces
	}
	if len(slugs) == 0 {
		if !failed {
			r.fail(checkWS, "none visible to these credentials", "")
		}
		r.skip(checkRepos, "no workspace")
		return nil, false
	}
	return slugs, true
}

// token checks a consumer's token exchange and the scopes it grants, and
// reports whether the other checks can follow.
func (r *run) token(ctx context.Context, c BitbucketCredential) bool {
	scopes, exchanged, err := c.TokenScopes(ctx)
	check := named(checkToken, c.Name())
	if !exchanged {
		r.report(Line{Mark: Info, Check: check, Text: "no token exchange, so Bitbucket reports no scopes; the repository check below reads with it"})
		return true
	}
	if err != nil {
		r.failErr(check, err, "check BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET and BITBUCKET_APP_TOKEN_URL")
		return false
	}
	granted := strings.Join(scopes, " ")
	if granted == "" {
		granted = "(Bitbucket did not say)"
	}
	r.ok(check, "client_credentials exchange works; scopes granted: "+granted)
	var missing []string
	for _, s := range []string{"account", "repository"} {
		if len(scopes) > 0 && !bitbucket.ScopeGranted(scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		r.warn(named("Bitbucket scopes", c.Name()), fmt.Sprintf("the consumer lacks %s (needed to %s)", strings.Join(english.Quoted(missing), " and "), scopeWords(missing, scopeUses)),
			fmt.Sprintf("in Bitbucket → Workspace settings → OAuth consumers → Edit → Permissions, tick %s and save; the key and secret stay the same", scopeWords(missing, scopeBoxes)))
	}
	return true
}

// repositories reads one repository page of each workspace, up to
// MaxWorkspaces, with the credential that serves it: each read spends that
// credential's hourly budget.
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
