package importfiles

import (
	"strings"
	"testing"
)

// Files saved by Windows editors start with a UTF-8 BOM; they were refused
// as "invalid character 'ï'".
func TestInputFilesWithBOM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const bom = "\xef\xbb\xbf"
	orgs := writeImpFile(t, dir, "orgs.json", bom+`{"orgs":[{"name":"ws","groupId":"g1"}]}`)
	rows, err := ReadOrgsDataFile(orgs)
	if err != nil || len(rows) != 1 || rows[0].Name != "ws" {
		t.Errorf("ReadOrgsDataFile: %+v, %v", rows, err)
	}
	created := writeImpFile(t, dir, "created.json", bom+`{"orgData":[{"orgId":"o1","name":"ws","groupId":"g1","integrations":{"bitbucket-cloud":"i1"}}]}`)
	if got, err := ReadCreatedOrgsFile(created); err != nil || len(got) != 1 {
		t.Errorf("ReadCreatedOrgsFile: %+v, %v", got, err)
	}
	targets := writeImpFile(t, dir, "targets.json", bom+`{"targets":[{"orgId":"o1","integrationId":"i1","target":{"owner":"ws","name":"r","branch":"main"}}]}`)
	n := 0
	for _, err := range ReadTargets(targets) {
		if err != nil {
			t.Fatalf("ReadTargets: %v", err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("ReadTargets: %d targets; want 1", n)
	}
	// Positions in errors stay those of the text after the BOM.
	bad := writeImpFile(t, dir, "bad.json", bom+"{\"targets\":[\n  {\"orgId\": }]}")
	for _, err := range ReadTargets(bad) {
		if err == nil || !strings.Contains(err.Error(), "bad.json:2:") {
			t.Errorf("ReadTargets(bad) error %v; want one at line 2", err)
		}
		break
	}
}
