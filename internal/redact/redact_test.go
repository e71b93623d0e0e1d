package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

const (
	clientSecret = "s3cr3t/Key+with=odd&chars"
	snykToken    = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
)

func TestString(t *testing.T) {
	t.Parallel()
	r := New(clientSecret, snykToken, "", "abc", "   ")
	tests := []struct {
		name, in, want string
	}{
		{"plain text untouched", "listed 12 repositories in acme", "listed 12 repositories in acme"},
		// Issue 14: a short secret is masked as a whole token, never inside a word.
		{"short values are whole tokens", "abc and abcd", "[REDACTED] and abcd"},
		{"literal", "secret is " + clientSecret + ".", "secret is [REDACTED]."},
		{"literal twice", snykToken + snykToken, "[REDACTED][REDACTED]"},
		{"query-escaped literal", "body client_id=x&client_sec=" + url.QueryEscape(clientSecret),
			"body client_id=x&client_sec=[REDACTED]"},
		{"path-escaped literal", "GET /v1/" + url.PathEscape(clientSecret) + "/x", "GET /v1/[REDACTED]/x"},
		{"lower-case percent hex", "q=" + lowerPercent(url.QueryEscape(clientSecret)), "q=[REDACTED]"},
		{"JSON-escaped literal", `{"k":` + jsonString(`he said "`+clientSecret+`"`) + `}`,
			`{"k":"he said \"[REDACTED]\""}`},
		{"header line", "Authorization: Bearer eyJhbGciOi.x.y\r\nAccept: */*",
			"Authorization: Bearer [REDACTED]\r\nAccept: */*"},
		{"header any value", "authorization: whatever it is\n", "authorization: [REDACTED]\n"},
		{"basic", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED]"},
		{"snyk token scheme", `"Authorization":"token 1234-abcd"`, `"Authorization":"token [REDACTED]"`},
		{"proxy authorization", "Proxy-Authorization: Basic Zm9vOmJhcg==", "Proxy-Authorization: Basic [REDACTED]"},
		{"header map as JSON", `{"headers":{"Authorization":["Bearer tok-123"],"Accept":["*/*"]}}`,
			`{"headers":{"Authorization":["Bearer [REDACTED]"],"Accept":["*/*"]}}`},
		{"header map via %v", fmt.Sprint(http.Header{"Authorization": {"Bearer tok-123"}, "Accept": {"x"}}),
			"map[Accept:[x] Authorization:[Bearer [REDACTED]]]"},
		{"escaped JSON inside JSON", `{"body":"{\"Authorization\":\"token tok-123\"}"}`,
			`{"body":"{\"Authorization\":\"token [REDACTED]\"}"}`},
		{"token response", `{"access_token": "ya29.a0Af", "scopes": "repository", "refresh_token":"r-1", "token_type": "bearer"}`,
			`{"access_token": "[REDACTED]", "scopes": "repository", "refresh_token":"[REDACTED]", "token_type": "bearer"}`},
		{"JSON value with escaped quote", `{"password":"pa\"ss","user":"bob"}`, `{"password":"[REDACTED]","user":"bob"}`},
		{"JSON key case", `{"Client_Secret":"zz-top"}`, `{"Client_Secret":"[REDACTED]"}`},
		{"logged body", `{"level":"debug","body":"{\"access_token\":\"ya29.a0Af\",\"expires_in\":7200}"}`,
			`{"level":"debug","body":"{\"access_token\":\"[REDACTED]\",\"expires_in\":7200}"}`},
		{"form", "grant_type=client_credentials&client_secret=zz-top&scope=x",
			"grant_type=client_credentials&client_secret=[REDACTED]&scope=x"},
		{"query", "GET https://api/x?access_token=ya29&page=2 200", "GET https://api/x?access_token=[REDACTED]&page=2 200"},
		{"console key=value", "DBG http token=abc123 status=200", "DBG http token=[REDACTED] status=200"},
		{"password field", "password=hunter22", "password=[REDACTED]"},
		{"not a token field", `{"token_type":"bearer","tokens":3}`, `{"token_type":"bearer","tokens":3}`},
		{"mytoken is not token", "mytoken=visible", "mytoken=visible"},
		{"URL userinfo", "dial https://bob:hunter22@bitbucket.org/x", "dial https://bob:[REDACTED]@bitbucket.org/x"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("%s:\n in   %q\n got  %q\n want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

var percent = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerPercent(s string) string { return percent.ReplaceAllStringFunc(s, strings.ToLower) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Secrets whose characters need escaping are caught in every encoding.
func TestEncodedForms(t *testing.T) {
	t.Parallel()
	secrets := []string{"p@ss w0rd/&=?", `quo"te\back<>&`, "ünïcødé-sécret", "trailing-newline\n"}
	r := New(secrets...)
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		for _, enc := range []string{s, url.QueryEscape(s), url.PathEscape(s), lowerPercent(url.QueryEscape(s)), jsonString(s)} {
			if got := r.String("x " + enc + " y"); strings.Contains(got, strings.Trim(enc, `"`)) || !strings.Contains(got, Mask) {
				t.Errorf("secret %q as %q: got %q", s, enc, got)
			}
		}
	}
}

// A secret that contains another is masked whole, not in pieces.
func TestLongestSecretFirst(t *testing.T) {
	t.Parallel()
	r := New("abcd", "xxabcdxx")
	if got := r.String("[xxabcdxx]"); got != "["+Mask+"]" {
		t.Errorf("got %q", got)
	}
}

func TestZeroValueMasksFields(t *testing.T) {
	t.Parallel()
	var r Redactor
	if got := r.String("Authorization: Bearer x1"); got != "Authorization: Bearer [REDACTED]" {
		t.Errorf("got %q", got)
	}
}

func TestWriter(t *testing.T) {
	t.Parallel()
	r := New(snykToken)
	var buf bytes.Buffer
	w := r.Writer(&buf)
	line := []byte(`{"level":"debug","url":"https://api.snyk.io/v1/org?t=` + snykToken + `"}` + "\n")
	n, err := w.Write(line)
	if err != nil || n != len(line) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(line))
	}
	if want := `{"level":"debug","url":"https://api.snyk.io/v1/org?t=[REDACTED]"}` + "\n"; buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
}

// Tokens learned at run time are masked from the next Write on, while other
// goroutines keep writing.
func TestConcurrentAddAndWrite(t *testing.T) {
	t.Parallel()
	r := New()
	var mu sync.Mutex
	var out bytes.Buffer
	w := r.Writer(lockedWriter{&mu, &out})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				tok := fmt.Sprintf("runtime-token-%d-%d", i, j)
				r.Add(tok)
				fmt.Fprintf(w, "got %s\n", tok)
			}
		})
	}
	wg.Wait()
	if strings.Contains(out.String(), "runtime-token") {
		t.Errorf("a learned token leaked: %q", firstLine(out.String(), "runtime-token"))
	}
	if got := strings.Count(out.String(), "got "+Mask+"\n"); got != 8*200 {
		t.Errorf("%d masked lines, want %d", got, 8*200)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func firstLine(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

func BenchmarkString(b *testing.B) {
	r := New(clientSecret, snykToken, "another-secret-value", "bitbucket-app-password")
	lines := map[string]string{
		"plain": `{"level":"info","time":"2025-03-01T12:00:00Z","workspace":"acme","repos":120,"message":"listed repositories"}`,
		"debug": `{"level":"debug","api":"bitbucket","method":"GET","url":"https://api.bitbucket.org/2.0/repositories/acme?pagelen=100&fields=next,values.slug","status":200,"duration":123.4,"attempt":1,"message":"http"}`,
		"token": `{"level":"debug","body":"{\"access_token\":\"ya29.a0Af\",\"scopes\":\"repository\",\"expires_in\":7200}","message":"http"}`,
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				r.String(line)
			}
		})
	}
}

func TestRedactMoreFieldForms(t *testing.T) {
	r := New()
	for _, in := range []string{
		`password="hunter22"`,
		`{"accessToken":"abcdef123"}`,
		`body="{\"access_token\":\"ab\\/cd-abcdef123\"}"`,
	} {
		got := r.String(in)
		if strings.Contains(got, "hunter22") || strings.Contains(got, "abcdef123") || strings.Contains(got, `\/cd`) {
			t.Errorf("String(%s) = %s: secret left", in, got)
		}
	}
	if got := r.String(`token_type: bearer, tokens: 3`); got != `token_type: bearer, tokens: 3` {
		t.Errorf("look-alike keys masked: %s", got)
	}
}
