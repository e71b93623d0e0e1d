package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Environment variables of the credentials, by API.
const (
	envSnykClientID      = "SNYK_CLIENT_ID"
	envSnykClientSecret  = "SNYK_CLIENT_SECRET"
	envSnykTokenURL      = "SNYK_OAUTH_TOKEN_URL"
	envSnykOAuthToken    = "SNYK_OAUTH_TOKEN"
	envSnykToken         = "SNYK_TOKEN"
	envAppClientID       = "BITBUCKET_APP_CLIENT_ID"
	envAppClientSecret   = "BITBUCKET_APP_CLIENT_SECRET"
	envAppTokenURL       = "BITBUCKET_APP_TOKEN_URL"
	envCloudUsername     = "BITBUCKET_CLOUD_USERNAME"
	envCloudPassword     = "BITBUCKET_CLOUD_PASSWORD"
	envCloudAPIToken     = "BITBUCKET_CLOUD_API_TOKEN"
	envCloudOAuthToken   = "BITBUCKET_CLOUD_OAUTH_TOKEN"
	envCloudAuthMethod   = "BITBUCKET_CLOUD_AUTH_METHOD"
	snykTokenPathOnAPI   = "/oauth2/token"
	snykServiceAccountUI = "Snyk → Group settings → Service accounts"
)

// credentialSpec is one credential as the environment states it, checked
// before anything runs; a minted one is built later, on the run's token
// client (build). A run holds one for Snyk and one or more for Bitbucket
// (BITBUCKET_CREDENTIALS), each built into its own credential with its own
// budget.
type credentialSpec struct {
	kind credential.Kind
	// name is what BITBUCKET_CREDENTIALS calls it; "" for the credential of
	// the original's variables.
	name string
	// vars are the variables behind it, in the order a person sets them
	// (nil: credentialVars of its kind).
	vars []string
	// workspaces it serves, as its user pinned them; limit is its hourly
	// budget (0: the run's BITBUCKET_RATE_LIMIT).
	workspaces []string
	limit      int
	// client_credentials: the client and where its tokens are minted.
	clientID, clientSecret string
	tokenURL, tokenURLFrom string
	// static: the scheme ("token", "Bearer", or "Basic" with user).
	scheme, user, secret string
}

// credentialVars names the variables behind a kind of credential, in the
// order a person sets them.
func credentialVars(k credential.Kind) []string {
	switch k {
	case credential.BitbucketConsumer:
		return []string{envAppClientID, envAppClientSecret}
	case credential.BitbucketUser, credential.BitbucketAppPassword:
		return []string{envCloudUsername, envCloudPassword}
	case credential.BitbucketAPIToken:
		return []string{envCloudUsername, envCloudAPIToken}
	case credential.BitbucketAccessToken:
		return []string{envCloudAPIToken}
	case credential.BitbucketOAuthToken:
		return []string{envCloudOAuthToken}
	case credential.SnykServiceAccount:
		return []string{envSnykClientID, envSnykClientSecret}
	case credential.SnykOAuthToken:
		return []string{envSnykOAuthToken}
	case credential.SnykAPIToken:
		return []string{envSnykToken}
	}
	return nil
}

