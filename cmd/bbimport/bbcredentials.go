package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// Several Bitbucket credentials in one run. The list names each credential,
// its kind and the environment variables holding its secrets; it never
// holds a secret itself, so it can sit in a repository variable, the CI
// file, or a committed file:
//
//	# name      kind          variables                               optional
//	acme        consumer      id=BB_ACME_KEY secret=BB_ACME_SECRET    workspaces=acme
//	labs        access-token  token=BB_LABS_TOKEN                     workspaces=acme-labs limit=5000
//	admin       api-token     email=BB_ADMIN_EMAIL token=BB_ADMIN_TOKEN
//
// one entry a line (or separated by ';' where a variable cannot hold
// lines); '#' starts a comment.
const (
	envBitbucketCredentials     = "BITBUCKET_CREDENTIALS"
	envBitbucketCredentialsFile = "BITBUCKET_CREDENTIALS_FILE"
	// maxCredentialsFile bounds the file: forty lines are a few KiB.
	maxCredentialsFile = 1 << 20
)

// listKind is a kind of credential of the list and the keys naming its
// variables, in order; secret keys are those whose values never show.
type listKind struct {
	kind    credential.Kind
	keys    []string
	secrets []string
	what    string
}

var listKinds = map[string]listKind{
	"consumer":     {kind: credential.BitbucketConsumer, keys: []string{"id", "secret"}, secrets: []string{"secret"}, what: "an OAuth consumer's key and secret"},
	"access-token": {kind: credential.BitbucketAccessToken, keys: []string{"token"}, secrets: []string{"token"}, what: "a workspace, project or repository access token"},
	"api-token":    {kind: credential.BitbucketAPIToken, keys: []string{"email", "token"}, secrets: []string{"token"}, what: "an Atlassian account's e-mail and API token"},
}

// snykCredentialVars hold Snyk's credential: no Bitbucket credential of the
// list may name them, or the Snyk secret would go to Bitbucket.
var snykCredentialVars = []string{envSnykToken, envSnykOAuthToken, envSnykClientID, envSnykClientSecret}

// listKindNames is how an error lists the kinds.
const listKindNames = "consumer, access-token or api-token"

var (
	varName      = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	credName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	slugOrUUID   = regexp.MustCompile(`^([A-Za-z0-9._-]+|\{[0-9A-Fa-f-]{36}\})$`)
	listComments = regexp.MustCompile(`#.*`)
	// listWord is what a kind or a key looks like; an error repeats a
	// field only if it does: anything else may be a secret pasted in the
	// wrong place (a token in the kind's, an env file's BB_TOKEN=value).
	listWord = regexp.MustCompile(`^[a-z][a-z-]{0,19}$`)
)

// bitbucketCredentialList reads the list from BITBUCKET_CREDENTIALS or the
// file BITBUCKET_CREDENTIALS_FILE names (resolved as input files are);
// listed is false when neither is set (the single credential of the
// original's variables applies). tokenURL is where consumers' tokens are
// minted.
func bitbucketCredentialList(env func(string) string, inputPath func(from, v string) (string, error), tokenURL, tokenURLFrom string) (specs []credentialSpec, listed bool, err error) {
	inline, file := env(envBitbucketCredentials), env(envBitbucketCredentialsFile)
	switch {
	case inline != "" && file != "":
		return nil, true, usagef("both %s and %s are set: keep one", envBitbucketCredentials, envBitbucketCredentialsFile)
	case inline == "" && file == "":
		return nil, false, nil
	}
	text, from := inline, envBitbucketCredentials
	if file != "" {
		path, err := inputPath(envBitbucketCredentialsFile, file)
		if err != nil {
			return nil, true, err
		}
		if text, err = readCredentialsFile(path); err != nil {
			return nil, true, err
		}
		from = path
	}
	specs, err = parseCredentialList(text, from, env, tokenURL, tokenURLFrom)
	return specs, true, err
}

func readCredentialsFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", usagef("%s=%s: %v", envBitbucketCredentialsFile, path, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxCredentialsFile {
		return "", usagef("%s=%s is not a regular file of at most 1 MiB", envBitbucketCredentialsFile, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("%s=%s: %v", envBitbucketCredentialsFile, path, err)
	}
	return string(b), nil
}

