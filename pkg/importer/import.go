package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Defaults and limits of ImportOptions.
const (
	DefaultConcurrency   = 15
	MinConcurrency       = 1
	MaxConcurrency       = 50
	DefaultPollTimeout   = 2 * time.Hour
	DefaultShutdownGrace = 5 * time.Second

	dryRunSampleSize = 20
)

// ImportOptions configures Import.
type ImportOptions struct {
	// Snyk kicks off and polls the imports (not used by a dry run).
	Snyk Snyk
	// File is the targets file, already resolved (a directory has been
	// turned into <dir>/import-projects.json by the caller).
	File string
	// LogPath is the directory of the resume log, the other logs and
	// import-summary.json; it is created if missing.
	LogPath string
	// Concurrency is the number of workers, MinConcurrency..MaxConcurrency
	// (the command's default); anything else is an error.
	Concurrency int
	// PollTimeout bounds the polling of one job (default 2h).
	PollTimeout time.Duration
	// PollInitial is the shortest wait between two polls of a job, and
	// before its first (default DefaultPollInitial): how often a job that
	// has likely finished is polled while the Snyk budget is idle. PollMax
	// is the longest (default DefaultPollMax). Between them the schedule
	// follows the chance that the job finished and what the budget leaves
	// (pollschedule.go).
	PollInitial time.Duration
	PollMax     time.Duration
	// PollShare (0..1; 0: none, the default) caps the polls of all workers
	// together at that share of SnykRateLimit (requests per minute).
	PollShare     float64
	SnykRateLimit int
	// OnPollSchedule, if set, hears the poll schedule in force at the
	// start and whenever it changes much (at most every 5 s).
	OnPollSchedule func(PollSchedule)
	// Pool, if set, is shared with other imports running at once (sync's
	// orgs): its slots bound them together, its schedule polls all their
	// jobs. Nil: Import makes its own of Concurrency slots.
	Pool *Pool
	// ShutdownGrace is how long an import request already on its way may
	// take to finish after ctx is cancelled, so that a job Snyk accepted is
	// logged and not imported again by the next run (default 5s; negative:
	// cancel it at once). Polling stops at once either way.
	ShutdownGrace time.Duration
	// DryRun reads the targets file and the resume log and reports what
	// would be imported; it calls nothing on Snyk and writes one file, the
	// plan (ImportPlanFile), and no log.
	DryRun bool
	// Now is the clock (default time.Now); Hostname and PID are written in
	// every log line (default: this host and process).
	Now      func() time.Time
	Hostname string
	PID      int
	// Progress receives the counters "skipped", "kicked off", "completed"
	// and "failed" of the stage "import"; nil is allowed.
	Progress Progress
	// Shard, if set, imports only the targets of its orgs; the others are
	// counted in ImportResult.OtherShards and left to the other jobs.
	Shard Shard

	// Redact, if set, scrubs secrets from every text of a server or an
	// error written under LogPath: whole lines of the per-org and job logs,
	// the errorMessage of resume-log lines (whose other fields identify the
	// target and must stay exact), the causes in import-summary.json.
	Redact func(string) string
	// ErrorText words an error written to the logs (nil: err.Error()). The
	// clients' errors state facts only: the command passes its own wording,
	// which says what to fix.
	ErrorText func(error) string

	// openFile opens the log files (nil: openNoFollow); tests make it fail
	// like a full disk.
	openFile importfiles.OpenFunc

	// For sync (pkg/syncer), which imports through this pool: Targets, if
	// set, replaces File; IgnoreResumeLog sends targets that
	// imported-targets.log lists (re-imports; sync decides what to skip);
	// OnTarget hears how each target ended; NoSummary leaves
	// import-summary.json alone.
	Targets         iter.Seq2[ImportTarget, error]
	IgnoreResumeLog bool
	OnTarget        func(ImportTarget, TargetOutcome)
	NoSummary       bool
}

