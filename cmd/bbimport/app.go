package main

import (
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=…" (make
// build, make dist); otherwise it comes from the build info (versionInfo).
var version = "dev"

func init() { version = versionInfo(version, readBuildInfo) }

func newApp(rt *invocation) *cli.App {
	app := &cli.App{
		Name:  "bbimport",
		Usage: "mirror Bitbucket Cloud workspaces and repositories into Snyk and import them",
		Description: "Drop-in for snyk-api-import's Bitbucket Cloud flow: " +
			"orgs:data → orgs:create → import:data → import. See README.md.\n" +
			"Global options may come before or after the command name. Without a command name\n" +
			"bbimport runs import, as the original did: bbimport --file=targets.json.",
		Version:         version,
		Writer:          rt.Stdout,
		ErrWriter:       rt.stderr(),
		HideHelpCommand: true,
		Commands: []*cli.Command{
			newOrgsDataCommand(rt),
			newOrgsCreateCommand(rt),
			newImportDataCommand(rt),
			newImportCommand(rt),
			newListImportedCommand(rt),
			newSyncCommand(rt),
			newDoctorCommand(rt),
		},
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are ours (exitCode)
	}
	finishApp(rt, app)
	return app
}

// withKebab gives every flag the kebab-case alias of its camelCase name
// (`--groupId` and `--group-id`), as the original's yargs did.
func withKebab(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			f.Aliases = addKebab(f.Name, f.Aliases)
		case *cli.BoolFlag:
			f.Aliases = addKebab(f.Name, f.Aliases)
		case *cli.IntFlag:
			f.Aliases = addKebab(f.Name, f.Aliases)
		case *cli.StringSliceFlag:
			f.Aliases = addKebab(f.Name, f.Aliases)
		case *cli.DurationFlag:
			f.Aliases = addKebab(f.Name, f.Aliases)
		}
	}
	return flags
}

func addKebab(name string, aliases []string) []string {
	k := kebab(name)
	if k == name {
		return aliases
	}
	for _, a := range aliases {
		if a == k {
			return aliases
		}
	}
	return append(aliases, k)
}

func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// commonFlags are accepted by every command, after the command name as the
// original's were.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "logPath", Usage: "output directory for generated files and logs (else SNYK_LOG_PATH)"},
		&cli.StringFlag{Name: "logLevel", Usage: "trace, debug, info, warn or error (DEBUG=*snyk* also turns on debug)"},
		&cli.StringFlag{Name: "logFormat", Value: "auto", Usage: "auto (text on a terminal, JSON lines otherwise), json or text"},
		// Strings, so that help shows no "(default: 0)" and intSetting checks
		// the value with the same message as the variable's.
		&cli.StringFlag{Name: "bitbucketRateLimit", Usage: "Bitbucket requests per hour for this credential, 1 or more (else BITBUCKET_RATE_LIMIT, default 1000)"},
		&cli.StringFlag{Name: "snykRateLimit", Usage: "Snyk requests per minute, 1 or more (else SNYK_RATE_LIMIT, default 1500)"},
		&cli.StringFlag{Name: "stateDir", Usage: "directory of the request ledgers that runs sharing a credential count their budget in (else BBIMPORT_STATE_DIR, else the log directory); see docs/budgets.md"},
		&cli.StringFlag{Name: "rateLimitWait", Usage: "how long a request refused with 429 is retried, e.g. 30m (else BBIMPORT_RATE_LIMIT_WAIT, default 30m)"},
	}
}

// begin runs first in every action: it marks the arguments as accepted,
// sets up logging and resolves the log path.
func (rt *invocation) begin(c *cli.Context) (logPath string, err error) {
	rt.actionStarted = true
	rt.parsed()
	if err := rt.setupLogging(c); err != nil {
		return "", err
	}
	if c.Args().Len() > 0 {
		return "", usagef("unexpected argument %q; flags take the form --name=value", c.Args().First())
	}
	if err := rt.checkBudgetFlags(c); err != nil {
		return "", err
	}
	return rt.logPath(c)
}

// logPath resolves --logPath / SNYK_LOG_PATH (required by every command, as
// the original), expands ~ and creates the directory.
func (rt *invocation) logPath(c *cli.Context) (string, error) {
	p, from, err := rt.logPathSetting(c)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", usagef("SNYK_LOG_PATH is not set: set it to the directory for generated files and logs (export SNYK_LOG_PATH=./snyk-logs) or pass --logPath")
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", usagef("cannot create the log directory %s=%s: %v", from, p, err)
	}
	return p, nil
}

// logPathSetting is the log directory without creating it ("" when neither
// --logPath nor SNYK_LOG_PATH is set), and which of the two named it.
func (rt *invocation) logPathSetting(c *cli.Context) (path, from string, err error) {
	p, from := strings.TrimSpace(c.String("logPath")), "--logPath"
	if p == "" {
		p, from = rt.env("SNYK_LOG_PATH"), "SNYK_LOG_PATH"
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
