package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/routing"
	"github.com/rs/zerolog"
)

// What bbimport says of each Bitbucket credential of a run: which workspaces
// it serves and how that was learnt (routing.Found), and what to do when
// it could not say.

// kindWords names a kind of Bitbucket credential in a sentence.
func kindWords(k credential.Kind) string {
	switch k {
	case credential.BitbucketAccessToken:
		return "access token"
	case credential.BitbucketAPIToken, credential.BitbucketUser:
		return "API token"
	case credential.BitbucketAppPassword:
		return "app password"
	case credential.BitbucketOAuthToken:
		return "OAuth token"
	}
	return "OAuth consumer"
}

// credentialLabel names a credential: `Bitbucket credential "acme" (OAuth
// consumer)`, or "the OAuth consumer" for a run's only one.
func credentialLabel(name string, k credential.Kind) string {
	if name == "" {
		return "the " + kindWords(k)
	}
	return fmt.Sprintf("Bitbucket credential %q (%s)", name, kindWords(k))
}

// userNote says what the listing asks of each kind since 2026.
func userNote(k credential.Kind) string {
	switch k {
	case credential.BitbucketConsumer:
		return "since 2026-05-04 a consumer's token is an app user, which reaches only the workspace owning the consumer and for which Bitbucket need not list workspaces"
	case credential.BitbucketAccessToken:
		return "an access token is no user, so Bitbucket need not list its workspace"
	}
	return ""
}

// pinFix says how to name what a credential serves.
func pinFix(name string, k credential.Kind) string {
	which := "each workspace it serves"
	switch k {
	case credential.BitbucketConsumer:
		which = "the workspace that owns the consumer (the workspace whose settings list it under OAuth consumers)"
	case credential.BitbucketAccessToken:
		which = "the workspace the token was made in"
	}
	if name == "" {
		return "pass --workspace=<slug> (repeatable; as in bitbucket.org/<slug>) for " + which + "; bbimport checks each with one request"
	}
	return fmt.Sprintf("add workspaces=<slug>[,<slug>…] for %s to the line of %q in %s (or %s); bbimport checks each with one request", which, name, envBitbucketCredentials, envBitbucketCredentialsFile)
}

// reportFound logs, once a stage has used bb (the router), what each credential
// serves: an info line for a listing or pinned workspaces, a warning for
// one that serves nothing (listed none, or refused when the run could do
// without it). Credentials the run sent nothing with are not mentioned.
func reportFound(log zerolog.Logger, bb any, errText func(error) string) {
	r, ok := bb.(interface{ Found() []routing.Found })
	if !ok {
		return
	}
	for _, f := range r.Found() {
		if !f.Used {
			continue // a credential of other workspaces than this run's (another shard's)
		}
		label := credentialLabel(f.Name, f.Kind)
		ev := func(e *zerolog.Event) *zerolog.Event {
			if f.Name != "" {
				e = e.Str("credential", f.Name)
			}
			return e.Str("auth", f.Kind.String()).Strs("workspaces", f.Workspaces)
		}
		switch f.Case {
		case routing.Listed:
			ev(log.Info()).Msgf("%s: GET /2.0/user/workspaces lists %s (%s)", label,
				english.Plural(len(f.Workspaces), "workspace"), english.FirstFew(f.Workspaces, 5))
		case routing.Pinned:
			ev(log.Info()).Msgf("%s serves the %s named for it (%s)", label,
				english.Plural(len(f.Workspaces), "workspace"), english.FirstFew(f.Workspaces, 5))
		case routing.ListedNone:
			note := userNote(f.Kind)
			if note != "" {
				note = " (" + note + ")"
			}
			ev(log.Warn()).Msgf("%s: GET /2.0/user/workspaces lists no workspace%s, so it serves none in this run; %s", label, note, pinFix(f.Name, f.Kind))
		case routing.Refused:
			ev(log.Warn()).Msgf("%s cannot list its workspaces (%s), so it serves none in this run; %s", label, errText(f.Err), pinFix(f.Name, f.Kind))
		}
	}
}

// explainDiscovery words credentials that could not say what they serve.
func explainDiscovery(e *routing.DiscoveryError) (problem, fix string) {
	var problems, fixes []string
	for _, f := range e.Refused {
		p, scopeFix := refusalProblem(f)
		problems = append(problems, p)
		fx := pinFix(f.Name, f.Kind)
		if scopeFix != "" {
			fx = scopeFix + "; or " + fx
		}
		fixes = append(fixes, fx)
	}
	return strings.Join(problems, "; "), strings.Join(fixes, "; ")
}

// refusalProblem is why one credential could not list, and the fix of a
// missing scope when that is what Bitbucket said.
func refusalProblem(f routing.Found) (problem, scopeFix string) {
	answer := ": " + f.Err.Error()
	if be, ok := errors.AsType[*bitbucket.ErrorResponse](f.Err); ok {
		if len(be.RequiredScopes) > 0 {
			p, fx := explainBitbucket(be)
			return p + be.Details(), fx
		}
		answer = " " + be.Details()
		if be.Response == nil {
			answer = fmt.Sprintf(" (GET /2.0/user/workspaces answered %d)", be.HTTPStatus())
		}
	}
	p := credentialLabel(f.Name, f.Kind) + " cannot list its workspaces" + answer
	if note := userNote(f.Kind); note != "" {
		p += " (" + note + ")"
	}
	return p, ""
}

// explainUnserved words workspaces no credential serves.
func explainUnserved(e *routing.UnservedError) (problem, fix string) {
	problem = fmt.Sprintf("no Bitbucket credential of this run serves workspace %s: none names it and none that lists its workspaces lists it",
		strings.Join(english.Quoted(e.Workspaces), ", "))
	fix = fmt.Sprintf("add workspaces=%s to the line of the credential that can see it in %s (an OAuth consumer owned by the workspace, an access token made in it, or an API token of a member)",
		strings.Join(e.Workspaces, ","), envBitbucketCredentials)
	if len(e.Refused) > 0 {
		var names []string
		for _, f := range e.Refused {
			names = append(names, credentialLabel(f.Name, f.Kind))
		}
		problem += fmt.Sprintf(" (GET /2.0/user/workspaces refused %s)", strings.Join(names, ", "))
	}
	return problem, fix
}