func (o *ImportOptions) validate() error {
	if o.Concurrency < MinConcurrency || o.Concurrency > MaxConcurrency {
		return fieldErrorf("", "Concurrency", fmt.Sprintf("concurrency ({Concurrency}) must be a whole number from %d to %d, got %d",
			MinConcurrency, MaxConcurrency, o.Concurrency))
	}
	if o.File == "" && o.Targets == nil {
		return fieldErrorf("", "File", "no targets file given ({File})")
	}
	if o.LogPath == "" {
		return fieldErrorf("", "LogPath", "no log directory given ({LogPath})")
	}
	if o.Snyk == nil && !o.DryRun {
		return errors.New("importer: ImportOptions.Snyk is nil")
	}
	if o.PollShare < 0 || o.PollShare > 1 {
		return fmt.Errorf("poll share must be from 0 to 1 (a fraction of the Snyk rate limit), got %g", o.PollShare)
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = DefaultPollTimeout
	}
	if o.ShutdownGrace == 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Progress = progressOrNop(o.Progress)
	return nil
}

// Import kicks off a Snyk import for every target of the targets file not
// already imported, with a pool of Concurrency workers that each import one
// target and poll its job to the end before taking the next (no batch
// barrier). It reads imported-targets.log first and skips targets whose
// last line there says they are in Snyk; it appends the original's log
// lines as it goes and writes import-summary.json at the end.
//
// The error is non-nil when the run could not be done as asked (bad
// options, unreadable or invalid file, log files that cannot be written) or
// was interrupted: when ctx is cancelled, no new target is started, polling
// stops, the logs are flushed and closed, and Import returns the result so
// far with an error wrapping ctx.Err(). Failures of single targets are not
// errors: they are counted in the result (see ImportResult.Failed).
func Import(ctx context.Context, opts ImportOptions) (*ImportResult, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	res := &ImportResult{File: opts.File, LogPath: opts.LogPath, DryRun: opts.DryRun, Started: opts.Now(), Shard: opts.Shard.String()}

	// A run that sends every target it is given (sync, which decided from
	// the resume log itself) does not read it: the log grows with the estate.
	resume := &importfiles.ResumeLog{}
	if !opts.IgnoreResumeLog {
		var err error
		if resume, err = importfiles.LoadResumeLog(filepath.Join(opts.LogPath, importfiles.ImportedTargetsLog)); err != nil {
			return nil, fmt.Errorf("%w; nothing was sent to Snyk", err)
		}
	}
	res.ResumeLogLines, res.ResumeLogMalformed = resume.Lines, resume.Malformed

	// First pass: validate the whole file and count its rows, so that a bad
	// row fails the run before anything is imported, and progress has a total.
	for _, err := range opts.targets(&res.OtherShards) {
		if err != nil {
			return nil, err
		}
		res.Targets++
		if res.Targets%4096 == 0 && ctx.Err() != nil {
			res.Interrupted = true
			return res, fmt.Errorf("import interrupted: %w", ctx.Err())
		}
	}

	if opts.DryRun {
		return dryRun(ctx, opts, res, resume)
	}

	if err := os.MkdirAll(opts.LogPath, 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	pool := opts.Pool
	if pool == nil {
		pool = NewPool(opts)
	}
	// Write-ahead: nothing is sent before the resume log is open and the
	// directory takes new files, so an import is never sent whose record
	// could not be kept (a read-only directory sent all 155 and recorded none).
	ahead, err := pool.openAhead(opts.openFile, filepath.Join(opts.LogPath, importfiles.ImportedTargetsLog))
	if err == nil {
		if err = importfiles.CheckWritableDir(opts.openFile, opts.LogPath); err != nil {
			_ = pool.closeAhead()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the log directory %s cannot be written, so nothing was sent to Snyk: %w", opts.LogPath, err)
	}
	logs := importfiles.NewLogFiles(opts.LogPath, opts.Hostname, opts.PID, opts.Now)
	logs.Open, logs.Redact = opts.openFile, opts.Redact
	run := &importRun{
		pool:   pool,
		denied: make(map[string]error),
		ctx:    ctx,
		opts:   &opts,
		res:    res,
		logs:   logs,
		ahead:  ahead,
		prog:   opts.Progress,
		resume: resume,
		gate:   newKickOffGate(),
	}
	runErr := run.run()

	res.Duration = opts.Now().Sub(res.Started)
	res.NotStarted = max(0, res.Targets-res.Skipped-res.Duplicates-res.KickedOff-res.KickOffFailures)
	res.JobsUnfinished = res.KickedOff - res.JobsComplete - res.JobsFailed - res.PollFailures
	res.Interrupted = ctx.Err() != nil
	res.sortFailures()

	var errs []error
	if runErr != nil {
		errs = append(errs, runErr)
	}
	if !res.Interrupted {
		if err := run.gate.verdict(res.NotStarted); err != nil {
			errs = append(errs, err)
		}
	}
	if err := run.authError(); err != nil {
		errs = append(errs, err)
	}
	if err := run.logs.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := run.pool.closeAhead(); err != nil {
		errs = append(errs, err)
	}
	if run.stopErr != nil {
		errs = append(errs, fmt.Errorf("stopped starting imports after the resume log in %s could not be written (%w); every import Snyk accepted is recorded, and the %d target(s) not started are imported by the next run once the directory is writable",
			opts.LogPath, run.stopErr, res.NotStarted))
	}
	if run.firstLogErr != nil && !errors.Is(run.firstLogErr, run.stopErr) {
		errs = append(errs, fmt.Errorf("%d log line(s) could not be written, the next run may import some targets again: %w", res.LogErrors, run.firstLogErr))
	}
	if !opts.NoSummary {
		if res.StillFailed, err = stillFailed(&opts); err != nil {
			errs = append(errs, fmt.Errorf("count what is still failed: %w", err))
		}
		if err := writeImportSummary(opts.LogPath, res); err != nil {
			errs = append(errs, err)
		}
	}

	if res.Interrupted {
		errs = append(errs, fmt.Errorf("import interrupted: %w", ctx.Err()))
	}
	return res, errors.Join(errs...)
}

// ImportPlanFile is the plan a dry run writes in the log directory: the
// targets it would import, in the targets file format (import takes it).
const ImportPlanFile = "import-plan.json"

// dryRun reports what Import would do without calling Snyk, and writes
// the whole plan to ImportPlanFile (res.Plan).
func dryRun(ctx context.Context, opts ImportOptions, res *ImportResult, resume *ResumeLog) (*ImportResult, error) {
	if err := os.MkdirAll(opts.LogPath, 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	res.Plan = filepath.Join(opts.LogPath, ImportPlanFile)
	seen := make(map[string]struct{})
	err := importfiles.WriteFileAtomic(res.Plan, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.WriteString("{\"targets\":[")
		for it, err := range opts.targets(nil) {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("import interrupted: %w", err)
			}
			switch {
			case !opts.IgnoreResumeLog && resume.SkipTarget(it):
				res.Skipped++
			default:
				id := importfiles.IdentityKey(it)
				if _, dup := seen[id]; dup {
					res.Duplicates++
					continue
				}
				seen[id] = struct{}{}
				line, err := json.Marshal(it)
				if err != nil {
					return err
				}
				if res.WouldImport > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString("\n  ")
				bw.Write(line)
				res.WouldImport++
				if len(res.Sample) < dryRunSampleSize {
					res.Sample = append(res.Sample, it)
				}
			}
		}
		bw.WriteString("\n]}\n")
		return bw.Flush()
	})
	if err != nil {
		if ctx.Err() != nil {
			return res, err
		}
		return nil, fmt.Errorf("write the plan %s: %w", res.Plan, err)
	}
	res.Duration = opts.Now().Sub(res.Started)
	return res, nil
}

// importRun is the state of one Import call.
type importRun struct {
	pool   *Pool
	ctx    context.Context
	opts   *ImportOptions
	logs   *importfiles.LogFiles
	ahead  *importfiles.AheadLog // imported-targets.log, written ahead (the pool's)
	prog   Progress
	resume *ResumeLog
	// gate holds kick-offs back until Snyk accepts one (ProbeKickOffs).
	gate *kickOffGate

	// kickCtx is what import POSTs run under: it outlives ctx by
	// ShutdownGrace so an accepted import is still logged.
	kickCtx context.Context

	mu          sync.Mutex // guards res, prog, firstLogErr, stopErr, denied, authFailures
	res         *ImportResult
	firstLogErr error
	// stopErr is the first failure to write the resume log: no import is
	// started after it.
	stopErr error
	// denied holds, per org, the 401/403 with which Snyk refused the token:
	// the org's other targets are not sent (they would be refused too).
	denied map[string]error
	// authFailures counts kick-offs failed by a 401/403, sent or not.
	authFailures int
}

// deniedErr returns the error with which Snyk refused the token for org,
// or nil.
func (r *importRun) deniedErr(orgID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.denied[orgID]
}

// authError is the error of a run in which Snyk accepted no import and
// refused the token for every org tried (exit 4), or nil.
func (r *importRun) authError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.denied) == 0 || r.res.KickedOff > 0 || r.authFailures != r.res.KickOffFailures {
		return nil
	}
	var first error
	for _, org := range slices.Sorted(maps.Keys(r.denied)) {
		first = r.denied[org]
		break
	}
	if len(r.denied) == 1 {
		return fmt.Errorf("Snyk accepted no import: %w", first)
	}
	return fmt.Errorf("Snyk accepted no import and refused the token for all %d orgs of the targets file; the first: %w", len(r.denied), first)
}

