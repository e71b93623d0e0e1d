package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// inputFlags name files bbimport reads. Each stage writes its output into
// the log directory and the next stage's hint names it, so a relative name
// (`--orgsData=snyk-created-orgs.json`) not found in the current directory
// is looked for there.
var inputFlags = []string{"file", "orgsData", "workspacesFile"}

// findInputsInLogPath points the input flags given as relative paths that
// exist only in the log directory at that copy, before the action runs, so
// every command (doctor too) reads the right file. A name found in neither
// place is left for the action to report (inputPath).
func (rt *invocation) findInputsInLogPath(c *cli.Context) {
	for _, name := range inputFlags {
		if lookupFlag(c.Command.Flags, name) == nil || !c.IsSet(name) {
			continue
		}
		v := strings.TrimSpace(c.String(name))
		if p, err := rt.inputPath(c, "--"+name, v); err == nil && p != v {
			_ = c.Set(name, p)
		}
	}
}

// inputPath resolves an input file named by from (a flag or a variable): as
// given if it exists (or is absolute, or cannot be checked: the reader says
// why), else in the log directory; when in neither, the error names both.
func (rt *invocation) inputPath(c *cli.Context, from, v string) (string, error) {
	if v == "" {
		return v, nil
	}
	if _, err := os.Stat(v); !errors.Is(err, fs.ErrNotExist) || filepath.IsAbs(v) {
		return v, nil
	}
	dir, dirFrom, err := rt.logPathSetting(c)
	if err != nil || dir == "" {
		return v, err // every command that reads inputs requires the log path first
	}
	p := filepath.Join(dir, v)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	cwd, _ := os.Getwd()
	return "", usagef("%s=%s: no such file in the current directory (%s) nor in the log directory %s=%s", from, v, cwd, dirFrom, dir)
}