// listEntry is one entry of the list, where it is.
type listEntry struct {
	where  string // "BITBUCKET_CREDENTIALS line 2"
	fields []string
}

func listEntries(text, from string) []listEntry {
	var out []listEntry
	for i, line := range strings.Split(text, "\n") {
		line = listComments.ReplaceAllString(line, "")
		for _, part := range strings.Split(line, ";") {
			if f := strings.Fields(part); len(f) > 0 {
				out = append(out, listEntry{where: fmt.Sprintf("%s line %d", from, i+1), fields: f})
			}
		}
	}
	return out
}

// parseCredentialList checks every entry and builds its spec: errors name
// the entry and the key, never a value that might be a secret.
func parseCredentialList(text, from string, env func(string) string, tokenURL, tokenURLFrom string) ([]credentialSpec, error) {
	entries := listEntries(text, from)
	if len(entries) == 0 {
		return nil, usagef("%s names no credential: one a line, `<name> <kind> <key>=<VARIABLE>…` (README \"Several Bitbucket credentials\")", from)
	}
	var specs []credentialSpec
	names, identities, pinnedBy := map[string]string{}, map[string]string{}, map[string]string{}
	for _, e := range entries {
		s, err := parseCredentialEntry(e, env, tokenURL, tokenURLFrom)
		if err != nil {
			return nil, err
		}
		if other, dup := names[strings.ToLower(s.name)]; dup {
			return nil, usagef("%s: the name %q is also used at %s; give each credential its own", e.where, s.name, other)
		}
		names[strings.ToLower(s.name)] = e.where
		if other, dup := identities[s.identity()]; dup {
			return nil, usagef("%s: credential %q is the same credential as %q (one budget, counted once): list it once", e.where, s.name, other)
		}
		identities[s.identity()] = s.name
		for _, ws := range s.workspaces {
			if other, dup := pinnedBy[strings.ToLower(ws)]; dup {
				return nil, usagef("%s: workspace %q is given to both %q and %q; give it to one", e.where, ws, other, s.name)
			}
			pinnedBy[strings.ToLower(ws)] = s.name
		}
		specs = append(specs, s)
	}
	return specs, nil
}