func (r *importRun) run() error {
	r.prog.Start(StageImport, r.res.Targets)
	defer r.prog.Done()

	kickCtx, cancelKick := context.WithCancel(context.WithoutCancel(r.ctx))
	r.kickCtx = kickCtx
	finished := make(chan struct{})
	graceDone := make(chan struct{})
	go func() {
		defer close(graceDone)
		defer cancelKick()
		select {
		case <-finished:
			return
		case <-r.ctx.Done():
		}
		if r.opts.ShutdownGrace < 0 {
			return
		}
		t := time.NewTimer(r.opts.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-finished:
		}
	}()

	queue := make(chan ImportTarget)
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Go(func() {
			for it := range queue {
				if !r.takeSlot() {
					continue // interrupted or stopped: drain without starting
				}
				r.importOne(it)
				<-r.pool.slots
			}
		})
	}
	feedErr := r.feed(queue)
	close(queue)
	wg.Wait()
	close(finished)
	<-graceDone
	return feedErr
}

// takeSlot waits for one of the pool's slots (shared with other imports
// running at once); false, with no slot taken, when the run is interrupted
// or stopped.
func (r *importRun) takeSlot() bool {
	if r.ctx.Err() != nil || r.stopped() {
		return false
	}
	select {
	case r.pool.slots <- struct{}{}:
	case <-r.ctx.Done():
		return false
	}
	if r.stopped() {
		<-r.pool.slots
		return false
	}
	return true
}

