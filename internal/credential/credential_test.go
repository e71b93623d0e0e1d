package credential_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/credential"
)

// jwt is an unsigned JWT with the given claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + ".sig"
}

func TestStaticCredentials(t *testing.T) {
	t.Parallel()
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	oauthJWT := jwt(fmt.Sprintf(`{"sub":"user-42","exp":%d}`, exp.Unix()))
	tests := []struct {
		name     string
		cred     func() (*credential.Credential, error)
		header   string
		identity string
		expiry   time.Time
	}{
		{"basic", func() (*credential.Credential, error) {
			return credential.Basic(credential.BitbucketUser, "JDoe", "app-pass")
		},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("JDoe:app-pass")), "user:jdoe", time.Time{}},
		{"basic email", func() (*credential.Credential, error) {
			return credential.Basic(credential.BitbucketAPIToken, "jane@example.com", "api-tok")
		},
			"Basic " + base64.StdEncoding.EncodeToString([]byte("jane@example.com:api-tok")), "user:jane@example.com", time.Time{}},
		{"bearer", func() (*credential.Credential, error) {
			return credential.Token(credential.BitbucketOAuthToken, "Bearer", " tok ")
		}, "Bearer tok", "token:tok", time.Time{}},
		{"snyk api token", func() (*credential.Credential, error) {
			return credential.Token(credential.SnykAPIToken, "token", "uuid-1")
		}, "token uuid-1", "token:uuid-1", time.Time{}},
		{"jwt names its owner", func() (*credential.Credential, error) {
			return credential.Token(credential.SnykOAuthToken, "Bearer", oauthJWT)
		},
			"Bearer " + oauthJWT, "sub:user-42", exp},
	}
	for _, tt := range tests {
		c, err := tt.cred()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		a, err := c.Authorize(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/", nil)
		sent := a.Attach(req)
		if got := sent.Header.Get("Authorization"); got != tt.header {
			t.Errorf("%s: Authorization %q; want %q", tt.name, got, tt.header)
		}
		if req.Header.Get("Authorization") != "" {
			t.Errorf("%s: the caller's request was modified", tt.name)
		}
		if credential.Of(sent) != c || credential.Of(req) != nil {
			t.Errorf("%s: credential.Of does not name the credential a request was sent with", tt.name)
		}
		if c.Identity() != tt.identity || !c.Expiry().Equal(tt.expiry) {
			t.Errorf("%s: identity %q, expiry %v; want %q, %v", tt.name, c.Identity(), c.Expiry(), tt.identity, tt.expiry)
		}
		if _, again, err := c.Reauthorize(t.Context(), a); again || err != nil {
			t.Errorf("%s: a static credential offered another authorization", tt.name)
		}
	}
}

func TestStaticCredentialsRefuseBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err   error
		field string
	}{
		{second(credential.Token(credential.SnykAPIToken, "token", " ")), "Token"},
		{second(credential.Token(credential.SnykAPIToken, "token", "a\nb")), "Token"},
		{second(credential.Basic(credential.BitbucketUser, "", "x")), "Username"},
		{second(credential.Basic(credential.BitbucketUser, "u", "")), "Password"},
	}
	for _, tt := range tests {
		fe, ok := errors.AsType[*credential.FieldError](tt.err)
		if !ok || fe.Field != tt.field {
			t.Errorf("error %v; want a credential.FieldError for %s", tt.err, tt.field)
		}
		if strings.Contains(tt.err.Error(), "a\nb") {
			t.Errorf("the error repeats the value: %q", tt.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// A credential prints without its secret, in every verb.
func TestCredentialNeverPrintsSecret(t *testing.T) {
	t.Parallel()
	ts := apitest.NewTokenServer(t, nil)
	creds := []*credential.Credential{ts.Consumer(t, nil)}
	for _, mk := range []func() (*credential.Credential, error){
		func() (*credential.Credential, error) {
			return credential.Basic(credential.BitbucketUser, "jdoe", "pass-SECRET")
		},
		func() (*credential.Credential, error) {
			return credential.Token(credential.SnykAPIToken, "token", "tok-SECRET")
		},
	} {
		c, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, c)
	}
	for _, c := range creds {
		bearer(t, c, t.Context())
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, c)
			if strings.Contains(out, "SECRET") || strings.Contains(out, apitest.TokenClientSecret) || strings.Contains(out, apitest.TokenPrefix) {
				t.Errorf("%s printed a secret: %s", verb, out)
			}
		}
	}
	if got := creds[0].Identity(); got != "client:"+apitest.TokenClientID {
		t.Errorf("consumer identity %q", got)
	}
}
