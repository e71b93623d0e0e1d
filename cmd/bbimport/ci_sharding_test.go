package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkShardedExamples: the three sharded examples of docs/sharding.md give
// their N jobs the shards 1/N..N/N, each once (the values bbimport would
// get, put through its own parser), each job its own credentials and log
// directory, and the orgs made once before the shards.
func checkShardedExamples(t *testing.T, docs map[string]map[string]any, all map[string][]map[string]any) {
	t.Helper()
	covers := func(name string, shards []string) {
		t.Helper()
		var ks []int
		n := 0
		for _, v := range shards {
			s, err := checkShard(shardEnv, v, maxShards)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			ks, n = append(ks, s.K), s.N
		}
		slices.Sort(ks)
		if n < 2 || len(ks) != n || ks[0] != 1 || ks[n-1] != n || len(slices.Compact(ks)) != n {
			t.Errorf("%s: shards %v do not cover 1..N once", name, shards)
		}
	}

	// GitHub Actions: BBIMPORT_SHARD from the matrix, the secrets and the
	// cache keys by shard, and the orgs in a job of their own before.
	gh := docs["github-actions-sharded.yml"]
	imp := yamlAt[map[string]any](t, gh, "jobs", "import")
	env := yamlAt[map[string]any](t, imp, "env")
	expr, _ := env["BBIMPORT_SHARD"].(string)
	n, ok := strings.CutPrefix(expr, "${{ matrix.shard }}/")
	if !ok {
		t.Fatalf("github: BBIMPORT_SHARD %q is not ${{ matrix.shard }}/N", expr)
	}
	var shards []string
	for _, k := range yamlAt[[]any](t, imp, "strategy", "matrix", "shard") {
		shards = append(shards, fmt.Sprintf("%v/%s", k, n))
	}
	covers("github", shards)
	if ff, _ := yamlAt[map[string]any](t, imp, "strategy")["fail-fast"].(bool); ff || imp["needs"] != "orgs" {
		t.Errorf("github: fail-fast %v, needs %v: want false and orgs", ff, imp["needs"])
	}
	for _, v := range []string{"SNYK_TOKEN", "BITBUCKET_APP_CLIENT_ID", "BITBUCKET_APP_CLIENT_SECRET"} {
		if s, _ := env[v].(string); !strings.Contains(s, "matrix.shard") {
			t.Errorf("github: %s = %q is not the shard's own secret", v, s)
		}
	}
	steps := yamlAt[[]any](t, imp, "steps")
	keys, ran := 0, ""
	for _, s := range steps {
		step := s.(map[string]any)
		run, _ := step["run"].(string)
		ran += run
		with, _ := step["with"].(map[string]any)
		if key, ok := with["key"].(string); ok {
			keys++
			if !strings.Contains(key, "shard-${{ matrix.shard }}-of-"+n+"-") {
				t.Errorf("github: cache key %q is not the shard's", key)
			}
		}
	}
	orgs := fmt.Sprint(yamlAt[any](t, gh, "jobs", "orgs", "steps"))
	if keys != 2 || !strings.Contains(ran, "bbimport sync --orgsData=snyk-created-orgs.json --importNew") || strings.Contains(ran, "orgs:create") || !strings.Contains(orgs, "bbimport orgs:create") {
		t.Errorf("github: %d cache keys (want restore and save); orgs:create must be in the orgs job only", keys)
	}

	// Bitbucket Pipelines: the parallel steps' index + 1, each step its own
	// deployment (no two runs of a shard at once) and log directory.
	bb := docs["bitbucket-pipelines-sharded.yml"]
	pipe := yamlAt[[]any](t, bb, "pipelines", "custom", "bbimport-sharded")
	if first := fmt.Sprint(pipe[0]); !strings.Contains(first, "bbimport orgs:create") {
		t.Error("bitbucket: the first step does not create the orgs")
	}
	par := yamlAt[[]any](t, pipe[1].(map[string]any), "parallel", "steps")
	shards, deployments := nil, map[string]bool{}
	for i, s := range par {
		step := s.(map[string]any)["step"].(map[string]any)
		script := joinStrings(step["script"].([]any))
		after := joinStrings(step["after-script"].([]any))
		deployments[fmt.Sprint(step["deployment"])] = true
		for _, want := range []string{`K=$((BITBUCKET_PARALLEL_STEP + 1))`, `BBIMPORT_SHARD="$K/$BITBUCKET_PARALLEL_STEP_COUNT"`,
			`"SNYK_TOKEN_$K"`, `"BITBUCKET_APP_CLIENT_SECRET_$K"`, `SNYK_LOG_PATH="$BITBUCKET_CLONE_DIR/snyk-logs-$K"`} {
			if !strings.Contains(script, want) {
				t.Errorf("bitbucket: parallel step %d lacks %s", i, want)
			}
		}
		if !strings.Contains(script, `if [ "$code" = 3 ]`) || !strings.Contains(after, "state-established") {
			t.Errorf("bitbucket: parallel step %d: exit 3 or the upload guard", i)
		}
		shards = append(shards, fmt.Sprintf("%d/%d", i+1, len(par)))
	}
	covers("bitbucket", shards)
	if len(deployments) != len(par) {
		t.Errorf("bitbucket: %d deployments for %d parallel steps", len(deployments), len(par))
	}

	// Kubernetes: an Indexed Job of N pods after the orgs job, the index
	// + 1, completions = parallelism = the N the script uses.
	k8 := all["kubernetes-indexed-job.yml"]
	if len(k8) != 2 {
		t.Fatalf("kubernetes-indexed-job.yml: %d documents, want the orgs CronJob and the shards CronJob", len(k8))
	}
	for _, d := range k8 {
		if p := yamlAt[string](t, d, "spec", "concurrencyPolicy"); p != "Forbid" {
			t.Errorf("kubernetes: %v: concurrencyPolicy %q", yamlAt[string](t, d, "metadata", "name"), p)
		}
	}
	job := yamlAt[map[string]any](t, k8[1], "spec", "jobTemplate", "spec")
	completions, _ := job["completions"].(int)
	if job["completionMode"] != "Indexed" || job["parallelism"] != completions {
		t.Errorf("kubernetes: completionMode %v, completions %v, parallelism %v", job["completionMode"], job["completions"], job["parallelism"])
	}
	c := yamlAt[[]any](t, job, "template", "spec", "containers")[0].(map[string]any)
	var n8 int
	for _, e := range c["env"].([]any) {
		if e := e.(map[string]any); e["name"] == "SHARDS" {
			n8, _ = strconv.Atoi(fmt.Sprint(e["value"]))
		}
	}
	script := joinStrings(c["args"].([]any))
	if n8 != completions || !strings.Contains(script, "K=$((JOB_COMPLETION_INDEX + 1))") || !strings.Contains(script, `BBIMPORT_SHARD="$K/$SHARDS"`) ||
		!strings.Contains(script, `SNYK_LOG_PATH="/logs/shard-$K-of-$SHARDS"`) || !strings.Contains(script, `"/secrets/snyk-token-$K"`) {
		t.Errorf("kubernetes: SHARDS %d, completions %d, script:\n%s", n8, completions, script)
	}
	shards = nil
	for i := range completions {
		shards = append(shards, fmt.Sprintf("%d/%d", i+1, n8))
	}
	covers("kubernetes", shards)
}