// feed streams the targets file into queue, leaving out targets already
// imported and duplicates; it stops as soon as ctx is done.
func (r *importRun) feed(queue chan<- ImportTarget) error {
	seen := make(map[string]struct{})
	for it, err := range r.opts.targets(nil) {
		if err != nil {
			return err
		}
		if r.ctx.Err() != nil || r.stopped() {
			return nil
		}
		if !r.opts.IgnoreResumeLog && r.resume.SkipTarget(it) {
			r.update(func(res *ImportResult) { res.Skipped++; r.prog.Add(CounterSkipped, 1) })
			continue
		}
		id := importfiles.IdentityKey(it)
		if _, dup := seen[id]; dup {
			r.update(func(res *ImportResult) { res.Duplicates++; r.prog.Add(CounterSkipped, 1) })
			continue
		}
		seen[id] = struct{}{}
		select {
		case queue <- it:
		case <-r.ctx.Done():
			return nil
		}
	}
	return nil
}

func (r *importRun) update(fn func(res *ImportResult)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.res)
}

func (r *importRun) logErr(err error) {
	if err == nil {
		return
	}
	r.update(func(res *ImportResult) {
		res.LogErrors++
		if r.firstLogErr == nil {
			r.firstLogErr = err
		}
	})
}

// stopped reports whether a resume-log write has failed.
func (r *importRun) stopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopErr != nil
}

// resumeErr records a failed resume-log write, which stops the run from
// starting more imports.
func (r *importRun) resumeErr(err error) {
	if err == nil {
		return
	}
	r.logErr(err)
	r.update(func(*ImportResult) {
		if r.stopErr == nil {
			r.stopErr = err
		}
	})
}

// locationRoom is the room reserved for the Location in a "requested"
// line: Snyk's are about 160 bytes. A longer one is appended instead.
const locationRoom = 256

// reserveRequested reserves the room of it's "requested" line.
func (r *importRun) reserveRequested(it ImportTarget) (importfiles.Slot, error) {
	tmpl, err := r.logs.RenderTargetLine(importfiles.LevelInfo, importfiles.MsgTargetRequested, it, "")
	if err != nil {
		return importfiles.Slot{}, err
	}
	return r.ahead.Reserve(len(tmpl) + locationRoom)
}

