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
func findInputsInLogPath(c *cli.Context, env func(string) string) {
	dir, dirFrom, err := logPathSetting(c.String("logPath"), env)
	if err != nil {
		return
	}
	for _, name := range inputFlags {
		if lookupFlag(c.Command.Flags, name) == nil || !c.IsSet(name) {
			continue
		}
		v := strings.TrimSpace(c.String(name))
		if p, err := inputPath("--"+name, v, dir, dirFrom); err == nil && p != v {
			_ = c.Set(name, p)
		}
	}
}

// inputPath resolves an input file named by from (a flag or a variable): as
// given if it exists (or is absolute, or cannot be checked: the reader says
// why), else in the log directory dir (named by dirFrom); when in neither,
// the error names both.
func inputPath(from, v, dir, dirFrom string) (string, error) {
	if v == "" {
		return v, nil
	}
	if _, err := os.Stat(v); !errors.Is(err, fs.ErrNotExist) || filepath.IsAbs(v) {
		return v, nil
	}
	if dir == "" {
		return v, nil // every command that reads inputs requires the log path first
	}
	p := filepath.Join(dir, v)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	cwd, _ := os.Getwd()
	return "", usagef("%s=%s: no such file in the current directory (%s) nor in the log directory %s=%s", from, v, cwd, dirFrom, dir)
}