// snykCredentialSpec picks the Snyk credential: a service account
// (SNYK_CLIENT_ID and SNYK_CLIENT_SECRET, its tokens minted at the API
// host's /oauth2/token unless SNYK_OAUTH_TOKEN_URL says otherwise), else
// SNYK_OAUTH_TOKEN (Bearer, as snyk-request-manager sends it), else
// SNYK_TOKEN. apiBase is the normalised v1 base.
func snykCredentialSpec(env func(string) string, apiBase string) (credentialSpec, error) {
	id, secret := env(envSnykClientID), env(envSnykClientSecret)
	switch {
	case id != "" && secret != "":
		s := credentialSpec{kind: credential.SnykServiceAccount, clientID: id, clientSecret: secret,
			tokenURL: env(envSnykTokenURL), tokenURLFrom: envSnykTokenURL}
		if s.tokenURL == "" {
			u, err := url.Parse(apiBase)
			if err != nil || u.Host == "" {
				return s, usagef("SNYK_API=%s is not a URL, so the service account's token endpoint is unknown: fix SNYK_API, or set %s", apiBase, envSnykTokenURL)
			}
			s.tokenURL, s.tokenURLFrom = u.Scheme+"://"+u.Host+snykTokenPathOnAPI, "default"
		}
		if _, err := httpx.CheckURL(s.tokenURL, envSnykTokenURL); err != nil {
			return s, usagef("%v", err)
		}
		return s, nil
	case id != "":
		return credentialSpec{}, usagef("%s is set but %s is not: a Snyk service account needs both (the client secret is shown once, when the service account is created in %s)", envSnykClientID, envSnykClientSecret, snykServiceAccountUI)
	case secret != "":
		return credentialSpec{}, usagef("%s is set but %s is not: a Snyk service account needs both (%s lists the client id)", envSnykClientSecret, envSnykClientID, snykServiceAccountUI)
	case env(envSnykOAuthToken) != "":
		return credentialSpec{kind: credential.SnykOAuthToken, scheme: "Bearer", secret: env(envSnykOAuthToken)}, nil
	case env(envSnykToken) != "":
		return credentialSpec{kind: credential.SnykAPIToken, scheme: "token", secret: env(envSnykToken)}, nil
	}
	return credentialSpec{}, usagef("no Snyk credential: set %s and %s (a service account of the group with the Group Admin role: %s; bbimport renews its tokens), or %s=<an API token>",
		envSnykClientID, envSnykClientSecret, snykServiceAccountUI, envSnykToken)
}

// snykCredentialSet reports whether any Snyk credential is set; a service
// account missing half of it is the usage error of snykCredentialSpec.
func snykCredentialSet(env func(string) string) (bool, error) {
	_, err := snykCredentialSpec(env, snyk.DefaultBaseURL)
	if err != nil && (env(envSnykClientID) != "" || env(envSnykClientSecret) != "") {
		return false, err
	}
	return err == nil, nil
}

// bitbucketCredentialSpec picks the credential of a source: the OAuth
// consumer for bitbucket-cloud-app; for bitbucket-cloud the way
// snyk-api-import does (cloudCredentialSpec).
func bitbucketCredentialSpec(source string, env func(string) string) (credentialSpec, error) {
	if source == sourceCloud {
		return cloudCredentialSpec(env)
	}
	id, secret := env(envAppClientID), env(envAppClientSecret)
	if id == "" || secret == "" {
		return credentialSpec{}, usagef("the bitbucket-cloud-app source needs an OAuth consumer: set %s (the consumer's Key) and %s (its Secret), or list one credential per workspace in %s; see README \"Bitbucket credentials in 2026\"", envAppClientID, envAppClientSecret, envBitbucketCredentials)
	}
	s := credentialSpec{kind: credential.BitbucketConsumer, clientID: id, clientSecret: secret,
		tokenURL: env(envAppTokenURL), tokenURLFrom: envAppTokenURL}
	if s.tokenURL == "" {
		s.tokenURL, s.tokenURLFrom = bitbucket.DefaultTokenURL, "default"
	}
	if _, err := httpx.CheckURL(s.tokenURL, envAppTokenURL); err != nil {
		return s, usagef("%v", err)
	}
	return s, nil
}

// errNoCloudCredentials marks a bitbucket-cloud source without credentials.
var errNoCloudCredentials = errors.New("no Bitbucket Cloud credentials")

