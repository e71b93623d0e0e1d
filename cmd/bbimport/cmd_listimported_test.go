package main

import (
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// A mistyped --integrationType is a usage error naming the close match.
func TestListImportedUnknownIntegrationTypeIsUsage(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	r := e.MustRun(exitUsage, "list:imported", "--groupId="+sim.SimSnykGroupID, "--integrationType=bitbucket-clod")
	wantContains(t, r.Stderr, "bitbucket-clod", "bitbucket-cloud")
}
