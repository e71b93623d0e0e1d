package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/google/go-cmp/cmp"
)

var stagesNow = func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("X", 7200)) }

// orgsCreateOpts settles one row at a time, so the fake's org ids and the
// logs' order are the file's (TestOrgsCreateManyAtOnce takes several).
func orgsCreateOpts(s *stagesSnyk, file, dir string) OrgsCreateOptions {
	return OrgsCreateOptions{Snyk: s, File: file, LogPath: dir, Now: stagesNow, Concurrency: 1, Hostname: "build-host", PID: 4242}
}

const stagesOrgsFile = `{"orgs":[
 {"name":"Acme Corp","groupId":"g-1","workspace":"acme"},
 {"name":"R&D","groupId":"g-1","workspace":"rnd","sourceOrgId":"tmpl"},
 {"name":"legacy","groupId":"g-1"},
 {"name":"acme / Payments","groupId":"g-1","workspace":"acme","project":"PAY"}
]}`

// The original's orgs data file creates its org.
func TestOrgsCreateCompatOneOrg(t *testing.T) {
	s := newStagesSnyk()
	s.newIntegrations = map[string]string{"bitbucket-cloud": "int-1"}
	dir := t.TempDir()
	res, err := OrgsCreate(t.Context(), orgsCreateOpts(s, compatPath("orgs-data.1-org.json"), dir))
	if err != nil {
		t.Fatal(err)
	}
	want := []snyk.CreateOrgRequest{{Name: "snyk-api-import-hello", GroupID: "d64abc45-b39a-48a2-9636-a4f62adbf09a"}}
	if diff := cmp.Diff(want, s.creates); diff != "" {
		t.Errorf("creates (-want +got):\n%s", diff)
	}
	if res.Count(OrgCreated) != 1 || res.Failed() || res.Written != 1 {
		t.Errorf("result = %+v", res)
	}
	if diff := cmp.Diff([]string{"org-1"}, s.notifCalls); diff != "" {
		t.Errorf("notifications (-want +got):\n%s", diff)
	}
	assertGolden(t, "testdata/orgscreate/compat-1-org.created-orgs.golden.json", readStagesFile(t, res.Path))
	assertGolden(t, "testdata/orgscreate/compat-1-org.created-orgs.log.golden",
		readStagesFile(t, filepath.Join(dir, "d64abc45-b39a-48a2-9636-a4f62adbf09a.created-orgs.log")))
}

