package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/doctor"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/google/go-cmp/cmp"
)

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return strings.TrimSpace(m[k]) }
}

// TestCloudCredentialSpec: the bitbucket-cloud source's credentials, with
// snyk-api-import's precedence and variable names.
func TestCloudCredentialSpec(t *testing.T) {
	t.Parallel()
	const (
		user  = "jdoe"
		email = "jane@example.com"
		pass  = "app-password-value"
		api   = "api-token-value"
		oauth = "oauth-token-value"
	)
	userSpec := credentialSpec{kind: credential.BitbucketAppPassword, scheme: "Basic", user: user, secret: pass}
	tests := []struct {
		name    string
		env     map[string]string
		want    credentialSpec
		wantErr string
	}{
		{name: "username and password", env: map[string]string{envCloudUsername: user, envCloudPassword: pass}, want: userSpec},
		{name: "user beats api and oauth", env: map[string]string{envCloudUsername: user, envCloudPassword: pass, envCloudAPIToken: api, envCloudOAuthToken: oauth}, want: userSpec},
		{name: "api beats oauth; without an e-mail it is an access token (bearer)", env: map[string]string{envCloudAPIToken: api, envCloudOAuthToken: oauth},
			want: credentialSpec{kind: credential.BitbucketAccessToken, scheme: "Bearer", secret: api}},
		{name: "username without password falls through to api (bearer)", env: map[string]string{envCloudUsername: user, envCloudAPIToken: api},
			want: credentialSpec{kind: credential.BitbucketAccessToken, scheme: "Bearer", secret: api}},
		{name: "e-mail and password: an API token given as the password", env: map[string]string{envCloudUsername: email, envCloudPassword: api},
			want: credentialSpec{kind: credential.BitbucketUser, scheme: "Basic", user: email, secret: api}},
		{name: "api token with email is basic", env: map[string]string{envCloudUsername: email, envCloudAPIToken: api},
			want: credentialSpec{kind: credential.BitbucketAPIToken, scheme: "Basic", user: email, secret: api}},
		{name: "oauth alone", env: map[string]string{envCloudOAuthToken: oauth},
			want: credentialSpec{kind: credential.BitbucketOAuthToken, scheme: "Bearer", secret: oauth}},
		{name: "blank values are unset", env: map[string]string{envCloudUsername: "  ", envCloudPassword: "\t", envCloudAPIToken: " ", envCloudOAuthToken: " " + oauth + "\n"},
			want: credentialSpec{kind: credential.BitbucketOAuthToken, scheme: "Bearer", secret: oauth}},
		{name: "method oauth overrides precedence", env: map[string]string{envCloudAuthMethod: "oauth", envCloudUsername: user, envCloudPassword: pass, envCloudAPIToken: api, envCloudOAuthToken: oauth},
			want: credentialSpec{kind: credential.BitbucketOAuthToken, scheme: "Bearer", secret: oauth}},
		{name: "method API (any case) with email", env: map[string]string{envCloudAuthMethod: " API ", envCloudUsername: email, envCloudPassword: pass, envCloudAPIToken: api},
			want: credentialSpec{kind: credential.BitbucketAPIToken, scheme: "Basic", user: email, secret: api}},
		{name: "method user", env: map[string]string{envCloudAuthMethod: "user", envCloudUsername: user, envCloudPassword: pass, envCloudAPIToken: api}, want: userSpec},
		{name: "method user without password", env: map[string]string{envCloudAuthMethod: "user", envCloudUsername: user, envCloudAPIToken: api},
			wantErr: `no Bitbucket Cloud credentials: BITBUCKET_CLOUD_AUTH_METHOD is "user" but BITBUCKET_CLOUD_USERNAME or BITBUCKET_CLOUD_PASSWORD is not set`},
		{name: "method api without token", env: map[string]string{envCloudAuthMethod: "api", envCloudOAuthToken: oauth},
			wantErr: `no Bitbucket Cloud credentials: BITBUCKET_CLOUD_AUTH_METHOD is "api" but BITBUCKET_CLOUD_API_TOKEN is not set`},
		{name: "method oauth without token", env: map[string]string{envCloudAuthMethod: "oauth", envCloudAPIToken: api},
			wantErr: `no Bitbucket Cloud credentials: BITBUCKET_CLOUD_AUTH_METHOD is "oauth" but BITBUCKET_CLOUD_OAUTH_TOKEN is not set`},
		{name: "unknown method", env: map[string]string{envCloudAuthMethod: "token", envCloudAPIToken: api},
			wantErr: `BITBUCKET_CLOUD_AUTH_METHOD is "token"; allowed values are user, api and oauth`},
		{name: "nothing set", env: map[string]string{envCloudUsername: user},
			wantErr: "no Bitbucket Cloud credentials: set BITBUCKET_CLOUD_USERNAME and BITBUCKET_CLOUD_PASSWORD, or BITBUCKET_CLOUD_API_TOKEN, or BITBUCKET_CLOUD_OAUTH_TOKEN"},
	}
	for _, tt := range tests {
		got, err := cloudCredentialSpec(mapEnv(tt.env))
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr || exitCodeOf(err) != exitUsage {
				t.Errorf("%s: error = %v; want %q, exit 2", tt.name, err, tt.wantErr)
			}
			for _, secret := range []string{pass, api, oauth} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("%s: error leaks a secret: %v", tt.name, err)
				}
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(credentialSpec{})); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestSnykCredentialSpec: a service account wins over SNYK_OAUTH_TOKEN,
// which wins over SNYK_TOKEN; its tokens are minted on the API host unless
// SNYK_OAUTH_TOKEN_URL says otherwise; half a service account is a usage
// error naming the other half.
func TestSnykCredentialSpec(t *testing.T) {
	t.Parallel()
	sa := map[string]string{envSnykClientID: "id-1", envSnykClientSecret: "s", envSnykOAuthToken: "o", envSnykToken: "t"}
	tests := []struct {
		name     string
		env      map[string]string
		base     string
		kind     credential.Kind
		tokenURL string
		wantErr  string
	}{
		{"service account wins", sa, "https://api.eu.snyk.io/v1/", credential.SnykServiceAccount, "https://api.eu.snyk.io/oauth2/token", ""},
		{"GOV", sa, "https://api.snykgov.io/v1/", credential.SnykServiceAccount, "https://api.snykgov.io/oauth2/token", ""},
		{"a proxy's path is not the token URL's", sa, "http://127.0.0.1:8080/snyk/api/v1/", credential.SnykServiceAccount, "http://127.0.0.1:8080/oauth2/token", ""},
		{"override", map[string]string{envSnykClientID: "id", envSnykClientSecret: "s", envSnykTokenURL: "https://sso.example.com/token"},
			"https://api.snyk.io/v1/", credential.SnykServiceAccount, "https://sso.example.com/token", ""},
		{"override in clear text", map[string]string{envSnykClientID: "id", envSnykClientSecret: "s", envSnykTokenURL: "http://sso.example.com/token"},
			"https://api.snyk.io/v1/", 0, "", "SNYK_OAUTH_TOKEN_URL: \"http://sso.example.com/token\" uses plain http"},
		{"oauth token over api token", map[string]string{envSnykOAuthToken: "o", envSnykToken: "t"}, "https://api.snyk.io/v1/", credential.SnykOAuthToken, "", ""},
		{"api token", map[string]string{envSnykToken: "t"}, "https://api.snyk.io/v1/", credential.SnykAPIToken, "", ""},
		{"id alone", map[string]string{envSnykClientID: "id", envSnykToken: "t"}, "https://api.snyk.io/v1/", 0, "", "SNYK_CLIENT_ID is set but SNYK_CLIENT_SECRET is not"},
		{"secret alone", map[string]string{envSnykClientSecret: "s"}, "https://api.snyk.io/v1/", 0, "", "SNYK_CLIENT_SECRET is set but SNYK_CLIENT_ID is not"},
		{"nothing", map[string]string{}, "https://api.snyk.io/v1/", 0, "", "no Snyk credential: set SNYK_CLIENT_ID and SNYK_CLIENT_SECRET"},
	}
	for _, tt := range tests {
		got, err := snykCredentialSpec(mapEnv(tt.env), tt.base)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCodeOf(err) != exitUsage {
				t.Errorf("%s: error %v; want %q, exit 2", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.kind != tt.kind || got.tokenURL != tt.tokenURL {
			t.Errorf("%s: %v %q, %v; want %v %q", tt.name, got.kind, got.tokenURL, err, tt.kind, tt.tokenURL)
		}
	}
}

// TestCredentialSpecBuild: each spec builds the credential it names, with
// the identity its budget is counted under and the header it sends; a value
// the credential refuses is a usage error naming the variable.
func TestCredentialSpecBuild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec     credentialSpec
		header   string
		identity string
	}{
		{credentialSpec{kind: credential.SnykAPIToken, scheme: "token", secret: "t1"}, "token t1", "token:t1"},
		{credentialSpec{kind: credential.SnykOAuthToken, scheme: "Bearer", secret: "o1"}, "Bearer o1", "token:o1"},
		{credentialSpec{kind: credential.BitbucketUser, scheme: "Basic", user: "JDoe", secret: "pw"},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("JDoe:pw")), "user:jdoe"},
	}
	for _, tt := range tests {
		c, err := tt.spec.build(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := c.Authorize(t.Context())
		req, _ := http.NewRequest(http.MethodGet, "https://x/", nil)
		if got := a.Attach(req).Header.Get("Authorization"); got != tt.header || c.Identity() != tt.identity || c.Kind() != tt.spec.kind {
			t.Errorf("%v: %q, %q; want %q, %q", tt.spec.kind, got, c.Identity(), tt.header, tt.identity)
		}
	}
	sa, err := credentialSpec{kind: credential.SnykServiceAccount, clientID: "id-7", clientSecret: "s", tokenURL: "https://api.snyk.io/oauth2/token"}.build(nil, nil)
	if err != nil || sa.Identity() != "client:id-7" {
		t.Errorf("service account: %v, identity %q; want client:id-7", err, sa.Identity())
	}
	_, err = credentialSpec{kind: credential.SnykOAuthToken, scheme: "Bearer", secret: "a\nb"}.build(nil, nil)
	if err == nil || !strings.Contains(err.Error(), "SNYK_OAUTH_TOKEN contains control characters") || exitCodeOf(err) != exitUsage {
		t.Errorf("a token with a newline: %v; want a usage error naming SNYK_OAUTH_TOKEN", err)
	}
}

