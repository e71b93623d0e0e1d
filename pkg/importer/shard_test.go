package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// TestShardOfIsPinned: the cut is part of the contract between runs (a
// changed hash would move orgs to another job, whose log directory does not
// know them, and import them again), so its values are pinned here and can
// be recomputed by hand: FNV-1a 64 of the lower-cased id, mod N, plus one.
func TestShardOfIsPinned(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want [4]int // N = 2, 3, 5, 7
	}{
		{"o-acme", [4]int{2, 3, 4, 1}},
		{"3fa85f64-5717-4562-b3fc-2c963f66afa6", [4]int{1, 3, 2, 7}},
		{" 3FA85F64-5717-4562-B3FC-2C963F66AFA6 ", [4]int{1, 3, 2, 7}},
	} {
		for i, n := range []int{2, 3, 5, 7} {
			if got := ShardOf(tc.id, n); got != tc.want[i] {
				t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.id, n, got, tc.want[i])
			}
		}
		if got := ShardOf(tc.id, 1); got != 1 {
			t.Errorf("ShardOf(%q, 1) = %d", tc.id, got)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{in: "1/1", want: Shard{1, 1}},
		{in: "2/5", want: Shard{2, 5}},
		{in: " 7 / 7 ", want: Shard{7, 7}},
		{in: "1000/1000", want: Shard{1000, 1000}},
		{in: "", wantErr: "is not K/N"},
		{in: "3", wantErr: "is not K/N"},
		{in: "a/b", wantErr: "whole numbers"},
		{in: "1/2/3", wantErr: "whole numbers"},
		{in: "0/4", wantErr: "K counts from 1, so the parts are 1/4 to 4/4: add 1 to a 0-based index"},
		{in: "5/4", wantErr: "K must be from 1 to N, so the parts are 1/4 to 4/4"},
		{in: "-1/4", wantErr: "K must be from 1 to N"},
		{in: "1/0", wantErr: "N must be from 1 to 1000"},
		{in: "1/1001", wantErr: "N must be from 1 to 1000"},
	} {
		got, err := ParseShard(tc.in, 1000)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseShard(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
			}
		case err != nil || got != tc.want:
			t.Errorf("ParseShard(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if s := (Shard{}); !s.All() || s.String() != "" || !s.Keep("anything") {
		t.Errorf("the zero Shard is not the whole estate: %+v", s)
	}
	if s := (Shard{1, 1}); !s.All() || s.String() != "" {
		t.Errorf("1/1 is not the whole estate: %q", s.String())
	}
}

// shardEstate is orgs org-0..org-(orgs-1), each with its own workspace of
// repos repositories.
func shardEstate(t *testing.T, dir string, orgs, repos int) (*stagesBB, string) {
	t.Helper()
	bb := &stagesBB{repos: map[string][]bitbucket.Repository{}}
	var rows []string
	for i := range orgs {
		ws := fmt.Sprintf("ws-%d", i)
		rows = append(rows, fmt.Sprintf(`{"orgId":"%08x-5717-4562-b3fc-2c963f66afa6","name":"Org %d","workspace":%q,"integrations":{"bitbucket-cloud-app":"i-%d"}}`, i*7919, i, ws, i))
		for j := range repos {
			bb.repos[ws] = append(bb.repos[ws], bitbucket.Repository{Slug: fmt.Sprintf("r%d", j), Workspace: ws, MainBranch: "main"})
		}
	}
	return bb, writeStagesFile(t, dir, "created.json", `{"orgData":[`+strings.Join(rows, ",\n")+`]}`)
}

// readTargetKeys returns the resume keys of a targets file.
func readTargetKeys(t *testing.T, path string) []string {
	t.Helper()
	var keys []string
	for it, err := range importfiles.ReadTargets(path) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, it.Key())
	}
	return keys
}