// importOne kicks off one target and polls its job to the end.
func (r *importRun) importOne(it ImportTarget) {
	key := it.Key()
	if err := r.deniedErr(it.OrgID); err != nil {
		// Snyk refused the token for this org: sending would be refused too.
		r.kickOffFailed(it, key, fmt.Errorf("not sent, Snyk refused the token for this org: %w", err))
		return
	}
	if !r.gate.enter(r.ctx) {
		return // the first kick-offs failed alike: not sent, the next run sends it
	}
	room, err := r.reserveRequested(it)
	if err != nil {
		r.gate.cancelled()
		r.resumeErr(err) // not sent: the next run imports it
		return
	}
	loc, err := r.opts.Snyk.ImportTarget(r.kickCtx, it.OrgID, it.IntegrationID, it.Request())
	if err == nil && loc == "" {
		err = errors.New("Snyk accepted the import but sent no Location to poll")
	}
	if err != nil {
		r.ahead.Release(room)
		if r.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			r.gate.cancelled()
			return // interrupted before Snyk answered: not started, retried next run
		}
		r.gate.failure(key, err)
		if snyk.IsAuthError(err) {
			r.update(func(*ImportResult) {
				if r.denied[it.OrgID] == nil {
					r.denied[it.OrgID] = err
				}
			})
		}
		r.kickOffFailed(it, key, err)
		return
	}
	r.gate.accepted()
	started := r.pool.polls.cfg.now()
	r.update(func(res *ImportResult) { res.KickedOff++; r.prog.Add(CounterKickedOff, 1) })
	// The Location is scrubbed like every text of a server (the resume log
	// never reads it back): a gateway may put the token in it.
	line, err := r.logs.RenderTargetLine(importfiles.LevelInfo, importfiles.MsgTargetRequested, it, r.scrub(loc))
	if err == nil {
		err = r.ahead.Fill(room, line)
	}
	r.resumeErr(err)
	r.logErr(r.logs.Write(it.OrgID+importfiles.ImportJobsLogSuffix, importfiles.LevelInfo, "Kicked off import",
		importfiles.LogField{Key: "orgId", Value: it.OrgID}, importfiles.LogField{Key: "pollingUrl", Value: loc}))
	if r.ctx.Err() != nil {
		return // interrupted: Snyk has the job, the next run skips the target
	}

	job, err := pollJob(r.ctx, r.opts.Snyk, loc, r.pool.polls, started, r.opts.PollTimeout)
	if err != nil {
		if r.ctx.Err() != nil {
			return
		}
		r.logErr(r.logs.Write(it.OrgID+importfiles.FailedPollsLogSuffix, importfiles.LevelError, "Failed to poll url",
			importfiles.LogField{Key: "orgId", Value: it.OrgID}, importfiles.LogField{Key: "locationUrl", Value: loc}, importfiles.LogField{Key: "errorMessage", Value: r.errText(err)}))
		r.resumeErr(r.failedLine(it, loc, r.errText(err)))
		r.update(func(res *ImportResult) {
			res.PollFailures++
			res.addFailure(StagePoll, r.scrub(errorCause(err)), key)
			r.prog.Add(CounterFailed, 1)
		})
		r.outcome(it, TargetOutcome{Location: loc, Err: err})
		return
	}
	r.jobDone(it, key, loc, job)
	r.outcome(it, TargetOutcome{Location: loc, Job: job})
}

// failedLine appends a "failed" line for it to the resume log, so the next
// run imports it again.
func (r *importRun) failedLine(it ImportTarget, loc, msg string) error {
	line, err := r.logs.RenderTargetLine(importfiles.LevelError, importfiles.MsgTargetFailed, it, r.scrub(loc), importfiles.LogField{Key: "errorMessage", Value: r.scrub(msg)})
	if err != nil {
		return err
	}
	return r.ahead.Append(line)
}

// scrub is opts.Redact, if any.
// errText is err as the logs write it.
func (r *importRun) errText(err error) string {
	if r.opts.ErrorText != nil {
		return r.opts.ErrorText(err)
	}
	return err.Error()
}

func (r *importRun) scrub(s string) string {
	if r.opts.Redact == nil {
		return s
	}
	return r.opts.Redact(s)
}

