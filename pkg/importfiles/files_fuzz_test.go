package importfiles

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Fuzz tests of every input file parser. The seeds (f.Add below and
// testdata/fuzz/<FuzzName>/) run in plain `go test`; explore with e.g.
//
//	go test -run='^$' -fuzz='^FuzzReadTargets$' -fuzztime=30s ./pkg/importer
//
// Properties: no panic; a file that cannot be used gives a
// *FileFormatError whose text names the file; what is accepted satisfies the
// documented row requirements.

// fuzzFileSeq makes the temp file names of one fuzz process unique.
var fuzzFileSeq atomic.Int64

// fuzzWriteFile writes data to a fresh file under dir. The name has a space
// and a non-ASCII letter, so "the error names the file" is not satisfied by
// accident.
func fuzzWriteFile(t *testing.T, dir, base string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("%d é %s", fuzzFileSeq.Add(1), base))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	return path
}

// fuzzSeedFiles adds the repository's example files as seeds.
func fuzzSeedFiles(f *testing.F, paths ...string) {
	f.Helper()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatalf("seed %s: %v", p, err)
		}
		f.Add(data)
	}
}

// checkFileError checks the error of a parser given a readable file.
func checkFileError(t *testing.T, path string, err error) {
	t.Helper()
	var fe *FileFormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error is %T, want *FileFormatError: %v", err, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not name the file %q: %v", path, err)
	}
	if fe.Msg == "" {
		t.Fatalf("error says nothing: %q", err)
	}
	if fe.Line < 0 || fe.Column < 0 || (fe.Line == 0) != (fe.Column == 0) {
		t.Fatalf("bad position %d:%d in %v", fe.Line, fe.Column, err)
	}
}

