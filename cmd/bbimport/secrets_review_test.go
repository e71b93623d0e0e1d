package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
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

// Bitbucket and Snyk behind one gateway host (/bb/… and /snyk/…): a
// Bitbucket next-page link into /snyk/ carried the Bitbucket token to Snyk,
// and a Snyk links.next into /bb/ the Snyk token to Bitbucket: one origin,
// two APIs. Each credential stays under its API's base path.
func TestSecrets_sharedGatewayKeepsEachCredentialToItsAPI(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	var gw *httptest.Server
	var mu sync.Mutex
	var wrong []string
	gw = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		forward := func(prefix string) {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = strings.TrimPrefix(r.URL.Path, prefix), ""
			e.Sim.ServeHTTP(w, r2)
		}
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/bb/"):
			if strings.HasPrefix(auth, "token ") {
				mu.Lock()
				wrong = append(wrong, "the Snyk token went to "+p)
				mu.Unlock()
			}
			if p == "/bb/2.0/user/workspaces" {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"pagelen": 1, "values": []any{map[string]any{"slug": "acme-platform", "name": "Acme", "uuid": "{00000000-0000-4000-8000-0000000000aa}"}}, "next": gw.URL + "/snyk/v1/2.0/user/workspaces?page=2"})
				return
			}
			forward("/bb")
		case strings.HasPrefix(p, "/snyk/"):
			if strings.HasPrefix(auth, "Bearer ") {
				mu.Lock()
				wrong = append(wrong, "the Bitbucket token went to "+p)
				mu.Unlock()
			}
			if strings.Contains(p, "/rest/") {
				w.Header().Set("Content-Type", "application/vnd.api+json")
				_ = json.NewEncoder(w).Encode(map[string]any{"data": []any{}, "links": map[string]any{"next": gw.URL + "/bb/2.0/repositories/acme?version=2024-10-15"}})
				return
			}
			forward("/snyk")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(gw.Close)
	// Orgs with projects to list first, straight at the simulator.
	g := sim.SimSnykGroupID
	e.MustRun(exitOK, "orgs:data", "--groupId="+g)
	e.MustRun(exitOK, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	e.Set("BITBUCKET_APP_API_BASE", gw.URL+"/bb/2.0")
	e.Set("BITBUCKET_APP_TOKEN_URL", gw.URL+"/bb/site/oauth2/access_token")
	e.Set("SNYK_API", gw.URL+"/snyk/v1")
	r1 := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID)
	r2 := e.Run("list:imported", "--groupId="+sim.SimSnykGroupID)
	if r1.Code == exitOK || r2.Code == exitOK {
		t.Errorf("a link into the other API was followed without complaint: exits %d, %d", r1.Code, r2.Code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(wrong) > 0 {
		t.Errorf("credentials went to the other API behind the gateway:\n%s\n%s\n%s", strings.Join(wrong, "\n"), lastLines(r1.Stderr, 3), lastLines(r2.Stderr, 3))
	}
}

// A token endpoint redirecting (307, which keeps the method, the form and
// the Basic header) to another path of its host, behind which another API
// may be served: the client secret is not sent there.
func TestSecrets_tokenEndpointRedirectStaysPut(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	var mu sync.Mutex
	var got []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/bb/site/oauth2/access_token":
			http.Redirect(w, r, "/snyk/oauth2/token", http.StatusTemporaryRedirect)
		case r.URL.Path == "/snyk/oauth2/token":
			_ = r.ParseForm()
			mu.Lock()
			got = append(got, r.Header.Get("Authorization")+" "+r.Form.Encode())
			mu.Unlock()
			http.Error(w, "nope", http.StatusBadRequest)
		case r.URL.Path == "/snyk/oauth2/token-sa":
			http.Redirect(w, r, "/bb/site/oauth2/access_token-x", http.StatusTemporaryRedirect)
		case strings.HasPrefix(r.URL.Path, "/bb/site/oauth2/access_token-x"):
			_ = r.ParseForm()
			mu.Lock()
			got = append(got, r.Header.Get("Authorization")+" "+r.Form.Encode())
			mu.Unlock()
			http.Error(w, "nope", http.StatusBadRequest)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(gw.Close)
	e.Set("BITBUCKET_APP_TOKEN_URL", gw.URL+"/bb/site/oauth2/access_token")
	r1 := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID)
	e.Set("SNYK_TOKEN", "")
	e.Set("SNYK_CLIENT_ID", "sa-id")
	e.Set("SNYK_CLIENT_SECRET", leakSnykClientSecret)
	e.Set("SNYK_OAUTH_TOKEN_URL", gw.URL+"/snyk/oauth2/token-sa")
	r2 := e.Run("list:imported", "--groupId="+sim.SimSnykGroupID)
	if r1.Code == exitOK || r2.Code == exitOK {
		t.Errorf("exits %d, %d: want failures", r1.Code, r2.Code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) > 0 {
		t.Errorf("a token endpoint's redirect took the client secret elsewhere:\n%s", strings.Join(got, "\n"))
	}
	assertNoSecrets(t, e, []result{r1, r2})
}

// Server text is cut to fit a line (an OAuth error_description and a
// Bitbucket message at 300 characters, a debug body at 4 KiB, a summary
// cause at 160): a cut through an echoed secret left its head, which no
// redactor knows, in the output. Cuts now fall between tokens.
func TestSecrets_cutThroughAnEchoedSecret(t *testing.T) {
	t.Parallel()
	head := func(s string) string { return s[:9] } // "cs-LEAK-8", "st-LEAK-5"
	for _, pad := range []int{285, 290, 295, 4040, 4052, 4058} {
		t.Run(fmt.Sprint(pad), func(t *testing.T) {
			e := leakEnv(t)
			e.Set("DEBUG", "*")
			echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if strings.Contains(r.URL.Path, "oauth2") {
					w.WriteHeader(http.StatusUnauthorized)
					_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": words("x", pad) + leakClientSecret + " more"})
					return
				}
				w.WriteHeader(http.StatusForbidden)
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "token ")
				_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "code": 403,
					"message": words("y", pad) + tok + " more", "error": map[string]string{"message": words("y", pad) + tok + " more"}})
			}))
			t.Cleanup(echo.Close)
			e.Set("BITBUCKET_APP_TOKEN_URL", echo.URL+"/site/oauth2/access_token")
			r1 := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID)
			r2 := e.Run("doctor", "--groupId="+sim.SimSnykGroupID)
			e.Set("SNYK_API", echo.URL+"/v1")
			r3 := e.Run("list:imported", "--groupId="+sim.SimSnykGroupID)
			text := e.allOutput(r1) + e.allOutput(r2) + e.allOutput(r3)
			if !strings.Contains(text, "xxx xxx") || !strings.Contains(text, "yyy yyy") {
				t.Fatalf("the padded messages reached no output:\n%s", lastLines(text, 20))
			}
			for _, s := range []string{head(leakClientSecret), head(leakSnykToken)} {
				if i := strings.Index(text, s); i >= 0 {
					t.Errorf("the head of a secret (%q) leaked:\n…%s…", s, text[max(0, i-80):min(len(text), i+40)])
				}
			}
		})
	}
}

