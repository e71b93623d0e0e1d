package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// unknownFlagError is the one line a misspelled flag gets: the closest flag
// of the command, else where the flag does belong, else where the list is.
// cmd is "" for the flags before the command name.
func unknownFlagError(name, cmd string, flags []cli.Flag) error {
	where, help := "", "bbimport --help"
	if cmd != "" {
		where, help = " for "+cmd, "bbimport help "+cmd
	}
	var names []string
	primary := map[string]string{}
	for _, f := range flags {
		for _, n := range f.Names() {
			names = append(names, n)
			primary[n] = f.Names()[0]
		}
	}
	if best := closest(name, names); best != "" {
		return usagef("unknown flag --%s%s; did you mean --%s?", name, where, primary[best])
	}
	return usagef("unknown flag --%s%s; %s lists the flags", name, where, help)
}

// unknownCommandError is the one line an unknown command gets. It knows the
// commands from the app alone, so a new command needs nothing here.
func unknownCommandError(app *cli.App, name string) error {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	if best := closest(name, names); best != "" {
		return usagef("unknown command %q; did you mean %s?", name, best)
	}
	return usagef("unknown command %q; the commands are %s (bbimport help)", name, strings.Join(names, ", "))
}

// closest returns the candidate a typo most likely meant, or "": the same
// name in another case or spelling (groupid, group_id → groupId), else the
// nearest by edit distance when it is near enough, else a candidate sharing
// a whole part of a colon name (orgs:list → an orgs: command, list →
// list:imported).
func closest(input string, candidates []string) string {
	in := fold(input)
	best, bestD := "", -1
	for _, c := range candidates {
		if fold(c) == in {
			return c
		}
		if d := editDistance(in, fold(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	// One or two letters say too little to guess from.
	if len(in) > 2 && bestD >= 0 && bestD <= max(2, len(in)/3) {
		return best
	}
	parts := strings.Split(strings.ToLower(input), ":")
	best, bestD = "", -1
	for _, c := range candidates {
		for _, p := range parts {
			if p == "" || !containsPart(strings.ToLower(c), p) {
				continue
			}
			if d := editDistance(in, fold(c)); bestD < 0 || d < bestD {
				best, bestD = c, d
			}
		}
	}
	return best
}

func containsPart(name, part string) bool {
	for _, p := range strings.Split(name, ":") {
		if p == part {
			return true
		}
	}
	return false
}

// fold ignores case and the separators of kebab and snake case.
func fold(s string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s))
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// flagSyntaxError turns the flag package's parse errors into one line that
// names the flag and what it takes, in the words of the matching variable's
// message where the flag has a value rule. It returns nil for an error it
// does not know.
func flagSyntaxError(cmd *cli.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return unknownFlagError(name, cmd.Name, cmd.Flags)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return usagef("--%s needs a value: --%s=<value> (bbimport help %s)", name, name, cmd.Name)
	}
	var raw, name string
	if n, _ := fmt.Sscanf(msg, "invalid boolean value %q for -%s", &raw, &name); n == 2 {
		return usagef("--%s=%q is not true or false; use --%s, --%s=true or --%s=false", trimColon(name), raw, trimColon(name), trimColon(name), trimColon(name))
	}
	if n, _ := fmt.Sscanf(msg, "invalid value %q for flag -%s", &raw, &name); n == 2 {
		name = trimColon(name)
		f := lookupFlag(cmd.Flags, name)
		if f == nil {
			return nil
		}
		if r, ok := valueRules[f.Names()[0]]; ok {
			return r.check("--"+name, raw)
		}
		return usagef("--%s=%q is not a valid value (bbimport help %s)", name, raw, cmd.Name)
	}
	return nil
}

func trimColon(s string) string { return strings.TrimSuffix(s, ":") }