func parseCredentialEntry(e listEntry, env func(string) string, tokenURL, tokenURLFrom string) (credentialSpec, error) {
	if len(e.fields) < 2 {
		return credentialSpec{}, usagef("%s: want `<name> <kind> <key>=<VARIABLE>…`, e.g. `acme consumer id=BB_ACME_KEY secret=BB_ACME_SECRET`", e.where)
	}
	name, kindName := e.fields[0], strings.ToLower(e.fields[1])
	if !credName.MatchString(name) {
		// Not repeated: it may be a secret (an env file's BB_TOKEN=value).
		return credentialSpec{}, usagef("%s: the name (first field) is not one: letters, digits, '.', '_' and '-', at most 63", e.where)
	}
	at := fmt.Sprintf("%s (credential %q)", e.where, name)
	lk, ok := listKinds[kindName]
	if !ok {
		if kindName == "app-password" || kindName == "user" {
			return credentialSpec{}, usagef("%s: app passwords were removed on %s; use an api-token (an Atlassian API token with the scopes %s)", at, bitbucket.AppPasswordsRemoved, apiTokenScopes)
		}
		if !listWord.MatchString(kindName) {
			return credentialSpec{}, usagef("%s: the kind (second field) is not one: %s; the list names variables and holds no value", at, listKindNames)
		}
		return credentialSpec{}, usagef("%s: the kind %q is not one: %s", at, e.fields[1], listKindNames)
	}
	s := credentialSpec{kind: lk.kind, name: name}
	vals := map[string]string{}
	for _, f := range e.fields[2:] {
		key, v, ok := strings.Cut(f, "=")
		key = strings.ToLower(key)
		if !ok {
			return credentialSpec{}, usagef("%s: a field is not key=value; %s takes %s, workspaces= and limit=", at, kindName, keysText(lk.keys))
		}
		if !listWord.MatchString(key) {
			return credentialSpec{}, usagef("%s: a field is not one of the kind %s; it takes %s, workspaces= and limit=", at, kindName, keysText(lk.keys))
		}
		if _, dup := vals[key]; dup {
			return credentialSpec{}, usagef("%s: %s= is given twice", at, key)
		}
		vals[key] = v
		switch {
		case key == "workspaces":
			for _, ws := range strings.Split(v, ",") {
				if ws = strings.TrimSpace(ws); ws == "" {
					continue
				}
				if !slugOrUUID.MatchString(ws) {
					return credentialSpec{}, usagef("%s: workspaces= takes slugs as in bitbucket.org/<slug>, comma-separated; %q is not one", at, ws)
				}
				s.workspaces = append(s.workspaces, ws)
			}
			if len(s.workspaces) == 0 {
				return credentialSpec{}, usagef("%s: workspaces= names no workspace", at)
			}
		case key == "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return credentialSpec{}, usagef("%s: limit=%q is not a whole number of requests an hour from 1 up", at, v)
			}
			s.limit = n
		case slices.Contains(lk.keys, key):
			// A secret must never be echoed: a value that is no variable
			// name is not repeated.
			if !varName.MatchString(v) {
				return credentialSpec{}, usagef("%s: %s= must name an environment variable (A-Z, 0-9 and _), not hold a value: keep the value in your CI's secret store as a variable and name the variable here", at, key)
			}
			if slices.Contains(snykCredentialVars, v) {
				return credentialSpec{}, usagef("%s: %s= names %s, a Snyk credential: bbimport never sends it to Bitbucket; name the variable of a Bitbucket credential", at, key, v)
			}
		default:
			return credentialSpec{}, usagef("%s: %s= is not a field of the kind %s; it takes %s, workspaces= and limit=", at, key, kindName, keysText(lk.keys))
		}
	}
	value := map[string]string{}
	for _, k := range lk.keys {
		v, given := vals[k]
		if !given {
			return credentialSpec{}, usagef("%s: %s= is missing: %s takes %s (%s)", at, k, kindName, keysText(lk.keys), lk.what)
		}
		if value[k] = strings.TrimSpace(env(v)); value[k] == "" {
			// Not "token=NAME": the redactor masks what follows a token= key.
			return credentialSpec{}, usagef("%s: %s= names the variable %s, which is not set (or is empty)", at, k, v)
		}
	}
	for _, k := range lk.keys {
		s.vars = append(s.vars, vals[k])
	}
	switch lk.kind {
	case credential.BitbucketConsumer:
		s.clientID, s.clientSecret, s.tokenURL, s.tokenURLFrom = value["id"], value["secret"], tokenURL, tokenURLFrom
	case credential.BitbucketAccessToken:
		s.scheme, s.secret = "Bearer", value["token"]
	case credential.BitbucketAPIToken:
		if !strings.Contains(value["email"], "@") {
			return credentialSpec{}, usagef("%s: email= names the variable %s, which holds no e-mail address: an Atlassian API token is sent with the account's e-mail", at, vals["email"])
		}
		s.scheme, s.user, s.secret = "Basic", value["email"], value["token"]
	}
	if err := s.check(); err != nil {
		return credentialSpec{}, err
	}
	return s, nil
}

func keysText(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=<VARIABLE>"
	}
	return strings.Join(parts, " ")
}

// listSecretValues are the values of the variables BITBUCKET_CREDENTIALS
// names for secrets, read leniently (a wrong list is said later), so the
// redactor knows them from the start.
func listSecretValues(getenv func(string) string) []string {
	var out []string
	for _, e := range listEntries(getenv(envBitbucketCredentials), envBitbucketCredentials) {
		if len(e.fields) < 2 {
			continue
		}
		lk := listKinds[strings.ToLower(e.fields[1])]
		for _, f := range e.fields[2:] {
			if key, v, ok := strings.Cut(f, "="); ok && slices.Contains(lk.secrets, strings.ToLower(key)) && varName.MatchString(v) {
				if val := strings.TrimSpace(getenv(v)); val != "" {
					out = append(out, val)
				}
			}
		}
	}
	return out
}

// apiTokenScopes are the four read scopes an Atlassian API token needs.
const apiTokenScopes = "read:workspace:bitbucket, read:user:bitbucket, read:repository:bitbucket and read:project:bitbucket"
