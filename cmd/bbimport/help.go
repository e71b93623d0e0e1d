package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// Help is laid out as gh lays it out: what the command does, USAGE, FLAGS
// (the command's own, each name once, wrapped to the terminal), EXAMPLES,
// ENVIRONMENT and LEARN MORE; the global flags once, under `bbimport help`.
// urfave/cli prints a command's CustomHelpTemplate through text/template,
// so the text is rendered here and handed over as a template without
// actions.

// helpDocs is where LEARN MORE points: the README, and the pages of docs/
// under helpDocs + "/blob/main/".
const helpDocs = "https://github.com/bbimport/bbimport"

// commandHelp is what a command's help says beyond its flags.
type commandHelp struct {
	// Examples are command lines, each with an optional comment after "  # ".
	Examples []string
	// Env are the variables the command reads: name, then what for.
	Env [][2]string
	// Learn is the page of docs/ that tells more.
	Learn string
}

// Variables several commands read.
var (
	envLogPath   = [2]string{"SNYK_LOG_PATH", "output directory of every file and log (required, or --logPath)"}
	envBitbucket = [2]string{"BITBUCKET_APP_CLIENT_ID", "with BITBUCKET_APP_CLIENT_SECRET, the OAuth consumer (or BITBUCKET_CREDENTIALS, or the BITBUCKET_CLOUD_* variables with --source=bitbucket-cloud)"}
	envBBBase    = [2]string{"BITBUCKET_APP_API_BASE", "Bitbucket API base (default https://api.bitbucket.org/2.0)"}
	envSnyk      = [2]string{"SNYK_CLIENT_ID", "with SNYK_CLIENT_SECRET, a Snyk service account (or SNYK_OAUTH_TOKEN, or SNYK_TOKEN)"}
	envSnykAPI   = [2]string{"SNYK_API", "Snyk API base (default https://api.snyk.io/v1; EU: https://api.eu.snyk.io/v1)"}
	envShard     = [2]string{"BBIMPORT_SHARD", "K/N: only part K of N of the orgs (--shard)"}
)

