package main

import (
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// binding is what a command's bind function reads: its command line, the
// environment, the global options, and the factory whose settings it checks
// now and whose clients its run builds later.
type binding struct {
	c *cli.Context
	g globalOptions
	// logPath is the stage's log directory (g.LogPath, required and made).
	logPath string
	env     func(string) string
	tuning  tuning
	clients *factory
	// io is the run function's streams and clock, with the stage summary.
	io *commandIO
	// lock: the stage writes in the log directory, so it takes its lock.
	// A bind function clears it for a run that only reads (dry runs).
	lock bool
}

// readOnly marks a dry run: no lock, and (summary false) no summary file.
func (b *binding) readOnly(summary bool) {
	b.lock = false
	b.io.Stage.dryRun = !summary
}

// getenv is a variable of the run, trimmed.
func (b *binding) getenv(name string) string { return trimmedEnv(b.env, name) }

// bitbucket checks the Bitbucket settings for source now and returns the
// constructor the run calls: the router over the run's credentials, with
// only as its selection of workspaces (orgs:data's --workspace).
func (b *binding) bitbucket(source string, only []string) (func() (*bitbucketRouter, error), error) {
	s, err := b.clients.bitbucketSettings(source, b.c.String("sourceUrl"))
	if err != nil {
		return nil, err
	}
	return func() (*bitbucketRouter, error) { return b.clients.newRouter(s, only) }, nil
}

// snyk checks the Snyk settings now and returns the constructor the run
// calls.
func (b *binding) snyk() (func() (*snykClient, error), error) {
	s, err := b.clients.snykSettings()
	if err != nil {
		return nil, err
	}
	return func() (*snykClient, error) { return b.clients.newSnyk(s) }, nil
}

// optionalSnyk is snyk for a command that uses Snyk only when a Snyk
// credential is set: nil without one.
func (b *binding) optionalSnyk() (func() (*snykClient, error), error) {
	if set, err := snykCredentialSet(b.env); err != nil || !set {
		return nil, err
	}
	return b.snyk()
}

// intSetting is a whole-number flag, else its variable, else def.
func (b *binding) intSetting(flag, envName string, def int) (int, error) {
	return intSetting(flag, flagValue(b.c, flag), envName, b.env, def)
}

// inputPath resolves an input file named by from in the current directory,
// else the log directory.
func (b *binding) inputPath(from, v string) (string, error) {
	return inputPath(from, v, b.g.LogPath, b.g.LogPathFrom)
}

// workspaceFlags gathers --workspace values and --workspacesFile lines.
func (b *binding) workspaceFlags() ([]string, error) {
	c := b.c
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" && !seen[part] {
				seen[part] = true
				out = append(out, part)
			}
		}
	}
	for _, w := range c.StringSlice("workspace") {
		add(w)
	}
	if f := strings.TrimSpace(c.String("workspacesFile")); f != "" {
		f, err := b.inputPath("--workspacesFile", f)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, usagef("--workspacesFile: cannot read %s: %v", f, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				add(line)
			}
		}
		if len(out) == 0 {
			return nil, usagef("--workspacesFile %s names no workspace: put one slug per line", f)
		}
	}
	return out, nil
}

// pollInterval reads --pollInterval (import and sync): the shortest wait
// between polls of a job.
func (b *binding) pollInterval() time.Duration {
	d := b.c.Duration("pollInterval")
	if !b.c.IsSet("pollInterval") && b.tuning.PollInitial > 0 {
		d = b.tuning.PollInitial
	}
	return d
}
