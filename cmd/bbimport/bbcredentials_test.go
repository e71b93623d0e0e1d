package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/google/go-cmp/cmp"
)

// The secrets of the list tests: none may appear in an error.
const (
	listKey    = "consumer-key-acme"
	listSecret = "consumer-secret-acme-0123456789abcdef"
	listToken  = "ATCTT3xFfGN0-access-token-labs"
	listAPITok = "ATATT3xFfGF0-api-token-admin"
)

var listEnv = map[string]string{
	"BB_ACME_KEY": listKey, "BB_ACME_SECRET": listSecret, "BB_LABS_TOKEN": listToken,
	"BB_ADMIN_EMAIL": "admin@example.com", "BB_ADMIN_TOKEN": listAPITok,
}

func TestParseCredentialList(t *testing.T) {
	t.Parallel()
	const tokenURL = "https://bitbucket.org/site/oauth2/access_token"
	full := `# name  kind          variables                              optional
acme    consumer      id=BB_ACME_KEY secret=BB_ACME_SECRET   workspaces=acme,acme-two
labs    access-token  token=BB_LABS_TOKEN                    workspaces=acme-labs limit=5000
admin   api-token     email=BB_ADMIN_EMAIL token=BB_ADMIN_TOKEN`
	want := []credentialSpec{
		{kind: credential.BitbucketConsumer, name: "acme", vars: []string{"BB_ACME_KEY", "BB_ACME_SECRET"}, workspaces: []string{"acme", "acme-two"},
			clientID: listKey, clientSecret: listSecret, tokenURL: tokenURL, tokenURLFrom: "default"},
		{kind: credential.BitbucketAccessToken, name: "labs", vars: []string{"BB_LABS_TOKEN"}, workspaces: []string{"acme-labs"}, limit: 5000,
			scheme: "Bearer", secret: listToken},
		{kind: credential.BitbucketAPIToken, name: "admin", vars: []string{"BB_ADMIN_EMAIL", "BB_ADMIN_TOKEN"},
			scheme: "Basic", user: "admin@example.com", secret: listAPITok},
	}
	got, err := parseCredentialList(full, envBitbucketCredentials, mapEnv(listEnv), tokenURL, "default")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(credentialSpec{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The same list on one line, as a variable without line breaks holds it.
	oneLine := strings.ReplaceAll(strings.SplitN(full, "\n", 2)[1], "\n", " ; ")
	if got, err := parseCredentialList(oneLine, envBitbucketCredentials, mapEnv(listEnv), tokenURL, "default"); err != nil || len(got) != 3 {
		t.Errorf("';'-separated: %d credentials, %v", len(got), err)
	}

	bad := []struct{ name, list, want string }{
		{"empty", "# nothing\n", "BITBUCKET_CREDENTIALS names no credential"},
		{"no kind", "acme", "want `<name> <kind> <key>=<VARIABLE>…`"},
		{"unknown kind", "acme oauth id=BB_ACME_KEY", `the kind "oauth" is not one: consumer, access-token or api-token`},
		{"app password", "me app-password user=X pass=Y", "app passwords were removed on 2026-07-28; use an api-token"},
		{"a secret pasted as a value", "acme consumer id=BB_ACME_KEY secret=" + listSecret, "secret= must name an environment variable"},
		{"a secret pasted alone", "labs access-token " + listToken, "a field is not key=value"},
		{"lower-case name is no variable", "labs access-token token=bb_labs_token", "token= must name an environment variable"},
		{"unset variable", "labs access-token token=BB_NOPE", "token= names the variable BB_NOPE, which is not set"},
		{"missing key", "acme consumer id=BB_ACME_KEY", "secret= is missing: consumer takes id=<VARIABLE> secret=<VARIABLE>"},
		{"unknown key", "labs access-token token=BB_LABS_TOKEN scope=x", "scope= is not a field of the kind access-token"},
		{"key twice", "labs access-token token=BB_LABS_TOKEN token=BB_LABS_TOKEN", "token= is given twice"},
		{"no e-mail", "admin api-token email=BB_ADMIN_TOKEN token=BB_ADMIN_TOKEN", "email= names the variable BB_ADMIN_TOKEN, which holds no e-mail address"},
		{"bad limit", "labs access-token token=BB_LABS_TOKEN limit=lots", `limit="lots" is not a whole number`},
		{"bad slug", "labs access-token token=BB_LABS_TOKEN workspaces=acme/labs", `"acme/labs" is not one`},
		{"name twice", "a access-token token=BB_LABS_TOKEN\nA consumer id=BB_ACME_KEY secret=BB_ACME_SECRET", `the name "A" is also used at BITBUCKET_CREDENTIALS line 1`},
		{"same credential twice", "a access-token token=BB_LABS_TOKEN\nb access-token token=BB_LABS_TOKEN", `credential "b" is the same credential as "a"`},
		{"workspace given twice", "a access-token token=BB_LABS_TOKEN workspaces=x\nb consumer id=BB_ACME_KEY secret=BB_ACME_SECRET workspaces=X", `workspace "X" is given to both "a" and "b"`},
	}
	for _, tt := range bad {
		_, err := parseCredentialList(tt.list, envBitbucketCredentials, mapEnv(listEnv), tokenURL, "default")
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCodeOf(err) != exitUsage {
			t.Errorf("%s: %v; want exit 2 with %q", tt.name, err, tt.want)
			continue
		}
		for _, secret := range []string{listKey, listSecret, listToken, listAPITok} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error shows a secret: %v", tt.name, err)
			}
		}
	}
}

// The list comes from the variable or from a file of references; both set
// is a usage error, neither is the original's single credential.
func TestBitbucketCredentialListSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "bb-credentials.txt")
	if err := os.WriteFile(file, []byte("labs access-token token=BB_LABS_TOKEN workspaces=acme-labs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resolve := func(from, v string) (string, error) { return inputPath(from, v, dir, "SNYK_LOG_PATH") }
	env := func(extra map[string]string) func(string) string {
		m := map[string]string{}
		for k, v := range listEnv {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return mapEnv(m)
	}
	specs, listed, err := bitbucketCredentialList(env(map[string]string{envBitbucketCredentialsFile: "bb-credentials.txt"}), resolve, "u", "default")
	if err != nil || !listed || len(specs) != 1 || specs[0].name != "labs" || !strings.Contains(specs[0].secret, "labs") {
		t.Errorf("file in the log directory: %v %v %+v", listed, err, specs)
	}
	if _, listed, err := bitbucketCredentialList(env(nil), resolve, "u", "default"); listed || err != nil {
		t.Errorf("neither set: listed %v, %v", listed, err)
	}
	_, _, err = bitbucketCredentialList(env(map[string]string{envBitbucketCredentialsFile: file, envBitbucketCredentials: "x access-token token=BB_LABS_TOKEN"}), resolve, "u", "default")
	if err == nil || exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("both set: %v", err)
	}
	_, _, err = bitbucketCredentialList(env(map[string]string{envBitbucketCredentialsFile: "nope.txt"}), resolve, "u", "default")
	if err == nil || exitCodeOf(err) != exitUsage {
		t.Errorf("missing file: %v", err)
	}
}
