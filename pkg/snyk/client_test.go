package snyk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/google/go-cmp/cmp"
)

const (
	// baseURLPath puts the v1 API under a prefix so that a request built from
	// an absolute path ("/org/…") misses it and fails the test.
	baseURLPath = "/api/v1"
	testToken   = "snyk-test-token-7d1f0c"
)

// setup starts a test server and returns a client pointed at it and the mux
// to register handlers on: v1 paths without the prefix ("GET /org/{id}/…"),
// REST paths with theirs ("GET /rest/orgs/{id}/projects").
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, mux))
	api.Handle("/rest/", mux)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to %s, outside %s/ and /rest/: the client used an absolute path", r.URL.Path, baseURLPath)
		http.Error(w, "outside the API prefix", http.StatusBadRequest)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	all := append([]Option{
		WithBaseURL(srv.URL + baseURLPath + "/"),
		WithHTTPClient(apitest.Sender{Cred: testCredential(t), HC: srv.Client()}),
		WithRedact(redact.New(testToken).String),
	}, opts...)
	c, err := NewClient(all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux, srv
}

// testCredential is the API token testToken, as the stack attaches it.
func testCredential(t *testing.T) *credential.Credential {
	t.Helper()
	c, err := credential.Token(credential.SnykAPIToken, "token", testToken)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("request method = %s; want %s", r.Method, want)
	}
}

func testHeader(t *testing.T, r *http.Request, header, want string) {
	t.Helper()
	if got := r.Header.Get(header); got != want {
		t.Errorf("header %s = %q; want %q", header, got, want)
	}
}

func testFormValues(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	if diff := cmp.Diff(want, r.URL.Query()); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// testJSONBody compares the request body with want as JSON values.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// fixture reads fixtures/snyk/<name>.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "snyk", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func TestNewClient_defaults(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BaseURL().String(), "https://api.snyk.io/v1/"; got != want {
		t.Errorf("BaseURL() = %s; want %s", got, want)
	}
	if got, want := c.restURL.String(), "https://api.snyk.io/rest/"; got != want {
		t.Errorf("REST base = %s; want %s", got, want)
	}
	if c.restVersion != DefaultRESTVersion || c.userAgent != DefaultUserAgent {
		t.Errorf("restVersion, userAgent = %q, %q; want %q, %q", c.restVersion, c.userAgent, DefaultRESTVersion, DefaultUserAgent)
	}
	if c.httpClient == nil || c.httpClient == http.DefaultClient {
		t.Errorf("httpClient = %v; want a client of its own", c.httpClient)
	}
}

func TestNewClient_options(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []Option
		wantErr  string // substring; "" means success
		wantBase string
		wantREST string
	}{
		{name: "defaults", opts: nil, wantBase: "https://api.snyk.io/v1/", wantREST: "https://api.snyk.io/rest/"},
		{name: "SNYK_API without slash", opts: []Option{WithBaseURL("https://api.snyk.io/v1")}, wantBase: "https://api.snyk.io/v1/", wantREST: "https://api.snyk.io/rest/"},
		{name: "EU region", opts: []Option{WithBaseURL("https://api.eu.snyk.io/v1/")}, wantBase: "https://api.eu.snyk.io/v1/", wantREST: "https://api.eu.snyk.io/rest/"},
		{name: "AU region with port", opts: []Option{WithBaseURL("https://api.au.snyk.io:443/v1")}, wantBase: "https://api.au.snyk.io:443/v1/", wantREST: "https://api.au.snyk.io:443/rest/"},
		{name: "loopback http", opts: []Option{WithBaseURL("http://127.0.0.1:8080/api/v1")}, wantBase: "http://127.0.0.1:8080/api/v1/", wantREST: "http://127.0.0.1:8080/rest/"},
		{name: "localhost http", opts: []Option{WithBaseURL("http://localhost:9/v1/")}, wantBase: "http://localhost:9/v1/", wantREST: "http://localhost:9/rest/"},
		{name: "REST override", opts: []Option{WithRESTBaseURL("https://rest.example.com/snyk/rest")}, wantBase: "https://api.snyk.io/v1/", wantREST: "https://rest.example.com/snyk/rest/"},
		{name: "plain http elsewhere", opts: []Option{WithBaseURL("http://api.snyk.io/v1")}, wantErr: "plain http"},
		{name: "relative base", opts: []Option{WithBaseURL("api.snyk.io/v1")}, wantErr: "absolute https URL"},
		{name: "other scheme", opts: []Option{WithBaseURL("ftp://api.snyk.io/v1")}, wantErr: "absolute https URL"},
		{name: "credentials in URL", opts: []Option{WithBaseURL("https://u:p@api.snyk.io/v1")}, wantErr: "must not contain credentials"},
		{name: "nil http client", opts: []Option{WithHTTPClient(nil)}, wantErr: "nil client"},
		{name: "bad REST version", opts: []Option{WithRESTVersion("latest")}, wantErr: "YYYY-MM-DD"},
		{name: "unknown REST stability", opts: []Option{WithRESTVersion("2024-10-15~gamma")}, wantErr: "YYYY-MM-DD"},
		{name: "GOV", opts: []Option{WithBaseURL("https://api.snykgov.io")}, wantBase: "https://api.snykgov.io/v1/", wantREST: "https://api.snykgov.io/rest/"},
		{name: "US-02", opts: []Option{WithBaseURL("https://api.us.snyk.io")}, wantBase: "https://api.us.snyk.io/v1/", wantREST: "https://api.us.snyk.io/rest/"},
		{name: "beta REST version", opts: []Option{WithRESTVersion("2024-10-15~beta")}, wantBase: "https://api.snyk.io/v1/", wantREST: "https://api.snyk.io/rest/"},
		{name: "empty user agent", opts: []Option{WithUserAgent("")}, wantErr: "empty user agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewClient() error = %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient() error = %v", err)
			}
			if got := c.BaseURL().String(); got != tt.wantBase {
				t.Errorf("BaseURL() = %s; want %s", got, tt.wantBase)
			}
			if got := c.restURL.String(); got != tt.wantREST {
				t.Errorf("REST base = %s; want %s", got, tt.wantREST)
			}
		})
	}
}

