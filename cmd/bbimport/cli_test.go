package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/urfave/cli/v2"
)

// appCommands is the app as main builds it: every command, the ones added
// later too.
func appCommands(t *testing.T) (*cli.App, []*cli.Command) {
	t.Helper()
	rt := newInvocation(&bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" })
	rt.setupOutput()
	app := newApp(rt, allCommands(rt))
	return app, app.Commands
}

// timestamps and durations differ between two otherwise identical runs.
var volatile = regexp.MustCompile(`"time":"[^"]*"|\d+(\.\d+)?(ms|µs|s)\b|\d\d:\d\d:\d\d`)

func stable(s string) string { return volatile.ReplaceAllString(s, "#") }

// oneLine fails unless a usage error printed exactly one line on stderr and
// nothing on stdout (no help dump).
func oneLine(t *testing.T, r result, args []string, want ...string) {
	t.Helper()
	if r.Code != exitUsage {
		t.Errorf("%q: exit %d, want %d\n%s", args, r.Code, exitUsage, r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("%q: stdout is not empty:\n%s", args, r.Stdout)
	}
	if n := strings.Count(strings.TrimRight(r.Stderr, "\n"), "\n"); n != 0 || r.Stderr == "" {
		t.Errorf("%q: %d lines on stderr, want 1:\n%s", args, n+1, r.Stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("%q: stderr does not say %q:\n%s", args, w, r.Stderr)
		}
	}
}

// failFast are arguments that make a command stop after its flags were read
// and before it sends a request (so both runs of a pair print the same);
// a command not listed runs with no arguments.
var failFast = map[string][]string{
	"doctor":     {"--source=none"},
	"completion": {"bash"},
}

// TestGlobalFlagsEitherSide: every global option root --help lists, before
// or after every command's name, has the same meaning: the same exit code
// and output for a good value and for a bad one; a command that does not
// take the option refuses it in both positions naming it.
func TestGlobalFlagsEitherSide(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	app, commands := appCommands(t)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	otherLogs := filepath.Join(t.TempDir(), "other-logs")
	values := map[string][]string{
		"logPath":            {otherLogs, filepath.Join(notDir, "sub")},
		"logLevel":           {"debug", "loud"},
		"logFormat":          {"json", "xml"},
		"bitbucketRateLimit": {"5000", "abc"},
		"snykRateLimit":      {"100", "0"},
		"stateDir":           {t.TempDir(), filepath.Join(notDir, "sub")},
		"rateLimitWait":      {"5m", "abc"},
		"dryRun":             {"true", "maybe"},
	}
	var globals []string
	for _, f := range app.Flags {
		if n := f.Names()[0]; n != "help" && n != "version" {
			globals = append(globals, n)
		}
	}
	if len(globals) < 6 {
		t.Fatalf("global options %v: want at least logPath, logLevel, logFormat, the rate limits and dryRun", globals)
	}
	for _, cmd := range commands {
		for _, name := range globals {
			vals, ok := values[name]
			if !ok {
				t.Fatalf("global option --%s has no test values", name)
			}
			for vi, v := range vals {
				flag := "--" + name + "=" + v
				after := append([]string{cmd.Name, flag}, failFast[cmd.Name]...)
				before := append([]string{flag, cmd.Name}, failFast[cmd.Name]...)
				_ = os.RemoveAll(otherLogs)
				ra := e.Run(after...)
				_, errA := os.Stat(otherLogs)
				_ = os.RemoveAll(otherLogs)
				rb := e.Run(before...)
				_, errB := os.Stat(otherLogs)
				if ra.Code != rb.Code || stable(ra.Stdout) != stable(rb.Stdout) {
					t.Errorf("%q: exit %d, %q: exit %d; stdout\n%s\nvs\n%s", after, ra.Code, before, rb.Code, ra.Stdout, rb.Stdout)
					continue
				}
				if (errA == nil) != (errB == nil) {
					t.Errorf("%s %s: log directory created after the name %v, before it %v", cmd.Name, flag, errA == nil, errB == nil)
				}
				takes := lookupFlag(cmd.Flags, name) != nil
				switch {
				case !takes:
					oneLine(t, ra, after, "--"+name)
					oneLine(t, rb, before, "--"+name)
				case stable(ra.Stderr) != stable(rb.Stderr):
					t.Errorf("%q vs %q: stderr differs:\n%s\nvs\n%s", after, before, ra.Stderr, rb.Stderr)
				case vi == 1 && name != "logPath": // the log directory is made when the action needs it
					oneLine(t, ra, after, "--"+name)
				}
			}
		}
	}
	if n := e.Sim.Count("snyk.requests"); n != 0 {
		t.Errorf("%d Snyk requests, want 0", n)
	}
}

// TestGlobalFlagsMeaning: the good values of the pairs above do what they
// say whichever side of the command name they are on.
func TestGlobalFlagsMeaning(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	g := sim.SimSnykGroupID
	for _, before := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "logs")
		args := []string{"orgs:data", "--groupId=" + g}
		for _, f := range []string{"--logPath=" + dir, "--logLevel=debug", "--logFormat=json"} {
			if before {
				args = append([]string{f}, args...)
			} else {
				args = append(args, f)
			}
		}
		e.Set("SNYK_LOG_PATH", "")
		r := e.MustRun(0, args...)
		if _, err := os.Stat(filepath.Join(dir, "group-"+g+"-bitbucket-cloud-app-orgs.json")); err != nil {
			t.Errorf("%q: the orgs file is not in --logPath: %v", args, err)
		}
		if !strings.Contains(r.Stderr, `{"level":"debug"`) {
			t.Errorf("%q: no JSON debug line on stderr:\n%s", args, r.Stderr)
		}
	}
}

