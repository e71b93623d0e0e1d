package syncer

import (
	"os"
	"slices"
	"testing"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// stateV1 is a state file as bbimport wrote it before issue 18: repositories
// by uuid (or by name when Bitbucket sent no uuid), no target links.
const stateV1 = `{
  "version": 1,
  "orgId": "org",
  "updated": "2026-11-30T02:00:00Z",
  "repositories": {
    "{GONE-UUID}": {"workspace": "ws", "slug": "gone", "branch": "main", "updatedOn": "2025-01-01T00:00:00Z"},
    "{old-uuid}": {"workspace": "ws", "slug": "old", "branch": "main", "updatedOn": "2025-01-01T00:00:00Z"},
    "{a-uuid}": {"workspace": "ws", "slug": "a", "branch": "main", "updatedOn": "2025-01-01T00:00:00Z"},
    "ws/nouuid": {"workspace": "ws", "slug": "nouuid", "branch": "main"}
  }
}
`

// A version 1 state still loads: its repositories by uuid keep counting as
// listed before (a deletion of one is proven), one keyed by name is
// dropped (no identity), and targets get their repository by name.
func TestStateVersion1Migrates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(StatePath(dir, "org"), []byte(stateV1), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(dir, "org")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range st.Repositories {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{uuidOf("a"), uuidOf("gone"), uuidOf("old")}; st.Version != stateVersion || !slices.Equal(keys, want) {
		t.Fatalf("migrated state: version %d, repositories %v; want %v", st.Version, keys, want)
	}

	renamed := bitbucket.Repository{Workspace: "ws", Slug: "new", UUID: uuidOf("old"), MainBranch: "main", UpdatedOn: t0}
	sn := &fakeSnyk{projects: []snyk.Project{proj("p1", "gone", "package.json", "main"), proj("p2", "old", "package.json", "main"),
		proj("p3", "a", "package.json", "main"), proj("p4", "nouuid", "package.json", "main")}}
	bb := &fakeBitbucket{repos: []bitbucket.Repository{repo("a", "main", t0), renamed}}
	o := runSync(t, sn, bb, dir, nil)
	slices.Sort(sn.writes)
	if want := []string{"deactivate:p1", "deactivate:p2", "import:ws/new"}; !slices.Equal(sn.writes, want) {
		t.Errorf("writes %v, want %v (p4's repository was never recorded by uuid: unmatched)", sn.writes, want)
	}
	if o.Planned[ActionUnmatched] != 1 {
		t.Errorf("planned %v, want ws/nouuid unmatched", o.Planned)
	}
	st, err = LoadState(dir, "org")
	if err != nil {
		t.Fatal(err)
	}
	if rs := st.Repositories[uuidOf("a")]; !slices.Equal(rs.Targets, []string{"t-a"}) {
		t.Errorf("a's target not recorded: %+v", rs)
	}
}

func TestStateRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{"not JSON": "{", "a later version": `{"version": 3}`} {
		dir := t.TempDir()
		if err := os.WriteFile(StatePath(dir, "org"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadState(dir, "org"); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
