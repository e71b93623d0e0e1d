package main

import (
	"runtime/debug"
)

var readBuildInfo = debug.ReadBuildInfo

// versionInfo is the version --version prints and the User-Agent carries:
// the one stamped by make (the git tag), else the module version Go records
// for `go install github.com/bbimport/bbimport/cmd/bbimport@v1.2.3`, else the
// commit of a build from a checkout, else stamped as is ("dev").
func versionInfo(stamped string, read func() (*debug.BuildInfo, bool)) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	bi, ok := read()
	if !ok || bi == nil {
		return stamped
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return stamped
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "dev-" + rev
	if modified == "true" {
		v += "-dirty"
	}
	return v
}