func FuzzReadOrgsDataFile(f *testing.F) {
	fuzzSeedFiles(f, "../../fixtures/compat/orgs-data.1-org.json", "testdata/orgsdata/orgs.golden.json",
		"../importer/testdata/orgsdata/per-project.golden.json")
	for _, s := range []string{
		``, ` `, `null`, `[]`, `{}`, `{"orgs":null}`, `{"orgs":[]}`, `{"orgs":{}}`, `{"orgs":[null]}`,
		`{"orgs":[{"name":"a","groupId":"g"}]}`,
		`{"orgs":[{"name":"a","groupId":"g","sourceOrgId":7}]}`,
		`{"orgs":[{"name":"a","groupId":"g","workspace":"w","project":"P"}],"orgs":[]}`,
		`{"orgs":[{"name":" ","groupId":"g"}]}`,
		"{\n\"orgs\": [\n{\"name\": \"a\" \"groupId\": \"g\"}\n]\n}\n",
		"{\"orgs\": [", "\xef\xbb\xbf{\"orgs\":[]}", `{"orgs":[{"name":"\ud800","groupId":"g"}]}`,
		`{"orgs":[{"name":"a","groupId":"g"}]} trailing`, `{"orgs":[{"name":1e999,"groupId":"g"}]}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzWriteFile(t, dir, "orgs-data.json", data)
		rows, err := ReadOrgsDataFile(path)
		if err != nil {
			checkFileError(t, path, err)
			return
		}
		if len(rows) == 0 {
			t.Fatal("accepted a file with no org")
		}
		for i, r := range rows {
			if strings.TrimSpace(r.Name) == "" || strings.TrimSpace(r.GroupID) == "" {
				t.Fatalf("row %d accepted without name or groupId: %+v", i, r)
			}
		}
	})
}

func FuzzReadCreatedOrgsFile(f *testing.F) {
	fuzzSeedFiles(f, "../../fixtures/compat/bitbucket-cloud.created-orgs.json", "testdata/orgscreate/created-orgs.golden.json",
		"../importer/testdata/orgscreate/compat-1-org.created-orgs.golden.json")
	for _, s := range []string{
		``, `{}`, `{"orgData":[]}`, `{"orgData":[{}]}`, `{"orgData":[{"orgId":"o"}]}`,
		`{"orgData":[{"orgId":"o","name":"n"}]}`,
		`{"orgData":[{"orgId":"o","workspace":"w","integrations":{"bitbucket-cloud":"i"}}]}`,
		`{"orgData":[{"orgId":"o","name":"n","integrations":{"bitbucket-cloud":5}}]}`,
		`{"orgData":[{"orgId":"o","name":"n","integrations":[]}]}`,
		`{"orgData":[{"orgId":"o","name":"n","integrations":null}]}`,
		`{"orgData":[{"orgId":"o","name":"n","created":{}}]}`,
		`{"orgData":"x"}`, "{\"orgData\":[{\"orgId\":\"o\",\n\"name\":tru}]}",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzWriteFile(t, dir, "snyk-created-orgs.json", data)
		orgs, err := ReadCreatedOrgsFile(path)
		if err != nil {
			checkFileError(t, path, err)
			return
		}
		if len(orgs) == 0 {
			t.Fatal("accepted a file with no org")
		}
		for i, o := range orgs {
			if strings.TrimSpace(o.OrgID) == "" || strings.TrimSpace(o.WorkspaceSlug()) == "" {
				t.Fatalf("row %d accepted without orgId or a workspace/name: %+v", i, o)
			}
		}
	})
}

// FuzzReadTargets also checks the resume round trip: a target read from a
// targets file, logged as requested in imported-targets.log by the logger
// import uses, is skipped by the next run (else a re-run imports it twice).
func FuzzReadTargets(f *testing.F) {
	fuzzSeedFiles(f, "../../fixtures/compat/import-projects.invalid.json", "../../fixtures/compat/with-import-log.import-projects.json",
		"testdata/importdata/targets.golden.json", "testdata/importdata/targets-empty.golden.json")
	for _, s := range []string{
		``, `{}`, `[]`, `{"targets":[]}`, `{"targets":null}`, `{"targets":[1]}`, `{"targets":{}}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"owner":"w","name":"r","branch":"main"}}]}`,
		`{"targets":[{"orgId":" o ","integrationId":"i","target":{"owner":"w","name":"r","fork":true}}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"id":12,"branch":"main"}}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"name":1e3,"owner":-0,"branch":null,"appId":1.50}}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"name":"\u00e9\ud800","owner":"a\"b"}}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"name":"r"},"files":[{"path":"a/package.json"}],"exclusionGlobs":"x,y"}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"name":"r"},"files":[{}]}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"name":{}}}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{}}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":[]}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"name":"r"}}],"targets":[{"orgId":"p"}]}`,
		`{"targets":[{"orgId":"o","integrationId":"i","target":{"name":"r"}}]} {}`,
		"{\"targets\":[\n{\"orgId\":\"o\"},\n{\"orgId\":\"o\" \"x\":1}\n]}",
		"{\"targets\":[{\"orgId\":\"o\",\"integrationId\":\"i\",\"target\":{\"name\":\"r\"}}",
		`{"other":{"targets":[]},"targets":[]}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzWriteFile(t, dir, "import-projects.json", data)
		var (
			targets []ImportTarget
			errs    int
		)
		for it, err := range ReadTargets(path) {
			if errs > 0 {
				t.Fatalf("a value after the error: %+v, %v", it, err)
			}
			if err != nil {
				errs++
				checkFileError(t, path, err)
				continue
			}
			if strings.TrimSpace(it.OrgID) == "" || strings.TrimSpace(it.IntegrationID) == "" || it.Target.IsZero() {
				t.Fatalf("row %d accepted without orgId, integrationId or target: %+v", it.Index, it)
			}
			if it.Index != len(targets) {
				t.Fatalf("row index %d, want %d", it.Index, len(targets))
			}
			_ = it.Request()
			targets = append(targets, it)
		}
		if errs > 0 || len(targets) == 0 {
			return
		}

		// Stopping early must stop cleanly.
		for range ReadTargets(path) {
			break
		}

		logDir := t.TempDir()
		logs := NewLogFiles(logDir, "fuzz", 1, func() time.Time { return time.Unix(0, 0) })
		for _, it := range targets {
			if err := logs.TargetLine(LevelInfo, MsgTargetRequested, it, "https://api.snyk.io/v1/org/o/integrations/i/import/j"); err != nil {
				t.Fatalf("logging target %d: %v", it.Index, err)
			}
		}
		if err := logs.Close(); err != nil {
			t.Fatal(err)
		}
		rl, err := LoadResumeLog(filepath.Join(logDir, ImportedTargetsLog))
		if err != nil {
			t.Fatal(err)
		}
		if rl.Malformed != 0 || rl.Lines != len(targets) {
			t.Fatalf("resume log: %d lines (%d malformed), want %d good lines", rl.Lines, rl.Malformed, len(targets))
		}
		for _, it := range targets {
			if !rl.SkipTarget(it) {
				t.Fatalf("target %d (key %q) logged as requested is not skipped by the next run", it.Index, it.Key())
			}
		}
	})
}

// FuzzLoadResumeLog: any content is read (lines that are not ours are
// counted as malformed, never an error), and the last line of a key wins.
func FuzzLoadResumeLog(f *testing.F) {
	fuzzSeedFiles(f, "../../fixtures/compat/bitbucket-cloud.imported-targets.log", "../../fixtures/compat/with-import-log.imported-targets.log")
	line := func(msg string) string {
		return `{"name":"snyk:import-projects-script","level":30,"target":{"name":"r","owner":"w","branch":"main"},` +
			`"locationUrl":"https://x/v1/org/o/integrations/i/import/j","orgId":"o","integrationId":"i","targetId":"o:i:r:w:main","msg":"` + msg + `"}`
	}
	for _, s := range []string{
		``, "\n", "\n\n \r\n", `{}`, `null`, `[]`, `"x"`, "{\"orgId\":\"o\"", line(MsgTargetRequested),
		line(MsgTargetRequested) + "\n" + line(MsgTargetFailed) + "\n",
		line(MsgTargetFailed) + "\r\n" + line(MsgTargetExists),
		line(MsgTargetRequested)[:70],
		`{"orgId":"o","integrationId":"i","target":{"id":1}}`,
		`{"orgId":"o","integrationId":"i","target":{"name":[]}}`,
		`{"orgId":"o","integrationId":"i","target":null}`,
		`{"orgId":null,"integrationId":"i","target":{"name":"r"}}`,
		`{"orgId":5,"integrationId":"i","target":{"name":"r"}}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzWriteFile(t, dir, ImportedTargetsLog, data)
		rl, err := LoadResumeLog(path)
		if err != nil {
			t.Fatalf("a readable log is an error: %v", err)
		}
		nonBlank := 0
		for l := range strings.SplitSeq(string(data), "\n") {
			if strings.Trim(l, " \t\r") != "" {
				nonBlank++
			}
		}
		if rl.Lines != nonBlank || rl.Malformed < 0 || rl.Malformed > rl.Lines || rl.Len() > rl.Lines-rl.Malformed {
			t.Fatalf("lines %d (want %d), malformed %d, keys %d", rl.Lines, nonBlank, rl.Malformed, rl.Len())
		}
		// The streaming reader splits lines as a plain split would.
		want := &ResumeLog{last: map[string]bool{}}
		for l := range strings.SplitSeq(string(data), "\n") {
			want.addLine([]byte(l))
		}
		if want.Lines != rl.Lines || want.Malformed != rl.Malformed || !maps.Equal(want.last, rl.last) {
			t.Fatalf("streamed read differs from a line-by-line read: %+v vs %+v", rl, want)
		}
		for key := range rl.last {
			if key == "" {
				t.Fatal("empty resume key")
			}
		}
	})
}
