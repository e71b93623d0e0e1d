package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// ciPages are the pages that carry the files of docs/ci, verbatim.
var ciPages = []string{"docs/ci-examples.md", "docs/sharding.md"}

// TestCIExamples: every YAML file under docs/ci parses (every document of
// it), one of ciPages carries each one verbatim (and no other YAML), and
// the rules the pages promise hold: no failed restore swallowed (`|| echo`,
// `|| true`), the save only after the state was established, exit 3 let
// through and nothing else; the sharded examples are checked by
// checkShardedExamples.
func TestCIExamples(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "docs", "ci")
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) < 8 {
		t.Fatalf("docs/ci: %v, %v", files, err)
	}
	inDoc := map[string]bool{}
	for _, page := range ciPages {
		md := repoFile(t, page)
		for _, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(md, -1) {
			inDoc[b[1]] = false
		}
	}
	docs := map[string]map[string]any{}
	all := map[string][]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err == io.EOF {
				break
			} else if err != nil {
				t.Errorf("%s: %v", f, err)
				break
			}
			all[filepath.Base(f)] = append(all[filepath.Base(f)], doc)
		}
		if len(all[filepath.Base(f)]) == 0 {
			continue
		}
		docs[filepath.Base(f)] = all[filepath.Base(f)][0]
		if _, ok := inDoc[string(data)]; !ok {
			t.Errorf("none of %v has a yaml block equal to %s", ciPages, f)
		}
		inDoc[string(data)] = true
		text := string(data)
		for _, bad := range []string{"|| echo", "|| true", "@latest"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s contains %q", f, bad)
			}
		}
	}
	for b, matched := range inDoc {
		if !matched {
			t.Errorf("%v: a yaml block that is no file of docs/ci:\n%.200s", ciPages, b)
		}
	}

	// GitHub Actions: the state step runs before the sync, the run's
	// summary goes to the step summary whatever the sync's outcome, the
	// cache save depends on the state step.
	gh := docs["github-actions.yml"]
	steps := yamlAt[[]any](t, gh, "jobs", "sync", "steps")
	var stateAt, syncAt, summaryAt, saveAt = -1, -1, -1, -1
	for i, s := range steps {
		step := s.(map[string]any)
		run, _ := step["run"].(string)
		switch {
		case step["id"] == "state":
			stateAt = i
		case step["id"] == "sync":
			syncAt = i
		case strings.Contains(run, `>> "$GITHUB_STEP_SUMMARY"`):
			summaryAt = i
			if cond, _ := step["if"].(string); !strings.Contains(cond, "always()") {
				t.Errorf("github: the summary step runs only when the sync passed: if: %q", cond)
			}
		case step["uses"] == "actions/cache/save@v4":
			saveAt = i
			if cond, _ := step["if"].(string); !strings.Contains(cond, "steps.state.outcome == 'success'") {
				t.Errorf("github: the cache is saved without the state step's success: if: %q", cond)
			}
		}
	}
	if !(stateAt >= 0 && stateAt < syncAt && syncAt < summaryAt && summaryAt < saveAt) {
		t.Errorf("github: steps state %d, sync %d, summary %d, save %d: want them in that order", stateAt, syncAt, summaryAt, saveAt)
	}

	// Bitbucket Pipelines: the restore tells 404 from the rest, the upload
	// waits for the marker, the summary is an artifact.
	bb := docs["bitbucket-pipelines.yml"]
	pipe := yamlAt[[]any](t, bb, "pipelines", "custom", "bbimport")
	step := pipe[0].(map[string]any)["step"].(map[string]any)
	script := joinStrings(step["script"].([]any))
	after := joinStrings(step["after-script"].([]any))
	for _, want := range []string{"404)", "*)", "exit 1", "state-established"} {
		if !strings.Contains(script, want) {
			t.Errorf("bitbucket: the restore lacks %q", want)
		}
	}
	if !strings.Contains(after, `[ ! -e "$BITBUCKET_CLONE_DIR/state-established" ]`) {
		t.Error("bitbucket: the after-script uploads without checking the state was established")
	}
	if arts := fmt.Sprint(step["artifacts"]); !strings.Contains(arts, "snyk-logs/sync-summary.json") {
		t.Errorf("bitbucket: the summary is no artifact: %s", arts)
	}
	checkNightlySync(t, all)

	// Kubernetes: never two runs at once, and every container runs the image.
	k8 := docs["kubernetes-cronjob.yml"]
	if p := yamlAt[string](t, k8, "spec", "concurrencyPolicy"); p != "Forbid" {
		t.Errorf("kubernetes: concurrencyPolicy %q, want Forbid", p)
	}
	checkShardedExamples(t, docs, all)
	checkCredentialExamples(t, docs)
}