func TestGoldenOrgsCreate(t *testing.T) {
	s := newStagesSnyk()
	s.newIntegrations = map[string]string{"bitbucket-cloud-app": "int-app", "bitbucket-cloud": "int-cloud"}
	s.orgs["g-1"] = []snyk.Org{{ID: "old-1", Name: "legacy", Slug: "legacy", URL: "https://app.snyk.io/org/legacy"}}
	s.integrations["old-1"] = map[string]string{"bitbucket-cloud": "int-old"}
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "orgs.json", stagesOrgsFile)
	res, err := OrgsCreate(t.Context(), orgsCreateOpts(s, file, dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{res.Count(OrgCreated), res.Count(OrgReused), res.Count(OrgFailed), res.Written}; !cmp.Equal(got, []int{3, 1, 0, 4}) {
		t.Errorf("created, reused, failed, written = %v, want [3 1 0 4]", got)
	}
	if res.Path != filepath.Join(dir, "snyk-created-orgs.json") {
		t.Errorf("Path = %s", res.Path)
	}
	assertGolden(t, "testdata/orgscreate/stage.created-orgs.golden.json", readStagesFile(t, res.Path))
	assertGolden(t, "testdata/orgscreate/stage.created-orgs.log.golden", readStagesFile(t, filepath.Join(dir, "g-1.created-orgs.log")))
	if _, err := os.Stat(filepath.Join(dir, "g-1.failed-to-create-orgs.log")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed log exists without failures: %v", err)
	}
	// The sourceOrgId goes to Snyk; the workspace and project are carried
	// through and left out when the input has none.
	if s.creates[1].SourceOrgID != "tmpl" {
		t.Errorf("create request = %+v, want sourceOrgId", s.creates[1])
	}
	orgs, err := importfiles.ReadCreatedOrgsFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	var ws []string
	for _, o := range orgs {
		ws = append(ws, o.Workspace+"|"+o.Project)
	}
	if diff := cmp.Diff([]string{"acme|", "rnd|", "|", "acme|PAY"}, ws); diff != "" {
		t.Errorf("workspace|project (-want +got):\n%s", diff)
	}
	assertNoTempFiles(t, dir)
}

// A second run creates nothing and writes the same file.
func TestOrgsCreateIdempotentRerun(t *testing.T) {
	s := newStagesSnyk()
	s.newIntegrations = map[string]string{"bitbucket-cloud": "int"}
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g","workspace":"a"},{"name":"b","groupId":"g","workspace":"b"}]}`)
	first, err := OrgsCreate(t.Context(), orgsCreateOpts(s, file, dir))
	if err != nil {
		t.Fatal(err)
	}
	firstFile := readStagesFile(t, first.Path)
	second, err := OrgsCreate(t.Context(), orgsCreateOpts(s, file, dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.creates) != 2 {
		t.Errorf("%d creates over two runs, want 2", len(s.creates))
	}
	if second.Count(OrgCreated) != 0 || second.Count(OrgReused) != 2 {
		t.Errorf("second run: created %d reused %d, want 0 and 2", second.Count(OrgCreated), second.Count(OrgReused))
	}
	if got := readStagesFile(t, second.Path); !bytes.Equal(firstFile, got) {
		t.Errorf("second file differs:\n%s\nfirst:\n%s", got, firstFile)
	}
	if n := len(s.notifCalls); n != 2 {
		t.Errorf("notifications set %d times, want 2 (reused orgs are left alone)", n)
	}
}

func TestOrgsCreateDuplicateNames(t *testing.T) {
	const file = `{"orgs":[{"name":"dup","groupId":"g"},{"name":"new","groupId":"g"},{"name":"new","groupId":"g"}]}`
	tests := []struct {
		name        string
		allow       bool
		wantCreates []string
		wantStatus  []OrgStatus
		wantWritten int
	}{
		{"default reuses", false, []string{"new"}, []OrgStatus{OrgReused, OrgCreated, OrgReused}, 2},
		{"allow duplicates creates", true, []string{"dup", "new", "new"}, []OrgStatus{OrgCreated, OrgCreated, OrgCreated}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStagesSnyk()
			s.orgs["g"] = []snyk.Org{{ID: "old", Name: "dup"}, {ID: "older", Name: "dup"}, {ID: "x", Name: "DUP"}}
			dir := t.TempDir()
			opts := orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", file), dir)
			opts.AllowDuplicateNames = tt.allow
			res, err := OrgsCreate(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range s.creates {
				names = append(names, c.Name)
			}
			if diff := cmp.Diff(tt.wantCreates, names); diff != "" {
				t.Errorf("creates (-want +got):\n%s", diff)
			}
			var st []OrgStatus
			for _, o := range res.Orgs {
				st = append(st, o.Status)
			}
			if diff := cmp.Diff(tt.wantStatus, st); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if !tt.allow && res.Orgs[0].Org.OrgID != "old" {
				t.Errorf("reused %s, want the first listed org of that name", res.Orgs[0].Org.OrgID)
			}
			if res.Written != tt.wantWritten {
				t.Errorf("Written = %d, want %d", res.Written, tt.wantWritten)
			}
		})
	}
}

// Logs are appended to, never rewritten, across runs.
func TestOrgsCreateLogsAppend(t *testing.T) {
	s := newStagesSnyk()
	s.createErr = map[string]error{"bad": errors.New("422 name invalid")}
	dir := t.TempDir()
	created := writeStagesFile(t, dir, "g.created-orgs.log", `{"name":"from-an-earlier-run","msg":"Created org"}`+"\n")
	failed := writeStagesFile(t, dir, "g.failed-to-create-orgs.log", `{"origName":"earlier","msg":"Failed to create org"}`+"\n")
	file := writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"bad","groupId":"g"},{"name":"good","groupId":"g"}]}`)
	for range 2 {
		if _, err := OrgsCreate(t.Context(), orgsCreateOpts(s, file, dir)); err != nil {
			t.Fatal(err)
		}
	}
	wantCreated := `{"name":"from-an-earlier-run","msg":"Created org"}
{"name":"good","hostname":"build-host","pid":4242,"level":30,"id":"org-1","created":"2025-01-02T03:04:05.678Z","integrations":[],"msg":"Created org","time":"2025-03-04T03:06:07.890Z","v":0}
`
	if got := string(readStagesFile(t, created)); got != wantCreated {
		t.Errorf("created log:\n%s\nwant:\n%s", got, wantCreated)
	}
	failLine := `{"name":"snyk:create-orgs","hostname":"build-host","pid":4242,"level":50,"origName":"bad","groupId":"g","errorMessage":"422 name invalid","msg":"Failed to create org","time":"2025-03-04T03:06:07.890Z","v":0}` + "\n"
	wantFailed := `{"origName":"earlier","msg":"Failed to create org"}` + "\n" + failLine + failLine
	if got := string(readStagesFile(t, failed)); got != wantFailed {
		t.Errorf("failed log:\n%s\nwant:\n%s", got, wantFailed)
	}
}

// One failing org does not stop the others; a notifications failure is a
// warning and the org still counts as created.
func TestOrgsCreatePerOrgFailures(t *testing.T) {
	s := newStagesSnyk()
	s.createErr = map[string]error{"b": &stagesHTTPError{status: 500, msg: "boom"}}
	s.notifErr = errors.New("403 not an admin")
	s.integErr = map[string]error{"org-2": errors.New("timeout")}
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g"},{"name":"b","groupId":"g"},{"name":"c","groupId":"g"}]}`)
	prog := &stagesProgress{}
	opts := orgsCreateOpts(s, file, dir)
	opts.Progress = prog
	res, err := OrgsCreate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var st []OrgStatus
	for _, o := range res.Orgs {
		st = append(st, o.Status)
	}
	if diff := cmp.Diff([]OrgStatus{OrgCreated, OrgFailed, OrgCreated}, st); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !res.Failed() || len(res.Failures()) != 1 {
		t.Errorf("Failed() = %v, Failures = %v", res.Failed(), res.Failures())
	}
	var he *stagesHTTPError
	if !errors.As(res.Orgs[1].Err, &he) {
		t.Errorf("failure %v is not the typed error", res.Orgs[1].Err)
	}
	if len(res.Orgs[0].Warnings) != 1 || !strings.Contains(res.Orgs[0].Warnings[0], "notification") {
		t.Errorf("warnings of a = %q, want the notifications one", res.Orgs[0].Warnings)
	}
	if len(res.Orgs[2].Warnings) != 2 {
		t.Errorf("warnings of c = %q, want integrations and notifications", res.Orgs[2].Warnings)
	}
	if res.Written != 2 {
		t.Errorf("Written = %d, want 2", res.Written)
	}
	lines := strings.Count(string(readStagesFile(t, filepath.Join(dir, "g.failed-to-create-orgs.log"))), "\n")
	if lines != 1 {
		t.Errorf("failed log has %d lines, want 1 (warnings are not failures)", lines)
	}
	if prog.counts["orgs"] != 3 || prog.counts["failed"] != 1 || prog.total != 3 {
		t.Errorf("progress %+v", prog)
	}
}

