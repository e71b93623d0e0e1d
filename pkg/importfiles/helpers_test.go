package importfiles

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bbimport/bbimport/internal/filetest"
)

// assertGolden compares got with a golden file (-update rewrites it).
var assertGolden = filetest.Golden

// assertNoTempFiles fails if dir holds a temp file left by an atomic write.
var assertNoTempFiles = filetest.NoTempFiles

// compatPath is a file of the original's, shared with cmd/bbimport's tests.
func compatPath(name string) string { return filepath.Join("..", "..", "fixtures", "compat", name) }

// readFile reads a file or fails the test.
var readFile = filetest.Read

// writeImpFile writes body into dir/name and returns its path.
var writeImpFile = filetest.Write

// impTargetsJSON is a targets file of the given rows.
func impTargetsJSON(rows ...string) string {
	return `{"targets":[` + strings.Join(rows, ",\n") + "]}\n"
}

// impRow is a Bitbucket Cloud target row.
func impRow(org, integ, owner, name, branch string) string {
	return fmt.Sprintf(`{"orgId":%q,"integrationId":%q,"target":{"owner":%q,"name":%q,"branch":%q}}`, org, integ, owner, name, branch)
}
