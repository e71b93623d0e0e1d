package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestHelpFits (issue 23 row 2): every command's help, at 80 columns and at
// 100 (COLUMNS), fits the width, has USAGE, EXAMPLES and LEARN MORE, shows
// each flag name once (no urfave "[ --x value ]" repeats, no kebab alias
// beside its camelCase name) and leaves the global flags to `bbimport
// help`, which lists them once.
func TestHelpFits(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	_, commands := appCommands(t)
	for _, width := range []int{80, 100} {
		if width == 100 {
			e.Set("COLUMNS", "100")
		}
		for _, c := range commands {
			if c.Name == "help" {
				continue // bbimport help --help is bbimport help
			}
			if _, ok := helpOf[c.Name]; !ok {
				t.Errorf("%s has no entry in helpOf", c.Name)
			}
			r := e.MustRun(0, c.Name, "--help")
			checkFits(t, c.Name+" --help", r.Stdout, width)
			for _, section := range []string{"\nUSAGE\n  bbimport " + c.Name, "\nEXAMPLES\n  ", "\n  $ ", "\nLEARN MORE\n"} {
				if !strings.Contains(r.Stdout, section) {
					t.Errorf("%s --help: no %q:\n%s", c.Name, section, r.Stdout)
				}
			}
			for _, bad := range []string{"[ --", "--stateDir", "--rateLimitWait", "--help, -h", "GLOBAL"} {
				if strings.Contains(r.Stdout, bad) {
					t.Errorf("%s --help shows %q:\n%s", c.Name, bad, r.Stdout)
				}
			}
			for _, f := range ownFlags(c, map[string]bool{"logPath": true, "logLevel": true, "logFormat": true, "bitbucketRateLimit": true,
				"snykRateLimit": true, "stateDir": true, "rateLimitWait": true, "dryRun": true}) {
				name := f.Names()[0]
				if n := len(regexp.MustCompile(`\n  --`+name+`[ ,\n]`).FindAllString(r.Stdout, -1)); n != 1 {
					t.Errorf("%s --help: --%s listed %d times", c.Name, name, n)
				}
				if k := kebab(name); k != name && strings.Contains(r.Stdout, "--"+k+" ") {
					t.Errorf("%s --help repeats --%s as --%s", c.Name, name, k)
				}
			}
			if slices.Contains([]string{"orgs:data", "import:data", "sync", "doctor"}, c.Name) &&
				!strings.Contains(r.Stdout, "\nENVIRONMENT\n  SNYK_LOG_PATH") {
				t.Errorf("%s --help: no ENVIRONMENT:\n%s", c.Name, r.Stdout)
			}
		}
		r := e.MustRun(0, "help")
		checkFits(t, "help", r.Stdout, width)
		for _, g := range []string{"--logPath", "--logLevel", "--logFormat", "--bitbucketRateLimit", "--snykRateLimit", "--stateDir", "--rateLimitWait", "--dryRun"} {
			if n := strings.Count(r.Stdout, "  "+g+" "); n != 1 {
				t.Errorf("bbimport help lists %s %d times:\n%s", g, n, r.Stdout)
			}
		}
		for _, c := range commands {
			if !strings.Contains(r.Stdout, "\n  "+c.Name+" ") && !strings.Contains(r.Stdout, "\n  "+c.Name+",") {
				t.Errorf("bbimport help does not list %s", c.Name)
			}
		}
	}
}

func checkFits(t *testing.T, what, text string, width int) {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if n := len([]rune(line)); n > width {
			t.Errorf("%s: line %d is %d columns, over %d: %q", what, i+1, n, width, line)
		}
	}
}

// TestVersionCommand: `bbimport version` and --version say the same.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	r := e.MustRun(0, "version")
	if r.Stdout != "bbimport version "+version+"\n" || r.Stdout != e.MustRun(0, "--version").Stdout {
		t.Errorf("version: %q, --version: %q", r.Stdout, e.MustRun(0, "--version").Stdout)
	}
	oneLine(t, e.Run("version", "x"), nil, "version takes no arguments")
}

// TestCompletionValues (issue 23 row 2): completion offers commands after
// help, the shells after completion, the values of an enumerated flag after
// it (with a space or =), a flag's value is not taken for the command, and
// nothing but real long names is offered (no --h, --v, --help twice).
func TestCompletionValues(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	for _, sh := range []string{"bash", "zsh", "fish"} {
		s := e.MustRun(0, "completion", sh).Stdout
		for _, bad := range []string{"--h ", "--v ", "--h\n", "--v\n", "-l h\n", "-l v\n"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s completion offers %q", sh, bad)
			}
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	p := filepath.Join(t.TempDir(), "bbimport.bash")
	if err := os.WriteFile(p, []byte(e.MustRun(0, "completion", "bash").Stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ line, want string }{
		{"bbimport help ", "orgs:data orgs:create import:data import list:imported sync doctor help version completion"},
		{"bbimport completion ", "bash zsh fish"},
		{"bbimport --logFormat ", "auto json text"},
		{"bbimport sync --log-format ", "auto json text"},
		{"bbimport --logFormat=j", "json"},
		{"bbimport --logLevel d", "debug"},
		{"bbimport sync --onDeletedRepo ", "deactivate delete ignore"},
		{"bbimport import:data --source=bitbucket-cloud", "bitbucket-cloud-app bitbucket-cloud"},
		{"bbimport --logLevel debug import --dry", "--dryRun --dry-run"},
		{"bbimport --he", "--help"},
		{"bbimport --logFormat json orgs:data --grou", "--groupId --group-id"},
	} {
		out, err := exec.Command(bash, "-c", `source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; _bbimport; echo "${COMPREPLY[*]}"`,
			"bash", p, tt.line).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		got, want := strings.Fields(string(out)), strings.Fields(tt.want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("completing %q: %q, want %q", tt.line, got, want)
		}
	}
}
