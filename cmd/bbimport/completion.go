package main

import (
	"fmt"
	"sort"
	"strings"

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

// completionWords lists the commands, and per command its flags (every
// name, as --name), global options included.
func completionWords(app *cli.App) (commands []string, flags map[string][]string, global []string) {
	flags = map[string][]string{}
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		commands = append(commands, c.Name)
		for _, f := range c.Flags {
			for _, n := range f.Names() {
				flags[c.Name] = append(flags[c.Name], "--"+n)
			}
		}
		sort.Strings(flags[c.Name])
	}
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			global = append(global, "--"+n)
		}
	}
	global = append(global, "--help", "--version")
	sort.Strings(global)
	return commands, flags, global
}

func bashCompletion(app *cli.App) string {
	commands, flags, global := completionWords(app)
	var cases strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&cases, "    %s) opts=%q ;;\n", c, strings.Join(flags[c], " "))
	}
	// COMP_WORDBREAKS splits orgs:data at the colon, so the words are taken
	// from COMP_LINE, and the part of the word up to its last colon is cut
	// from the replies. Plain bash 3.2 (macOS) syntax.
	return `# bash completion for bbimport: source <(bbimport completion bash)
_bbimport() {
  local line="${COMP_LINE:0:COMP_POINT}" cur="" cmd="" w opts
  local -a words
  read -r -a words <<< "$line"
  if [[ "$line" != *" " && ${#words[@]} -gt 0 ]]; then
    cur="${words[${#words[@]}-1]}"
    unset "words[${#words[@]}-1]"
  fi
  for w in "${words[@]:1}"; do
    case "$w" in -*) ;; *) cmd="$w"; break ;; esac
  done
  if [[ -z "$cmd" && "$cur" != -* ]]; then
    opts=` + fmt.Sprintf("%q", strings.Join(commands, " ")) + `
  else
    case "$cmd" in
` + cases.String() + `    *) opts=` + fmt.Sprintf("%q", strings.Join(global, " ")) + ` ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  if [[ "$cur" == *:* ]]; then
    local prefix="${cur%"${cur##*:}"}" i
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]="${COMPREPLY[i]#"$prefix"}"; done
  fi
}
complete -o default -F _bbimport bbimport
`
}

func zshCompletion(app *cli.App) string {
	commands, flags, global := completionWords(app)
	var cases strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&cases, "    %s) compadd -- %s ;;\n", c, strings.Join(flags[c], " "))
	}
	return `#compdef bbimport
# zsh completion for bbimport: bbimport completion zsh > "${fpath[1]}/_bbimport"
# (or source <(bbimport completion zsh) after compinit)
_bbimport() {
  local cmd w
  for w in ${words[2,CURRENT-1]}; do
    [[ $w != -* ]] && { cmd=$w; break }
  done
  if [[ -z $cmd && ${words[CURRENT]} != -* ]]; then
    compadd -- ` + strings.Join(commands, " ") + `
    return
  fi
  case $cmd in
` + cases.String() + `    *) compadd -- ` + strings.Join(global, " ") + ` ;;
  esac
}
if [[ $funcstack[1] == _bbimport ]]; then _bbimport "$@"; else compdef _bbimport bbimport; fi
`
}

func fishCompletion(app *cli.App) string {
	commands, flags, global := completionWords(app)
	var b strings.Builder
	b.WriteString("# fish completion for bbimport: bbimport completion fish > ~/.config/fish/completions/bbimport.fish\n")
	b.WriteString("complete -c bbimport -f\n")
	usage := map[string]string{}
	for _, c := range app.Commands {
		usage[c.Name] = c.Usage
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "complete -c bbimport -n __fish_use_subcommand -a %s -d %s\n", fishQuote(c), fishQuote(usage[c]))
	}
	for _, g := range global {
		fmt.Fprintf(&b, "complete -c bbimport -n __fish_use_subcommand -l %s\n", strings.TrimPrefix(g, "--"))
	}
	for _, c := range commands {
		for _, f := range flags[c] {
			fmt.Fprintf(&b, "complete -c bbimport -n %s -l %s\n", fishQuote("__fish_seen_subcommand_from "+c), strings.TrimPrefix(f, "--"))
		}
	}
	return b.String()
}

// fishQuote single-quotes s for fish (which escapes only \ and ' inside).
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