// cloudCredentialSpec picks the bitbucket-cloud source's credentials as
// snyk-api-import does: BITBUCKET_CLOUD_AUTH_METHOD (user, api or oauth)
// forces one; otherwise username + password, then the API token, then the
// OAuth token. An API token is sent as Basic email:token when
// BITBUCKET_CLOUD_USERNAME holds an e-mail (an Atlassian API token), else
// as Bearer, as the original always sent it: a workspace, project or
// repository access token. A username that is no e-mail with a password is
// an app password. Errors name variables, never their values.
func cloudCredentialSpec(env func(string) string) (credentialSpec, error) {
	user, pass := env(envCloudUsername), env(envCloudPassword)
	api, oauth := env(envCloudAPIToken), env(envCloudOAuthToken)
	userSpec := credentialSpec{kind: credential.BitbucketUser, scheme: "Basic", user: user, secret: pass}
	if !strings.Contains(user, "@") {
		userSpec.kind = credential.BitbucketAppPassword
	}
	apiSpec := credentialSpec{kind: credential.BitbucketAccessToken, scheme: "Bearer", secret: api}
	if strings.Contains(user, "@") {
		apiSpec.kind, apiSpec.scheme, apiSpec.user = credential.BitbucketAPIToken, "Basic", user
	}
	oauthSpec := credentialSpec{kind: credential.BitbucketOAuthToken, scheme: "Bearer", secret: oauth}
	missing := func(method string, names ...string) error {
		return usagef("%w: %s is %q but %s is not set", errNoCloudCredentials, envCloudAuthMethod, method, strings.Join(names, " or "))
	}

	switch method := strings.ToLower(env(envCloudAuthMethod)); method {
	case "":
	case "user":
		if user == "" || pass == "" {
			return credentialSpec{}, missing(method, envCloudUsername, envCloudPassword)
		}
		return userSpec, nil
	case "api":
		if api == "" {
			return credentialSpec{}, missing(method, envCloudAPIToken)
		}
		return apiSpec, nil
	case "oauth":
		if oauth == "" {
			return credentialSpec{}, missing(method, envCloudOAuthToken)
		}
		return oauthSpec, nil
	default:
		return credentialSpec{}, usagef("%s is %q; allowed values are user, api and oauth", envCloudAuthMethod, method)
	}
	switch {
	case user != "" && pass != "":
		return userSpec, nil
	case api != "":
		return apiSpec, nil
	case oauth != "":
		return oauthSpec, nil
	}
	return credentialSpec{}, usagef("%w: set %s and %s, or %s, or %s", errNoCloudCredentials, envCloudUsername, envCloudPassword, envCloudAPIToken, envCloudOAuthToken)
}

// appPasswordWarning is said once when the credential is an app password
// (a username that is not an e-mail, with a password).
const appPasswordWarning = envCloudPassword + " with a username that is no e-mail is an app password: Atlassian removed app passwords on " + bitbucket.AppPasswordsRemoved + " and Bitbucket answers them 401; " + apiTokenFix

// apiTokenFix says how to make and use an Atlassian API token.
const apiTokenFix = "create an Atlassian API token (id.atlassian.com → Security → API tokens → Create API token with scopes → Bitbucket) with the scopes " + apiTokenScopes + ", then set " + envCloudUsername + " to your Atlassian account's e-mail and " + envCloudAPIToken + " to the token (and unset " + envCloudPassword + ")"

// build makes the credential: a static one at once, a minted one on
// tokenHTTP (the token endpoint's own client), telling minted of every
// token before it is used.
func (s credentialSpec) build(tokenHTTP *http.Client, minted func(string)) (*credential.Credential, error) {
	var (
		c   *credential.Credential
		err error
	)
	switch {
	case s.kind.Minted():
		c, err = credential.ClientCredentials(s.kind, credential.Config{
			ClientID: s.clientID, ClientSecret: s.clientSecret, TokenURL: s.tokenURL,
			InForm:     s.kind == credential.SnykServiceAccount,
			HTTPClient: tokenHTTP, Minted: minted,
		})
	case s.scheme == "Basic":
		c, err = credential.Basic(s.kind, s.user, s.secret)
	default:
		c, err = credential.Token(s.kind, s.scheme, s.secret)
	}
	if fe, ok := errors.AsType[*credential.FieldError](err); ok {
		return nil, usagef("%s %s: check the value", s.fieldVar(fe.Field), fe.Problem)
	}
	return c, err
}

