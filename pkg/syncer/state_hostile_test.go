package syncer_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/syncer"
)

// An org whose state file cannot be read (it is read before the org is
// admitted, to size it): the org fails on it alone, before any change, with
// its state and plan left as they were, while the other orgs are synced.
// A deleted repository of it stays active: without its evidence nothing is
// proven.
func TestHostileStateFile(t *testing.T) {
	t.Parallel()
	for name, plant := range map[string]func(path string) error{
		"not JSON":        func(p string) error { return os.WriteFile(p, []byte("{"), 0o600) },
		"a later version": func(p string) error { return os.WriteFile(p, []byte(`{"version": 3}`), 0o600) },
		"duplicate key": func(p string) error {
			return os.WriteFile(p, []byte(`{"version":2,"orgId":"org-alpha","repositories":{},"orgId":"x"}`), 0o600)
		},
		"link to /dev/zero": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newSimSync(t)
			e.first()
			gone := e.s.CurrentRepositories("alpha")[0].Slug
			if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "alpha", Delete: []string{gone}}); err != nil {
				t.Fatal(err)
			}
			statePath := syncer.StatePath(e.dir, "org-alpha")
			if err := os.Remove(statePath); err != nil {
				t.Fatal(err)
			}
			if err := plant(statePath); err != nil {
				t.Skip(err)
			}
			stateBefore, _ := os.Readlink(statePath)
			if stateBefore == "" {
				stateBefore = string(mustRead(t, statePath))
			}
			planPath := filepath.Join(e.dir, "org-alpha"+syncer.PlanFileSuffix)
			planBefore := mustRead(t, planPath)

			res, _ := e.syncBesideBeta(nil) // beta's deletion is the run's only removal
			o := e.org(res, "alpha")
			var se *syncer.StateError
			if !errors.As(o.Err, &se) || !o.Failed() {
				t.Fatalf("alpha: err %v, want its state error", o.Err)
			}
			stateAfter, _ := os.Readlink(statePath)
			if stateAfter == "" {
				stateAfter = string(mustRead(t, statePath))
			}
			if stateAfter != stateBefore {
				t.Error("alpha's unreadable state was replaced")
			}
			if !bytes.Equal(mustRead(t, planPath), planBefore) {
				t.Error("alpha's plan was rewritten although it was not synced")
			}
			for _, ws := range []string{"gamma", "tiny"} {
				if o := e.org(res, ws); o.Failed() {
					t.Errorf("%s: %+v", ws, o)
				}
			}
			for _, p := range e.s.SnykProjects("org-alpha") {
				if p.Status != "active" {
					t.Errorf("alpha's %s is %s", p.Name, p.Status)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