// TestShardsCoverTheEstateOnce: for N = 1..7, the N import:data runs of
// shards 1/N..N/N write between them every target of the unsharded run,
// each exactly once; import over the whole file with the same shards
// would import each target once.
func TestShardsCoverTheEstateOnce(t *testing.T) {
	const orgs, repos = 40, 3
	dir := t.TempDir()
	bb, file := shardEstate(t, dir, orgs, repos)
	whole, err := ImportData(t.Context(), importDataOpts(bb, nil, file, dir))
	if err != nil {
		t.Fatal(err)
	}
	all := readTargetKeys(t, whole.Path)
	if len(all) != orgs*repos || whole.OtherShards != 0 || whole.Shard != "" {
		t.Fatalf("unsharded: %d targets, OtherShards %d, Shard %q", len(all), whole.OtherShards, whole.Shard)
	}
	for n := 1; n <= 7; n++ {
		seen := map[string]int{}
		imported := 0
		for k := 1; k <= n; k++ {
			shard := Shard{K: k, N: n}
			sdir := filepath.Join(dir, fmt.Sprintf("n%d-k%d", n, k))
			if err := os.Mkdir(sdir, 0o755); err != nil {
				t.Fatal(err)
			}
			opts := importDataOpts(bb, nil, file, sdir)
			opts.Shard = shard
			res, err := ImportData(t.Context(), opts)
			if err != nil {
				t.Fatalf("%s: %v", shard, err)
			}
			if n > 1 && (res.Shard != shard.String() || len(res.Orgs)+res.OtherShards != orgs) {
				t.Errorf("%s: Shard %q, %d orgs + %d in other shards, want %d", shard, res.Shard, len(res.Orgs), res.OtherShards, orgs)
			}
			if n > 1 && len(res.Orgs) == 0 {
				t.Errorf("%s: no org of %d in this shard", shard, orgs)
			}
			for _, o := range res.Orgs {
				if ShardOf(o.OrgID, n) != k {
					t.Errorf("%s listed org %s of shard %d", shard, o.OrgID, ShardOf(o.OrgID, n))
				}
			}
			for _, key := range readTargetKeys(t, res.Path) {
				seen[key]++
			}

			// import of the whole estate's file, this shard's part (dry
			// run: nothing sent, the same selection).
			ires, err := Import(t.Context(), ImportOptions{File: whole.Path, LogPath: sdir, Concurrency: 1, DryRun: true, Shard: shard})
			if err != nil {
				t.Fatalf("import %s: %v", shard, err)
			}
			if ires.Targets+ires.OtherShards != orgs*repos || ires.WouldImport != ires.Targets || ires.Shard != shard.String() {
				t.Errorf("import %s: %d targets + %d other shards (want %d together), would import %d, shard %q",
					shard, ires.Targets, ires.OtherShards, orgs*repos, ires.WouldImport, ires.Shard)
			}
			imported += ires.WouldImport
		}
		if len(seen) != len(all) || imported != len(all) {
			t.Errorf("N=%d: %d distinct targets listed, %d imported; want %d", n, len(seen), imported, len(all))
		}
		for _, key := range all {
			if seen[key] != 1 {
				t.Errorf("N=%d: target %s written by %d shards", n, key, seen[key])
			}
		}
	}
}

// TestShardKeepsTheOtherSelections: --workspace is matched before the cut,
// so a workspace whose org is in another shard is no "unmatched" slug, and
// a shard with no org at all writes an empty targets file (not an error).
func TestShardKeepsTheOtherSelections(t *testing.T) {
	dir := t.TempDir()
	bb, file := shardEstate(t, dir, 1, 2)
	rows, err := importfiles.ReadCreatedOrgsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	other := Shard{K: 3 - ShardOf(rows[0].OrgID, 2), N: 2}
	opts := importDataOpts(bb, nil, file, dir)
	opts.Shard, opts.Workspaces = other, []string{"ws-0"}
	res, err := ImportData(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.UnmatchedWorkspaces) != 0 || len(res.Orgs) != 0 || res.OtherShards != 1 || len(res.LeftOut) != 1 || res.LeftOut[0].Reason != leftOutShard {
		t.Errorf("unmatched %v, orgs %v, other shards %d, left out %+v", res.UnmatchedWorkspaces, res.Orgs, res.OtherShards, res.LeftOut)
	}
	data, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if keys := readTargetKeys(t, res.Path); len(keys) != 0 {
		t.Errorf("targets %v in %s", keys, data)
	}
}
