package importer

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func orgsRows(n int) string {
	var rows []string
	for i := range n {
		rows = append(rows, fmt.Sprintf(`{"name":"org-%02d","groupId":"g"}`, i))
	}
	return `{"orgs":[` + strings.Join(rows, ",") + `]}`
}

func TestOrgsCreateUnwritableLogDirCreatesNothing(t *testing.T) {
	t.Parallel()
	s := newStagesSnyk()
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "orgs.json", orgsRows(3))
	opts := orgsCreateOpts(s, file, dir)
	opts.openFile = readOnlyOpen
	_, err := OrgsCreate(t.Context(), opts)
	if err == nil || !strings.Contains(err.Error(), "the log directory "+dir+" cannot be written, so no org was created") {
		t.Errorf("error = %v", err)
	}
	if len(s.creates) != 0 {
		t.Errorf("%d orgs created; want 0", len(s.creates))
	}
}

// With the created-orgs log cut by a size limit, every org created is in
// it, creation stops at the first failed write, and the re-run creates
// each of the others once.
func TestOrgsCreateFullDiskRecordsEveryCreatedOrg(t *testing.T) {
	t.Parallel()
	const rows = 12
	for _, limit := range []int64{0, 1200, 1500, 2000} {
		s := newStagesSnyk()
		dir := t.TempDir()
		file := writeStagesFile(t, dir, "orgs.json", orgsRows(rows))
		opts := orgsCreateOpts(s, file, dir)
		opts.AllowDuplicateNames = true // a name already in the group would hide a lost record
		opts.openFile = sizeCapOpen(limit)
		res, err := OrgsCreate(t.Context(), opts)
		if err == nil || !strings.Contains(err.Error(), "stopped creating orgs after a log in "+dir+" could not be written") ||
			!strings.Contains(err.Error(), "file too large") {
			t.Fatalf("limit %d: error = %v", limit, err)
		}
		created := len(s.creates)
		lines := impReadLog(t, filepath.Join(dir, "g.created-orgs.log"))
		if len(lines) != created {
			t.Errorf("limit %d: %d orgs created, %d recorded; want all recorded", limit, created, len(lines))
		}
		if res.Count(OrgCreated) != created || res.Count(OrgNotAttempted) != rows-created {
			t.Errorf("limit %d: created %d, not attempted %d; want %d, %d", limit, res.Count(OrgCreated), res.Count(OrgNotAttempted), created, rows-created)
		}

		opts.openFile, opts.AllowDuplicateNames = nil, false
		if _, err := OrgsCreate(t.Context(), opts); err != nil {
			t.Fatalf("limit %d: re-run: %v", limit, err)
		}
		count := map[string]int{}
		for _, c := range s.creates {
			count[c.Name]++
		}
		if len(count) != rows {
			t.Errorf("limit %d: %d orgs over both runs; want %d", limit, len(count), rows)
		}
		for n, c := range count {
			if c != 1 {
				t.Errorf("limit %d: %s created %d times", limit, n, c)
			}
		}
		t.Logf("limit %d: %d created before the stop", limit, created)
	}
}