// helpOf holds every command's help beyond its flags; TestHelpFits checks
// that each command has one.
var helpOf = map[string]commandHelp{
	"orgs:data": {
		Examples: []string{
			"bbimport orgs:data --groupId=$GROUP",
			"bbimport orgs:data --groupId=$GROUP --workspace=acme --workspace=acme-labs  # consumers that cannot list",
			"bbimport orgs:data --groupId=$GROUP --source=bitbucket-cloud --skipEmptyOrgs",
		},
		Env:   [][2]string{envLogPath, envBitbucket, envBBBase, envSnyk, envSnykAPI},
		Learn: "docs/stages.md#orgsdata",
	},
	"orgs:create": {
		Examples: []string{
			"bbimport orgs:create --file=group-$GROUP-bitbucket-cloud-app-orgs.json",
			"bbimport orgs:create --file=group-$GROUP-bitbucket-cloud-app-orgs.json --dryRun",
		},
		Env:   [][2]string{envLogPath, envSnyk, envSnykAPI},
		Learn: "docs/stages.md#orgscreate",
	},
	"import:data": {
		Examples: []string{
			"bbimport import:data --orgsData=snyk-created-orgs.json",
			"bbimport import:data --orgsData=snyk-created-orgs.json --skipForks --exclude='*/archive-*'",
			"bbimport import:data --orgsData=snyk-created-orgs.json --updatedSince=2026-01-01",
		},
		Env:   [][2]string{envLogPath, envBitbucket, envBBBase, envSnyk, envSnykAPI, envShard},
		Learn: "docs/selecting-repositories.md",
	},
	"import": {
		Examples: []string{
			"bbimport import --file=bitbucket-cloud-app-import-targets.json",
			"bbimport import --file=bitbucket-cloud-app-import-targets.json --dryRun  # the plan, in a file",
			"bbimport import --file=targets.json --concurrency=30",
		},
		Env: [][2]string{envLogPath, envSnyk, envSnykAPI,
			{"SNYK_IMPORT_PATH", "the targets file, when --file is not given"},
			{"CONCURRENT_IMPORTS", "import workers, 1 to 50 (default 15)"}, envShard},
		Learn: "docs/stages.md#import",
	},
	"list:imported": {
		Examples: []string{
			"bbimport list:imported --groupId=$GROUP  # rebuild the skip list from Snyk",
			"bbimport list:imported --orgId=$ORG --integrationType=bitbucket-cloud-app",
		},
		Env:   [][2]string{envLogPath, envSnyk, envSnykAPI},
		Learn: "docs/stages.md#listimported",
	},
	"sync": {
		Examples: []string{
			"bbimport sync --orgsData=snyk-created-orgs.json --importNew  # the nightly job",
			"bbimport sync --orgsData=snyk-created-orgs.json --dryRun",
			"bbimport sync --orgPublicId=$ORG --onDeletedRepo=delete --deleteAfter=14d",
		},
		Env: [][2]string{envLogPath, envBitbucket, envBBBase, envSnyk, envSnykAPI,
			{"CONCURRENT_IMPORTS", "import workers, 1 to 50 (default 15)"}, envShard},
		Learn: "docs/sync.md",
	},
	"doctor": {
		Examples: []string{
			"bbimport doctor --groupId=$GROUP",
			"bbimport doctor --orgsData=snyk-created-orgs.json  # every org's integration too",
			"bbimport doctor --workspace=acme  # a consumer that cannot list its workspaces",
		},
		Env:   [][2]string{envLogPath, envBitbucket, envBBBase, envSnyk, envSnykAPI},
		Learn: "README.md#doctor",
	},
	"help": {
		Examples: []string{"bbimport help", "bbimport help sync"},
	},
	"version": {
		Examples: []string{"bbimport version"},
	},
	"completion": {
		Examples: []string{
			"source <(bbimport completion bash)",
			"bbimport completion zsh > \"${fpath[1]}/_bbimport\"",
			"bbimport completion fish > ~/.config/fish/completions/bbimport.fish",
		},
		Learn: "docs/install.md",
	},
}

// helpWidth is the width help is wrapped to: the terminal's, else
// COLUMNS, else 80.
func helpWidth(rt *invocation) int {
	if f, ok := rt.Stdout.(*os.File); ok && rt.StdoutTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return max(w, 40)
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(rt.Getenv("COLUMNS"))); err == nil && n > 0 {
		return max(n, 40)
	}
	return 80
}

// setHelp renders the app's and every command's help into their templates.
func setHelp(app *cli.App, width int) {
	global := map[string]bool{}
	for _, f := range app.Flags {
		global[f.Names()[0]] = true
	}
	for _, c := range app.Commands {
		c.CustomHelpTemplate = asTemplate(commandHelpText(app, c, global, width))
	}
	app.CustomAppHelpTemplate = asTemplate(appHelpText(app, width))
}

// asTemplate makes text a template that prints it as it is.
func asTemplate(text string) string {
	return strings.ReplaceAll(text, "{{", `{{"{{"}}`)
}

