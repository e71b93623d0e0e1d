package main

import (
	"os"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// Rejected Bitbucket credentials on import:data are an authentication
// failure (exit 4), not a partial run, and the previous targets file stays.
func TestImportDataAllOrgsFailKeepsFile(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	targets := e.Pipeline()
	before, err := os.ReadFile(targets)
	if err != nil {
		t.Fatal(err)
	}
	e.Set("BITBUCKET_APP_CLIENT_SECRET", "not-the-secret")
	r := e.MustRun(exitAuth, "import:data", "--source=bitbucket-cloud-app", "--orgsData="+e.File("snyk-created-orgs.json"))
	wantContains(t, r.Stderr, "BITBUCKET_APP_CLIENT_SECRET", "was not written")
	after, err := os.ReadFile(targets)
	if err != nil || string(after) != string(before) {
		t.Errorf("the targets file changed after a run that could list nothing (err %v)", err)
	}
}