func TestWithHTTPClient_copies(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	c, err := NewClient(WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if c.httpClient.(*http.Client) == hc {
		t.Error("the client kept the caller's *http.Client instead of a copy")
	}
}

func TestClient_requestHeaders(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithUserAgent("bbimport/1.2.3"))
	mux.HandleFunc("GET /org/{orgId}/integrations", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "token "+testToken)
		testHeader(t, r, "User-Agent", "bbimport/1.2.3")
		testHeader(t, r, "Content-Type", "") // no body, no content type
		writeJSON(w, http.StatusOK, []byte(`{}`))
	})
	mux.HandleFunc("PUT /org/{orgId}/notification-settings", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "token "+testToken)
		testHeader(t, r, "Content-Type", "application/json")
		writeJSON(w, http.StatusOK, []byte(`{}`))
	})
	if _, err := c.ListIntegrations(t.Context(), "o1"); err != nil {
		t.Fatal(err)
	}
	if err := c.DisableNotifications(t.Context(), "o1"); err != nil {
		t.Fatal(err)
	}
}

func TestClient_pathSegmentsEscaped(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var gotPath, gotID string
	mux.HandleFunc("GET /org/{orgId}/integrations", func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotID = r.URL.EscapedPath(), r.PathValue("orgId")
		writeJSON(w, http.StatusOK, []byte(`{}`))
	})
	if _, err := c.ListIntegrations(t.Context(), "a/b c?d"); err != nil {
		t.Fatal(err)
	}
	if want := "/org/a%2Fb%20c%3Fd/integrations"; gotPath != want {
		t.Errorf("escaped path = %s; want %s", gotPath, want)
	}
	if want := "a/b c?d"; gotID != want {
		t.Errorf("org id seen by the server = %q; want %q", gotID, want)
	}
}

// TestClient_tokenNeverInErrors has the server echo the Authorization header
// back in every kind of error: no error text may contain the token.
func TestClient_tokenNeverInErrors(t *testing.T) {
	t.Parallel()
	statuses := []int{400, 401, 403, 404, 409, 422, 429, 500, 503}
	for _, status := range statuses {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				body, _ := json.Marshal(map[string]any{"code": status, "message": "bad header " + r.Header.Get("Authorization"), "error": r.Header.Get("Authorization")})
				writeJSON(w, status, body)
			})
			_, err := c.ImportTarget(t.Context(), "org-1", "int-1", ImportRequest{Target: json.RawMessage(`{"owner":"w","name":"r"}`)})
			if err == nil {
				t.Fatal("ImportTarget() succeeded; want an error")
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error contains the token: %v", err)
			}
			if status == 401 && !IsAuthError(err) {
				t.Errorf("IsAuthError(%v) = false; want true", err)
			}
		})
	}
}

type failingTransport struct{ msg string }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New(f.msg)
}

func TestClient_transportErrorScrubbed(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Transport: failingTransport{msg: "proxy said: Authorization: token " + testToken + " refused"}}
	c, err := NewClient(WithRedact(redact.New(testToken).String), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListIntegrations(t.Context(), "o1")
	if err == nil {
		t.Fatal("ListIntegrations() succeeded; want an error")
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error contains the token: %v", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("errors.As(%v, *url.Error) = false; want the cause kept", err)
	}
}

func TestClient_contextCanceled(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /org/{orgId}/integrations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{}`))
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.ListIntegrations(ctx, "o1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ListIntegrations(canceled ctx) error = %v; want context.Canceled", err)
	}
}

func TestClient_emptyIDsRefused(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
	})
	ctx := t.Context()
	checks := map[string]error{
		"ListIntegrations":     func() error { _, err := c.ListIntegrations(ctx, ""); return err }(),
		"DisableNotifications": c.DisableNotifications(ctx, " "),
		"ImportTarget org": func() error {
			_, err := c.ImportTarget(ctx, "", "i", ImportRequest{Target: json.RawMessage(`{}`)})
			return err
		}(),
		"ImportTarget int": func() error {
			_, err := c.ImportTarget(ctx, "o", "", ImportRequest{Target: json.RawMessage(`{}`)})
			return err
		}(),
		"ImportTarget target": func() error { _, err := c.ImportTarget(ctx, "o", "i", ImportRequest{}); return err }(),
		"CreateOrg":           func() error { _, err := c.CreateOrg(ctx, CreateOrgRequest{GroupID: "g"}); return err }(),
		"ListGroupOrgs":       func() error { _, err := c.ListGroupOrgs(ctx, "", 1, 100); return err }(),
		"GetImportJob":        func() error { _, err := c.GetImportJob(ctx, ""); return err }(),
	}
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s with an empty id succeeded; want an error", name)
		}
	}
}
