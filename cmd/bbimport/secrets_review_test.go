package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// A Bitbucket that refuses to list a workspace's projects and echoes the
// credential it was sent in its message (gateways do): orgs:data falls back
// to the repositories and keeps the refusal as a warning, which went into
// orgs-data-summary.json unscrubbed, the minted access token with it.
func TestSecrets_warningInStageSummary(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/projects") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "error",
				"error": map[string]string{"message": "ECHO no projects for " + r.Header.Get("Authorization")}})
			return
		}
		e.Sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.Set("BITBUCKET_APP_API_BASE", srv.URL+"/2.0")
	e.Set("BITBUCKET_APP_TOKEN_URL", srv.URL+"/site/oauth2/access_token")
	r := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID, "--orgPer=project")
	if !strings.Contains(e.allOutput(r), "ECHO") {
		t.Fatalf("the refusal reached no output (exit %d):\n%s", r.Code, lastLines(r.Stderr, 20))
	}
	assertNoSecrets(t, e, []result{r})
}

// A list whose fields hold secrets where a kind, a name or a key belongs
// (the kind forgotten, an env file named as the list, a base64 token with
// its '=' padding pasted alone) is refused without repeating them, in any
// case: an error about the second field echoed it, and one about a key
// echoed a token's head, lower-cased (which no redactor knows).
func TestParseCredentialListNeverEchoesAValue(t *testing.T) {
	t.Parallel()
	const padded = "QVRDVFQzeEZmR04wLWxhYnMtdG9rZW4x="
	for _, tt := range []struct{ name, list, want, secret string }{
		{"a token in the kind's place", "labs " + listToken, "the kind (second field) is not one", listToken},
		{"an env file", "export BB_LABS_TOKEN=" + listToken, "the kind (second field) is not one", listToken},
		{"a secret in the name's place", listToken + "=x consumer", "the name (first field) is not one", listToken},
		{"a padded token pasted alone", "labs access-token token=BB_LABS_TOKEN " + padded, "a field is not one of", padded},
	} {
		_, err := parseCredentialList(tt.list, envBitbucketCredentials, mapEnv(listEnv), "https://bitbucket.org/site/oauth2/access_token", "default")
		if err == nil || exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want exit 2 with %q", tt.name, err, tt.want)
			continue
		}
		head := tt.secret[:12]
		for _, s := range []string{head, strings.ToLower(head), strings.ToUpper(head)} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error repeats the value (%q): %v", tt.name, s, err)
			}
		}
	}
}

// A list that names a Snyk credential's variable for a Bitbucket
// credential would send the Snyk token (or service account secret) to
// Bitbucket: refused before anything is sent, naming the variable.
func TestParseCredentialListRefusesSnykVariables(t *testing.T) {
	t.Parallel()
	env := mapEnv(map[string]string{"SNYK_TOKEN": "st-0123456789abcdef", "SNYK_CLIENT_ID": "sa-id", "SNYK_CLIENT_SECRET": "ss-0123456789abcdef",
		"SNYK_OAUTH_TOKEN": "so-0123456789abcdef", "BB_ADMIN_EMAIL": "admin@example.com"})
	for _, list := range []string{
		"labs access-token token=SNYK_TOKEN",
		"labs access-token token=SNYK_OAUTH_TOKEN",
		"acme consumer id=SNYK_CLIENT_ID secret=SNYK_CLIENT_SECRET",
		"admin api-token email=BB_ADMIN_EMAIL token=SNYK_TOKEN",
	} {
		_, err := parseCredentialList(list, envBitbucketCredentials, env, "https://bitbucket.org/site/oauth2/access_token", "default")
		if err == nil || exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "a Snyk credential") {
			t.Errorf("%s: %v; want exit 2 naming the Snyk variable", list, err)
		}
	}
}

// A secret holding a character the terminal escapes (a bidi override, a C1
// control) was escaped before it was redacted on the final line and in
// text log lines, so the redactor no longer knew it: the rest of it was
// printed.
func TestSecrets_escapedBeforeRedacted(t *testing.T) {
	t.Parallel()
	const token = "st-LEAK-\u202e-9c8b7a6f5e4d"
	e := leakEnv(t)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		auth := r.Header.Get("Authorization")
		_ = json.NewEncoder(w).Encode(map[string]any{"message": "ECHO " + strings.TrimPrefix(auth, "token "), "code": 401})
	}))
	t.Cleanup(echo.Close)
	e.Set("SNYK_TOKEN", token)
	e.Set("SNYK_API", echo.URL+"/v1")
	var out strings.Builder
	for _, args := range [][]string{
		{"list:imported", "--groupId=" + sim.SimSnykGroupID, "--logFormat=text"},
		{"list:imported", "--groupId=" + sim.SimSnykGroupID, "--logFormat=text", "--logLevel=debug"},
	} {
		r := e.Run(args...)
		out.WriteString(r.Stdout + r.Stderr)
	}
	text := out.String()
	if !strings.Contains(text, "ECHO") {
		t.Fatalf("the echo reached no output:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "9c8b7a6f5e4d") {
			t.Errorf("the secret leaked:\n%s", line)
		}
	}
}
