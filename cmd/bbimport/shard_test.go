package main

import (
	"encoding/json"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// TestShardValues: a bad --shard or BBIMPORT_SHARD is a usage error naming
// where the value came from and what the parts are, on every command that
// takes it, before anything is sent.
func TestShardValues(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	targets := filepath.Join(t.TempDir(), "targets.json")
	if err := os.WriteFile(targets, []byte(`{"targets":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	commands := map[string][]string{
		"import:data": {"import:data", "--source=bitbucket-cloud-app", "--orgsData=snyk-created-orgs.json"},
		"import":      {"import", "--file=" + targets},
		"sync":        {"sync", "--orgPublicId=o-1"},
	}
	for _, tc := range []struct {
		flag, env string
		want      string
	}{
		{flag: "0/3", want: `--shard="0/3": K counts from 1, so the parts are 1/3 to 3/3 (add 1 to a 0-based index such as JOB_COMPLETION_INDEX`},
		{flag: "4/3", want: `--shard="4/3": K must be from 1 to N, so the parts are 1/3 to 3/3`},
		{flag: "2", want: `--shard="2" is not K/N; give this job's part and the number of parts, such as 2/5`},
		{flag: "1/0", want: `--shard="1/0": the number of parts N must be from 1 to 1000`},
		{flag: "one/two", want: `--shard="one/two" is not K/N with whole numbers`},
		{env: "3/2", want: `BBIMPORT_SHARD="3/2": K must be from 1 to N`},
		{env: "1/2", flag: "x", want: `--shard="x" is not K/N`}, // the flag wins over the variable
	} {
		for name, args := range commands {
			e.Set(shardEnv, tc.env)
			if tc.flag != "" {
				args = append(args, "--shard="+tc.flag)
			}
			before := e.Sim.Counters()
			r := e.Run(args...)
			if r.Code != exitUsage || !strings.Contains(r.Stderr, tc.want) || r.Stdout != "" {
				t.Errorf("%s --shard=%q %s=%q: exit %d, want %d and %q\nstdout: %s\nstderr: %s", name, tc.flag, shardEnv, tc.env, r.Code, exitUsage, tc.want, r.Stdout, r.Stderr)
			}
			for k, v := range e.Sim.Counters() {
				if strings.HasSuffix(k, ".requests") && v != before[k] {
					t.Errorf("%s: %s went from %d to %d on a usage error", name, k, before[k], v)
				}
			}
		}
	}
	e.Set(shardEnv, "")
	if r := e.Run("help", "import:data"); !strings.Contains(r.Stdout, "--shard") {
		t.Errorf("help import:data does not list --shard:\n%s", r.Stdout)
	}
}

// shardedEstate is 12 workspaces of 3 repositories each.
func shardedEstate() sim.Config {
	var ws []sim.WorkspaceSpec
	for i := range 12 {
		ws = append(ws, sim.WorkspaceSpec{Slug: fmt.Sprintf("team-%02d", i), Repos: 3})
	}
	return sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: ws}}
}

// TestShardedPipeline: orgs:create once, then N = 3 jobs, each with its own
// log directory, run import:data and import for their shard (the third
// through BBIMPORT_SHARD). Between them Snyk gets every target of the
// estate exactly once, each job says which shard it ran, and its summaries
// record it.
func TestShardedPipeline(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, shardedEstate())
	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	created := e.File("snyk-created-orgs.json")
	rows, err := importfiles.ReadCreatedOrgsFile(created)
	if err != nil || len(rows) != 12 {
		t.Fatalf("%d orgs, %v", len(rows), err)
	}
	const n = 3
	orgsSeen := 0
	for k := 1; k <= n; k++ {
		shard := fmt.Sprintf("%d/%d", k, n)
		logs := filepath.Join(t.TempDir(), "shard")
		e.Set("SNYK_LOG_PATH", logs)
		var flag []string
		if k < n {
			flag = []string{"--shard=" + shard}
		} else {
			e.Set(shardEnv, shard)
		}
		mine := 0
		for _, r := range rows {
			if importer.ShardOf(r.OrgID, n) == k {
				mine++
			}
		}
		orgsSeen += mine
		r := e.MustRun(0, append([]string{"import:data", "--source=bitbucket-cloud-app", "--orgsData=" + created}, flag...)...)
		if want := fmt.Sprintf("Shard %s: %d of 12 orgs in this shard, %d left to the other shards.", shard, mine, 12-mine); !strings.Contains(r.Stdout, want) {
			t.Errorf("import:data %s: stdout lacks %q:\n%s", shard, want, r.Stdout)
		}
		r = e.MustRun(0, append([]string{"import", "--file=" + filepath.Join(logs, "bitbucket-cloud-app-import-targets.json")}, flag...)...)
		if want := fmt.Sprintf("Shard %s: %d of %d targets", shard, 3*mine, 3*mine); !strings.Contains(r.Stdout, want) {
			t.Errorf("import %s: stdout lacks %q:\n%s", shard, want, r.Stdout)
		}
		for _, f := range []string{"import-data-summary.json", "import-summary.json"} {
			var s struct{ Shard string }
			data, err := os.ReadFile(filepath.Join(logs, f))
			if err == nil {
				err = json.Unmarshal(data, &s)
			}
			if err != nil || s.Shard != shard {
				t.Errorf("%s of shard %s: shard %q, %v", f, shard, s.Shard, err)
			}
		}
	}
	e.Set(shardEnv, "")
	if orgsSeen != 12 {
		t.Errorf("the shards hold %d orgs, want 12", orgsSeen)
	}
	imported := e.Sim.ImportedTargets()
	if len(imported) != 36 || e.Sim.Count("snyk.imports") != 36 {
		t.Errorf("%d targets imported by %d jobs, want 36 by 36", len(imported), e.Sim.Count("snyk.imports"))
	}
	for key, jobs := range imported {
		if jobs != 1 {
			t.Errorf("target %s imported %d times", key, jobs)
		}
	}
}

