package bitbucket

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// baseURLPath is a non-empty prefix for the test server, so a request built
// from an absolute path instead of one relative to the base URL fails loudly.
const baseURLPath = "/api-2.0"

// setup starts a test server and returns a client pointed at it, the mux to
// register handlers on (paths relative to the base URL, e.g.
// "/user/workspaces"), and the base URL without trailing slash.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base URL path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base URL", http.StatusBadRequest)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)

	base := srv.URL + baseURLPath
	c, err := NewClient(append([]Option{WithBaseURL(base + "/")}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux, base
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Method; got != want {
		t.Errorf("request method = %s; want %s", got, want)
	}
}

func testHeader(t *testing.T, r *http.Request, header, want string) {
	t.Helper()
	if got := r.Header.Get(header); got != want {
		t.Errorf("header %s = %q; want %q", header, got, want)
	}
}

// testFormValues checks the query string of r exactly.
func testFormValues(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	if diff := cmp.Diff(want, r.URL.Query()); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// fixture reads fixtures/bitbucket/name, replacing the real API root in links
// with base so `next` points at the test server.
func fixture(t *testing.T, name, base string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "bitbucket", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	if base != "" {
		b = []byte(strings.ReplaceAll(string(b), "https://api.bitbucket.org/2.0", base))
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []Option
		want    string
		wantErr string
	}{
		{name: "default", want: "https://api.bitbucket.org/2.0/"},
		{name: "trailing slash added", opts: []Option{WithBaseURL("https://bb.example.com/api/2.0")}, want: "https://bb.example.com/api/2.0/"},
		{name: "loopback http allowed", opts: []Option{WithBaseURL("http://127.0.0.1:8080/2.0/")}, want: "http://127.0.0.1:8080/2.0/"},
		{name: "localhost http allowed", opts: []Option{WithBaseURL("http://localhost:8080/2.0")}, want: "http://localhost:8080/2.0/"},
		{name: "ipv6 loopback http allowed", opts: []Option{WithBaseURL("http://[::1]:8080/2.0")}, want: "http://[::1]:8080/2.0/"},
		{
			name:    "plain http refused",
			opts:    []Option{WithBaseURL("http://api.bitbucket.org/2.0")},
			wantErr: `bitbucket: the base URL: "http://api.bitbucket.org/2.0" uses plain http; use https (plain http is accepted only for loopback hosts such as 127.0.0.1 or localhost)`,
		},
		{name: "credentials in URL refused", opts: []Option{WithBaseURL("https://me:hunter2@api.bitbucket.org/2.0")}, wantErr: "bitbucket: the base URL: the URL must not contain credentials; use the variables for them"},
		{name: "no host", opts: []Option{WithBaseURL("/2.0")}, wantErr: `bitbucket: the base URL: "/2.0" is not an absolute https URL such as https://api.example.com/v1`},
		{name: "other scheme", opts: []Option{WithBaseURL("ftp://api.bitbucket.org/2.0")}, wantErr: `bitbucket: the base URL: "ftp://api.bitbucket.org/2.0" is not an absolute https URL such as https://api.example.com/v1`},
		{name: "query refused", opts: []Option{WithBaseURL("https://api.bitbucket.org/2.0?x=1")}, wantErr: `bitbucket: the base URL: the URL has a query or fragment; give it without them`},
		{name: "nil http client", opts: []Option{WithHTTPClient(nil)}, wantErr: "bitbucket: WithHTTPClient: nil client"},
		{name: "empty user agent", opts: []Option{WithUserAgent(" ")}, wantErr: "bitbucket: WithUserAgent: empty user agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.opts...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("NewClient() error = %v; want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient() error = %v", err)
			}
			if got := c.BaseURL().String(); got != tt.want {
				t.Errorf("BaseURL() = %q; want %q", got, tt.want)
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
	if c.client.(*http.Client) == hc {
		t.Error("WithHTTPClient kept the caller's *http.Client; want a copy")
	}
}

func TestClient_headers(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithUserAgent("bbimport/test"))
	mux.HandleFunc("/user/workspaces", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodGet)
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "User-Agent", "bbimport/test")
		writeJSON(w, 200, []byte(`{"values":[]}`))
	})
	if _, _, err := c.ListWorkspaces(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
}

func TestSanitizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://api.bitbucket.org/2.0/user/workspaces?pagelen=100", "https://api.bitbucket.org/2.0/user/workspaces?pagelen=100"},
		{"https://api.bitbucket.org/2.0/repositories/acme?access_token=s3cret&page=2", "https://api.bitbucket.org/2.0/repositories/acme?access_token=[REDACTED]&page=2"},
		{"https://u:p4ss@api.bitbucket.org/2.0/x#frag", "https://api.bitbucket.org/2.0/x"},
		{"https://api.bitbucket.org/2.0/repositories/%7Babc%7D?fields=next,values.slug&pagelen=100&q=is_private%3Dtrue", "https://api.bitbucket.org/2.0/repositories/%7Babc%7D?pagelen=100&q=is_private%3Dtrue"},
		{"https://api.bitbucket.org/2.0/x?client_secret=abc", "https://api.bitbucket.org/2.0/x?client_secret=[REDACTED]"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := sanitizeURL(u); got != tt.want {
			t.Errorf("sanitizeURL(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
