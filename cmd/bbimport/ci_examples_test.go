package main

import (
	"bytes"
	"io"
	"os"
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

	// GitHub Actions: the state step runs before import, the cache save
	// depends on it, and 3 is the only failure let through.
	gh := docs["github-actions.yml"]
	steps := yamlAt[[]any](t, gh, "jobs", "import", "steps")
	var stateAt, importAt, saveAt = -1, -1, -1
	for i, s := range steps {
		step := s.(map[string]any)
		run, _ := step["run"].(string)
		switch {
		case step["id"] == "state":
			stateAt = i
			if !strings.Contains(run, "bbimport list:imported") {
				t.Error("github: the state step does not rebuild the skip list with list:imported")
			}
		case strings.Contains(run, "bbimport import --file"):
			importAt = i
			if !strings.Contains(run, `if [ "$code" = 3 ]`) || !strings.Contains(run, `exit "$code"`) {
				t.Errorf("github: the import step does not let 3 through and fail the rest:\n%s", run)
			}
		case step["uses"] == "actions/cache/save@v4":
			saveAt = i
			if cond, _ := step["if"].(string); !strings.Contains(cond, "steps.state.outcome == 'success'") {
				t.Errorf("github: the cache is saved without the state step's success: if: %q", cond)
			}
		}
	}
	if !(stateAt >= 0 && stateAt < importAt && importAt < saveAt) {
		t.Errorf("github: steps state %d, import %d, save %d: want state < import < save", stateAt, importAt, saveAt)
	}

	// Bitbucket Pipelines: the restore tells 404 from the rest, the upload
	// waits for the marker.
	bb := docs["bitbucket-pipelines.yml"]
	pipe := yamlAt[[]any](t, bb, "pipelines", "custom", "bbimport")
	step := pipe[0].(map[string]any)["step"].(map[string]any)
	script := joinStrings(step["script"].([]any))
	after := joinStrings(step["after-script"].([]any))
	for _, want := range []string{"404)", "*)", "exit 1", "list:imported", "state-established"} {
		if !strings.Contains(script, want) {
			t.Errorf("bitbucket: the restore lacks %q", want)
		}
	}
	if !strings.Contains(after, `[ ! -e "$BITBUCKET_CLONE_DIR/state-established" ]`) {
		t.Error("bitbucket: the after-script uploads without checking the state was established")
	}
	if n := strings.Count(script, "|| [ $? -eq 3 ]"); n != 3 {
		t.Errorf("bitbucket: %d stages let exit 3 through, want 3 (orgs:create, import:data, import)", n)
	}

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
		if strings.Contains(run, "bbimport sync") && (!strings.Contains(run, `if [ "$code" = 3 ]`) || !strings.Contains(run, `exit "$code"`)) {
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
	if n := strings.Count(script, "|| [ $? -eq 3 ]"); n != 2 {
		t.Errorf("bitbucket credentials: %d stages let exit 3 through, want 2 (orgs:create, sync)", n)
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
