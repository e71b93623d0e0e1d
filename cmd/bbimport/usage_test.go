package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// oneTarget writes a targets file with one target of a seeded org and
// returns it with the simulator key of that target.
func oneTarget(t *testing.T, e *simEnv) (file, key string) {
	t.Helper()
	org := e.Sim.SeedOrg(sim.SimSnykGroupID, sim.SnykOrg{Name: "usage",
		Integrations: map[string]string{"bitbucket-cloud-app": "int-usage"}})
	file = filepath.Join(t.TempDir(), "targets.json")
	if err := os.WriteFile(file, []byte(`{"targets":[{"orgId":"`+org.ID+`","integrationId":"int-usage",`+
		`"target":{"owner":"acme","name":"api","branch":"main"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, sim.SnykTargetKey(org.ID, "acme", "api", "main")
}

// TestUsageConcurrency: CONCURRENT_IMPORTS and --concurrency outside 1–50,
// or not a number, are refused before anything runs, with exit 2 and a
// message naming the setting and the range.
func TestUsageConcurrency(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file, _ := oneTarget(t, e)
	for _, v := range []string{"0", "51", "abc", "-3", "1.5"} {
		e.Set("CONCURRENT_IMPORTS", v)
		r := e.MustRun(exitUsage, "import", "--file="+file)
		if !strings.Contains(r.Stderr, "CONCURRENT_IMPORTS") || !strings.Contains(r.Stderr, "1 to 50") {
			t.Errorf("CONCURRENT_IMPORTS=%s: stderr does not name CONCURRENT_IMPORTS and 1 to 50:\n%s", v, r.Stderr)
		}
		e.Set("CONCURRENT_IMPORTS", "")
		r = e.MustRun(exitUsage, "import", "--file="+file, "--concurrency="+v)
		if !strings.Contains(r.Stderr, "concurrency") || !strings.Contains(r.Stderr, "1 to 50") {
			t.Errorf("--concurrency=%s: stderr does not name --concurrency and 1 to 50:\n%s", v, r.Stderr)
		}
	}
	if n := e.Sim.Count("snyk.requests"); n != 0 {
		t.Errorf("%d Snyk requests, want 0", n)
	}
	// The limits themselves are accepted; the flag wins over the variable.
	e.Set("CONCURRENT_IMPORTS", "abc")
	e.MustRun(0, "import", "--file="+file, "--concurrency=50")
	e.Set("CONCURRENT_IMPORTS", "1")
	e.MustRun(0, "import", "--file="+file)
}

// TestUsageErrors: missing or wrong settings are usage errors (exit 2) whose
// message names what to set.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	file, _ := oneTarget(t, e)
	tests := []struct {
		name  string
		unset string
		args  []string
		want  []string
	}{
		{"no SNYK_LOG_PATH", "SNYK_LOG_PATH", []string{"import", "--file=" + file}, []string{"SNYK_LOG_PATH"}},
		{"no SNYK_LOG_PATH orgs:data", "SNYK_LOG_PATH", []string{"orgs:data", "--groupId=" + sim.SimSnykGroupID}, []string{"SNYK_LOG_PATH"}},
		{"no groupId", "", []string{"orgs:data"}, []string{"--groupId"}},
		{"unknown source", "", []string{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--source=github"}, []string{`"github"`, "bitbucket-cloud-app"}},
		{"unknown source import:data", "", []string{"import:data", "--orgsData=x.json", "--source=gitlab"}, []string{`"gitlab"`, "bitbucket-cloud-app"}},
		{"no targets file", "SNYK_IMPORT_PATH", []string{"import"}, []string{"--file", "SNYK_IMPORT_PATH"}},
		{"unknown flag", "", []string{"import", "--file=" + file, "--nope"}, []string{"nope"}},
		{"no SNYK_TOKEN", "SNYK_TOKEN", []string{"import", "--file=" + file}, []string{"SNYK_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unset != "" {
				old := e.getenv(tt.unset)
				e.Set(tt.unset, "")
				defer e.Set(tt.unset, old)
			}
			r := e.MustRun(exitUsage, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr does not mention %s:\n%s", w, r.Stderr)
				}
			}
			if strings.Contains(r.Stderr, "goroutine ") {
				t.Errorf("stack trace on stderr:\n%s", r.Stderr)
			}
		})
	}
	if n := e.Sim.Count("snyk.requests") + e.Sim.Count("bitbucket.requests"); n != 0 {
		t.Errorf("%d API requests for usage errors, want 0", n)
	}
}

// TestUsageAliases: the camelCase flags and their kebab-case aliases, the
// default command and the `i` alias.
func TestUsageAliases(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	group := sim.SimSnykGroupID
	orgsFile := e.File("group-" + group + "-bitbucket-cloud-app-orgs.json")
	for _, flag := range []string{"--groupId=", "--group-id="} {
		if err := os.Remove(orgsFile); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		e.MustRun(0, "orgs:data", flag+group)
		if _, err := os.Stat(orgsFile); err != nil {
			t.Errorf("orgs:data %s: %v", flag, err)
		}
	}
	e.MustRun(0, "orgs:create", "--file="+orgsFile, "--dry-run")
	if n := e.Sim.Count("snyk.orgs_created"); n != 0 {
		t.Errorf("--dry-run created %d orgs", n)
	}

	file, key := oneTarget(t, e)
	// bbimport --file x: the default command is import.
	e.MustRun(0, "--file="+file)
	if got := e.Sim.ImportedTargets(); got[key] != 1 {
		t.Fatalf("default command: imported targets %v, want %s", got, key)
	}
	// bbimport i: the alias; in a fresh log directory it imports again.
	e.MustRun(0, "i", "--file="+file, "--log-path="+filepath.Join(t.TempDir(), "other"))
	if got := e.Sim.ImportedTargets(); got[key] != 2 {
		t.Errorf("alias i: imported targets %v, want %s twice", got, key)
	}
	// SNYK_IMPORT_PATH as a directory holding import-projects.json.
	dir := t.TempDir()
	copyFile(t, file, filepath.Join(dir, "import-projects.json"))
	e.Set("SNYK_IMPORT_PATH", dir)
	r := e.MustRun(0, "import")
	if !strings.Contains(r.Stdout, "1 were skipped") {
		t.Errorf("SNYK_IMPORT_PATH directory: stdout:\n%s", r.Stdout)
	}
}

// TestUsageLocationForms: Snyk's Location in both the /v1/ and the
// /api/v1/ form (and on another host than SNYK_API, rebased onto it) is
// polled to the end.
func TestUsageLocationForms(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ form, base string }{
		{"v1", ""}, {"api-v1", ""}, {"api-v1", "https://app.snyk.io"},
	} {
		t.Run(tt.form+tt.base, func(t *testing.T) {
			e := newSimEnv(t, sim.Config{
				Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()},
				Snyk:      sim.SnykConfig{LocationForm: tt.form, LocationBase: tt.base, PendingPolls: 1},
			})
			targets := e.Pipeline()
			want := expectedTargets(t, e)
			e.MustRun(0, "import", "--file="+targets)
			assertImportedOnce(t, e, want)
			if n := e.Sim.Count("snyk.jobs_complete"); n != int64(len(want)) {
				t.Errorf("jobs polled to complete = %d, want %d", n, len(want))
			}
			loc := "/v1/org/"
			if tt.form == "api-v1" {
				loc = "/api/v1/org/"
			}
			if n := countLines(t, e.File(importfiles.ImportedTargetsLog), loc); n != len(want) {
				t.Errorf("%d resume log lines with a %s Location, want %d", n, loc, len(want))
			}
		})
	}
}

// TestUsageBadSnykToken: a SNYK_TOKEN Snyk rejects ends the import with
// exit 4 and a message naming SNYK_TOKEN, after one request per org: the
// other targets of an org that answered 401 are not sent (a 10,000-target
// file must not make 10,000 doomed requests). They are retried next run.
func TestUsageBadSnykToken(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	targets := e.Pipeline()
	want := expectedTargets(t, e)
	e.Set("SNYK_TOKEN", "not-the-token")
	r := e.MustRun(exitAuth, "import", "--file="+targets, "--concurrency=1")
	if !strings.Contains(r.Stderr, "SNYK_TOKEN") {
		t.Errorf("stderr does not name SNYK_TOKEN:\n%s", r.Stderr)
	}
	if n := e.Sim.Count("snyk.401"); n != 2 {
		t.Errorf("%d requests answered 401, want 2 (one per org)", n)
	}
	e.Set("SNYK_TOKEN", sim.SimSnykToken)
	e.MustRun(0, "import", "--file="+targets)
	assertImportedOnce(t, e, want)
}