// fakeCredSnyk is the Snyk doctor reads, for the credential line alone.
type fakeCredSnyk struct {
	doctor.Snyk
	base string
	cred *credential.Credential
	spec credentialSpec
}

func (f fakeCredSnyk) BaseURL() *url.URL { u, _ := url.Parse(f.base); return u }
func (f fakeCredSnyk) Credential() (*credential.Credential, string, string) {
	return f.cred, f.spec.describe(), f.spec.tokenURL
}

// TestDoctorSnykCredential: doctor's line on the Snyk credential: the
// lifetime left of a static OAuth token (a warning when a long run would
// outlive it, a failure when it is spent), and SNYK_TOKEN against Snyk for
// Government, which accepts OAuth only.
func TestDoctorSnykCredential(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	jwt := func(exp time.Time) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(fmt.Sprintf(`{"sub":"u1","exp":%d}`, exp.Unix()))) + ".x"
	}
	tests := []struct {
		name, base string
		spec       credentialSpec
		want       string
		ok         bool
	}{
		{"oauth token, hours left", "https://api.snyk.io/v1/", credentialSpec{kind: credential.SnykOAuthToken, scheme: "Bearer", secret: jwt(now.Add(3 * time.Hour))},
			"✓ Snyk credential: OAuth token (SNYK_OAUTH_TOKEN), expires in 3h", true},
		{"oauth token, minutes left", "https://api.snyk.io/v1/", credentialSpec{kind: credential.SnykOAuthToken, scheme: "Bearer", secret: jwt(now.Add(20 * time.Minute))},
			"⚠ Snyk credential: OAuth token (SNYK_OAUTH_TOKEN) expires in 20m: a run longer than that fails when it does — fix: use a service account", true},
		{"oauth token, spent", "https://api.snyk.io/v1/", credentialSpec{kind: credential.SnykOAuthToken, scheme: "Bearer", secret: jwt(now.Add(-time.Minute))},
			"✗ Snyk credential: OAuth token (SNYK_OAUTH_TOKEN) expired at 2026-12-06T09:59:00Z", false},
		{"api token", "https://api.eu.snyk.io/v1/", credentialSpec{kind: credential.SnykAPIToken, scheme: "token", secret: "t"},
			"✓ Snyk credential: API token (SNYK_TOKEN)", true},
		{"api token on GOV", "https://api.snykgov.io/v1/", credentialSpec{kind: credential.SnykAPIToken, scheme: "token", secret: "t"},
			"✗ Snyk credential: API token (SNYK_TOKEN), but api.snykgov.io (Snyk for Government) accepts OAuth only — fix: set SNYK_CLIENT_ID and SNYK_CLIENT_SECRET", false},
	}
	for _, tt := range tests {
		cred, err := tt.spec.build(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sn := fakeCredSnyk{base: tt.base, cred: cred, spec: tt.spec}
		_ = runDoctor(t.Context(), &doctorOptions{IO: &commandIO{Out: &out, Now: func() time.Time { return now }}, Checks: doctor.Options{
			Env:    doctor.Env{Getenv: func(string) string { return "" }, LogPathFlag: true, Snyk: doctor.Credential{Ready: true}},
			LogDir: func() (string, error) { return "", errors.New("none") },
			Snyk:   func() (doctor.Snyk, error) { return sn, nil },
		}})
		// The token checks follow a usable credential only.
		ok := strings.Contains(out.String(), "- Snyk token: not checked, pass --groupId")
		if ok != tt.ok || !strings.Contains(out.String(), "\n"+tt.want) {
			t.Errorf("%s: %v %q; want %v %q", tt.name, ok, out.String(), tt.ok, tt.want)
		}
	}
	if !snyk.OAuthOnly(&url.URL{Host: "api.snykgov.io"}) || snyk.OAuthOnly(&url.URL{Host: "api.snyk.io"}) {
		t.Error("OAuthOnly: want Snyk for Government alone")
	}
}
