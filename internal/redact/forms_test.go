package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Every form a secret takes on the wire or in a file is masked: the Basic
// value oauth2 really sends, JSON escaped once and twice, URL-encoded,
// base64 of the value alone; also for secrets with `"` and `\`.
func TestEveryForm(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{`cs-0123456789abcdef`, `se"cr\et/+=&%`, `\"\\\"\\`, `pa ss word`} {
		r := New(secret)
		r.AddBasic("consumer key", secret)
		once := jsonString(secret)
		twice := jsonString(once)
		forms := map[string]string{
			"literal":            secret,
			"query-escaped":      url.QueryEscape(secret),
			"path-escaped":       url.PathEscape(secret),
			"JSON once":          once[1 : len(once)-1],
			"JSON twice":         twice[1 : len(twice)-1],
			"base64":             base64.StdEncoding.EncodeToString([]byte(secret)),
			"base64 raw URL":     base64.RawURLEncoding.EncodeToString([]byte(secret)),
			"Basic plain":        base64.StdEncoding.EncodeToString([]byte("consumer key:" + secret)),
			"Basic oauth2 sends": base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("consumer key") + ":" + url.QueryEscape(secret))),
		}
		for name, f := range forms {
			in := `{"error":"echo ` + f + ` end"}`
			got := r.String(in)
			if strings.Contains(got, f) || !strings.Contains(got, Mask) {
				t.Errorf("secret %q, %s form %q: %q", secret, name, f, got)
			}
		}
		// A trace body: the token endpoint's answer logged as a JSON string.
		body, _ := json.Marshal(map[string]string{"echo": secret})
		line, _ := json.Marshal(map[string]string{"body": string(body)})
		if got := r.String(string(line)); strings.Contains(got, secret) || !strings.Contains(got, Mask) {
			t.Errorf("secret %q in a logged body: %s", secret, got)
		}
	}
}

// Secrets of 1 to 3 characters are masked exactly, as whole tokens, and
// other text is left as it was.
func TestShortSecrets(t *testing.T) {
	t.Parallel()
	r := New("a", "x7", "q+Z")
	tests := []struct{ in, want string }{
		{`{"client_secret":"a"}`, `{"client_secret":"[REDACTED]"}`},
		{`echo a end`, `echo [REDACTED] end`},
		{`a`, `[REDACTED]`},
		{`client_id=x7&scope=a`, `client_id=[REDACTED]&scope=[REDACTED]`},
		{`secret "q+Z" and q%2BZ`, `secret "[REDACTED]" and [REDACTED]`},
		{`base64 YQ== of a`, `base64 [REDACTED] of [REDACTED]`},
		{`bad data at a.example.com/x7b`, `bad data at a.example.com/x7b`},
		{`Authorization header missing; see api.bitbucket.org`, `Authorization header missing; see api.bitbucket.org`},
		{`listed 27 repositories in acme`, `listed 27 repositories in acme`},
		{`xYQ== banana`, `xYQ== banana`},
		{`invalid_client: Client credentials are missing`, `invalid_client: Client credentials are missing`},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// Literal, the libraries' own scrubbing, keeps words whole too: a client
// secret "a" turned the token endpoint's "invalid_client ... credentials"
// into "inv[REDACTED]lid_client ... credenti[REDACTED]ls", mangling the
// hint and showing where the secret was missing.
func TestLiteralKeepsWords(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, secret, want string }{
		{`invalid_client: bad client credentials (secret a)`, "a", `invalid_client: bad client credentials (secret [REDACTED])`},
		{`the secrets are "hunter2"`, "hunter2", `the secrets are "[REDACTED]"`},
		{`xhunter2x`, "hunter2", `xhunter2x`},
		{`cs-0123456789abcdef inside cs-0123456789abcdefgh`, "cs-0123456789abcdef", `[REDACTED] inside [REDACTED]gh`},
	}
	for _, tt := range tests {
		if got := Literal(tt.in, tt.secret); got != tt.want {
			t.Errorf("Literal(%q, %q) = %q; want %q", tt.in, tt.secret, got, tt.want)
		}
	}
}