func TestOrgsCreateDryRun(t *testing.T) {
	s := newStagesSnyk()
	s.orgs["g"] = []snyk.Org{{ID: "old", Name: "a"}}
	dir := t.TempDir()
	file := writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g"},{"name":"b","groupId":"g"},{"name":"b","groupId":"g"}]}`)
	opts := orgsCreateOpts(s, file, dir)
	opts.DryRun = true
	res, err := OrgsCreate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var st []OrgStatus
	for _, o := range res.Orgs {
		st = append(st, o.Status)
	}
	if diff := cmp.Diff([]OrgStatus{OrgWouldReuse, OrgWouldCreate, OrgWouldReuse}, st); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if len(s.creates)+len(s.notifCalls)+len(s.integCalls) != 0 {
		t.Errorf("dry run called Snyk: creates %v notif %v integrations %v", s.creates, s.notifCalls, s.integCalls)
	}
	if res.Path != "" {
		t.Errorf("Path = %q on a dry run", res.Path)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dry run wrote files: %v", entries)
	}
}

func TestOrgsCreateExcludeExisting(t *testing.T) {
	s := newStagesSnyk()
	s.orgs["g"] = []snyk.Org{{ID: "old", Name: "a"}}
	dir := t.TempDir()
	opts := orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g"},{"name":"b","groupId":"g"}]}`), dir)
	opts.ExcludeExistingOrgs = true
	res, err := OrgsCreate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := importfiles.ReadCreatedOrgsFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 1 || orgs[0].Name != "b" {
		t.Errorf("file holds %+v, want only the created org b", orgs)
	}
	if len(s.integCalls) != 1 {
		t.Errorf("integrations read for %v, want only the new org", s.integCalls)
	}
}

