package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/urfave/cli/v2"
)

// globalOptions are the options every command takes (commonFlags), read
// from the flags and the environment before a command does anything: a
// mistake in them is a usage error before any file is touched.
type globalOptions struct {
	// LogPath is --logPath, else SNYK_LOG_PATH, ~ expanded ("" when
	// neither is set); LogPathFrom names which.
	LogPath, LogPathFrom string
	// StateDir holds the request ledgers (--stateDir, else
	// BBIMPORT_STATE_DIR, else the log directory, else the working
	// directory); StateDirFrom names which.
	StateDir, StateDirFrom string
	// RateLimitWait is how long a request refused with 429 is retried.
	RateLimitWait time.Duration
	// The rate-limit flags as given ("" when not): the variables behind
	// them are read only by the commands that talk to that API.
	BitbucketRateLimit, SnykRateLimit string
}

// bindGlobals reads the global options; tuned shortens --rateLimitWait's
// default in tests.
func bindGlobals(c *cli.Context, env func(string) string, tuned time.Duration) (globalOptions, error) {
	var g globalOptions
	var err error
	if g.LogPath, g.LogPathFrom, err = logPathSetting(c.String("logPath"), env); err != nil {
		return g, err
	}
	if g.RateLimitWait, err = rateLimitWait(c, env, tuned); err != nil {
		return g, err
	}
	g.StateDir, g.StateDirFrom = stateDir(c.String("stateDir"), env, g)
	if g.StateDirFrom == "--stateDir" {
		// One that cannot be a directory is refused now; an unwritable one
		// found later is a warning and the fallback pacing.
		if err := os.MkdirAll(g.StateDir, 0o755); err != nil {
			return g, usagef("cannot create the state directory --stateDir=%s: %v", g.StateDir, err)
		}
	}
	if c.IsSet("bitbucketRateLimit") {
		g.BitbucketRateLimit = c.String("bitbucketRateLimit")
	}
	if c.IsSet("snykRateLimit") {
		g.SnykRateLimit = c.String("snykRateLimit")
	}
	return g, nil
}

// requireLogDir is the log directory every stage writes in (required, as
// by the original), created if need be.
func (g globalOptions) requireLogDir() (string, error) {
	if g.LogPath == "" {
		return "", usagef("SNYK_LOG_PATH is not set: set it to the directory for generated files and logs (export SNYK_LOG_PATH=./snyk-logs) or pass --logPath")
	}
	if err := os.MkdirAll(g.LogPath, 0o755); err != nil {
		return "", usagef("cannot create the log directory %s=%s: %v", g.LogPathFrom, g.LogPath, err)
	}
	return g.LogPath, nil
}

// logPathSetting is --logPath, else SNYK_LOG_PATH, with ~ expanded ("" when
// neither is set), and which of the two named it.
func logPathSetting(flag string, env func(string) string) (path, from string, err error) {
	p, from := strings.TrimSpace(flag), "--logPath"
	if p == "" {
		p, from = strings.TrimSpace(env("SNYK_LOG_PATH")), "SNYK_LOG_PATH"
	}
	if p == "" {
		return "", "", nil
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", from, usagef("%s %q starts with ~ but the home directory is unknown: %v", from, p, err)
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	return filepath.Clean(p), from, nil
}

// stateDir is --stateDir, else BBIMPORT_STATE_DIR, else the log directory,
// else the working directory, and which of them named it.
func stateDir(flag string, env func(string) string, g globalOptions) (dir, from string) {
	if v := strings.TrimSpace(flag); v != "" {
		return filepath.Clean(v), "--stateDir"
	}
	if v := strings.TrimSpace(env("BBIMPORT_STATE_DIR")); v != "" {
		return filepath.Clean(v), "BBIMPORT_STATE_DIR"
	}
	if g.LogPath != "" {
		return g.LogPath, g.LogPathFrom
	}
	wd, _ := os.Getwd()
	return wd, "the working directory"
}

// rateLimitWait is how long a request refused with 429 is retried:
// --rateLimitWait, else BBIMPORT_RATE_LIMIT_WAIT, else tuned (tests), else
// the default.
func rateLimitWait(c *cli.Context, env func(string) string, tuned time.Duration) (time.Duration, error) {
	if tuned > 0 && !c.IsSet("rateLimitWait") {
		return tuned, nil
	}
	raw, from := "", ""
	if c.IsSet("rateLimitWait") {
		raw, from = c.String("rateLimitWait"), "--rateLimitWait"
	} else if v := strings.TrimSpace(env("BBIMPORT_RATE_LIMIT_WAIT")); v != "" {
		raw, from = v, "BBIMPORT_RATE_LIMIT_WAIT"
	}
	if raw == "" {
		return httpx.DefaultRateLimitWait, nil
	}
	return checkDuration(from, raw, time.Second, 24*time.Hour)
}

// intSetting resolves an integer from a flag's value as given (flagRaw,
// "" when not given), else an environment variable, else a default, and
// checks it against the flag's valueRules range with a message naming the
// flag or the variable.
func intSetting(flag, flagRaw, envName string, env func(string) string, def int) (int, error) {
	raw, from := strings.TrimSpace(flagRaw), "--"+flag
	if raw == "" && envName != "" {
		raw, from = strings.TrimSpace(env(envName)), envName
	}
	if raw == "" {
		return def, nil
	}
	r, ok := valueRules[flag]
	if !ok {
		r = valueRule{min: 0, max: unbounded} // give the flag a rule: its range belongs in valueRules
	}
	return checkWhole(from, raw, int(r.min), int(r.max))
}

// flagValue is a flag's value as given on the command line, "" when not.
func flagValue(c *cli.Context, name string) string {
	if !c.IsSet(name) {
		return ""
	}
	return fmt.Sprint(c.Value(name))
}

// trimmedEnv is a variable of env, trimmed.
func trimmedEnv(env func(string) string, name string) string { return strings.TrimSpace(env(name)) }
