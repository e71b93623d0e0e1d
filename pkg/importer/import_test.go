package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/google/go-cmp/cmp"
)

type impEnv struct {
	logPath string
	file    string
	fake    *impFakeSnyk
}

func newImpEnv(t *testing.T, rows ...string) *impEnv {
	t.Helper()
	dir := t.TempDir()
	return &impEnv{
		logPath: filepath.Join(dir, "logs"),
		file:    writeStagesFile(t, dir, "import-projects.json", impTargetsJSON(rows...)),
		fake:    newImpFakeSnyk(t),
	}
}

func (e *impEnv) opts() ImportOptions {
	return ImportOptions{
		Snyk:        e.fake,
		File:        e.file,
		LogPath:     e.logPath,
		Concurrency: 4,
		PollInitial: time.Millisecond,
		PollMax:     4 * time.Millisecond,
		PollTimeout: 10 * time.Second,
		Hostname:    "h",
		PID:         1,
	}
}

// impReadLog returns the lines of a log file, decoded.
func impReadLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %q is not JSON: %v", filepath.Base(path), sc.Text(), err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func impRows(n int) []string {
	var rows []string
	for i := range n {
		rows = append(rows, impRow("org1", "int1", "ws", fmt.Sprintf("repo-%02d", i), "main"))
	}
	return rows
}

