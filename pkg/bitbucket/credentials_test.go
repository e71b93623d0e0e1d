package bitbucket

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestCredentialsFromEnv(t *testing.T) {
	t.Parallel()
	const (
		user  = "jdoe"
		email = "jane@example.com"
		pass  = "app-password-value"
		api   = "api-token-value"
		oauth = "oauth-token-value"
	)
	tests := []struct {
		name    string
		env     map[string]string
		want    Credentials
		wantErr string
		noCreds bool // the error wraps ErrNoCredentials
	}{
		{
			name: "username and password",
			env:  map[string]string{EnvCloudUsername: user, EnvCloudPassword: pass},
			want: Credentials{Kind: AuthUser, Username: user, Secret: pass, Basic: true},
		},
		{
			name: "user beats api and oauth",
			env:  map[string]string{EnvCloudUsername: user, EnvCloudPassword: pass, EnvCloudAPIToken: api, EnvCloudOAuthToken: oauth},
			want: Credentials{Kind: AuthUser, Username: user, Secret: pass, Basic: true},
		},
		{
			name: "api beats oauth",
			env:  map[string]string{EnvCloudAPIToken: api, EnvCloudOAuthToken: oauth},
			want: Credentials{Kind: AuthAPIToken, Secret: api},
		},
		{
			name: "username without password falls through to api (bearer)",
			env:  map[string]string{EnvCloudUsername: user, EnvCloudAPIToken: api},
			want: Credentials{Kind: AuthAPIToken, Secret: api},
		},
		{
			name: "api token with email is basic",
			env:  map[string]string{EnvCloudUsername: email, EnvCloudAPIToken: api},
			want: Credentials{Kind: AuthAPIToken, Username: email, Secret: api, Basic: true},
		},
		{
			name: "oauth alone",
			env:  map[string]string{EnvCloudOAuthToken: oauth},
			want: Credentials{Kind: AuthOAuthToken, Secret: oauth},
		},
		{
			name: "blank values are unset",
			env:  map[string]string{EnvCloudUsername: "  ", EnvCloudPassword: "\t", EnvCloudAPIToken: " ", EnvCloudOAuthToken: " " + oauth + "\n"},
			want: Credentials{Kind: AuthOAuthToken, Secret: oauth},
		},
		{
			name: "method oauth overrides precedence",
			env:  map[string]string{EnvCloudAuthMethod: "oauth", EnvCloudUsername: user, EnvCloudPassword: pass, EnvCloudAPIToken: api, EnvCloudOAuthToken: oauth},
			want: Credentials{Kind: AuthOAuthToken, Secret: oauth},
		},
		{
			name: "method API (any case) with email",
			env:  map[string]string{EnvCloudAuthMethod: " API ", EnvCloudUsername: email, EnvCloudPassword: pass, EnvCloudAPIToken: api},
			want: Credentials{Kind: AuthAPIToken, Username: email, Secret: api, Basic: true},
		},
		{
			name: "method user",
			env:  map[string]string{EnvCloudAuthMethod: "user", EnvCloudUsername: user, EnvCloudPassword: pass, EnvCloudAPIToken: api},
			want: Credentials{Kind: AuthUser, Username: user, Secret: pass, Basic: true},
		},
		{
			name:    "method user without password",
			env:     map[string]string{EnvCloudAuthMethod: "user", EnvCloudUsername: user, EnvCloudAPIToken: api},
			wantErr: `bitbucket: no Bitbucket Cloud credentials: BITBUCKET_CLOUD_AUTH_METHOD is "user" but BITBUCKET_CLOUD_USERNAME or BITBUCKET_CLOUD_PASSWORD is not set`,
			noCreds: true,
		},
		{
			name:    "method api without token",
			env:     map[string]string{EnvCloudAuthMethod: "api", EnvCloudOAuthToken: oauth},
			wantErr: `bitbucket: no Bitbucket Cloud credentials: BITBUCKET_CLOUD_AUTH_METHOD is "api" but BITBUCKET_CLOUD_API_TOKEN is not set`,
			noCreds: true,
		},
		{
			name:    "method oauth without token",
			env:     map[string]string{EnvCloudAuthMethod: "oauth", EnvCloudAPIToken: api},
			wantErr: `bitbucket: no Bitbucket Cloud credentials: BITBUCKET_CLOUD_AUTH_METHOD is "oauth" but BITBUCKET_CLOUD_OAUTH_TOKEN is not set`,
			noCreds: true,
		},
		{
			name:    "unknown method",
			env:     map[string]string{EnvCloudAuthMethod: "token", EnvCloudAPIToken: api},
			wantErr: `bitbucket: BITBUCKET_CLOUD_AUTH_METHOD is "token"; allowed values are user, api and oauth`,
		},
		{
			name:    "nothing set",
			env:     map[string]string{EnvCloudUsername: user},
			wantErr: "bitbucket: no Bitbucket Cloud credentials: set BITBUCKET_CLOUD_USERNAME and BITBUCKET_CLOUD_PASSWORD, or BITBUCKET_CLOUD_API_TOKEN, or BITBUCKET_CLOUD_OAUTH_TOKEN",
			noCreds: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CredentialsFromEnv(mapEnv(tt.env))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v; want %q", err, tt.wantErr)
				}
				if errors.Is(err, ErrNoCredentials) != tt.noCreds {
					t.Errorf("errors.Is(err, ErrNoCredentials) = %v; want %v", !tt.noCreds, tt.noCreds)
				}
				for _, secret := range []string{pass, api, oauth} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CredentialsFromEnv mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCredentials_AppPasswordWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		creds Credentials
		want  bool
	}{
		{Credentials{Kind: AuthUser, Username: "jdoe", Secret: "p", Basic: true}, true},
		{Credentials{Kind: AuthUser, Username: "jane@example.com", Secret: "p", Basic: true}, false}, // an API token in the password
		{Credentials{Kind: AuthAPIToken, Secret: "t"}, false},
		{Credentials{Kind: AuthOAuthToken, Secret: "t"}, false},
	}
	for _, tt := range tests {
		if got := tt.creds.AppPasswordRetiring(); got != tt.want {
			t.Errorf("%v.AppPasswordRetiring() = %v; want %v", tt.creds, got, tt.want)
		}
		if got := tt.creds.Warning() != ""; got != tt.want {
			t.Errorf("%v.Warning() present = %v; want %v", tt.creds, got, tt.want)
		}
	}
	if w := tests[0].creds.Warning(); !strings.Contains(w, "retiring") || !strings.Contains(w, "API token") {
		t.Errorf("Warning() = %q", w)
	}
}

