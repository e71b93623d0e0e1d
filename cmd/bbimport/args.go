package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// defaultCommand runs when the command line names none, as the original's
// default command did: `bbimport --file=targets.json` imports.
const defaultCommand = "import"

// arrangeArgs puts the command name first, so that every flag reaches the
// command it belongs to. urfave/cli v2 stops parsing at the first non-flag
// and keeps the flags before it for the app, where a command never looks
// (each command defines its own --dryRun, --logPath, …). So:
//
//   - a global option before the command name (the app's Flags, which root
//     --help lists) is moved after it, with the same meaning; a global option
//     that the command does not take (--dryRun before orgs:data) is refused
//     naming it, and so is a command's own flag put before the name;
//   - a command line without a command name runs defaultCommand with it;
//   - an unknown command name is refused with the closest one;
//   - the original's `--dryRun true` / `--skipEmptyOrgs false` (a boolean's
//     value after a space) becomes `--dryRun=true`, which Go's flag package
//     needs.
//
// --help and --version before the command keep their meaning.
func arrangeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return append(args, defaultCommand), nil
	}
	prog, rest := args[0], args[1:]
	def := app.Command(defaultCommand)
	// Any command's flag may be typed before the name by mistake; knowing
	// them all tells a value from the command name while scanning.
	var commandFlags []cli.Flag
	for _, c := range app.Commands {
		commandFlags = append(commandFlags, c.Flags...)
	}
	type early struct {
		toks   []string
		name   string
		global bool
	}
	var pre []early
	i := 0
	for ; i < len(rest); i++ {
		name, _, hasValue, ok := splitFlag(rest[i])
		if !ok {
			break
		}
		switch name {
		case "help", "h":
			pre = append(pre, early{toks: []string{"--help"}, name: "help", global: true})
			continue
		case "version", "v":
			return []string{prog, "--version"}, nil
		}
		f, global := lookupFlag(app.Flags, name), true
		if f == nil {
			f, global = lookupFlag(commandFlags, name), false
		}
		if f == nil {
			cmd := def
			if c := firstCommand(app, rest[i+1:]); c != nil {
				cmd = c
			}
			return nil, unknownFlagError(name, "", append(slices.Clone(app.Flags), cmd.Flags...))
		}
		e := early{toks: []string{rest[i]}, name: f.Names()[0], global: global}
		if !hasValue && i+1 < len(rest) {
			switch {
			case takesValue(f):
				i++
				e.toks = append(e.toks, rest[i])
			case isBoolWord(rest[i+1]):
				i++
				e.toks = []string{rest[i-1] + "=" + rest[i]}
			}
		}
		pre = append(pre, e)
	}
	if i == len(rest) || rest[i] == "--" {
		var out []string
		for _, e := range pre {
			if e.name == "help" {
				return []string{prog, "--help"}, nil
			}
			out = append(out, e.toks...)
		}
		return append([]string{prog, defaultCommand}, joinBoolValues(def.Flags, append(out, rest[i:]...))...), nil
	}
	cmd := app.Command(rest[i])
	if cmd == nil {
		return nil, unknownCommandError(app, rest[i])
	}
	out := []string{prog, rest[i]}
	for _, e := range pre {
		switch {
		case e.name == "help":
		case !e.global && lookupFlag(cmd.Flags, e.name) == nil:
			return nil, unknownFlagError(e.name, rest[i], cmd.Flags)
		case !e.global:
			return nil, usagef("--%s is not a global option: put it after the command name (bbimport %s --%s=…)",
				e.name, rest[i], e.name)
		case lookupFlag(cmd.Flags, e.name) == nil:
			return nil, usagef("--%s does not apply to %s (it applies to %s): remove it",
				e.name, rest[i], strings.Join(commandsWithFlag(app, e.name), ", "))
		}
		out = append(out, e.toks...)
	}
	return append(out, joinBoolValues(cmd.Flags, rest[i+1:])...), nil
}

// joinBoolValues turns `--flag true|false` into `--flag=true|false` for the
// boolean flags among flags, up to the first argument that is not a flag
// (where Go's flag parsing stops too).
func joinBoolValues(flags []cli.Flag, toks []string) []string {
	out := make([]string, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		name, _, hasValue, ok := splitFlag(tok)
		if !ok {
			return append(out, toks[i:]...)
		}
		out = append(out, tok)
		f := lookupFlag(flags, name)
		if f == nil || hasValue || i+1 == len(toks) {
			continue
		}
		switch {
		case takesValue(f):
			i++
			out = append(out, toks[i])
		case isBoolWord(toks[i+1]):
			i++
			out[len(out)-1] = tok + "=" + toks[i]
		}
	}
	return out
}

// splitFlag parses -name, --name and --name=value. ok is false for an
// argument that is not a flag, and for "--" (the end of the flags).
func splitFlag(tok string) (name, value string, hasValue, ok bool) {
	if len(tok) < 2 || tok[0] != '-' {
		return "", "", false, false
	}
	s := strings.TrimPrefix(tok[1:], "-")
	if s == "" || s[0] == '-' || s[0] == '=' {
		return "", "", false, false
	}
	name, value, hasValue = strings.Cut(s, "=")
	return name, value, hasValue, true
}

// lookupFlag finds a flag by any of its names.
func lookupFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	_, isBool := f.(*cli.BoolFlag)
	return !isBool
}

func isBoolWord(s string) bool {
	return strings.EqualFold(s, "true") || strings.EqualFold(s, "false")
}

// firstCommand is the first argument that names a command, or nil.
func firstCommand(app *cli.App, toks []string) *cli.Command {
	for _, t := range toks {
		if c := app.Command(t); c != nil {
			return c
		}
	}
	return nil
}

// commandsWithFlag names the commands that take a flag.
func commandsWithFlag(app *cli.App, name string) []string {
	var out []string
	for _, c := range app.Commands {
		if lookupFlag(c.Flags, name) != nil {
			out = append(out, c.Name)
		}
	}
	return out
}