func TestImportHappyPath(t *testing.T) {
	e := newImpEnv(t, impRows(10)...)
	e.fake.pendingPolls = 2
	prog := &impProgress{}
	opts := e.opts()
	opts.Progress = prog
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := ImportResult{Targets: 10, KickedOff: 10, JobsComplete: 10, ProjectsImported: 10}
	got := ImportResult{Targets: res.Targets, KickedOff: res.KickedOff, JobsComplete: res.JobsComplete, ProjectsImported: res.ProjectsImported,
		Skipped: res.Skipped, Duplicates: res.Duplicates, KickOffFailures: res.KickOffFailures, JobsFailed: res.JobsFailed,
		PollFailures: res.PollFailures, ProjectsFailed: res.ProjectsFailed, NotStarted: res.NotStarted, JobsUnfinished: res.JobsUnfinished}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if res.Failed() || res.Interrupted {
		t.Errorf("Failed=%v Interrupted=%v", res.Failed(), res.Interrupted)
	}
	if e.fake.pollCount != 30 {
		t.Errorf("polls = %d, want 30 (2 pending + 1 complete per job)", e.fake.pollCount)
	}
	if prog.stage != "import" || prog.total != 10 || prog.counters["kicked off"] != 10 || prog.counters["completed"] != 10 || !prog.done {
		t.Errorf("progress = %+v", prog)
	}
	lines := impReadLog(t, filepath.Join(e.logPath, importfiles.ImportedTargetsLog))
	if len(lines) != 10 {
		t.Fatalf("imported-targets.log has %d lines", len(lines))
	}
	for _, name := range []string{"org1" + importfiles.ImportJobsLogSuffix, importfiles.ImportJobResultsLog, "org1" + importfiles.ImportedProjectsLogSuffix} {
		if n := len(impReadLog(t, filepath.Join(e.logPath, name))); n != 10 {
			t.Errorf("%s has %d lines, want 10", name, n)
		}
	}
	for _, name := range []string{"org1" + importfiles.FailedImportsLogSuffix, "org1" + importfiles.FailedProjectsLogSuffix, "org1" + importfiles.FailedPollsLogSuffix} {
		if _, err := os.Stat(filepath.Join(e.logPath, name)); !os.IsNotExist(err) {
			t.Errorf("%s exists", name)
		}
	}
	// The summary.
	data, err := os.ReadFile(filepath.Join(e.logPath, ImportSummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"targets": 10.0, "kickedOff": 10.0, "jobsComplete": 10.0, "projectsImported": 10.0, "failed": false} {
		if sum[k] != v {
			t.Errorf("summary %s = %v, want %v", k, sum[k], v)
		}
	}
	if _, ok := sum["durationSeconds"].(float64); !ok {
		t.Errorf("summary durationSeconds = %v", sum["durationSeconds"])
	}
	if f, ok := sum["failures"].([]any); !ok || len(f) != 0 {
		t.Errorf("summary failures = %v", sum["failures"])
	}
}

// TestImportLogLines pins every log line the run writes, byte for byte,
// against the original's shapes (anchor-spec §3.5 a, c-h).
func TestImportLogLines(t *testing.T) {
	e := newImpEnv(t,
		`{"orgId":"org1","integrationId":"int1","target":{"fork":true,"name":"ok","full_name":"ws/ok","owner":"ws","branch":"main"}}`,
		`{"orgId":"org1","integrationId":"int1","target":{"fork":true,"name":"bad","full_name":"ws/bad","owner":"ws","branch":"main"}}`,
		`{"orgId":"org1","integrationId":"int1","target":{"name":"half","owner":"ws","branch":"main"}}`,
		`{"orgId":"org1","integrationId":"int1","target":{"name":"broken","owner":"ws","branch":"main"}}`,
		`{"orgId":"org1","integrationId":"int1","target":{"name":"lost","owner":"ws","branch":"main"}}`,
	)
	f := e.fake
	f.kickOff = func(ctx context.Context, name string) error {
		if name == "bad" {
			return &impStatusErr{400}
		}
		return nil
	}
	f.poll = func(ctx context.Context, name string, n int) (*snyk.ImportJob, error) {
		if name == "lost" {
			return nil, &impStatusErr{404}
		}
		return nil, nil
	}
	f.result = func(name string, job *snyk.ImportJob) {
		switch name {
		case "half":
			job.Logs[0].Projects = append(job.Logs[0].Projects, snyk.ImportedProject{
				TargetFile: "pom.xml", Success: false, ProjectURL: "", UserMessage: "Could not parse pom.xml",
			})
		case "broken":
			job.Status = snyk.JobFailed
			job.Logs[0].Status = snyk.JobFailed
			job.Logs[0].Projects = nil
		}
	}
	opts := e.opts()
	opts.Concurrency = 1
	opts.Now = func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.FixedZone("X", 3600)) }
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || res.KickOffFailures != 1 || res.JobsFailed != 1 || res.PollFailures != 1 || res.ProjectsFailed != 1 ||
		res.JobsComplete != 2 || res.ProjectsImported != 2 || res.KickedOff != 4 {
		t.Errorf("result = %+v", res)
	}
	env := `{"name":"snyk:import-projects-script","hostname":"h","pid":1,`
	end := `,"time":"2024-05-01T09:00:00.123Z","v":0}`
	loc := func(n int) string {
		return fmt.Sprintf("https://api.snyk.io/v1/org/org1/integrations/int1/import/job-%d", n)
	}
	target := func(name string) string { return `{"name":"` + name + `","owner":"ws","branch":"main"}` }
	tl := func(level int, name string, n int, msg string, extra string) string {
		return env + fmt.Sprintf(`"level":%d,"target":%s,"locationUrl":%q,"orgId":"org1","integrationId":"int1","targetId":"org1:int1:%s:ws:main"%s,"msg":%q`,
			level, target(name), loc(n), name, extra, msg) + end
	}
	jobResult := func(n int, name, status string, projects string) string {
		return env + fmt.Sprintf(`"level":30,"locationUrl":%q,"id":"job-%d","status":%q,"created":"2024-05-01T10:00:00.000Z","logs":[{"name":%q,"created":"2024-05-01T10:00:00.000Z","status":%q,"projects":%s}],"msg":"Import job result"`,
			loc(n), n, status, name, status, projects) + end
	}
	okProject := func(n int) string {
		return fmt.Sprintf(`{"targetFile":"package.json","success":true,"projectUrl":"https://app.snyk.io/org/org1/project/p-job-%d"}`, n)
	}
	want := map[string][]string{
		importfiles.ImportedTargetsLog: {
			tl(30, "ok", 1, importfiles.MsgTargetRequested, ""),
			tl(30, "half", 3, importfiles.MsgTargetRequested, ""),
			tl(30, "broken", 4, importfiles.MsgTargetRequested, ""),
			tl(50, "broken", 4, importfiles.MsgTargetFailed, `,"errorMessage":"import job failed"`),
			tl(30, "lost", 5, importfiles.MsgTargetRequested, ""),
			tl(50, "lost", 5, importfiles.MsgTargetFailed, `,"errorMessage":"snyk: 404 answer"`),
		},
		"org1" + importfiles.ImportJobsLogSuffix: {
			env + fmt.Sprintf(`"level":30,"orgId":"org1","pollingUrl":%q,"msg":"Kicked off import"`, loc(1)) + end,
			env + fmt.Sprintf(`"level":30,"orgId":"org1","pollingUrl":%q,"msg":"Kicked off import"`, loc(3)) + end,
			env + fmt.Sprintf(`"level":30,"orgId":"org1","pollingUrl":%q,"msg":"Kicked off import"`, loc(4)) + end,
			env + fmt.Sprintf(`"level":30,"orgId":"org1","pollingUrl":%q,"msg":"Kicked off import"`, loc(5)) + end,
		},
		"org1" + importfiles.FailedImportsLogSuffix: {
			env + `"level":50,"integrationId":"int1","target":{"fork":true,"name":"bad","full_name":"ws/bad","owner":"ws","branch":"main"},"errorData":{"errorMessage":"Could not complete API import","innerError":"snyk: 400 answer"},"msg":"Failed to import target"` + end,
		},
		importfiles.ImportJobResultsLog: {
			jobResult(1, "ok", "complete", "["+okProject(1)+"]"),
			jobResult(3, "half", "complete", "["+okProject(3)+`,{"targetFile":"pom.xml","success":false,"projectUrl":"","userMessage":"Could not parse pom.xml"}]`),
			jobResult(4, "broken", "failed", "null"),
		},
		"org1" + importfiles.ImportedProjectsLogSuffix: {
			env + fmt.Sprintf(`"level":30,"orgId":"org1","locationUrl":%q,"projectId":"p-job-1","targetFile":"package.json","success":true,"projectUrl":"https://app.snyk.io/org/org1/project/p-job-1","msg":"Imported project"`, loc(1)) + end,
			env + fmt.Sprintf(`"level":30,"orgId":"org1","locationUrl":%q,"projectId":"p-job-3","targetFile":"package.json","success":true,"projectUrl":"https://app.snyk.io/org/org1/project/p-job-3","msg":"Imported project"`, loc(3)) + end,
		},
		"org1" + importfiles.FailedProjectsLogSuffix: {
			env + fmt.Sprintf(`"level":50,"orgId":"org1","targetFile":"pom.xml","success":false,"projectUrl":"","userMessage":"Could not parse pom.xml","locationUrl":%q,"msg":"Error importing project"`, loc(3)) + end,
		},
		"org1" + importfiles.FailedPollsLogSuffix: {
			env + fmt.Sprintf(`"level":50,"orgId":"org1","locationUrl":%q,"errorMessage":"snyk: 404 answer","msg":"Failed to poll url"`, loc(5)) + end,
		},
	}
	for name, lines := range want {
		data, err := os.ReadFile(filepath.Join(e.logPath, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if diff := cmp.Diff(strings.Join(lines, "\n")+"\n", string(data)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	// Failures grouped by cause.
	wantFailures := []FailureGroup{
		{Stage: StageJob, Cause: "job failed", Count: 1, Examples: []string{"org1:int1:broken:ws:main"}},
		{Stage: StageKickOff, Cause: "HTTP 400", Count: 1, Examples: []string{"org1:int1:bad:ws:main"}},
		{Stage: StagePoll, Cause: "HTTP 404", Count: 1, Examples: []string{"org1:int1:lost:ws:main"}},
		{Stage: StageProject, Cause: "Could not parse pom.xml", Count: 1, Examples: []string{"org1:int1:half:ws:main"}},
	}
	if diff := cmp.Diff(wantFailures, res.Failures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	// The failed targets are retried by the next run, the others skipped.
	f.kickOff, f.poll, f.result = nil, nil, nil
	res2, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ok", "bad", "half", "broken", "lost", "bad", "broken", "lost"}, f.importedNames()); diff != "" {
		t.Errorf("imports over both runs (-want +got):\n%s", diff)
	}
	if res2.Skipped != 2 || res2.KickedOff != 3 || res2.Failed() {
		t.Errorf("second run = %+v", res2)
	}
}

// TestImportMaxInFlight: with kick-offs that block, exactly Concurrency
// targets are in flight, never more (once Snyk has accepted the first:
// until then ProbeKickOffs at most, TestImportSystematic).
func TestImportMaxInFlight(t *testing.T) {
	for _, conc := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			e := newImpEnv(t, impRows(25)...)
			release := make(chan struct{})
			var waiting sync.WaitGroup
			waiting.Add(conc)
			var once sync.Once
			var mu sync.Mutex
			started := 0
			e.fake.kickOff = func(ctx context.Context, name string) error {
				mu.Lock()
				started++
				accepted, first := started == 1, started > 1 && started <= conc+1
				mu.Unlock()
				if accepted {
					return nil
				}
				if first {
					waiting.Done()
				}
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
				return nil
			}
			opts := e.opts()
			opts.Concurrency = conc
			done := make(chan struct{})
			var res *ImportResult
			var err error
			go func() {
				defer close(done)
				res, err = Import(t.Context(), opts)
			}()
			waiting.Wait()
			time.Sleep(20 * time.Millisecond) // room for an extra worker to show up
			e.fake.mu.Lock()
			active := e.fake.active
			e.fake.mu.Unlock()
			if active != conc {
				t.Errorf("in flight = %d, want %d", active, conc)
			}
			once.Do(func() { close(release) })
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if e.fake.maxActive != conc {
				t.Errorf("max in flight = %d, want %d", e.fake.maxActive, conc)
			}
			if res.KickedOff != 25 || res.JobsComplete != 25 {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

// TestImportNoBatchBarrier: target 1's job stays pending while every other
// target is imported by the remaining worker.
func TestImportNoBatchBarrier(t *testing.T) {
	e := newImpEnv(t, impRows(10)...)
	slowRelease := make(chan struct{})
	othersDone := make(chan struct{})
	e.fake.poll = func(ctx context.Context, name string, n int) (*snyk.ImportJob, error) {
		if name == "repo-00" {
			select {
			case <-slowRelease:
				return nil, nil
			default:
				return &snyk.ImportJob{ID: "slow", Status: snyk.JobPending}, nil
			}
		}
		return nil, nil
	}
	opts := e.opts()
	opts.Concurrency = 2
	go func() {
		defer close(slowRelease)
		deadline := time.After(10 * time.Second)
		for {
			e.fake.mu.Lock()
			n := e.fake.finished
			e.fake.mu.Unlock()
			if n == 9 {
				close(othersDone)
				return
			}
			select {
			case <-deadline:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-othersDone:
	default:
		t.Fatal("the other 9 targets did not finish while target 1's job was pending")
	}
	if res.JobsComplete != 10 {
		t.Errorf("result = %+v", res)
	}
}

func TestImportResume(t *testing.T) {
	e := newImpEnv(t, impRows(6)...)
	opts := e.opts()
	if _, err := Import(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.importCalls(); n != 6 {
		t.Fatalf("first run: %d imports", n)
	}
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.fake.importCalls(); n != 6 {
		t.Errorf("second run made %d kick-offs, want 0", n-6)
	}
	if res.Skipped != 6 || res.KickedOff != 0 || res.ResumeLogLines != 6 {
		t.Errorf("second run = %+v", res)
	}
}

// TestImportCompatResumeLog: a targets file and the original's resume log
// naming the same target → the target is skipped.
func TestImportCompatResumeLog(t *testing.T) {
	for _, tc := range []struct{ targets, log string }{
		{"with-import-log.import-projects.json", "with-import-log.imported-targets.log"},
		{"", "bitbucket-cloud.imported-targets.log"},
	} {
		t.Run(tc.log, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "logs")
			if err := os.MkdirAll(logPath, 0o755); err != nil {
				t.Fatal(err)
			}
			copyImp := func(src, dst string) string {
				data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "compat", src))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return dst
			}
			copyImp(tc.log, filepath.Join(logPath, importfiles.ImportedTargetsLog))
			var file string
			if tc.targets != "" {
				file = copyImp(tc.targets, filepath.Join(dir, "import-projects.json"))
			} else {
				// The target of that log line, and one whose key equals its stale targetId.
				file = writeStagesFile(t, dir, "import-projects.json", impTargetsJSON(
					impRow("ORG_ID", "INTEGRATION_ID", "snyk-test-scm", "test-spaces", "master"),
					`{"orgId":"ORG_ID","integrationId":"INTEGRATION_ID","target":{"name":"debug","appId":"123","owner":"snyk","branch":"master"}}`,
				))
			}
			fake := newImpFakeSnyk(t)
			res, err := Import(t.Context(), ImportOptions{Snyk: fake, File: file, LogPath: logPath, Concurrency: 2, PollInitial: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped != 1 {
				t.Errorf("skipped %d, want 1", res.Skipped)
			}
			if tc.targets != "" && fake.importCalls() != 0 {
				t.Errorf("%d kick-offs, want 0", fake.importCalls())
			}
			if tc.targets == "" && !cmp.Equal(fake.importedNames(), []string{"debug"}) {
				t.Errorf("imported %v, want only the target of the stale targetId", fake.importedNames())
			}
		})
	}
}

func TestImportInvalidFileCallsNothing(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "compat", "import-projects.invalid.json"))
	if err != nil {
		t.Fatal(err)
	}
	file := writeStagesFile(t, dir, "import-projects.json", string(data))
	fake := newImpFakeSnyk(t)
	fake.noCalls = true
	_, err = Import(t.Context(), ImportOptions{Snyk: fake, File: file, LogPath: filepath.Join(dir, "logs"), Concurrency: 1})
	if err == nil || !strings.Contains(err.Error(), "import-projects.json:11:1: invalid JSON") {
		t.Errorf("error = %v", err)
	}
	// A bad row late in the file also stops the run before any import.
	file = writeStagesFile(t, dir, "late.json", impTargetsJSON(append(impRows(5), `{"orgId":"o","target":{"name":"x"}}`)...))
	_, err = Import(t.Context(), ImportOptions{Snyk: fake, File: file, LogPath: filepath.Join(dir, "logs"), Concurrency: 1})
	if err == nil || !strings.HasSuffix(err.Error(), `late.json: targets[5]: missing "integrationId"`) {
		t.Errorf("error = %v", err)
	}
}

func TestImportDuplicatesInFile(t *testing.T) {
	e := newImpEnv(t,
		impRow("o", "i", "ws", "a", "main"),
		`{"orgId":"o","integrationId":"i","target":{"fork":true,"branch":"main","name":"a","owner":"ws"}}`, // same key
		impRow("o", "i", "ws", "a", "dev"), // other branch: not a duplicate
		`{"orgId":"o","integrationId":"i","target":{"id":1,"branch":"main"}}`,
		`{"orgId":"o","integrationId":"i","target":{"id":2,"branch":"main"}}`, // other GitLab id: not a duplicate
		`{"orgId":"o","integrationId":"i","target":{"id":1,"branch":"main"}}`, // duplicate
	)
	res, err := Import(t.Context(), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 2 || res.KickedOff != 4 {
		t.Errorf("Duplicates=%d KickedOff=%d, want 2 and 4", res.Duplicates, res.KickedOff)
	}
}

func TestImportConcurrencyValidation(t *testing.T) {
	e := newImpEnv(t, impRows(1)...)
	for _, c := range []int{0, -1, 51, 1000} {
		opts := e.opts()
		opts.Concurrency = c
		_, err := Import(t.Context(), opts)
		if err == nil {
			t.Errorf("concurrency %d accepted", c)
			continue
		}
		// The flag and variable (CONCURRENT_IMPORTS, --concurrency) are the
		// command's to name: cmd/bbimport TestFieldErrorsNameFlags.
		if fe, ok := errors.AsType[*FieldError](err); !ok || fe.Field != "Concurrency" {
			t.Errorf("concurrency %d: error %v (%T); want a *FieldError for Concurrency", c, err, err)
		}
		for _, want := range []string{"1 to 50", fmt.Sprint(c)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("concurrency %d: error %q does not mention %q", c, err, want)
			}
		}
	}
	if e.fake.importCalls() != 0 {
		t.Error("imports were made")
	}
	for _, c := range []int{1, 50} {
		opts := e.opts()
		opts.Concurrency = c
		opts.DryRun = true
		if _, err := Import(t.Context(), opts); err != nil {
			t.Errorf("concurrency %d rejected: %v", c, err)
		}
	}
}

func TestImportOptionErrors(t *testing.T) {
	e := newImpEnv(t, impRows(1)...)
	for name, mod := range map[string]func(*ImportOptions){
		"no file":    func(o *ImportOptions) { o.File = "" },
		"no logPath": func(o *ImportOptions) { o.LogPath = "" },
		"no snyk":    func(o *ImportOptions) { o.Snyk = nil },
		"missing file": func(o *ImportOptions) {
			o.File = filepath.Join(filepath.Dir(o.File), "nope.json")
		},
	} {
		opts := e.opts()
		mod(&opts)
		if _, err := Import(t.Context(), opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestImportDryRun(t *testing.T) {
	e := newImpEnv(t, append(impRows(30), impRow("org1", "int1", "ws", "repo-00", "main"))...)
	// repo-01 is already imported.
	if err := os.MkdirAll(e.logPath, 0o755); err != nil {
		t.Fatal(err)
	}
	writeStagesFile(t, e.logPath, importfiles.ImportedTargetsLog, impLogLine(importfiles.MsgTargetRequested, "org1", "int1", `{"name":"repo-01","owner":"ws","branch":"main"}`)+"\n")
	e.fake.noCalls = true
	opts := e.opts()
	opts.DryRun = true
	opts.Snyk = nil
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Targets != 31 || res.Skipped != 1 || res.Duplicates != 1 || res.WouldImport != 29 || len(res.Sample) != dryRunSampleSize {
		t.Errorf("dry run = targets %d skipped %d duplicates %d would import %d sample %d",
			res.Targets, res.Skipped, res.Duplicates, res.WouldImport, len(res.Sample))
	}
	if n, _ := res.Sample[1].Target.Get("name"); n != "repo-02" {
		t.Errorf("sample[1] = %s", n)
	}
	entries, _ := os.ReadDir(e.logPath)
	if len(entries) != 2 || res.Plan != filepath.Join(e.logPath, ImportPlanFile) {
		t.Errorf("dry run wrote files: %v, plan %s", entries, res.Plan)
	}
	// The plan is every target it would import, as a targets file.
	opts.File, opts.LogPath = res.Plan, t.TempDir()
	again, err := Import(t.Context(), opts)
	if err != nil || again.Targets != 29 || again.WouldImport != 29 {
		t.Fatalf("the plan as a targets file: %+v, %v", again, err)
	}
	opts.File, opts.LogPath = e.file, e.logPath
	// Same with a Snyk that fails on any call.
	opts.Snyk = e.fake
	if _, err := Import(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
}

func TestImportKickOffFailureRetriedNextRun(t *testing.T) {
	e := newImpEnv(t, impRows(3)...)
	e.fake.kickOff = func(ctx context.Context, name string) error {
		if name == "repo-01" {
			return fmt.Errorf("connection reset: %w", errors.New("read tcp"))
		}
		return nil
	}
	res, err := Import(t.Context(), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.KickOffFailures != 1 || res.KickedOff != 2 || !res.Failed() {
		t.Errorf("result = %+v", res)
	}
	failed := impReadLog(t, filepath.Join(e.logPath, "org1"+importfiles.FailedImportsLogSuffix))
	if len(failed) != 1 || failed[0]["msg"] != "Failed to import target" || failed[0]["level"] != 50.0 {
		t.Fatalf("failed-imports.log = %v", failed)
	}
	ed, _ := failed[0]["errorData"].(map[string]any)
	if ed["errorMessage"] != "Could not complete API import" || !strings.Contains(fmt.Sprint(ed["innerError"]), "connection reset") {
		t.Errorf("errorData = %v", ed)
	}
	for _, l := range impReadLog(t, filepath.Join(e.logPath, importfiles.ImportedTargetsLog)) {
		if l["targetId"] == "org1:int1:repo-01:ws:main" {
			t.Errorf("failed kick-off logged in imported-targets.log: %v", l)
		}
	}
	e.fake.kickOff = nil
	res, err = Import(t.Context(), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.KickedOff != 1 || res.Skipped != 2 {
		t.Errorf("second run = %+v", res)
	}
}

func TestImportPollTimeout(t *testing.T) {
	e := newImpEnv(t, impRows(2)...)
	e.fake.poll = func(ctx context.Context, name string, n int) (*snyk.ImportJob, error) {
		if name == "repo-00" {
			if n%2 == 0 {
				return nil, &impStatusErr{503}
			}
			return &snyk.ImportJob{Status: snyk.JobPending}, nil
		}
		return nil, nil
	}
	opts := e.opts()
	opts.PollTimeout = 40 * time.Millisecond
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.PollFailures != 1 || res.JobsComplete != 1 || !res.Failed() {
		t.Errorf("result = %+v", res)
	}
	if len(res.Failures) != 1 || res.Failures[0].Stage != StagePoll || res.Failures[0].Cause != "timeout" {
		t.Errorf("failures = %+v", res.Failures)
	}
	polls := impReadLog(t, filepath.Join(e.logPath, "org1"+importfiles.FailedPollsLogSuffix))
	if len(polls) != 1 || !strings.Contains(fmt.Sprint(polls[0]["errorMessage"]), "did not finish within the poll timeout") {
		t.Errorf("failed-polls.log = %v", polls)
	}
	lines := impReadLog(t, filepath.Join(e.logPath, importfiles.ImportedTargetsLog))
	if last := lines[len(lines)-1]; last["msg"] != importfiles.MsgTargetFailed && lines[len(lines)-2]["msg"] != importfiles.MsgTargetFailed {
		t.Errorf("no %q line: %v", importfiles.MsgTargetFailed, lines)
	}
}

// TestImportCancel: cancelling mid-run returns promptly with the result so
// far and an error wrapping context.Canceled, leaves no goroutine behind,
// and the next run imports only what was not started.
func TestImportCancel(t *testing.T) {
	for _, grace := range []time.Duration{-1, 30 * time.Millisecond} {
		t.Run(fmt.Sprint(grace), func(t *testing.T) {
			before := runtime.NumGoroutine()
			e := newImpEnv(t, impRows(40)...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var mu sync.Mutex
			kicked := 0
			e.fake.kickOff = func(kctx context.Context, name string) error {
				mu.Lock()
				kicked++
				n := kicked
				mu.Unlock()
				if n == 10 {
					cancel()
				}
				if n > 8 { // these are in flight at the cancel: they block until their ctx ends
					<-kctx.Done()
					return kctx.Err()
				}
				return nil
			}
			// Jobs never finish: pollers must stop on cancel.
			e.fake.poll = func(ctx context.Context, name string, n int) (*snyk.ImportJob, error) {
				return &snyk.ImportJob{Status: snyk.JobPending}, nil
			}
			opts := e.opts()
			opts.Concurrency = 12
			opts.ShutdownGrace = grace
			start := time.Now()
			res, err := Import(ctx, opts)
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Import took %v after cancel", elapsed)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error = %v, want context.Canceled", err)
			}
			if res == nil || !res.Interrupted {
				t.Fatalf("result = %+v", res)
			}
			if res.KickedOff != 8 || res.KickOffFailures != 0 || res.JobsUnfinished != 8 || res.NotStarted != 32 {
				t.Errorf("result: kicked off %d, kick-off failures %d, unfinished %d, not started %d",
					res.KickedOff, res.KickOffFailures, res.JobsUnfinished, res.NotStarted)
			}
			if _, err := os.Stat(filepath.Join(e.logPath, ImportSummaryFile)); err != nil {
				t.Errorf("no summary after cancel: %v", err)
			}
			impWaitGoroutines(t, before)

			// The next run imports the 32 not started, and skips the 8 kicked off.
			e.fake.kickOff, e.fake.poll = nil, nil
			res2, err := Import(t.Context(), e.opts())
			if err != nil {
				t.Fatal(err)
			}
			if res2.Skipped != 8 || res2.KickedOff != 32 {
				t.Errorf("next run: skipped %d, kicked off %d", res2.Skipped, res2.KickedOff)
			}
		})
	}
}

// TestImportShutdownGraceLogsAcceptedImport: an import POST in flight when
// ctx is cancelled may finish within the grace; it is then logged so the
// next run does not import it again.
func TestImportShutdownGraceLogsAcceptedImport(t *testing.T) {
	e := newImpEnv(t, impRows(3)...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e.fake.kickOff = func(kctx context.Context, name string) error {
		if name == "repo-00" {
			cancel()
			time.Sleep(10 * time.Millisecond) // Snyk answers after the cancel
			return kctx.Err()                 // still alive within the grace
		}
		return nil
	}
	opts := e.opts()
	opts.Concurrency = 1
	opts.ShutdownGrace = 5 * time.Second
	res, err := Import(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v", err)
	}
	if res.KickedOff != 1 || res.NotStarted != 2 {
		t.Errorf("result = %+v", res)
	}
	lines := impReadLog(t, filepath.Join(e.logPath, importfiles.ImportedTargetsLog))
	if len(lines) != 1 || lines[0]["msg"] != importfiles.MsgTargetRequested {
		t.Errorf("imported-targets.log = %v", lines)
	}
}

func impWaitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left, %d before:\n%s", n, before, buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestImportLogWriteErrorReported(t *testing.T) {
	e := newImpEnv(t, impRows(2)...)
	if err := os.MkdirAll(filepath.Join(e.logPath, importfiles.ImportedTargetsLog), 0o755); err != nil { // cannot be opened for writing
		t.Fatal(err)
	}
	// A directory in place of the resume log cannot be read either.
	_, err := Import(t.Context(), e.opts())
	if err == nil {
		t.Fatal("no error")
	}
	// Only the job log is unwritable: the run completes and says so.
	e2 := newImpEnv(t, impRows(2)...)
	if err := os.MkdirAll(filepath.Join(e2.logPath, "org1"+importfiles.ImportJobsLogSuffix), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Import(t.Context(), e2.opts())
	if err == nil || !strings.Contains(err.Error(), "log line(s) could not be written") {
		t.Errorf("error = %v", err)
	}
	if res == nil || res.LogErrors != 2 || res.JobsComplete != 2 {
		t.Errorf("result = %+v", res)
	}
}

// A 401/403 on an org's import POST: Snyk refuses the token for that org,
// so its other targets are not sent (logged as failed, retried next run);
// the other orgs go on. When no org accepts anything, the run's error is
// the auth error (exit 4).
func TestImportOrgRefusingTheToken(t *testing.T) {
	var rows []string
	for i := range 5 {
		rows = append(rows, impRow("org-deny", "int1", "ws", fmt.Sprintf("deny-%d", i), "main"))
		rows = append(rows, impRow("org-ok", "int2", "ws", fmt.Sprintf("ok-%d", i), "main"))
	}
	e := newImpEnv(t, rows...)
	refuse := func(ctx context.Context, name string) error {
		if strings.HasPrefix(name, "deny-") {
			return &snyk.ErrorResponse{StatusCode: 401, Message: "Not authorised", OrgID: "org-deny"}
		}
		return nil
	}
	e.fake.kickOff = refuse
	opts := e.opts()
	opts.Concurrency = 1
	res, err := Import(t.Context(), opts)
	if err != nil {
		t.Fatalf("one org refusing the token is a partial failure, not an error: %v", err)
	}
	sent := 0
	for _, c := range e.fake.imports {
		if c.OrgID == "org-deny" {
			sent++
		}
	}
	if sent != 1 || res.KickOffFailures != 5 || res.KickedOff != 5 || !res.Failed() {
		t.Errorf("%d POSTs to the refusing org (want 1); result %+v", sent, res)
	}
	if n := len(impReadLog(t, filepath.Join(e.logPath, "org-deny"+importfiles.FailedImportsLogSuffix))); n != 5 {
		t.Errorf("%d failed-imports lines, want 5", n)
	}
	if len(res.Failures) != 1 || res.Failures[0].Cause != "HTTP 401" || res.Failures[0].Count != 5 {
		t.Errorf("failures = %+v, want 5 × HTTP 401", res.Failures)
	}

	// Every org refuses: the run's error says so, typed.
	e2 := newImpEnv(t, impRows(4)...)
	e2.fake.kickOff = func(context.Context, string) error {
		return &snyk.ErrorResponse{StatusCode: 401, Message: "Not authorised", OrgID: "org1"}
	}
	opts = e2.opts()
	opts.Concurrency = 1
	res, err = Import(t.Context(), opts)
	if !snyk.IsAuthError(err) || res == nil || res.KickOffFailures != 4 || len(e2.fake.imports) != 1 {
		t.Errorf("all refused: err %v, result %+v, %d POSTs (want 1)", err, res, len(e2.fake.imports))
	}
}

// TestImportErrorText: the failure logs word errors with the command's
// ErrorText, so they say what to fix as the final message does.
func TestImportErrorText(t *testing.T) {
	e := newImpEnv(t, impRows(1)...)
	e.fake.kickOff = func(ctx context.Context, name string) error { return errors.New("refused") }
	opts := e.opts()
	opts.ErrorText = func(err error) string { return err.Error() + "; fix it" }
	if _, err := Import(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	failed := impReadLog(t, filepath.Join(e.logPath, "org1"+importfiles.FailedImportsLogSuffix))
	if len(failed) != 1 {
		t.Fatalf("failed-imports.log = %v", failed)
	}
	if ed, _ := failed[0]["errorData"].(map[string]any); ed["innerError"] != "refused; fix it" {
		t.Errorf("innerError = %v; want the ErrorText wording", ed["innerError"])
	}
}