func commandHelpText(app *cli.App, c *cli.Command, global map[string]bool, width int) string {
	var b strings.Builder
	b.WriteString(wrap(capitalise(c.Usage)+".", width, "", "") + "\n")
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, "Also: bbimport %s.\n", strings.Join(c.Aliases, ", "))
	}
	b.WriteString("\nUSAGE\n")
	usage := "  bbimport " + c.Name
	if own := ownFlags(c, global); len(own) > 0 {
		usage += " [flags]"
	}
	if c.ArgsUsage != "" {
		usage += " " + c.ArgsUsage
	}
	b.WriteString(usage + "\n")
	if own := ownFlags(c, global); len(own) > 0 {
		b.WriteString("\nFLAGS\n")
		writeFlags(&b, own, width)
		if hasKebab(own) {
			b.WriteString(wrap("Each flag also takes its kebab-case name (--groupId: --group-id), and "+
				"a boolean the original's form (--dryRun true).", width, "  ", "  ") + "\n")
		}
	}
	h := helpOf[c.Name]
	writeExamples(&b, h.Examples, width)
	writeEnv(&b, h.Env, width)
	b.WriteString("\nLEARN MORE\n")
	var learn []string
	if commandTakesGlobals(c, global) {
		learn = append(learn, "Global flags (--logPath, --logLevel, --logFormat, rate limits): bbimport help")
	}
	if h.Learn != "" {
		learn = append(learn, "Read "+helpDocs+"/blob/main/"+h.Learn)
	} else {
		learn = append(learn, "Read the README: "+helpDocs+"#readme")
	}
	for _, l := range learn {
		b.WriteString(wrap(l, width, "  ", "  ") + "\n")
	}
	return b.String()
}

func appHelpText(app *cli.App, width int) string {
	var b strings.Builder
	b.WriteString(wrap(capitalise(app.Usage)+"; a drop-in for the Bitbucket Cloud flows of snyk-api-import.", width, "", "") + "\n")
	b.WriteString("\nUSAGE\n  bbimport <command> [flags]\n  bbimport [flags]  # runs import, as the original did\n")
	b.WriteString("\nCOMMANDS\n")
	var rows [][2]string
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		name := c.Name
		if len(c.Aliases) > 0 {
			name += ", " + strings.Join(c.Aliases, ", ")
		}
		rows = append(rows, [2]string{name, c.Usage})
	}
	writeRows(&b, rows, width, 16)
	b.WriteString("\nGLOBAL FLAGS\n")
	b.WriteString(wrap("Before or after the command name; --dryRun only for the commands that have it.", width, "  ", "  ") + "\n")
	writeFlags(&b, app.Flags, width)
	writeExamples(&b, []string{
		"bbimport doctor --groupId=$GROUP",
		"bbimport orgs:data --groupId=$GROUP",
		"bbimport orgs:create --file=group-$GROUP-bitbucket-cloud-app-orgs.json",
		"bbimport sync --orgsData=snyk-created-orgs.json --importNew",
	}, width)
	writeEnv(&b, [][2]string{envLogPath, envBitbucket, envSnyk, envSnykAPI,
		{"DEBUG", "*snyk* or * turns on debug logs (secrets are always masked)"},
		{"NO_COLOR", "any value turns colour off"}}, width)
	b.WriteString("\nLEARN MORE\n")
	for _, l := range []string{
		"Use bbimport help <command> (or <command> --help) for a command's flags.",
		"Exit codes: 0 done, 1 failed, 2 usage, 3 some items failed (the next run retries them), " +
			"4 credentials rejected, 130 interrupted.",
		"Read the README: " + helpDocs + "#readme",
	} {
		b.WriteString(wrap(l, width, "  ", "  ") + "\n")
	}
	return b.String()
}

// ownFlags are the flags a command's help lists: its own, not the global
// options (bbimport help lists those) nor --help.
func ownFlags(c *cli.Command, global map[string]bool) []cli.Flag {
	var out []cli.Flag
	for _, f := range c.Flags {
		name := f.Names()[0]
		if name == "help" || (global[name] && name != "dryRun") {
			continue
		}
		out = append(out, f)
	}
	return out
}

func commandTakesGlobals(c *cli.Command, global map[string]bool) bool {
	return slices.ContainsFunc(c.Flags, func(f cli.Flag) bool { return global[f.Names()[0]] && f.Names()[0] != "dryRun" })
}

func hasKebab(flags []cli.Flag) bool {
	return slices.ContainsFunc(flags, func(f cli.Flag) bool { return kebab(f.Names()[0]) != f.Names()[0] })
}

