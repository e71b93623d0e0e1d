package importer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// A planted imported-targets.log -> elsewhere (a poisoned CI cache) got lines
// appended outside the log directory. Every log bbimport appends to refuses
// a link, before anything is sent.
func TestLogsRefuseSymlinks(t *testing.T) {
	t.Parallel()
	plant := func(t *testing.T, dir, name string) string {
		t.Helper()
		elsewhere := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(elsewhere, []byte("precious\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(elsewhere, filepath.Join(dir, name)); err != nil {
			t.Skipf("symlinks: %v", err)
		}
		return elsewhere
	}
	untouched := func(t *testing.T, victim string) {
		t.Helper()
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Errorf("the link's target was written: %q", b)
		}
	}

	t.Run("import resume log", func(t *testing.T) {
		t.Parallel()
		e := newImpEnv(t, impRows(3)...)
		victim := plant(t, e.logPath, importfiles.ImportedTargetsLog)
		_, err := Import(t.Context(), e.opts())
		var se *safefile.Error
		if !errors.As(err, &se) || se.Kind != safefile.Symlink || !strings.Contains(err.Error(), "imported-targets.log is a symbolic link") || !strings.Contains(err.Error(), "nothing was sent") {
			t.Errorf("error = %v; want a symbolic link refused saying nothing was sent", err)
		}
		if n := e.fake.importCalls(); n != 0 {
			t.Errorf("%d imports sent; want 0", n)
		}
		untouched(t, victim)
	})
	t.Run("import per-org log", func(t *testing.T) {
		t.Parallel()
		e := newImpEnv(t, impRows(2)...)
		victim := plant(t, e.logPath, "org1"+importfiles.ImportJobsLogSuffix)
		_, err := Import(t.Context(), e.opts())
		if err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
			t.Errorf("error = %v; want the link named", err)
		}
		untouched(t, victim)
	})
	t.Run("orgs:create log", func(t *testing.T) {
		t.Parallel()
		s := newStagesSnyk()
		dir := t.TempDir()
		file := writeStagesFile(t, dir, "orgs.json", orgsRows(2))
		victim := plant(t, dir, "g.created-orgs.log")
		_, err := OrgsCreate(t.Context(), orgsCreateOpts(s, file, dir))
		if err == nil || !strings.Contains(err.Error(), "g.created-orgs.log is a symbolic link") {
			t.Errorf("error = %v; want the link named", err)
		}
		if len(s.creates) != 0 {
			t.Errorf("%d orgs created; want 0 (the record could not be kept)", len(s.creates))
		}
		untouched(t, victim)
	})
	t.Run("generated file is replaced, not written through", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		victim := plant(t, dir, ImportSummaryFile)
		if err := writeImportSummary(dir, &ImportResult{}); err != nil {
			t.Fatal(err)
		}
		untouched(t, victim)
		if st, err := os.Lstat(filepath.Join(dir, ImportSummaryFile)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("summary: %v, %v; want a regular file in place of the link", st, err)
		}
	})
}