// TestShardedImportOfAWholeFile: a targets file of the whole estate (one
// unsharded import:data) imported by N jobs with --shard sends each target
// once; a job's dry run counts only its own.
func TestShardedImportOfAWholeFile(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, shardedEstate())
	file := e.Pipeline()
	total := 0
	for k := 1; k <= 2; k++ {
		e.Set("SNYK_LOG_PATH", filepath.Join(t.TempDir(), "shard"))
		dry := e.MustRun(0, "import", "--file="+file, "--dryRun", fmt.Sprintf("--shard=%d/2", k))
		var mine, all, others int
		if _, err := fmt.Sscanf(dry.Stdout, fmt.Sprintf("Shard %d/2: %%d of %%d targets in this shard, %%d left", k), &mine, &all, &others); err != nil || all != 36 || mine+others != 36 {
			t.Fatalf("dry run %d/2: %v\n%s", k, err, dry.Stdout)
		}
		if !strings.Contains(dry.Stdout, fmt.Sprintf("would import %d of %d targets", mine, mine)) {
			t.Errorf("dry run %d/2 does not count its own targets only:\n%s", k, dry.Stdout)
		}
		total += mine
		e.MustRun(0, "import", "--file="+file, fmt.Sprintf("--shard=%d/2", k))
	}
	if total != 36 || len(e.Sim.ImportedTargets()) != 36 || e.Sim.Count("snyk.imports") != 36 {
		t.Errorf("shards hold %d targets; %d imported by %d jobs; want 36", total, len(e.Sim.ImportedTargets()), e.Sim.Count("snyk.imports"))
	}
}

// TestSyncShard: a sync over the orgs file with --shard K/N plans exactly
// the orgs of its shard, the N syncs together every org once, and a single
// org of another shard is a run with nothing to do (exit 0), said so.
func TestSyncShard(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t)
	const n = 2
	synced := map[string]int{}
	for k := 1; k <= n; k++ {
		shard := fmt.Sprintf("%d/%d", k, n)
		r := e.MustRun(0, e.syncArgs("--dryRun", "--shard="+shard)...)
		mine := 0
		for _, id := range e.orgs {
			in := strings.Contains(r.Stdout, "in org: "+id+" ")
			if in {
				synced[id]++
			}
			if in != (importer.ShardOf(id, n) == k) {
				t.Errorf("sync %s: org %s (shard %d) synced: %v", shard, id, importer.ShardOf(id, n), in)
			}
			if importer.ShardOf(id, n) == k {
				mine++
			}
		}
		if want := fmt.Sprintf("Shard %s: %d of %s in this shard, %d left", shard, mine, english.Plural(len(e.orgs), "org"), len(e.orgs)-mine); !strings.Contains(r.Stdout, want) {
			t.Errorf("sync %s: stdout lacks %q:\n%s", shard, want, r.Stdout)
		}
		var s struct {
			Shard       string
			OtherShards int
		}
		data, err := os.ReadFile(e.File("sync-summary.json"))
		if err == nil {
			err = json.Unmarshal(data, &s)
		}
		if err != nil || s.Shard != shard || s.OtherShards != len(e.orgs)-mine {
			t.Errorf("sync-summary.json of %s: %+v, %v", shard, s, err)
		}
	}
	for ws, id := range e.orgs {
		if synced[id] != 1 {
			t.Errorf("org %s (%s) synced by %d shards", id, ws, synced[id])
		}
	}
	for _, id := range e.orgs {
		other := fmt.Sprintf("%d/%d", 3-importer.ShardOf(id, n), n)
		before := e.Sim.Count("snyk.requests")
		r := e.MustRun(0, "sync", "--orgPublicId="+id, "--dryRun", "--shard="+other)
		if !strings.Contains(r.Stdout, "Shard "+other+": 0 of 1 org in this shard, 1 left to the other shards.") || strings.Contains(r.Stdout, "in org: "+id) {
			t.Errorf("sync --orgPublicId of another shard:\n%s", r.Stdout)
		}
		if got := e.Sim.Count("snyk.requests") - before; got != 0 {
			t.Errorf("sync of an org of another shard sent %d Snyk requests", got)
		}
		break
	}
}