// TestDryRunBeforeCommand: `bbimport --dryRun orgs:create` and `bbimport
// --dryRun import` (and the original's `--dryRun true`) create nothing: the
// simulator counts 0 orgs created and 0 imports.
func TestDryRunBeforeCommand(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	g := sim.SimSnykGroupID
	// Each spelling before the command, then the count that must stay 0.
	dryRuns := func(counter string, args ...string) {
		t.Helper()
		for _, dry := range [][]string{{"--dryRun"}, {"--dryRun", "true"}, {"--dry-run=true"}} {
			r := e.MustRun(0, append(dry, args...)...)
			if !strings.Contains(r.Stdout, "Dry run") {
				t.Errorf("%v %v: stdout:\n%s", dry, args, r.Stdout)
			}
		}
		if n := e.Sim.Count(counter); n != 0 {
			t.Fatalf("--dryRun before %s: %s = %d, want 0", args[0], counter, n)
		}
	}
	e.MustRun(0, "orgs:data", "--groupId="+g)
	orgsFile := e.File("group-" + g + "-bitbucket-cloud-app-orgs.json")
	dryRuns("snyk.orgs_created", "orgs:create", "--file="+orgsFile)
	e.MustRun(0, "orgs:create", "--file="+orgsFile)
	e.MustRun(0, "import:data", "--orgsData="+e.File("snyk-created-orgs.json"))
	targets := e.File("bitbucket-cloud-app-import-targets.json")
	dryRuns("snyk.imports", "import", "--file="+targets)
	// `--dryRun false` before the command is a real run.
	e.MustRun(0, "--dryRun", "false", "import", "--file="+targets)
	if n := e.Sim.Count("snyk.imports"); n == 0 {
		t.Error("--dryRun false: nothing imported")
	}
}

// TestBooleanSpellings: the original's `--flag true|false` (value after a
// space) means the same as --flag=true|false; a bare flag means true.
func TestBooleanSpellings(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: append(smallEstate(),
		sim.WorkspaceSpec{Slug: "empty-ws", Name: "Empty"})}})
	g := sim.SimSnykGroupID
	orgsFile := e.File("group-" + g + "-bitbucket-cloud-app-orgs.json")
	read := func() string {
		data, err := os.ReadFile(orgsFile)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for _, tt := range []struct {
		args []string
		same []string
	}{
		{[]string{"--skipEmptyOrgs", "true"}, []string{"--skipEmptyOrgs=true"}},
		{[]string{"--skipEmptyOrgs", "false"}, []string{"--skipEmptyOrgs=false"}},
		{[]string{"--skip-empty-orgs", "TRUE"}, []string{"--skipEmptyOrgs"}},
	} {
		e.MustRun(0, append([]string{"orgs:data", "--groupId=" + g}, tt.args...)...)
		got := read()
		e.MustRun(0, append([]string{"orgs:data", "--groupId=" + g}, tt.same...)...)
		if want := read(); got != want {
			t.Errorf("orgs:data %v wrote\n%s\nbut %v wrote\n%s", tt.args, got, tt.same, want)
		}
		if skip := !strings.Contains(tt.args[1], "false"); skip == strings.Contains(got, "empty-ws") {
			t.Errorf("orgs:data %v: the empty workspace is listed: %v", tt.args, !skip)
		}
		// The flags after it are still read (Go's parser stops at "true").
		e.MustRun(0, append(append([]string{"orgs:data"}, tt.args...), "--groupId="+g)...)
	}
	for _, dry := range [][]string{{"--dryRun", "true"}, {"--dryRun=true"}, {"--dryRun"}} {
		r := e.MustRun(0, append([]string{"orgs:create", "--file=" + orgsFile}, dry...)...)
		if !strings.Contains(r.Stdout, "Dry run") {
			t.Errorf("orgs:create %v: not a dry run:\n%s", dry, r.Stdout)
		}
	}
	if n := e.Sim.Count("snyk.orgs_created"); n != 0 {
		t.Errorf("%d orgs created by dry runs", n)
	}
	r := e.MustRun(0, "orgs:create", "--file="+orgsFile, "--dryRun", "false")
	if strings.Contains(r.Stdout, "Dry run") || e.Sim.Count("snyk.orgs_created") == 0 {
		t.Errorf("--dryRun false: still a dry run:\n%s", r.Stdout)
	}
}

