package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/syncer"
	"github.com/urfave/cli/v2"
)

// completionScript writes a static completion script from the app's
// commands and flags: nothing runs bbimport at completion time, so a
// completion never spends an API request or reads a credential.
func completionScript(app *cli.App, shell string) (string, error) {
	switch shell {
	case "bash":
		return bashCompletion(app), nil
	case "zsh":
		return zshCompletion(app), nil
	case "fish":
		return fishCompletion(app), nil
	default:
		return "", usagef("completion %q: the shells are bash, zsh and fish", shell)
	}
}

var completionShells = []string{"bash", "zsh", "fish"}

// enumValues are the values a flag takes from a fixed list: completion
// offers them after the flag (--logFormat <TAB>).
func enumValues() map[string][]string {
	var sources, integrations []string
	for _, s := range importer.Sources() {
		sources = append(sources, s.Name)
		integrations = append(integrations, s.Integrations...)
	}
	return map[string][]string{
		"logFormat":       {"auto", "json", "text"},
		"logLevel":        {"trace", "debug", "info", "warn", "error"},
		"source":          sources,
		"integrationType": integrations,
		"orgPer":          {string(importer.OrgPerWorkspace), string(importer.OrgPerProject)},
		"onDeletedRepo":   {syncer.OnDeletedDeactivate, syncer.OnDeletedDelete, syncer.OnDeletedIgnore},
		"snykProduct":     {syncer.ProductOpenSource, syncer.ProductContainer, syncer.ProductIaC},
		"detect":          {"updated"},
	}
}

// completionWords are what completion offers: the commands; per command
// its flags (every long name once, as --name; no -h, no --help twice); the
// flags that take a value; and the values of the enumerated ones.
type completionWords struct {
	commands []string
	flags    map[string][]string // command → its flags; "" → the app's
	takes    []string            // flags that take a value
	values   map[string][]string // --flag → its values
	args     map[string][]string // command → the arguments it takes
}

func wordsOf(app *cli.App) completionWords {
	w := completionWords{flags: map[string][]string{}, values: map[string][]string{}, args: map[string][]string{}}
	enum := enumValues()
	add := func(cmd string, flags []cli.Flag) {
		seen := map[string]bool{}
		for _, f := range flags {
			for _, n := range f.Names() {
				if len(n) == 1 || seen[n] {
					continue
				}
				seen[n] = true
				name := "--" + n
				w.flags[cmd] = append(w.flags[cmd], name)
				if takesValue(f) && !slices.Contains(w.takes, name) {
					w.takes = append(w.takes, name)
				}
				if v := enum[f.Names()[0]]; v != nil {
					w.values[name] = v
				}
			}
		}
		if !seen["help"] {
			w.flags[cmd] = append(w.flags[cmd], "--help")
		}
		sort.Strings(w.flags[cmd])
	}
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		w.commands = append(w.commands, c.Name)
		add(c.Name, c.Flags)
	}
	add("", append(slices.Clone(app.Flags), &cli.BoolFlag{Name: "version"}))
	sort.Strings(w.takes)
	w.args["help"] = w.commands
	w.args["completion"] = completionShells
	return w
}

// sortedKeys are m's keys in order, so that a script is the same each time.
func sortedKeys[T any](m map[string]T) []string {
	return slices.Sorted(maps.Keys(m))
}

// cases are a shell script's case arms, each word list joined by spaces:
// every command's flags and the commands' arguments in wordCase, every
// enumerated flag's values in valueCase (a format of the name and the list).
func (w *completionWords) cases(wordCase, valueCase string) (flags, values, args string) {
	var fb, vb, ab strings.Builder
	for _, c := range w.commands {
		fmt.Fprintf(&fb, wordCase, c, strings.Join(w.flags[c], " "))
	}
	for _, f := range sortedKeys(w.values) {
		fmt.Fprintf(&vb, valueCase, f, strings.Join(w.values[f], " "))
	}
	for _, c := range sortedKeys(w.args) {
		fmt.Fprintf(&ab, wordCase, c, strings.Join(w.args[c], " "))
	}
	return fb.String(), vb.String(), ab.String()
}

func bashCompletion(app *cli.App) string {
	w := wordsOf(app)
	flagCases, valueCases, argCases := w.cases("      %s) opts=%q ;;\n", "    %s) vals=%q ;;\n")
	// COMP_WORDBREAKS splits orgs:data at the colon and --logFormat=json at
	// the equals sign, so the words are taken from COMP_LINE, and the part
	// of the word up to its last colon or equals sign is cut from the
	// replies. A flag's value is not taken for the command name. Plain bash
	// 3.2 (macOS) syntax.
	return `# bash completion for bbimport: source <(bbimport completion bash)
_bbimport_values() {
  case "$1" in
` + valueCases + `    *) return 1 ;;
  esac
}
_bbimport() {
  local line="${COMP_LINE:0:COMP_POINT}" cur="" prev="" cmd="" w skip="" opts="" vals=""
  local takes=` + fmt.Sprintf("%q", " "+strings.Join(w.takes, " ")+" ") + `
  local -a words
  read -r -a words <<< "$line"
  if [[ "$line" != *" " && ${#words[@]} -gt 0 ]]; then
    cur="${words[${#words[@]}-1]}"
    unset "words[${#words[@]}-1]"
  fi
  if [[ ${#words[@]} -gt 1 ]]; then prev="${words[${#words[@]}-1]}"; fi
  for w in "${words[@]:1}"; do
    if [[ -n "$skip" ]]; then skip=""; continue; fi
    case "$w" in
      *=*) ;;
      -*) [[ "$takes" == *" $w "* ]] && skip=1 ;;
      *) cmd="$w"; break ;;
    esac
  done
  if [[ "$cur" == --*=* ]]; then
    _bbimport_values "${cur%%=*}" && for w in $vals; do opts="$opts ${cur%%=*}=$w"; done
  elif [[ "$prev" == -* && "$prev" != *=* && "$takes" == *" $prev "* ]]; then
    _bbimport_values "$prev" && opts="$vals"
  elif [[ "$cur" != -* && -z "$cmd" ]]; then
    opts=` + fmt.Sprintf("%q", strings.Join(w.commands, " ")) + `
  elif [[ "$cur" != -* && " ` + strings.Join(sortedKeys(w.args), " ") + ` " == *" $cmd "* ]]; then
    case "$cmd" in
` + argCases + `    esac
  else
    case "$cmd" in
` + flagCases + `      *) opts=` + fmt.Sprintf("%q", strings.Join(w.flags[""], " ")) + ` ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  if [[ "$cur" == *[:=]* ]]; then
    local prefix="${cur%"${cur##*[:=]}"}" i
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]="${COMPREPLY[i]#"$prefix"}"; done
  fi
}
complete -o default -F _bbimport bbimport
`
}

