package bitbucket

import (
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func serveWorkspaces(t *testing.T, mux *http.ServeMux, base string) *atomic.Int64 {
	t.Helper()
	var requests atomic.Int64
	mux.HandleFunc("GET /user/workspaces", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Query().Get("page") {
		case "":
			testFormValues(t, r, url.Values{"pagelen": {"100"}})
			writeJSON(w, 200, fixture(t, "user-workspaces.page1.json", base))
		case "2":
			writeJSON(w, 200, fixture(t, "user-workspaces.page2.json", base))
		default:
			t.Errorf("unexpected page %q", r.URL.RawQuery)
		}
	})
	mux.HandleFunc("/workspaces", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("called the removed GET /2.0/workspaces")
		writeJSON(w, http.StatusGone, fixture(t, "error-410-change-2770.json", ""))
	})
	return &requests
}

var wantWorkspaces = []Workspace{
	{Slug: "acme-corp", Name: "ACME Corporation", UUID: "{3f1c1a52-7e2b-4a8e-9d4c-1b2a3c4d5e6f}"},
	{Slug: "acme-labs", Name: "ACME Labs (R&D)", UUID: "{9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d}"},
	{Slug: "jdoe", Name: "Jane Doe", UUID: "{0b1c2d3e-4f50-4617-a829-3a4b5c6d7e8f}"},
}

func TestClient_ListWorkspaces(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	requests := serveWorkspaces(t, mux, base)
	got, err := collect(t, c.ListWorkspacesIter(t.Context()))
	if err != nil {
		t.Fatalf("ListWorkspacesIter: %v", err)
	}
	if diff := cmp.Diff(wantWorkspaces, got); diff != "" {
		t.Errorf("ListWorkspacesIter mismatch (-want +got):\n%s", diff)
	}
	if requests.Load() != 2 {
		t.Errorf("requests = %d; want 2", requests.Load())
	}
}

func TestClient_ListWorkspacesPage(t *testing.T) {
	t.Parallel()
	c, mux, base := setup(t)
	serveWorkspaces(t, mux, base)
	first, resp, err := c.ListWorkspaces(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := base + "/user/workspaces?page=2&pagelen=2"; resp.NextURL != want {
		t.Errorf("NextURL = %q; want %q", resp.NextURL, want)
	}
	second, resp, err := c.ListWorkspaces(t.Context(), resp.NextURL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.NextURL != "" {
		t.Errorf("NextURL on the last page = %q; want empty", resp.NextURL)
	}
	if diff := cmp.Diff(wantWorkspaces, append(first, second...)); diff != "" {
		t.Errorf("pages mismatch (-want +got):\n%s", diff)
	}
}

func TestClient_ListWorkspaces_skipsItemsWithoutWorkspace(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /user/workspaces", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []byte(`{"values":[{"type":"workspace_access"},{"workspace":{"slug":"a","name":"A","uuid":"{1}"}}]}`))
	})
	got, err := collect(t, c.ListWorkspacesIter(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Workspace{{Slug: "a", Name: "A", UUID: "{1}"}}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestClient_ListWorkspacesPage_foreignNext(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t)
	for _, next := range []string{"https://evil.example/2.0/user/workspaces?page=2", "user/workspaces?page=2"} {
		if _, _, err := c.ListWorkspaces(t.Context(), next); err == nil {
			t.Errorf("ListWorkspaces(%q) error = nil; want a refusal", next)
		}
	}
}
