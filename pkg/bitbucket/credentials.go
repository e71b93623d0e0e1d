package bitbucket

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/bbimport/bbimport/internal/redact"
)

// AuthKind names the kind of credentials a client uses. Errors use it to name
// the environment variables to check.
type AuthKind int

const (
	// AuthUnknown is the zero value: errors name the variables of every source.
	AuthUnknown AuthKind = iota
	// AuthOAuthConsumer is an OAuth consumer's key and secret exchanged with
	// client_credentials (the bitbucket-cloud-app source).
	AuthOAuthConsumer
	// AuthUser is BITBUCKET_CLOUD_USERNAME + BITBUCKET_CLOUD_PASSWORD sent as
	// HTTP Basic (an app password, or an API token paired with an email).
	AuthUser
	// AuthAPIToken is BITBUCKET_CLOUD_API_TOKEN.
	AuthAPIToken
	// AuthOAuthToken is BITBUCKET_CLOUD_OAUTH_TOKEN sent as Bearer.
	AuthOAuthToken
)

// String returns the BITBUCKET_CLOUD_AUTH_METHOD spelling ("user", "api",
// "oauth"), "oauth-consumer" or "unknown".
func (k AuthKind) String() string {
	switch k {
	case AuthOAuthConsumer:
		return "oauth-consumer"
	case AuthUser:
		return "user"
	case AuthAPIToken:
		return "api"
	case AuthOAuthToken:
		return "oauth"
	}
	return "unknown"
}

// who names the credentials in a sentence.
func (k AuthKind) who() string {
	if k == AuthOAuthConsumer || k == AuthUnknown {
		return "the OAuth consumer"
	}
	return "these credentials"
}

// Environment variables of the bitbucket-cloud source.
const (
	EnvCloudUsername   = "BITBUCKET_CLOUD_USERNAME"
	EnvCloudPassword   = "BITBUCKET_CLOUD_PASSWORD"
	EnvCloudAPIToken   = "BITBUCKET_CLOUD_API_TOKEN"
	EnvCloudOAuthToken = "BITBUCKET_CLOUD_OAUTH_TOKEN"
	EnvCloudAuthMethod = "BITBUCKET_CLOUD_AUTH_METHOD"
)

// ErrNoCredentials is wrapped by [CredentialsFromEnv] when the variables it
// needs are not set.
var ErrNoCredentials = errors.New("bitbucket: no Bitbucket Cloud credentials")

// Credentials are the bitbucket-cloud source's static credentials. Print them
// freely: String and GoString never show the secret.
type Credentials struct {
	Kind AuthKind
	// Username is sent with Basic auth (AuthUser, or AuthAPIToken with an email).
	Username string
	// Secret is the app password, API token or OAuth token.
	Secret string
	// Basic is true when the secret is sent as HTTP Basic with Username,
	// false when it is sent as a Bearer token.
	Basic bool
}

// CredentialsFromEnv picks the bitbucket-cloud source's credentials the way
// snyk-api-import does: BITBUCKET_CLOUD_AUTH_METHOD (user, api or oauth)
// forces one; otherwise username + password, then the API token, then the
// OAuth token. Blank values count as unset. An API token is sent as Basic
// email:token when BITBUCKET_CLOUD_USERNAME holds an email, else as Bearer.
// Errors name variables, never their values.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	user, pass := env(EnvCloudUsername), env(EnvCloudPassword)
	api, oauth := env(EnvCloudAPIToken), env(EnvCloudOAuthToken)

	userCreds := func() Credentials {
		return Credentials{Kind: AuthUser, Username: user, Secret: pass, Basic: true}
	}
	apiCreds := func() Credentials {
		if strings.Contains(user, "@") {
			return Credentials{Kind: AuthAPIToken, Username: user, Secret: api, Basic: true}
		}
		return Credentials{Kind: AuthAPIToken, Secret: api}
	}
	oauthCreds := func() Credentials { return Credentials{Kind: AuthOAuthToken, Secret: oauth} }

	switch method := strings.ToLower(env(EnvCloudAuthMethod)); method {
	case "":
	case "user":
		if user == "" || pass == "" {
			return Credentials{}, fmt.Errorf("%w: %s is \"user\" but %s or %s is not set", ErrNoCredentials, EnvCloudAuthMethod, EnvCloudUsername, EnvCloudPassword)
		}
		return userCreds(), nil
	case "api":
		if api == "" {
			return Credentials{}, fmt.Errorf("%w: %s is \"api\" but %s is not set", ErrNoCredentials, EnvCloudAuthMethod, EnvCloudAPIToken)
		}
		return apiCreds(), nil
	case "oauth":
		if oauth == "" {
			return Credentials{}, fmt.Errorf("%w: %s is \"oauth\" but %s is not set", ErrNoCredentials, EnvCloudAuthMethod, EnvCloudOAuthToken)
		}
		return oauthCreds(), nil
	default:
		return Credentials{}, fmt.Errorf("bitbucket: %s is %q; allowed values are user, api and oauth", EnvCloudAuthMethod, method)
	}

	switch {
	case user != "" && pass != "":
		return userCreds(), nil
	case api != "":
		return apiCreds(), nil
	case oauth != "":
		return oauthCreds(), nil
	}
	return Credentials{}, fmt.Errorf("%w: set %s and %s, or %s, or %s", ErrNoCredentials, EnvCloudUsername, EnvCloudPassword, EnvCloudAPIToken, EnvCloudOAuthToken)
}

// Transport returns a RoundTripper that adds these credentials to every
// request sent through base (nil means http.DefaultTransport).
func (c Credentials) Transport(base http.RoundTripper) http.RoundTripper {
	if c.Basic {
		return BasicTransport(c.Username, c.Secret, base)
	}
	return BearerTransport(c.Secret, base)
}

// AppPasswordRetiring reports whether these credentials look like a
// Bitbucket app password (a username that is not an email, with a password),
// which Atlassian is retiring.
func (c Credentials) AppPasswordRetiring() bool {
	return c.Kind == AuthUser && !strings.Contains(c.Username, "@")
}

// Warning is a sentence the command can show the person running bbimport, or
// "" when there is nothing to say.
func (c Credentials) Warning() string {
	if !c.AppPasswordRetiring() {
		return ""
	}
	return "BITBUCKET_CLOUD_PASSWORD looks like an app password, which Atlassian is retiring (none can be created since September 2025 and existing ones stop working in 2026); switch to an Atlassian API token (BITBUCKET_CLOUD_USERNAME set to your email) or to an OAuth consumer (the bitbucket-cloud-app source)"
}

// String describes the credentials without the secret.
func (c Credentials) String() string {
	scheme := "Bearer"
	if c.Basic {
		scheme = "Basic"
	}
	s := "bitbucket credentials (" + c.Kind.String() + ", " + scheme
	if c.Username != "" {
		s += ", user " + c.Username
	}
	return s + ", secret " + redact.Mask + ")"
}

// GoString is String, so %#v does not print the secret either.
func (c Credentials) GoString() string { return c.String() }
