package importer

import "github.com/bbimport/bbimport/pkg/importfiles"

// The rows of the original's files that the stages' options and results
// carry. They are defined, read and written in pkg/importfiles; the names
// here let the stages and their callers speak of them as before.
type (
	OrgRow          = importfiles.OrgRow
	CreatedOrg      = importfiles.CreatedOrg
	TargetEntry     = importfiles.TargetEntry
	BitbucketTarget = importfiles.BitbucketTarget
	Target          = importfiles.Target
	ImportTarget    = importfiles.ImportTarget
	ResumeLog       = importfiles.ResumeLog
)
