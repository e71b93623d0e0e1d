package main

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestImportData_QueuedRequestsOutliveShortTokens: the case on the
// whole stack (limiter, retries, OAuth transport): 2 s Bitbucket tokens, a
// server handling one request at a time (150 ms each; 8 workers queue
// about 1.2 s), 16 workspaces: import:data lists every repository and
// exits 0, although the server refused tokens that expired in its queue.
func TestImportData_QueuedRequestsOutliveShortTokens(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	const workspaces, repos = 16, 150
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{
		Workspaces: sim.Estate(workspaces, repos), WorkspaceAccessNames: true,
		TokenTTL: 2 * time.Second, SerialHandling: 150 * time.Millisecond,
	}})
	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	refusedBefore := e.Sim.Count("bitbucket.401")
	e.MustRun(0, "import:data", "--source=bitbucket-cloud-app", "--concurrency=8", "--skipEmptyRepos=false",
		"--orgsData="+e.File("snyk-created-orgs.json"))

	b, err := os.ReadFile(e.File("bitbucket-cloud-app-import-targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Targets []json.RawMessage }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Targets) != workspaces*repos {
		t.Errorf("%d targets; want %d", len(file.Targets), workspaces*repos)
	}
	refused := e.Sim.Count("bitbucket.401") - refusedBefore
	if refused == 0 {
		t.Errorf("the simulator refused no expired token during import:data; the queue did not outlast a token")
	}
	t.Logf("import:data: %d tokens refused as expired in the queue and retried, %d token exchanges in all",
		refused, e.Sim.Count("bitbucket.token_exchanges"))
}