func TestOrgsCreateGroupListingFails(t *testing.T) {
	auth := &stagesHTTPError{status: 401, msg: "token invalid"}
	t.Run("every group: error, old file kept", func(t *testing.T) {
		s := newStagesSnyk()
		s.listGroupErr = map[string]error{"g": auth}
		dir := t.TempDir()
		old := writeStagesFile(t, dir, "snyk-created-orgs.json", "old")
		res, err := OrgsCreate(t.Context(), orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g"}]}`), dir))
		var he *stagesHTTPError
		if !errors.As(err, &he) {
			t.Fatalf("err = %v, want the 401", err)
		}
		if res == nil || res.Count(OrgFailed) != 1 || len(s.creates) != 0 {
			t.Errorf("res = %+v creates = %v", res, s.creates)
		}
		if got := string(readStagesFile(t, old)); got != "old" {
			t.Errorf("earlier file overwritten: %q", got)
		}
	})
	t.Run("one group of two: its rows fail, the other goes on", func(t *testing.T) {
		s := newStagesSnyk()
		s.listGroupErr = map[string]error{"g1": auth}
		dir := t.TempDir()
		res, err := OrgsCreate(t.Context(), orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g1"},{"name":"b","groupId":"g2"},{"name":"c","groupId":"g1"}]}`), dir))
		if err != nil {
			t.Fatal(err)
		}
		var st []OrgStatus
		for _, o := range res.Orgs {
			st = append(st, o.Status)
		}
		if diff := cmp.Diff([]OrgStatus{OrgFailed, OrgCreated, OrgFailed}, st); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"g1", "g2"}, s.listedGroups); diff != "" {
			t.Errorf("groups listed (-want +got):\n%s", diff)
		}
		if n := strings.Count(string(readStagesFile(t, filepath.Join(dir, "g1.failed-to-create-orgs.log"))), "\n"); n != 2 {
			t.Errorf("g1 failed log has %d lines, want 2", n)
		}
	})
}

func TestOrgsCreateBadInput(t *testing.T) {
	s := newStagesSnyk()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"missing field": `{"orgs":[{"name":"a"}]}`,
		"slash group":   `{"orgs":[{"name":"a","groupId":"../etc"}]}`,
		"invalid JSON":  `{"orgs":[`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := OrgsCreate(t.Context(), orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", content), dir))
			var fe *importfiles.FileFormatError
			if !errors.As(err, &fe) {
				t.Errorf("err = %v, want a *importfiles.FileFormatError", err)
			}
		})
	}
	if len(s.listedGroups) != 0 {
		t.Errorf("Snyk called despite bad input")
	}
}

