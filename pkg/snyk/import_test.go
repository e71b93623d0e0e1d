package snyk

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testOrgID = "689ce7f9-7943-4a71-b704-2ba575f01089"
	testIntID = "9a3e5d90-b782-468a-a042-9a2073736f0b"
	testJobID = "dce061f7-ce0f-4ccf-b49b-4335d1205bd9"
)

func testImportRequest() ImportRequest {
	globs := "fixtures, tests"
	return ImportRequest{
		Target:         json.RawMessage(`{"owner":"acme","name":"api","branch":"main"}`),
		Files:          []ImportFile{{Path: "package.json"}},
		ExclusionGlobs: &globs,
	}
}

func TestClient_ImportTarget(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	location := "https://api.snyk.io/v1/org/" + testOrgID + "/integrations/" + testIntID + "/import/" + testJobID
	mux.HandleFunc("POST /org/{orgId}/integrations/{integrationId}/import", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("orgId") != testOrgID || r.PathValue("integrationId") != testIntID {
			t.Errorf("path = %s", r.URL.Path)
		}
		testHeader(t, r, "Content-Type", "application/json")
		testHeader(t, r, "Authorization", "token "+testToken)
		testJSONBody(t, r, `{"target":{"owner":"acme","name":"api","branch":"main"},"files":[{"path":"package.json"}],"exclusionGlobs":"fixtures, tests"}`)
		w.Header().Set("Location", location)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{}`))
	})
	got, err := c.ImportTarget(t.Context(), testOrgID, testIntID, testImportRequest())
	if err != nil {
		t.Fatal(err)
	}
	if got != location {
		t.Errorf("ImportTarget() = %q; want %q", got, location)
	}
}

func TestClient_ImportTarget_minimalBody(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("POST /org/{orgId}/integrations/{integrationId}/import", func(w http.ResponseWriter, r *http.Request) {
		// No files, no exclusionGlobs keys: Snyk applies its defaults.
		testJSONBody(t, r, `{"target":{"owner":"acme","name":"api"}}`)
		w.Header().Set("Location", "/api/v1/org/o/integrations/i/import/j")
		w.WriteHeader(http.StatusCreated)
	})
	_, err := c.ImportTarget(t.Context(), testOrgID, testIntID, ImportRequest{Target: json.RawMessage(`{"owner":"acme","name":"api"}`)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClient_ImportTarget_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		location  string
		body      string
		wantIs    error
		wantCode  string
		wantParts []string
	}{
		{
			name:      "201 without Location",
			status:    http.StatusCreated,
			body:      `{}`,
			wantIs:    ErrNoLocation,
			wantParts: []string{"no Location header"},
		},
		{
			name:     "400 invalidParamData",
			status:   http.StatusBadRequest,
			body:     string(fixture(t, "error-invalid-param.json")),
			wantCode: "invalidParamData",
			wantParts: []string{
				"Snyk answered 400 Bad Request for org \"" + testOrgID + "\"",
				"Invalid parameter format. (invalidParamData)",
				"POST http://",
			},
		},
		{
			name:   "401 names the org",
			status: http.StatusUnauthorized,
			body:   string(fixture(t, "error-not-authorised.json")),
			wantParts: []string{
				"Snyk rejected the token (401) for org \"" + testOrgID + "\"",
				"Not authorised",
				"Snyk error reference ref-401",
			},
		},
		{
			name:      "403 asks for admin access",
			status:    http.StatusForbidden,
			body:      `{"code":403,"message":"You must be an admin to import"}`,
			wantParts: []string{"(403)", "refused the request (403) for org \"" + testOrgID + "\"", "You must be an admin"},
		},
		{
			name:      "404 names the integration",
			status:    http.StatusNotFound,
			body:      `{"code":404,"message":"Not found"}`,
			wantParts: []string{"no integration \"" + testIntID + "\" in org \"" + testOrgID + "\" (404)"},
		},
		{
			name:      "500 is reported, not hidden",
			status:    http.StatusInternalServerError,
			body:      `<html><body>oops</body></html>`,
			wantParts: []string{"Snyk answered 500 Internal Server Error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("POST /org/{orgId}/integrations/{integrationId}/import", func(w http.ResponseWriter, r *http.Request) {
				if tt.location != "" {
					w.Header().Set("Location", tt.location)
				}
				w.Header().Set("X-Error-Reference", "ref-"+strconv.Itoa(tt.status))
				writeJSON(w, tt.status, []byte(tt.body))
			})
			got, err := c.ImportTarget(t.Context(), testOrgID, testIntID, testImportRequest())
			if err == nil {
				t.Fatalf("ImportTarget() = %q, nil; want an error", got)
			}
			if got != "" {
				t.Errorf("ImportTarget() location = %q; want none on error", got)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if tt.wantCode != "" {
				var er *ErrorResponse
				if !errors.As(err, &er) || er.Code != tt.wantCode {
					t.Errorf("error = %#v; want an *ErrorResponse with Code %q", err, tt.wantCode)
				}
			}
			for _, part := range tt.wantParts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error contains the token: %v", err)
			}
		})
	}
}

func TestResolveLocation(t *testing.T) {
	t.Parallel()
	const job = "org/O/integrations/I/import/J"
	tests := []struct {
		name, base, location, want, wantErr string
	}{
		{name: "api.snyk.io /v1/ form, same host", base: "https://api.snyk.io/v1/", location: "https://api.snyk.io/v1/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "app.snyk.io /api/v1/ form", base: "https://api.snyk.io/v1/", location: "https://app.snyk.io/api/v1/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "legacy snyk.io /api/v1/", base: "https://api.snyk.io/v1/", location: "https://snyk.io/api/v1/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "another host is re-rooted", base: "https://api.snyk.io/v1/", location: "https://evil.example.com/v1/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "regional base, US location", base: "https://api.eu.snyk.io/v1/", location: "https://api.snyk.io/v1/" + job, want: "https://api.eu.snyk.io/v1/" + job},
		{name: "relative /api/v1/", base: "https://api.snyk.io/v1/", location: "/api/v1/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "relative /v1/", base: "https://api.snyk.io/v1/", location: "/v1/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "relative without version", base: "https://api.snyk.io/v1/", location: "/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "same host, plain http is not trusted", base: "https://api.snyk.io/v1/", location: "http://api.snyk.io/v1/" + job, want: "https://api.snyk.io/v1/" + job},
		{name: "same host is taken as is", base: "https://api.snyk.io/v1/", location: "https://API.snyk.io/v1/" + job + "?x=1", want: "https://API.snyk.io/v1/" + job + "?x=1"},
		{name: "prefixed base (simulator)", base: "http://127.0.0.1:8080/api/v1/", location: "https://api.snyk.io/v1/" + job, want: "http://127.0.0.1:8080/api/v1/" + job},
		{name: "prefixed base, same host", base: "http://127.0.0.1:8080/api/v1/", location: "http://127.0.0.1:8080/api/v1/" + job, want: "http://127.0.0.1:8080/api/v1/" + job},
		{name: "escaped segments kept", base: "https://api.snyk.io/v1/", location: "https://app.snyk.io/api/v1/org/a%2Fb/integrations/I/import/J", want: "https://api.snyk.io/v1/org/a%2Fb/integrations/I/import/J"},
		{name: "query kept", base: "https://api.snyk.io/v1/", location: "https://app.snyk.io/api/v1/" + job + "?x=1", want: "https://api.snyk.io/v1/" + job + "?x=1"},
		{name: "empty", base: "https://api.snyk.io/v1/", location: " ", wantErr: "no Location"},
		{name: "other host without /v1/", base: "https://api.snyk.io/v1/", location: "http://example.test/imports/123", wantErr: "no /v1/ path"},
		{name: "nothing after /v1/", base: "https://api.snyk.io/v1/", location: "https://app.snyk.io/api/v1/", wantErr: "names no job"},
		{name: "not a URL", base: "https://api.snyk.io/v1/", location: "https://app.snyk.io/%zz", wantErr: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, err := url.Parse(tt.base)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ResolveLocation(base, tt.location)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ResolveLocation(%s, %q) = %v, %v; want error containing %q", tt.base, tt.location, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveLocation(%s, %q) error = %v", tt.base, tt.location, err)
			}
			if got.String() != tt.want {
				t.Errorf("ResolveLocation(%s, %q) = %s; want %s", tt.base, tt.location, got, tt.want)
			}
		})
	}
}

func TestClient_GetImportJob(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	var polls int
	mux.HandleFunc("GET /org/{orgId}/integrations/{integrationId}/import/{jobId}", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "token "+testToken)
		if r.PathValue("jobId") != testJobID {
			t.Errorf("job id = %q; want %q", r.PathValue("jobId"), testJobID)
		}
		polls++
		if polls == 1 {
			writeJSON(w, http.StatusOK, fixture(t, "import-job-pending.json"))
			return
		}
		writeJSON(w, http.StatusOK, fixture(t, "import-job-complete.json"))
	})
	path := "org/" + testOrgID + "/integrations/" + testIntID + "/import/" + testJobID
	// The first Location is on the test server itself; the second is the
	// app.snyk.io form, which must be re-rooted onto the test server too.
	pending, err := c.GetImportJob(t.Context(), srv.URL+baseURLPath+"/"+path)
	if err != nil {
		t.Fatal(err)
	}
	if pending.Status != JobPending {
		t.Errorf("first poll status = %q; want %q", pending.Status, JobPending)
	}
	done, err := c.GetImportJob(t.Context(), "https://app.snyk.io/api/v1/"+path)
	if err != nil {
		t.Fatal(err)
	}
	want := &ImportJob{
		ID: testJobID, Status: JobComplete, Created: "2024-11-05T09:45:10.611Z",
		Logs: []ImportLog{{
			Name: "acme/api", Created: "2024-11-05T09:45:10.715Z", Status: "complete",
			Projects: []ImportedProject{
				{TargetFile: "package.json", Success: true, ProjectURL: "https://app.snyk.io/org/acme-platform/project/331ede0a-de94-456f-b788-166caeca58bf"},
				{TargetFile: "services/worker/requirements.txt", Success: false, UserMessage: "Could not parse requirements.txt: invalid requirement on line 12"},
			},
		}},
	}
	if diff := cmp.Diff(want, done); diff != "" {
		t.Errorf("GetImportJob mismatch (-want +got):\n%s", diff)
	}
}

func TestClient_GetImportJob_errors(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /org/{orgId}/integrations/{integrationId}/import/{jobId}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("jobId") {
		case "gone":
			writeJSON(w, http.StatusNotFound, []byte(`{"code":404,"message":"Import job not found"}`))
		case "nostatus":
			writeJSON(w, http.StatusOK, []byte(`{"id":"nostatus"}`))
		}
	})
	_, err := c.GetImportJob(t.Context(), "/api/v1/org/O/integrations/I/import/gone")
	if want := `Snyk found no import job "gone" for org "O" (404)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("GetImportJob(gone) error = %v; want one containing %q", err, want)
	}
	_, err = c.GetImportJob(t.Context(), "/api/v1/org/O/integrations/I/import/nostatus")
	if err == nil || !strings.Contains(err.Error(), "no status") {
		t.Errorf("GetImportJob(nostatus) error = %v; want a no-status error", err)
	}
}
