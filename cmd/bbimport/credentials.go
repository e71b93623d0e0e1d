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

// credentialSpec is one API's credential as the environment states it,
// checked before anything runs; a minted one is built later, on the run's
// token client (build). A run holds one per API today; several Bitbucket
// credentials would be several specs, each built into its own credential
// with its own budget.
type credentialSpec struct {
	kind credential.Kind
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
	case credential.BitbucketUser:
		return []string{envCloudUsername, envCloudPassword}
	case credential.BitbucketAPIToken:
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
		return credentialSpec{}, usagef("the bitbucket-cloud-app source needs an OAuth consumer: set %s (the consumer's Key) and %s (its Secret); see README \"Setting up a Bitbucket OAuth consumer\"", envAppClientID, envAppClientSecret)
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
// BITBUCKET_CLOUD_USERNAME holds an e-mail, else as Bearer. Errors name
// variables, never their values.
func cloudCredentialSpec(env func(string) string) (credentialSpec, error) {
	user, pass := env(envCloudUsername), env(envCloudPassword)
	api, oauth := env(envCloudAPIToken), env(envCloudOAuthToken)
	userSpec := credentialSpec{kind: credential.BitbucketUser, scheme: "Basic", user: user, secret: pass}
	apiSpec := credentialSpec{kind: credential.BitbucketAPIToken, scheme: "Bearer", secret: api}
	if strings.Contains(user, "@") {
		apiSpec.scheme, apiSpec.user = "Basic", user
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

// appPasswordRetiring reports credentials that look like a Bitbucket app
// password (a username that is not an e-mail, with a password), which
// Atlassian retired.
func (s credentialSpec) appPasswordRetiring() bool {
	return s.kind == credential.BitbucketUser && !strings.Contains(s.user, "@")
}

// appPasswordWarning is said once when appPasswordRetiring.
const appPasswordWarning = envCloudPassword + " looks like an app password, which Atlassian is retiring (none can be created since September 2025 and existing ones stop working in 2026); switch to an Atlassian API token (" + envCloudUsername + " set to your email) or to an OAuth consumer (the bitbucket-cloud-app source)"

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

// fieldVar names the variable behind a credential field.
func (s credentialSpec) fieldVar(field string) string {
	vars := credentialVars(s.kind)
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

// describe names the credential for doctor: its kind and the variables.
func (s credentialSpec) describe() string {
	vars := strings.Join(credentialVars(s.kind), " + ")
	switch s.kind {
	case credential.SnykServiceAccount:
		return fmt.Sprintf("service account %s (%s)", s.clientID, vars)
	case credential.SnykOAuthToken:
		return "OAuth token (" + vars + ")"
	case credential.SnykAPIToken:
		return "API token (" + vars + ")"
	case credential.BitbucketConsumer:
		return fmt.Sprintf("OAuth consumer %s (%s)", s.clientID, vars)
	}
	return vars
}
