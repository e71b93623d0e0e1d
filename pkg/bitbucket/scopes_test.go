package bitbucket

import (
	"strings"
	"testing"
)

func TestScopeGranted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		granted, scope string
		want           bool
	}{
		{"account repository project", "repository", true},
		{"project account", "repository", true},
		{"pipeline runner pullrequest team project account issue snippet", "repository", true},
		{"pipeline runner pullrequest team project account issue snippet", "account", true},
		{"pullrequest", "repository", true},
		{"pullrequest:write", "repository", true},
		{"repository:write", "repository", true},
		{"account:write", "account", true},
		{"read:repository:bitbucket", "repository", true},
		{"repository:admin", "repository", false},
		{"project:admin", "repository", false},
		{"project:admin", "project", false},
		{"account project:admin", "repository", false},
		{"write:repository:bitbucket", "repository", false},
		{"issue snippet", "repository", false},
		{"repository", "account", false},
		{"", "account", false},
	}
	for _, tt := range tests {
		if got := ScopeGranted(strings.Fields(tt.granted), tt.scope); got != tt.want {
			t.Errorf("ScopeGranted(%q, %q) = %v, want %v", tt.granted, tt.scope, got, tt.want)
		}
	}
}
