package httpx

import (
	"strings"
	"testing"
)

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		want    string // "" when refused
		wantErr string // part of the message
	}{
		{raw: "https://api.bitbucket.org/2.0", want: "https://api.bitbucket.org/2.0/"},
		{raw: "https://api.snyk.io/v1/", want: "https://api.snyk.io/v1/"},
		{raw: "https://api.eu.snyk.io", want: "https://api.eu.snyk.io/"},
		{raw: " https://api.snyk.io/v1 ", want: "https://api.snyk.io/v1/"},
		{raw: "HTTPS://API.SNYK.IO/v1", want: "https://API.SNYK.IO/v1/"},
		{raw: "http://127.0.0.1:8080/2.0", want: "http://127.0.0.1:8080/2.0/"},
		{raw: "http://127.1.2.3/", want: "http://127.1.2.3/"},
		{raw: "http://localhost:9000/v1", want: "http://localhost:9000/v1/"},
		{raw: "http://[::1]:9000/v1", want: "http://[::1]:9000/v1/"},
		{raw: "http://example.com/v1", wantErr: "plain http"},
		{raw: "http://10.0.0.1/v1", wantErr: "plain http"},
		{raw: "http://localhost.example.com/", wantErr: "plain http"},
		{raw: "ftp://example.com/", wantErr: "absolute https URL"},
		{raw: "api.snyk.io/v1", wantErr: "absolute https URL"},
		{raw: "https:///v1", wantErr: "absolute https URL"},
		{raw: "", wantErr: "absolute https URL"},
		{raw: "https://api.snyk.io/v1?version=1", wantErr: "query"},
		{raw: "::garbage::", wantErr: "not a valid URL"},
		{raw: "https://exa mple.com", wantErr: "not a valid URL"},
	}
	for _, tt := range tests {
		u, err := CheckBaseURL(tt.raw, "SNYK_API")
		switch {
		case tt.want != "" && (err != nil || u.String() != tt.want):
			t.Errorf("CheckBaseURL(%q) = %v, %v; want %s", tt.raw, u, err, tt.want)
		case tt.want == "" && err == nil:
			t.Errorf("CheckBaseURL(%q) = %v, want an error", tt.raw, u)
		case tt.want == "" && (!strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "SNYK_API: ")):
			t.Errorf("CheckBaseURL(%q) error %q, want it to name SNYK_API and say %q", tt.raw, err, tt.wantErr)
		}
	}
}