// TestMistypedCommandLine: a misspelled flag or command gets one line on
// stderr with the closest valid name, exit 2 and nothing on stdout.
func TestMistypedCommandLine(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"orgs:data", "--groupid=G"}, "did you mean --groupId?"},
		{[]string{"orgs:data", "--group_id", "G"}, "did you mean --groupId?"},
		{[]string{"orgs:data", "--gropuId=G"}, "did you mean --groupId?"},
		{[]string{"orgs:create", "--dryrun"}, "did you mean --dryRun?"},
		{[]string{"import", "--fiel=x"}, "did you mean --file?"},
		{[]string{"--fiel=x"}, "did you mean --file?"},
		{[]string{"--loglevel=debug", "orgs:data"}, "did you mean --logLevel?"},
		{[]string{"import:data", "--orgs-dta=x"}, "did you mean --orgsData?"},
		{[]string{"orgs:list"}, "did you mean orgs:data?"},
		{[]string{"improt"}, "did you mean import?"},
		{[]string{"import-data"}, "did you mean import:data?"},
		{[]string{"list"}, "did you mean list:imported?"},
		{[]string{"doctr", "--groupId=" + sim.SimSnykGroupID}, "did you mean doctor?"},
		{[]string{"help", "orgs:dat"}, "did you mean orgs:data?"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"; the commands are orgs:data`},
		{[]string{"orgs:data", "--zzzzzz"}, "bbimport help orgs:data lists the flags"},
		{[]string{"orgs:data", "--groupId"}, "--groupId needs a value"},
		{[]string{"import", "--dryRun=maybe"}, `--dryRun="maybe" is not true or false`},
		{[]string{"--file=x", "orgs:create"}, "--file is not a global option: put it after the command name (bbimport orgs:create --file=…)"},
		{[]string{"--skipEmptyOrgs", "orgs:data", "--groupId=" + sim.SimSnykGroupID}, "--skipEmptyOrgs is not a global option: put it after the command name"},
		{[]string{"--file=x", "orgs:data"}, "unknown flag --file for orgs:data"},
		{[]string{"--grupId=g", "orgs:data"}, "did you mean --groupId?"},
		{[]string{"import", "-v"}, "unknown flag --v for import; bbimport help import lists the flags"},
	} {
		r := e.Run(tt.args...)
		oneLine(t, r, tt.args, tt.want)
		for _, dump := range []string{"USAGE:", "OPTIONS:", "Incorrect Usage"} {
			if strings.Contains(r.Stdout+r.Stderr, dump) {
				t.Errorf("%q: help text in the output:\n%s%s", tt.args, r.Stdout, r.Stderr)
			}
		}
	}
}

