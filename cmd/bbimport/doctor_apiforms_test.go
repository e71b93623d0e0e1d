package main

import (
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestDoctor_impliedScopes: a token's scopes list only what was ticked, and
// project and pullrequest imply repository: no warning on a correct
// consumer, in the simulator's default (real) form or a real consumer's.
func TestDoctor_impliedScopes(t *testing.T) {
	t.Parallel()
	for _, scopes := range []string{"", "pipeline runner pullrequest team project account issue snippet", "account pullrequest"} {
		t.Run("scopes="+scopes, func(t *testing.T) {
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Scopes: scopes}})
			r := e.MustRun(0, "doctor", "--groupId="+sim.SimSnykGroupID)
			if w := doctorLines(r.Stdout, "⚠"); len(w) > 0 {
				t.Errorf("unexpected warnings: %q", w)
			}
			want := scopes
			if want == "" {
				want = sim.DefaultBitbucketScopes
			}
			wantContains(t, checkLine(t, r.Stdout, "✓", "Bitbucket token"), "scopes granted: "+want)
			checkLine(t, r.Stdout, "✓", "repositories")
		})
	}
}

// TestDoctor_snykAPIForms: SNYK_API as a bare host (the Snyk CLI's
// convention) is completed to the v1 base with one line saying so; a base
// that is not a v1 API is blamed, not --groupId.
func TestDoctor_snykAPIForms(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("SNYK_API", e.Sim.URL+"/")
	r := e.MustRun(0, "doctor", "--groupId="+sim.SimSnykGroupID)
	wantContains(t, checkLine(t, r.Stdout, "✓", "Snyk token"), "accepted by "+e.Sim.URL+"/v1")
	if n := strings.Count(r.Stderr, "is not a v1 API base; using "+e.Sim.URL+"/v1/ (REST: "+e.Sim.URL+"/rest/)"); n != 1 {
		t.Errorf("%d lines saying which SNYK_API was used, want 1:\n%s", n, r.Stderr)
	}

	e.Set("SNYK_API", e.Sim.URL+"/snyk")
	r = e.Run("doctor", "--groupId="+sim.SimSnykGroupID)
	t.Logf("doctor output:\n%s", r.Stdout)
	line := checkLine(t, r.Stdout, "✗", "Snyk group "+sim.SimSnykGroupID)
	wantContains(t, line, "SNYK_API does not point at a v1 API", "set SNYK_API to your region's API")
	if strings.Contains(line, "--groupId") {
		t.Errorf("doctor blames --groupId for a wrong SNYK_API:\n%s", line)
	}
}
