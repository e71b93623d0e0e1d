package importer

import (
	"github.com/bbimport/bbimport/internal/filetest"
)

// assertGolden compares got with a golden file (-update rewrites it).
var assertGolden = filetest.Golden

// assertNoTempFiles fails if dir holds a temp file left by an atomic write.
var assertNoTempFiles = filetest.NoTempFiles