// TestHelpCommand: `bbimport help` exits 0 with the commands; `bbimport
// help <command>` and `--help` before or after the name print its flags.
func TestHelpCommand(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	_, commands := appCommands(t)
	r := e.MustRun(0, "help")
	for _, c := range commands {
		if !strings.Contains(r.Stdout, c.Name) {
			t.Errorf("bbimport help does not list %s:\n%s", c.Name, r.Stdout)
		}
	}
	if !strings.Contains(r.Stdout, "GLOBAL FLAGS") || !strings.Contains(r.Stdout, "--dryRun") {
		t.Errorf("bbimport help lists no global options:\n%s", r.Stdout)
	}
	e.MustRun(0, "--help")
	for _, args := range [][]string{{"help", "orgs:data"}, {"orgs:data", "--help"}, {"--help", "orgs:data"}, {"orgs:data", "-h"}} {
		r := e.MustRun(0, args...)
		if !strings.Contains(r.Stdout, "--groupId") || !strings.Contains(r.Stdout, "--skipEmptyOrgs") {
			t.Errorf("%q: no orgs:data flags:\n%s", args, r.Stdout)
		}
	}
	r = e.MustRun(0, "--version")
	if !strings.Contains(r.Stdout, "bbimport version ") {
		t.Errorf("--version: %q", r.Stdout)
	}
}

// TestFlagValueMessages (issue 14 row 11): a flag's bad value gets the
// message its variable gets (name, range), one line, exit 2, no help; the
// nonsensical values are refused.
func TestFlagValueMessages(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file, _ := oneTarget(t, e)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--bitbucketRateLimit=abc"}, []string{`--bitbucketRateLimit="abc" is not a whole number`, "1 or more"}},
		{[]string{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--bitbucket-rate-limit=abc"}, []string{`--bitbucketRateLimit="abc" is not a whole number`}},
		{[]string{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--bitbucketRateLimit=0"}, []string{"--bitbucketRateLimit=0 is out of range", "1 or more"}},
		{[]string{"import", "--file=" + file, "--snykRateLimit=99999999999999999999999"}, []string{"--snykRateLimit=99999999999999999999999 is too large"}},
		{[]string{"import", "--file=" + file, "--concurrency=abc"}, []string{`--concurrency="abc" is not a whole number`, "1 to 50"}},
		{[]string{"import:data", "--orgsData=x", "--concurrency=abc"}, []string{`--concurrency="abc" is not a whole number`, "1 to 50"}},
		{[]string{"import:data", "--orgsData=x", "--concurrency=51"}, []string{"--concurrency=51 is out of range", "1 to 50"}},
		{[]string{"import", "--file=" + file, "--pollInterval=abc"}, []string{`--pollInterval="abc" is not a duration`, "1ms to 1m"}},
		{[]string{"import", "--file=" + file, "--pollInterval=2m"}, []string{"--pollInterval=2m is out of range", "1ms to 1m"}},
		{[]string{"import", "--file=" + file, "--pollTimeout=1ns"}, []string{"--pollTimeout=1ns is out of range", "1s to 168h"}},
		{[]string{"import", "--file=" + file, "--pollTimeout=-5m"}, []string{"--pollTimeout=-5m is out of range"}},
		{[]string{"doctor", "--maxWorkspaces=-1"}, []string{"--maxWorkspaces=-1 is out of range", "0 or more"}},
		{[]string{"doctor", "--maxWorkspaces=many"}, []string{`--maxWorkspaces="many" is not a whole number`}},
	} {
		oneLine(t, e.Run(tt.args...), tt.args, tt.want...)
	}
	if n := e.Sim.Count("snyk.requests") + e.Sim.Count("bitbucket.requests"); n != 0 {
		t.Errorf("%d API requests for refused values, want 0", n)
	}
	// The variable's message is the flag's with the variable's name.
	e.Set("BITBUCKET_RATE_LIMIT", "abc")
	env := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID)
	e.Set("BITBUCKET_RATE_LIMIT", "")
	flag := e.Run("orgs:data", "--groupId="+sim.SimSnykGroupID, "--bitbucketRateLimit=abc")
	if got, want := strings.Replace(env.Stderr, "BITBUCKET_RATE_LIMIT", "--bitbucketRateLimit", 1), flag.Stderr; got != want {
		t.Errorf("variable and flag messages differ:\n%s%s", env.Stderr, flag.Stderr)
	}
}

// TestRateLimitAnyPositive: every positive rate limit is accepted, from the
// variables and the flags, however large.
func TestRateLimitAnyPositive(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	g := sim.SimSnykGroupID
	huge := "9223372036854775807"
	e.Set("BITBUCKET_RATE_LIMIT", "5000000")
	e.Set("SNYK_RATE_LIMIT", huge)
	e.MustRun(0, "orgs:data", "--groupId="+g)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"))
	e.Set("BITBUCKET_RATE_LIMIT", "")
	e.Set("SNYK_RATE_LIMIT", "")
	e.MustRun(0, "--bitbucketRateLimit="+huge, "orgs:data", "--groupId="+g)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+g+"-bitbucket-cloud-app-orgs.json"), "--snykRateLimit=2000000")
	for _, v := range []string{"0", "-1", "1.5", "abc"} {
		e.Set("SNYK_RATE_LIMIT", v)
		oneLine(t, e.Run("list:imported", "--groupId="+g), []string{"SNYK_RATE_LIMIT=" + v}, "SNYK_RATE_LIMIT", "1 or more")
	}
}