func zshCompletion(app *cli.App) string {
	w := wordsOf(app)
	flagCases, valueCases, argCases := w.cases("      %s) compadd -- %s ;;\n", "    %s) reply=(%s) ;;\n")
	return `#compdef bbimport
# zsh completion for bbimport: bbimport completion zsh > "${fpath[1]}/_bbimport"
# (or source <(bbimport completion zsh) after compinit)
_bbimport_values() {
  reply=()
  case $1 in
` + valueCases + `    *) return 1 ;;
  esac
}
_bbimport() {
  local cmd w skip cur=${words[CURRENT]} prev=${words[CURRENT-1]}
  local takes=' ` + strings.Join(w.takes, " ") + ` '
  local -a reply
  for w in ${words[2,CURRENT-1]}; do
    if [[ -n $skip ]]; then skip=; continue; fi
    case $w in
      *=*) ;;
      -*) [[ $takes == *" $w "* ]] && skip=1 ;;
      *) cmd=$w; break ;;
    esac
  done
  if [[ $cur == --*=* ]]; then
    _bbimport_values ${cur%%=*} && compadd -P ${cur%%=*}= -- $reply
  elif [[ $prev == -* && $prev != *=* && $takes == *" $prev "* ]]; then
    _bbimport_values $prev && compadd -- $reply
  elif [[ $cur != -* && -z $cmd ]]; then
    compadd -- ` + strings.Join(w.commands, " ") + `
  elif [[ $cur != -* && " ` + strings.Join(sortedKeys(w.args), " ") + ` " == *" $cmd "* ]]; then
    case $cmd in
` + argCases + `    esac
  else
    case $cmd in
` + flagCases + `      *) compadd -- ` + strings.Join(w.flags[""], " ") + ` ;;
    esac
  fi
}
if [[ $funcstack[1] == _bbimport ]]; then _bbimport "$@"; else compdef _bbimport bbimport; fi
`
}

func fishCompletion(app *cli.App) string {
	w := wordsOf(app)
	var b strings.Builder
	b.WriteString("# fish completion for bbimport: bbimport completion fish > ~/.config/fish/completions/bbimport.fish\n")
	b.WriteString("complete -c bbimport -f\n")
	// fish's __fish_use_subcommand takes a global flag's value (--logLevel
	// debug) for the command; __bbimport_using skips the values of the
	// flags that take one, as the bash and zsh scripts do.
	b.WriteString("set -g __bbimport_takes -- " + strings.Join(w.takes, " "))
	b.WriteString(`
# __bbimport_using: no command yet; __bbimport_using C: the command is C.
function __bbimport_using
  set -l words (commandline -opc)
  set -e words[1]
  set -l skip 0
  for w in $words
    if test $skip = 1
      set skip 0
      continue
    end
    switch $w
      case '*=*'
      case '-*'
        contains -- $w $__bbimport_takes; and set skip 1
      case '*'
        test (count $argv) -gt 0; and test "$w" = "$argv[1]"
        return
    end
  end
  test (count $argv) -eq 0
end
`)
	usage := map[string]string{}
	for _, c := range app.Commands {
		usage[c.Name] = c.Usage
	}
	for _, c := range w.commands {
		fmt.Fprintf(&b, "complete -c bbimport -n __bbimport_using -a %s -d %s\n", fishQuote(c), fishQuote(usage[c]))
	}
	flag := func(cond, f string) {
		fmt.Fprintf(&b, "complete -c bbimport -n %s -l %s", fishQuote(cond), strings.TrimPrefix(f, "--"))
		switch {
		case w.values[f] != nil:
			fmt.Fprintf(&b, " -x -a %s", fishQuote(strings.Join(w.values[f], " ")))
		case slices.Contains(w.takes, f):
			b.WriteString(" -rF") // a path, most often
		}
		b.WriteString("\n")
	}
	for _, g := range w.flags[""] {
		flag("__bbimport_using", g)
	}
	for _, c := range w.commands {
		for _, f := range w.flags[c] {
			flag("__bbimport_using "+c, f)
		}
	}
	for _, c := range sortedKeys(w.args) {
		fmt.Fprintf(&b, "complete -c bbimport -n %s -a %s\n", fishQuote("__bbimport_using "+c), fishQuote(strings.Join(w.args[c], " ")))
	}
	return b.String()
}

// fishQuote single-quotes s for fish (which escapes only \ and ' inside).
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