// kickOffFailed logs and counts a target Snyk did not accept (retried by
// the next run: it gets no imported-targets.log line).
func (r *importRun) kickOffFailed(it ImportTarget, key string, err error) {
	var target any = it.Target
	if it.Raw != nil {
		target = it.Raw
	}
	r.logErr(r.logs.Write(it.OrgID+importfiles.FailedImportsLogSuffix, importfiles.LevelError, "Failed to import target",
		importfiles.LogField{Key: "integrationId", Value: it.IntegrationID},
		importfiles.LogField{Key: "target", Value: target},
		importfiles.LogField{Key: "errorData", Value: map[string]string{
			"errorMessage": "Could not complete API import",
			"innerError":   r.errText(err),
		}},
	))
	auth := snyk.IsAuthError(err)
	r.update(func(res *ImportResult) {
		res.KickOffFailures++
		if auth {
			r.authFailures++
		}
		res.addFailure(StageKickOff, r.scrub(errorCause(err)), key)
		r.prog.Add(CounterFailed, 1)
	})
	r.outcome(it, TargetOutcome{Err: err})
}

// jobDone logs a finished job and its projects.
func (r *importRun) jobDone(it ImportTarget, key, loc string, job *snyk.ImportJob) {
	fields := []importfiles.LogField{{Key: "locationUrl", Value: loc}, {Key: "id", Value: job.ID}, {Key: "status", Value: job.Status}}
	if job.Created != "" {
		fields = append(fields, importfiles.LogField{Key: "created", Value: job.Created})
	}
	logs := job.Logs
	if logs == nil {
		logs = []snyk.ImportLog{}
	}
	fields = append(fields, importfiles.LogField{Key: "logs", Value: logs})
	r.logErr(r.logs.Write(importfiles.ImportJobResultsLog, importfiles.LevelInfo, "Import job result", fields...))

	imported, failed := 0, 0
	seen := make(map[string]struct{})
	var causes []string
	for _, l := range job.Logs {
		for _, p := range l.Projects {
			if p.Success {
				if _, dup := seen[p.ProjectURL]; dup && p.ProjectURL != "" {
					continue
				}
				seen[p.ProjectURL] = struct{}{}
				imported++
				r.logErr(r.logs.Write(it.OrgID+importfiles.ImportedProjectsLogSuffix, importfiles.LevelInfo, "Imported project",
					importfiles.LogField{Key: "orgId", Value: it.OrgID}, importfiles.LogField{Key: "locationUrl", Value: loc}, importfiles.LogField{Key: "projectId", Value: lastPathSegment(p.ProjectURL)},
					importfiles.LogField{Key: "targetFile", Value: p.TargetFile}, importfiles.LogField{Key: "success", Value: p.Success}, importfiles.LogField{Key: "projectUrl", Value: p.ProjectURL}))
				continue
			}
			failed++
			pf := []importfiles.LogField{{Key: "orgId", Value: it.OrgID}, {Key: "targetFile", Value: p.TargetFile}, {Key: "success", Value: p.Success}, {Key: "projectUrl", Value: p.ProjectURL}}
			if p.UserMessage != "" {
				pf = append(pf, importfiles.LogField{Key: "userMessage", Value: p.UserMessage})
			}
			pf = append(pf, importfiles.LogField{Key: "locationUrl", Value: loc})
			r.logErr(r.logs.Write(it.OrgID+importfiles.FailedProjectsLogSuffix, importfiles.LevelError, "Error importing project", pf...))
			cause := "project failed"
			if p.UserMessage != "" {
				cause = messageClass(p.UserMessage)
			}
			causes = append(causes, cause)
		}
	}
	failure := jobFailure(job)
	jobFailed := failure != ""
	if jobFailed {
		r.resumeErr(r.failedLine(it, loc, failure))
	}
	r.update(func(res *ImportResult) {
		res.ProjectsImported += imported
		res.ProjectsFailed += failed
		for _, c := range causes {
			res.addFailure(StageProject, r.scrub(c), key)
		}
		if jobFailed {
			res.JobsFailed++
			res.addFailure(StageJob, "job failed", key)
			r.prog.Add(CounterFailed, 1)
			return
		}
		res.JobsComplete++
		r.prog.Add(CounterCompleted, 1)
	})
}

// lastPathSegment is the part of a URL after its last "/" (a project URL's
// project id).
func lastPathSegment(u string) string {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '/' {
			return u[i+1:]
		}
	}
	return u
}