// TestInputsFromLogPath: the next stage's input named relative to the log
// directory (as each stage's "Next:" line and the README put it) is found
// there from any directory; a name in neither place says where it looked.
func TestInputsFromLogPath(t *testing.T) {
	// Serial: t.Chdir changes the whole process's working directory.
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	g := sim.SimSnykGroupID
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(e.LogPath, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.File("ws.txt"), []byte("north\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.MustRun(0, "orgs:data", "--groupId="+g, "--workspacesFile=ws.txt")
	e.MustRun(0, "orgs:create", "--file=group-"+g+"-bitbucket-cloud-app-orgs.json")
	e.MustRun(0, "import:data", "--orgs-data=snyk-created-orgs.json") // the kebab alias too
	r := e.MustRun(0, "import", "--file=bitbucket-cloud-app-import-targets.json", "--dryRun")
	if !strings.Contains(r.Stdout, "would import 18 of 18 targets") {
		t.Errorf("import of the north workspace's targets: %s", r.Stdout)
	}
	e.Set("SNYK_IMPORT_PATH", "bitbucket-cloud-app-import-targets.json")
	e.MustRun(0, "import", "--dryRun")
	e.Set("SNYK_IMPORT_PATH", "")
	r = e.Run("doctor", "--orgsData=snyk-created-orgs.json")
	if strings.Contains(r.Stdout+r.Stderr, "no such file") {
		t.Errorf("doctor --orgsData from the log directory:\n%s%s", r.Stdout, r.Stderr)
	}
	// A file in the current directory wins over the log directory's.
	copyFile(t, e.File("ws.txt"), "ws.txt")
	if err := os.WriteFile("ws.txt", []byte("south-side\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.MustRun(0, "orgs:data", "--groupId="+g, "--workspacesFile=ws.txt")
	if !strings.Contains(r.Stdout, "Found 1 workspace") {
		t.Errorf("--workspacesFile in the current directory: %s", r.Stdout)
	}
	cwd, _ := os.Getwd()
	for _, args := range [][]string{
		{"import:data", "--orgsData=nope.json"},
		{"orgs:create", "--file=nope.json"},
		{"import", "--file=nope.json"},
		{"orgs:data", "--groupId=" + g, "--workspacesFile=nope.txt"},
	} {
		oneLine(t, e.Run(args...), args, "nope.", "current directory ("+cwd+")", "SNYK_LOG_PATH="+e.LogPath)
	}
}

// TestCompletion: the scripts name every command and its flags, and each
// shell (where installed) completes commands and flags through its script.
func TestCompletion(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	_, commands := appCommands(t)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := e.MustRun(0, "completion", sh)
		for _, c := range commands {
			if !strings.Contains(r.Stdout, c.Name) {
				t.Errorf("%s completion lacks the command %s", sh, c.Name)
			}
		}
		if !strings.Contains(r.Stdout, "groupId") || !strings.Contains(r.Stdout, "skipEmptyOrgs") {
			t.Errorf("%s completion lacks orgs:data's flags", sh)
		}
	}
	oneLine(t, e.Run("completion", "tcsh"), nil, "bash, zsh and fish")
	script := func(t *testing.T, sh string) string {
		p := filepath.Join(t.TempDir(), "bbimport."+sh)
		if err := os.WriteFile(p, []byte(e.MustRun(0, "completion", sh).Stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	shell := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		bin, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("no %s", name)
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	sameWords := func(t *testing.T, what, got, want string) {
		t.Helper()
		g, w := strings.Fields(got), strings.Fields(want)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("completing %q: %q, want %q", what, g, w)
		}
	}
	t.Run("bash", func(t *testing.T) {
		p := script(t, "bash")
		for _, tt := range []struct{ line, want string }{
			{"bbimport orgs:d", "data"}, // bash splits words at the colon
			{"bbimport impo", "import import:data"},
			{"bbimport orgs:data --grou", "--groupId --group-id"},
			{"bbimport --logLevel=debug import --dry", "--dryRun --dry-run"},
			{"bbimport --log", "--logFormat --logLevel --logPath --log-format --log-level --log-path"},
		} {
			out := shell(t, "bash", "-c", `source "$1"; COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}; _bbimport; echo "${COMPREPLY[*]}"`,
				"bash", p, tt.line)
			sameWords(t, tt.line, out, tt.want)
		}
	})
	t.Run("zsh", func(t *testing.T) {
		p := script(t, "zsh")
		shell(t, "zsh", "-n", p)
		// compadd stubbed: the candidates offered (zsh filters them by prefix).
		for _, tt := range []struct {
			words        string
			want, absent string
		}{
			{"bbimport orgs:d", "orgs:data", "--groupId"},
			{"bbimport orgs:data --gr", "--groupId", "--file"},
			{"bbimport --logLevel=debug import x", "--dryRun", "orgs:data"},
			{"bbimport sync --onDeletedRepo d", "delete", "--dryRun"},
			{"bbimport help s", "sync", "--help"},
		} {
			words := strings.Fields(tt.words)
			out := shell(t, "zsh", append([]string{"-f", "-c", `compdef() { :; }; compadd() { shift; print -r -- "$@"; }; source "$1"; shift; words=("$@"); CURRENT=$#; _bbimport`, "zsh", p}, words...)...)
			got := strings.Fields(out)
			if !slices.Contains(got, tt.want) || slices.Contains(got, tt.absent) {
				t.Errorf("zsh completing %q: %q, want %s and not %s", tt.words, got, tt.want, tt.absent)
			}
		}
	})
	t.Run("fish", func(t *testing.T) {
		p := script(t, "fish")
		shell(t, "fish", "-n", p)
		for _, tt := range []struct{ line, want string }{
			{"bbimport orgs:d", "orgs:data"},
			{"bbimport orgs:data --grou", "--groupId --group-id"},
			{"bbimport --logFormat ", "auto json text"},
			{"bbimport completion ", "bash zsh fish"},
			{"bbimport help ", "orgs:data orgs:create import:data import list:imported sync doctor help version completion"},
			// a global flag's value is no command: the commands, then the command's flags
			{"bbimport --logLevel debug ", "orgs:data orgs:create import:data import list:imported sync doctor help version completion"},
			{"bbimport --logLevel debug import --con", "--concurrency"},
			{"bbimport --logFormat=json sync --onDeletedRepo ", "deactivate delete ignore"},
			{"bbimport import --h", "--help"},
		} {
			// `string split` exits 1 when no line had a tab (no description).
			out := shell(t, "fish", "-c", `source $argv[1]; complete -C $argv[2] | string split -f1 \t; true`, p, tt.line)
			sameWords(t, tt.line, out, tt.want)
		}
	})
}

// TestArrangeArgs: the rewrite itself, before urfave/cli parses anything.
func TestArrangeArgs(t *testing.T) {
	t.Parallel()
	app, _ := appCommands(t)
	for _, tt := range []struct{ in, want string }{
		{"", "import"},
		{"--file=t.json", "import --file=t.json"},
		{"--file t.json --dryRun true", "import --file t.json --dryRun=true"},
		{"--dryRun orgs:create --file=F", "orgs:create --dryRun --file=F"},
		{"--dryRun true orgs:create --file F", "orgs:create --dryRun=true --file F"},
		{"--logPath /tmp/x --log-level debug i --file=T", "i --logPath /tmp/x --log-level debug --file=T"},
		{"orgs:data --groupId G --skipEmptyOrgs false --workspace w", "orgs:data --groupId G --skipEmptyOrgs=false --workspace w"},
		{"orgs:data --skipEmptyOrgs true", "orgs:data --skipEmptyOrgs=true"},
		{"orgs:data --workspace true", "orgs:data --workspace true"}, // a string flag keeps its value
		{"--help orgs:data", "orgs:data --help"},
		{"--help", "--help"},
		{"--version import", "--version"},
		{"help import", "help import"},
	} {
		in := append([]string{"bbimport"}, strings.Fields(tt.in)...)
		got, err := arrangeArgs(app, in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if g := strings.Join(got[1:], " "); g != tt.want {
			t.Errorf("%q → %q, want %q", tt.in, g, tt.want)
		}
	}
}