func TestOrgsCreateCancelled(t *testing.T) {
	s := newStagesSnyk()
	dir := t.TempDir()
	ctx, cancel := contextCancelledAfterCreates(t, s, 1)
	defer cancel()
	res, err := OrgsCreate(ctx, orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g"},{"name":"b","groupId":"g"}]}`), dir))
	if err == nil || res == nil {
		t.Fatalf("res %v err %v, want both", res, err)
	}
	if res.Orgs[0].Status != OrgCreated || res.Orgs[1].Status != OrgNotAttempted {
		t.Errorf("statuses %s %s", res.Orgs[0].Status, res.Orgs[1].Status)
	}
	orgs, rerr := importfiles.ReadCreatedOrgsFile(res.Path)
	if rerr != nil || len(orgs) != 1 {
		t.Errorf("file after interrupt: %v %v, want the one created org", orgs, rerr)
	}
}

// contextCancelledAfterCreates returns a context cancelled right after the
// n-th org is created.
func contextCancelledAfterCreates(t *testing.T, s *stagesSnyk, n int) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	count := 0
	s.afterCreate = func() {
		count++
		if count >= n {
			cancel()
		}
	}
	return ctx, cancel
}

// An interrupted run keeps the orgs an earlier run recorded in
// snyk-created-orgs.json instead of replacing the file with what it reached.
func TestOrgsCreateInterruptedKeepsEarlierOrgs(t *testing.T) {
	s := newStagesSnyk()
	dir := t.TempDir()
	earlier := []CreatedOrg{{OrgID: "old-1", Name: "x", GroupID: "g", OrigName: "x", Workspace: "x"}}
	if err := importfiles.WriteCreatedOrgsFile(filepath.Join(dir, importfiles.CreatedOrgsFileName), earlier); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextCancelledAfterCreates(t, s, 1)
	defer cancel()
	res, err := OrgsCreate(ctx, orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", `{"orgs":[{"name":"a","groupId":"g"},{"name":"b","groupId":"g"}]}`), dir))
	if err == nil || res == nil {
		t.Fatalf("res %v err %v, want both", res, err)
	}
	orgs, rerr := importfiles.ReadCreatedOrgsFile(res.Path)
	if rerr != nil || len(orgs) != 2 || orgs[1].OrgID != "old-1" {
		t.Errorf("file after interrupt: %+v %v, want the created org then the earlier one", orgs, rerr)
	}
}

// TestOrgsCreateManyAtOnce: 60 rows settled 8 at once, three rows to a
// name: each name's org is created once and its later rows reuse it (in
// file order), every org is in the created-orgs file once, and its
// notifications are switched off once.
func TestOrgsCreateManyAtOnce(t *testing.T) {
	s := newStagesSnyk()
	dir := t.TempDir()
	var rows []string
	for i := range 60 {
		rows = append(rows, fmt.Sprintf(`{"name":"org-%02d","groupId":"g"}`, i%20))
	}
	opts := orgsCreateOpts(s, writeStagesFile(t, dir, "orgs.json", `{"orgs":[`+strings.Join(rows, ",")+`]}`), dir)
	opts.Concurrency = 8
	res, err := OrgsCreate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if created, reused := res.Count(OrgCreated), res.Count(OrgReused); created != 20 || reused != 40 {
		t.Errorf("created %d, reused %d; want 20 and 40", created, reused)
	}
	for i, o := range res.Orgs {
		if want := OrgCreated; i >= 20 && o.Status != OrgReused || i < 20 && o.Status != want {
			t.Errorf("row %d (%s): %s; the first row of a name creates it, the later ones reuse it", i, o.Row.Name, o.Status)
		}
	}
	if len(s.creates) != 20 || len(s.notifCalls) != 20 {
		t.Errorf("%d creates and %d notification switches, want 20 each", len(s.creates), len(s.notifCalls))
	}
	orgs, err := importfiles.ReadCreatedOrgsFile(res.Path)
	if err != nil || len(orgs) != 20 {
		t.Errorf("created-orgs file: %d orgs, %v; want 20", len(orgs), err)
	}
}