// flagTitle is a flag's names, each once (its kebab-case alias left to the
// note below the list), and the kind of value it takes.
func flagTitle(f cli.Flag) string {
	names := f.Names()
	var shown []string
	for _, n := range names {
		if n != names[0] && n == kebab(names[0]) {
			continue
		}
		if len(n) == 1 {
			shown = append(shown, "-"+n)
		} else {
			shown = append(shown, "--"+n)
		}
	}
	title := strings.Join(shown, ", ")
	switch f.(type) {
	case *cli.StringFlag:
		title += " string"
	case *cli.IntFlag:
		title += " int"
	case *cli.DurationFlag:
		title += " duration"
	case *cli.StringSliceFlag:
		title += " strings"
	}
	return title
}

// flagText is a flag's usage with its default, as gh writes it.
func flagText(f cli.Flag) string {
	text := f.(cli.DocGenerationFlag).GetUsage()
	def := ""
	switch f := f.(type) {
	case *cli.StringFlag:
		def = f.Value
	case *cli.IntFlag:
		if f.Value != 0 {
			def = strconv.Itoa(f.Value)
		}
	case *cli.DurationFlag:
		if f.Value != 0 {
			def = humanDuration(f.Value)
		}
	case *cli.BoolFlag:
		if f.Value {
			def = "true"
		}
	}
	if def != "" {
		text += " (default " + def + ")"
	}
	return text
}

func writeFlags(b *strings.Builder, flags []cli.Flag, width int) {
	rows := make([][2]string, 0, len(flags))
	for _, f := range flags {
		rows = append(rows, [2]string{flagTitle(f), flagText(f)})
	}
	writeRows(b, rows, width, 28)
}

// writeRows writes two columns, the first at most maxCol wide: a longer
// left cell puts its text on the next line, under the column.
func writeRows(b *strings.Builder, rows [][2]string, width, maxCol int) {
	col := 0
	for _, r := range rows {
		if n := len([]rune(r[0])); n <= maxCol {
			col = max(col, n)
		}
	}
	indent := strings.Repeat(" ", 2+col+2)
	for _, r := range rows {
		left := "  " + r[0]
		if len([]rune(r[0])) > col {
			b.WriteString(left + "\n")
			b.WriteString(wrap(r[1], width, indent, indent) + "\n")
			continue
		}
		first := left + strings.Repeat(" ", len(indent)-len([]rune(left)))
		b.WriteString(wrap(r[1], width, first, indent) + "\n")
	}
}

func writeExamples(b *strings.Builder, examples []string, width int) {
	if len(examples) == 0 {
		return
	}
	b.WriteString("\nEXAMPLES\n")
	for _, e := range examples {
		cmd, comment, _ := strings.Cut(e, "  # ")
		if comment != "" {
			b.WriteString(wrap("# "+comment, width, "  ", "  # ") + "\n")
		}
		// A command line too long for the terminal goes on with a backslash,
		// so that it still pastes as one.
		lines := strings.Split(wrap("$ "+cmd, width-2, "  ", "      "), "\n")
		b.WriteString(strings.Join(lines, " \\\n") + "\n")
	}
}

func writeEnv(b *strings.Builder, env [][2]string, width int) {
	if len(env) == 0 {
		return
	}
	b.WriteString("\nENVIRONMENT\n")
	writeRows(b, env, width, 24)
}

// wrap fills text into lines of at most width columns, the first starting
// with first and the others with rest. A word longer than a line is
// written whole.
func wrap(text string, width int, first, rest string) string {
	var b strings.Builder
	line, n := first, len([]rune(first))
	empty := true
	for _, w := range strings.Fields(text) {
		wl := len([]rune(w))
		if !empty && n+1+wl > width {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line, n, empty = rest, len([]rune(rest)), true
		}
		if !empty {
			line += " "
			n++
		}
		line += w
		n += wl
		empty = false
	}
	b.WriteString(strings.TrimRight(line, " "))
	return b.String()
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