// checkCredentialExamples: the examples with several Bitbucket credentials
// give bbimport a list it accepts, naming only variables set from the
// secret store (never holding a secret), and run doctor, orgs:data,
// orgs:create and sync in that order, letting exit 3 through.
func checkCredentialExamples(t *testing.T, docs map[string]map[string]any) {
	t.Helper()
	stages := []string{"bbimport doctor", "bbimport orgs:data", "bbimport orgs:create", "bbimport sync --orgsData"}
	inOrder := func(name, text string) {
		t.Helper()
		at := -1
		for _, st := range stages {
			i := strings.Index(text, st)
			if i < at {
				t.Errorf("%s: %q missing or out of order", name, st)
			}
			at = i
		}
	}

	// GitHub Actions: the list inline, every variable it names from secrets
	// (an e-mail may be a plain variable).
	gh := docs["github-actions-credentials.yml"]
	env := yamlAt[map[string]any](t, gh, "jobs", "sync", "env")
	list, _ := env[envBitbucketCredentials].(string)
	fromStore := map[string]string{}
	for k, v := range env {
		if s, ok := v.(string); ok {
			if m := regexp.MustCompile(`^\$\{\{ (secrets|vars)\.([A-Z_0-9]+) \}\}$`).FindStringSubmatch(s); m != nil && m[2] == k {
				fromStore[k] = m[1]
			}
		}
	}
	checkExampleList(t, "github-actions-credentials.yml", list, func(v string) (string, bool) { s, ok := fromStore[v]; return s, ok })
	var steps strings.Builder
	for _, st := range yamlAt[[]any](t, gh, "jobs", "sync", "steps") {
		step := st.(map[string]any)
		run, _ := step["run"].(string)
		steps.WriteString(run + "\n")
		if strings.Contains(run, "bbimport sync --orgsData") && (!strings.Contains(run, `if [ "$code" = 3 ]`) || !strings.Contains(run, `exit "$code"`)) {
			t.Errorf("github credentials: the sync step does not let 3 through and fail the rest:\n%s", run)
		}
	}
	inOrder("github-actions-credentials.yml", steps.String())

	// Bitbucket Pipelines: the committed file, its secrets secured
	// variables the run exports nothing over.
	bb := docs["bitbucket-pipelines-credentials.yml"]
	pipe := yamlAt[[]any](t, bb, "pipelines", "custom", "bbimport-nightly")
	script := joinStrings(pipe[0].(map[string]any)["step"].(map[string]any)["script"].([]any))
	if !strings.Contains(script, `export BITBUCKET_CREDENTIALS_FILE="$BITBUCKET_CLONE_DIR/bbimport-credentials.txt"`) {
		t.Error("bitbucket credentials: BITBUCKET_CREDENTIALS_FILE is not the committed file")
	}
	inOrder("bitbucket-pipelines-credentials.yml", script)
	if n := strings.Count(script, "|| [ $? -eq 3 ]"); n != 1 || !strings.Contains(script, `if [ "$code" = 3 ]`) {
		t.Errorf("bitbucket credentials: %d stages let exit 3 through, want orgs:create, and the sync's policy", n)
	}
	file := repoFile(t, "docs/ci/bbimport-credentials.txt")
	if !strings.Contains(repoFile(t, "docs/ci-examples.md"), "```text\n"+file+"```") {
		t.Error("docs/ci-examples.md does not carry docs/ci/bbimport-credentials.txt verbatim")
	}
	checkExampleList(t, "bbimport-credentials.txt", file, func(v string) (string, bool) {
		return "secured", strings.HasPrefix(v, "BB_") && !strings.Contains(script, v+"=")
	})
}

