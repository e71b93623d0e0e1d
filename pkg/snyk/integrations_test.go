package snyk

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClient_ListIntegrations(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /org/{orgId}/integrations", func(w http.ResponseWriter, r *http.Request) {
		if got := r.PathValue("orgId"); got != "689ce7f9-7943-4a71-b704-2ba575f01089" {
			t.Errorf("org id = %q", got)
		}
		writeJSON(w, http.StatusOK, fixture(t, "integrations.json"))
	})
	got, err := c.ListIntegrations(t.Context(), "689ce7f9-7943-4a71-b704-2ba575f01089")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"bitbucket-cloud-app": "9a3e5d90-b782-468a-a042-9a2073736f0b",
		"bitbucket-cloud":     "c4de3f2a-65f5-4f3e-8a0b-7f5b6d3e2c11",
		"github":              "1f1a9c0e-3b5d-4a77-9d2e-6a0c8b7e5f42",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListIntegrations mismatch (-want +got):\n%s", diff)
	}
}

func TestClient_ListIntegrations_notFound(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /org/{orgId}/integrations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, []byte(`{"code":404,"message":"Org not found"}`))
	})
	_, err := c.ListIntegrations(t.Context(), "missing-org")
	if !IsNotFound(err) {
		t.Fatalf("IsNotFound(%v) = false; want true", err)
	}
	if want := `Snyk found no org "missing-org" (404)`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestClient_DisableNotifications(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	want := bytes.TrimSpace(fixture(t, "notification-settings-off.json"))
	called := false
	mux.HandleFunc("PUT /org/{orgId}/notification-settings", func(w http.ResponseWriter, r *http.Request) {
		called = true
		testHeader(t, r, "Content-Type", "application/json")
		got, _ := io.ReadAll(r.Body)
		// Byte for byte the original's body, key order included.
		if !bytes.Equal(got, want) {
			t.Errorf("body = %s\nwant %s", got, want)
		}
		writeJSON(w, http.StatusOK, got)
	})
	if err := c.DisableNotifications(t.Context(), "org-1"); err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Error("PUT notification-settings was not called")
	}
}
