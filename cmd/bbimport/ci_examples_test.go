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
	if err != nil || len(files) < 6 {
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