// checkExampleList parses a list as bbimport does, every variable it names
// set to a stand-in; store says where a variable comes from ("secrets",
// "vars", "secured") and whether it is set there at all.
func checkExampleList(t *testing.T, name, list string, store func(string) (string, bool)) {
	t.Helper()
	stand := func(v string) string {
		if _, ok := store(v); !ok {
			return ""
		}
		if strings.Contains(v, "EMAIL") {
			return "someone@example.com"
		}
		return "stand-in-" + strings.ToLower(v)
	}
	specs, err := parseCredentialList(list, name, stand, "https://bitbucket.org/site/oauth2/access_token", "default")
	if err != nil || len(specs) < 3 {
		t.Fatalf("%s: the list: %v (%d credentials)", name, err, len(specs))
	}
	kinds := map[string]bool{}
	for _, sp := range specs {
		kinds[sp.kind.String()] = true
		for _, v := range sp.secretVariables() {
			if from, _ := store(v); from == "vars" {
				t.Errorf("%s: %s holds a secret of %q but comes from vars, not secrets", name, v, sp.name)
			}
		}
	}
	for _, k := range []string{"oauth-consumer", "access-token", "api"} {
		if !kinds[k] {
			t.Errorf("%s: no %s credential in the example", name, k)
		}
	}
}

// yamlAt walks nested YAML maps.
func yamlAt[T any](t *testing.T, doc map[string]any, keys ...string) T {
	t.Helper()
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%v: not a map at %q", keys, k)
		}
		cur = m[k]
	}
	v, ok := cur.(T)
	if !ok {
		t.Fatalf("%v: %T", keys, cur)
	}
	return v
}

func joinStrings(items []any) string {
	var b strings.Builder
	for _, it := range items {
		s, _ := it.(string)
		b.WriteString(s + "\n")
	}
	return b.String()
}

// policyScript is the shell text of an example that runs the nightly sync
// and applies the exit-code policy to it.
var policyScript = regexp.MustCompile(`(?m)^( *)code=0\n *bbimport sync --orgsData=snyk-created-orgs.json --importNew \|\| code=\$\?\n(?:.*\n)*? *elif \[ "\$code" != 0 \]; then exit "\$code"; fi\n`)

// checkNightlySync (issue 23 row 3): every example runs the nightly sync
// with --importNew, and every one with a shell applies the exit-code
// policy, which is run here against a summary history: 0 passes; 3 passes
// once and fails when the run before ended 3 too; anything else fails with
// its code. (The Kubernetes CronJob's image has no shell: any exit but 0
// fails its Job.)
func checkNightlySync(t *testing.T, all map[string][]map[string]any) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for name := range all {
		text := repoFile(t, "docs/ci/"+name)
		if name == "kubernetes-cronjob.yml" {
			if !strings.Contains(text, `args: ["sync", "--orgsData=snyk-created-orgs.json", "--importNew"]`) {
				t.Errorf("%s: no nightly sync", name)
			}
			continue
		}
		m := policyScript.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("%s: no nightly sync with the exit-code policy", name)
			continue
		}
		script := regexp.MustCompile(`(?m)^`+m[1]).ReplaceAllString(m[0], "")
		for _, tt := range []struct {
			code, previous int // previous -1: no run before
			want           int
		}{
			{0, 3, 0}, {3, -1, 0}, {3, 0, 0}, {3, 1, 0}, {3, 3, 1}, {1, 0, 1}, {2, -1, 2}, {4, 3, 4}, {130, 0, 130},
		} {
			dir := t.TempDir()
			logs := filepath.Join(dir, "logs")
			hist := filepath.Join(logs, "summaries")
			bin := filepath.Join(dir, "bin")
			for _, d := range []string{hist, bin} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			summary := func(at string, code int) {
				body := fmt.Sprintf("{\n  \"stage\": \"sync\",\n  \"outcome\": \"x\",\n  \"exitCode\": %d,\n  \"failures\": []\n}\n", code)
				if err := os.WriteFile(filepath.Join(hist, "sync-"+at+".json"), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.previous >= 0 {
				summary("20261205T021700.000Z", tt.previous)
				summary("20261201T021700.000Z", 3) // before the previous: not looked at
			}
			// The stub writes this run's summary, as bbimport does, and exits.
			stub := fmt.Sprintf("#!/bin/sh\ncat > \"$SNYK_LOG_PATH/summaries/sync-20261206T021700.000Z.json\" <<'E'\n{\n  \"exitCode\": %d,\n}\nE\nexit %d\n", tt.code, tt.code)
			if err := os.WriteFile(filepath.Join(bin, "bbimport"), []byte(stub), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sh, "-c", script)
			cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "SNYK_LOG_PATH=" + logs}
			out, _ := cmd.CombinedOutput()
			if got := cmd.ProcessState.ExitCode(); got != tt.want {
				t.Errorf("%s: exit %d after a run that ended %d: the job ends %d, want %d\n%s", name, tt.code, tt.previous, got, tt.want, out)
			}
		}
	}
}