// check refuses, before anything runs, a static credential whose value
// cannot be sent (control characters); a minted one is built from checked
// values.
func (s credentialSpec) check() error {
	if s.kind.Minted() {
		return nil
	}
	_, err := s.build(nil, nil)
	return err
}

// variables are the variables behind the credential.
func (s credentialSpec) variables() []string {
	if s.vars != nil {
		return s.vars
	}
	return credentialVars(s.kind)
}

// secretVariables are the variables holding its secret: the last of them,
// in every kind.
func (s credentialSpec) secretVariables() []string {
	v := s.variables()
	if len(v) == 0 {
		return nil
	}
	return v[len(v)-1:]
}

// identity is what tells two credentials apart, as the credential's own
// Identity does (one budget each).
func (s credentialSpec) identity() string {
	switch {
	case s.kind.Minted():
		return "client:" + s.clientID
	case s.scheme == "Basic":
		return "user:" + strings.ToLower(s.user)
	}
	return "token:" + s.secret
}

// idHint is enough of a client id for its owner to recognise it: an id and
// its secret pasted into each other's variables would otherwise print the
// secret, which the redactor knows only as the other variable's value.
func idHint(id string) string {
	const shown = 4
	r := []rune(id)
	if len(r) <= 2*shown {
		return "…"
	}
	return string(r[:shown]) + "…"
}

// fieldVar names the variable behind a credential field.
func (s credentialSpec) fieldVar(field string) string {
	vars := s.variables()
	switch field {
	case "ClientID", "Username":
		return vars[0]
	case "TokenURL":
		return s.tokenURLFrom
	}
	return vars[len(vars)-1]
}

// teach tells the redactor the spec's secrets: the variables' values are
// known to it already, but the Basic header and the token endpoint's Basic
// value are not literal variable values.
func (s credentialSpec) teach(add func(string), addBasic func(user, password string)) {
	switch {
	case s.kind.Minted():
		add(s.clientSecret)
		// Bitbucket's exchange sends id:secret as HTTP Basic, URL-encoded
		// first; Snyk's sends the form, but a gateway may answer either.
		addBasic(s.clientID, s.clientSecret)
	default:
		add(s.secret)
		if s.scheme == "Basic" {
			addBasic(s.user, s.secret)
		}
	}
}

// describe names the credential for doctor: its kind, who it is, the
// variables, and what the kind means since 2026.
func (s credentialSpec) describe() string {
	vars := strings.Join(s.variables(), " + ")
	switch s.kind {
	case credential.SnykServiceAccount:
		return fmt.Sprintf("service account %s (%s)", idHint(s.clientID), vars)
	case credential.SnykOAuthToken:
		return "OAuth token (" + vars + ")"
	case credential.SnykAPIToken:
		return "API token (" + vars + ")"
	case credential.BitbucketConsumer:
		return fmt.Sprintf("OAuth consumer %s (%s): its token is an app user (since 2026-05-04), which reaches the workspace owning the consumer", idHint(s.clientID), vars)
	case credential.BitbucketAccessToken:
		return "access token (" + vars + "): Bearer, no user; it sees the workspace, project or repository it was made in, with a rate limit of its own"
	case credential.BitbucketAPIToken, credential.BitbucketUser:
		return fmt.Sprintf("Atlassian API token of %s (%s): sees what the account sees", s.user, vars)
	case credential.BitbucketAppPassword:
		return fmt.Sprintf("app password of %s (%s)", s.user, vars)
	case credential.BitbucketOAuthToken:
		return "OAuth access token (" + vars + "): not renewed"
	}
	return vars
}