// words is n bytes of three-letter words of c, each followed by a space.
func words(c string, n int) string {
	return strings.Repeat(strings.Repeat(c, 3)+" ", n/4) + strings.Repeat(c, n%4)
}

// A Snyk (or a gateway) that puts the token in the import job's Location
// (a query parameter, user info): the resume log wrote the Location as it
// came, the only line of the log directory that was not scrubbed.
func TestSecrets_tokenInTheJobLocation(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	targets := e.Pipeline()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/import") {
			rec := httptest.NewRecorder()
			e.Sim.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			if loc := rec.Header().Get("Location"); loc != "" {
				u, _ := url.Parse(loc)
				q := u.Query()
				q.Set("token", leakSnykToken)
				u.RawQuery = q.Encode()
				w.Header().Set("Location", u.String())
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		e.Sim.ServeHTTP(w, r)
	}))
	t.Cleanup(gw.Close)
	e.Set("SNYK_API", gw.URL+"/v1")
	r := e.Run("import", "--file="+targets)
	if r.Code != exitOK && r.Code != exitPartial {
		t.Fatalf("import: exit %d\n%s", r.Code, lastLines(r.Stderr, 10))
	}
	assertNoSecrets(t, e, []result{r})
}

// A consumer's key and secret pasted into each other's variables: doctor
// names the consumer by its key, which is then the secret; it shows only
// the key's first characters, so neither value is printed whole.
func TestSecrets_swappedClientIDAndSecret(t *testing.T) {
	t.Parallel()
	e := leakEnv(t)
	key := e.Env["BITBUCKET_APP_CLIENT_ID"]
	e.Set("BITBUCKET_APP_CLIENT_ID", leakClientSecret)
	e.Set("BITBUCKET_APP_CLIENT_SECRET", key)
	r := e.Run("doctor")
	out := e.allOutput(r)
	if !strings.Contains(out, "OAuth consumer "+leakClientSecret[:4]+"…") {
		t.Fatalf("doctor does not name the consumer by its first characters (exit %d):\n%s", r.Code, lastLines(out, 20))
	}
	assertNoSecrets(t, e, []result{r}, key)
}
