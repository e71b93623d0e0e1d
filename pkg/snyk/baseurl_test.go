package snyk

import "testing"

// TestNormalizeBaseURL: the SNYK_API forms users copy all reach the v1
// base, with the REST base beside it, and a note only when something was
// changed.
func TestNormalizeBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, wantBase, wantREST string
		wantNote                bool
	}{
		{"https://api.snyk.io/v1", "https://api.snyk.io/v1/", "https://api.snyk.io/rest/", false},
		{"https://api.snyk.io/v1/", "https://api.snyk.io/v1/", "https://api.snyk.io/rest/", false},
		{" https://api.eu.snyk.io/v1// ", "https://api.eu.snyk.io/v1/", "https://api.eu.snyk.io/rest/", false},
		{"https://api.eu.snyk.io", "https://api.eu.snyk.io/v1/", "https://api.eu.snyk.io/rest/", true},
		{"https://api.eu.snyk.io/", "https://api.eu.snyk.io/v1/", "https://api.eu.snyk.io/rest/", true},
		{"https://api.au.snyk.io/api/v1", "https://api.au.snyk.io/v1/", "https://api.au.snyk.io/rest/", true},
		{"https://api.us.snyk.io/rest", "https://api.us.snyk.io/v1/", "https://api.us.snyk.io/rest/", true},
		{"https://snyk.io/api/v1", "https://api.snyk.io/v1/", "https://api.snyk.io/rest/", true},
		{"https://app.eu.snyk.io/api/v1/", "https://api.eu.snyk.io/v1/", "https://api.eu.snyk.io/rest/", true},
		{"https://API.EU.SNYK.IO", "https://API.EU.SNYK.IO/v1/", "https://API.EU.SNYK.IO/rest/", true},
		// Other hosts: only a bare host is completed; prefixes are kept.
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/rest/", true},
		{"http://127.0.0.1:8080/api/v1", "http://127.0.0.1:8080/api/v1/", "http://127.0.0.1:8080/rest/", false},
		{"https://proxy.example.com/snyk/v1", "https://proxy.example.com/snyk/v1/", "https://proxy.example.com/snyk/rest/", false},
	}
	for _, tt := range tests {
		base, note := NormalizeBaseURL(tt.raw)
		if base != tt.wantBase || (note != "") != tt.wantNote {
			t.Errorf("NormalizeBaseURL(%q) = %q, note %q; want %q, note=%v", tt.raw, base, note, tt.wantBase, tt.wantNote)
		}
		c, err := NewClient(WithBaseURL(tt.raw))
		if err != nil {
			t.Errorf("%q: %v", tt.raw, err)
			continue
		}
		if c.BaseURL().String() != tt.wantBase || c.restURL.String() != tt.wantREST {
			t.Errorf("%q: client bases %s, %s; want %s, %s", tt.raw, c.BaseURL(), c.restURL, tt.wantBase, tt.wantREST)
		}
	}
	// Not URLs: left for WithBaseURL to refuse with its own message.
	for _, raw := range []string{"", "api.snyk.io/v1", "ftp://api.snyk.io/v1"} {
		if base, note := NormalizeBaseURL(raw); base != raw || note != "" {
			t.Errorf("NormalizeBaseURL(%q) = %q, %q; want it unchanged", raw, base, note)
		}
	}
}
