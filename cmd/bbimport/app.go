package main

import (
	"strings"
	"unicode"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=…" (make
// build, make dist); otherwise it comes from the build info (versionInfo).
var version = "dev"

func init() { version = versionInfo(version, readBuildInfo) }

// allCommands are the commands of bbimport, each with its run function.
func allCommands(rt *invocation) []*cli.Command {
	return []*cli.Command{
		newOrgsDataCommand(rt, runOrgsData),
		newOrgsCreateCommand(rt, runOrgsCreate),
		newImportDataCommand(rt, runImportData),
		newImportCommand(rt, runImport),
		newListImportedCommand(rt, runListImported),
		newSyncCommand(rt, runSync),
		newDoctorCommand(rt, runDoctor),
	}
}

// newApp is the app of the commands given: all of them, or one in tests.
func newApp(rt *invocation, commands []*cli.Command) *cli.App {
	app := &cli.App{
		Name:  "bbimport",
		Usage: "mirror Bitbucket Cloud workspaces and repositories into Snyk and import them",
		Description: "Drop-in for snyk-api-import's Bitbucket Cloud flow: " +
			"orgs:data → orgs:create → import:data → import. See README.md.\n" +
			"Global options may come before or after the command name. Without a command name\n" +
			"bbimport runs import, as the original did: bbimport --file=targets.json.",
		Version:         version,
		Writer:          rt.out.stdout,
		ErrWriter:       rt.out.stderr(),
		HideHelpCommand: true,
		Commands:        commands,
		ExitErrHandler:  func(*cli.Context, error) {}, // exit codes are ours (exitCode)
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
		&cli.StringFlag{Name: "rateLimitWait", Usage: "how long this run may wait for 429s in all, e.g. 30m (else BBIMPORT_RATE_LIMIT_WAIT, default 30m); a pause past it is not waited"},
	}
}
