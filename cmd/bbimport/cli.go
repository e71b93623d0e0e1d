package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
)

// runApp arranges the command line (arrangeArgs) and runs the app.
func runApp(ctx context.Context, rt *invocation, app *cli.App, args []string) error {
	urfaveGlobals.Lock()
	rt.parsed = sync.OnceFunc(urfaveGlobals.Unlock)
	defer rt.parsed()
	args, err := arrangeArgs(app, args)
	if err != nil {
		return err
	}
	return app.RunContext(ctx, args)
}

// urfaveGlobals serialises the part of a run in which urfave/cli v2 writes
// its package-level HelpFlag, VersionFlag and help command (flag Apply
// records defaults in them, Command.setup names the help command): two apps
// in one process, as in the parallel tests, would race there. A run holds
// it until its command's action begins (invocation.begin); help,
// completion and usage errors, which print from those globals, hold it to
// the end. Parsing takes milliseconds, so runs still overlap in their work.
var urfaveGlobals sync.Mutex

// finishApp gives the app what every command shares: the global options
// (root --help lists them; arrangeArgs moves them after the command name),
// one-line usage errors instead of a help dump, the value checks, and the
// help and completion commands. It works from app.Commands, so a new
// command needs nothing here.
func finishApp(rt *invocation, app *cli.App) {
	app.Commands = append(app.Commands, newHelpCommand(), newVersionCommand(), newCompletionCommand())
	// Our own help command keeps urfave from adding --help to the app.
	app.Flags = append(globalFlags(app), cli.HelpFlag)
	app.OnUsageError = func(c *cli.Context, err error, _ bool) error { return usageFrom(c, err) }
	setHelp(app, helpWidth(rt))
	for _, cmd := range app.Commands {
		cmd.OnUsageError = app.OnUsageError
		before := cmd.Before
		cmd.Before = func(c *cli.Context) error {
			if err := checkCommandLine(c, rt.out, rt.Getenv); err != nil {
				return err
			}
			if before != nil {
				return before(c)
			}
			return nil
		}
	}
}

// globalFlags are the options every command with them accepts before its
// name too: the common ones, and --dryRun for the commands that have it.
func globalFlags(app *cli.App) []cli.Flag {
	flags := commonFlags()
	if cmds := commandsWithFlag(app, "dryRun"); len(cmds) > 0 {
		flags = append(flags, &cli.BoolFlag{Name: "dryRun", Aliases: []string{"dry-run"},
			Usage: "print what would be done and change nothing (" + strings.Join(cmds, ", ") + "; refused by the others)"})
	}
	return withKebab(flags)
}

// usageFrom turns a flag parse error into one line (flagSyntaxError), or
// keeps the CLI's own text.
func usageFrom(c *cli.Context, err error) error {
	if c.Command != nil {
		if e := flagSyntaxError(c.Command, err); e != nil {
			return e
		}
	}
	return &usageError{err}
}

// checkCommandLine runs before a command's action: the logging flags, the
// numeric values, and the input files that live in the log directory.
func checkCommandLine(c *cli.Context, out *output, getenv func(string) string) error {
	if lookupFlag(c.Command.Flags, "logLevel") != nil {
		if err := out.setupLogging(c.String("logLevel"), c.String("logFormat")); err != nil {
			return err
		}
	}
	if err := checkValues(c); err != nil {
		return err
	}
	findInputsInLogPath(c, getenv)
	return nil
}

// newHelpCommand: `bbimport help` (exit 0) and `bbimport help <command>`.
func newHelpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show the commands, or the flags of one command",
		ArgsUsage: "[command]",
		Action: func(c *cli.Context) error {
			root := c.Lineage()[1]
			switch c.Args().Len() {
			case 0:
				return cli.ShowAppHelp(root)
			case 1:
				name := c.Args().First()
				if root.App.Command(name) == nil {
					return unknownCommandError(root.App, name)
				}
				return cli.ShowCommandHelp(root, name)
			default:
				return usagef("help takes one command name, e.g. bbimport help import")
			}
		},
	}
}

// newVersionCommand: `bbimport version`, as `--version` says it.
func newVersionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print bbimport's version",
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("version takes no arguments")
			}
			root := c.Lineage()[1]
			_, err := fmt.Fprintf(root.App.Writer, "bbimport version %s\n", root.App.Version)
			return err
		},
	}
}

// newCompletionCommand prints a shell completion script (as gh does).
func newCompletionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a completion script: bash, zsh or fish (see docs/install.md)",
		ArgsUsage: "bash|zsh|fish",
		Action: func(c *cli.Context) error {
			root := c.Lineage()[1]
			if c.Args().Len() != 1 {
				return usagef("completion needs the shell: bbimport completion bash|zsh|fish")
			}
			script, err := completionScript(root.App, c.Args().First())
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(root.App.Writer, script)
			return err
		},
	}
}