func TestCredentials_neverPrintsSecret(t *testing.T) {
	t.Parallel()
	c := Credentials{Kind: AuthAPIToken, Username: "jane@example.com", Secret: "api-token-value", Basic: true}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), c.String()} {
		if strings.Contains(s, "api-token-value") {
			t.Errorf("formatted credentials show the secret: %q", s)
		}
	}
	if got, want := c.String(), "bitbucket credentials (api, Basic, user jane@example.com, secret [REDACTED])"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}

func TestCredentials_Transport(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		writeJSON(w, 200, []byte(`{"values":[]}`))
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{EnvCloudUsername: "jdoe", EnvCloudPassword: "pw"}, "Basic " + base64.StdEncoding.EncodeToString([]byte("jdoe:pw"))},
		{map[string]string{EnvCloudUsername: "jane@example.com", EnvCloudAPIToken: "tok"}, "Basic " + base64.StdEncoding.EncodeToString([]byte("jane@example.com:tok"))},
		{map[string]string{EnvCloudAPIToken: "tok"}, "Bearer tok"},
		{map[string]string{EnvCloudOAuthToken: "otok"}, "Bearer otok"},
	}
	for _, tt := range tests {
		creds, err := CredentialsFromEnv(mapEnv(tt.env))
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: creds.Transport(nil)}), WithAuthKind(creds.Kind))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hasRepositories(t.Context(), c, "acme"); err != nil {
			t.Fatal(err)
		}
		if got.Load() != tt.want {
			t.Errorf("%v: Authorization = %q; want %q", creds, got.Load(), tt.want)
		}
	}
}
