package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/bbimport/bbimport/internal/dirlock"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"
)

// stageAction is the one prologue of the stage commands (cli/cli's NewCmd
// and runF): begin (logging, no stray argument, the global options), the
// log directory, the stage's summary, bind (every flag and variable the
// command reads into its options, the clients' settings checked: each
// usage error is said here, before any file is touched), the log
// directory's lock unless the stage only reads, then run with the options.
// Tests pass their own run to see the options without running anything.
func stageAction[O any](rt *invocation, name string, bind func(*binding) (*O, error), run func(context.Context, *O) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		g, err := rt.begin(c)
		if err != nil {
			return err
		}
		logPath, err := g.requireLogDir()
		if err != nil {
			return err
		}
		rt.stage = &stageRun{name: name, logPath: logPath, started: rt.Now()}
		b := &binding{c: c, g: g, logPath: logPath, env: rt.Getenv, tuning: rt.Tuning,
			clients: rt.clients, io: rt.commandIO(rt.stage), lock: true}
		opts, err := bind(b)
		if err != nil {
			return err
		}
		if b.lock {
			l, err := lockLogDir(c.Context, logPath, name, c.Bool("wait"), rt.out.log)
			if err != nil {
				return err
			}
			// Held until the summary is written: two runs on one log
			// directory would send the same imports or act on one plan.
			defer l.Release()
		}
		return run(c.Context, opts)
	}
}

// lockLogDir takes the log directory's lock for the running command, so
// two runs never send the same imports or create the same orgs. Held by
// another process, it is a usage error (exit 2) naming the holder, unless
// wait (--wait): then it says whom it waits for and waits. Commands that
// only read (doctor, dry runs) do not call it.
func lockLogDir(ctx context.Context, logPath, command string, wait bool, log zerolog.Logger) (*dirlock.Lock, error) {
	l, err := dirlock.Acquire(ctx, logPath, command, false)
	var held *dirlock.HeldError
	if errors.As(err, &held) && wait {
		log.Info().Str("lock", held.Path).Msgf("waiting: %v", held)
		l, err = dirlock.Acquire(ctx, logPath, command, true)
	}
	if errors.As(err, &held) {
		return nil, &usageError{&wordedError{msg: held.Error() + "; wait for it to finish, pass --wait to wait for it, or use another SNYK_LOG_PATH", err: err}}
	}
	return l, err
}

// stageRun collects what a stage's summary file says, as the stage runs;
// the run writes it once the exit code is known, whatever the outcome.
type stageRun struct {
	name    string
	logPath string
	started time.Time
	// dryRun stages write no summary: they write nothing at all.
	dryRun   bool
	output   string
	shard    string
	detail   any
	failures []importer.FailureGroup
}

// outcomes by exit code, for the summary's "outcome".
var outcomes = map[int]string{
	exitOK: "ok", exitFailed: "failed", exitUsage: "usage", exitPartial: "partial",
	exitAuth: "auth", exitInterrupted: "interrupted",
}

// write writes <stage>-summary.json and this run's copy under summaries/
// (see importer.WriteStageSummary). msg is the closing message, "" when
// there is none. A summary that cannot be written is a warning: the
// stage's own work is done and recorded in its files.
func (st *stageRun) write(finished time.Time, code int, err error, msg string, r *redact.Redactor, log zerolog.Logger) {
	if st == nil || st.dryRun || st.logPath == "" {
		return
	}
	s := importer.StageSummary{
		Stage: st.name, Outcome: outcomes[code], ExitCode: code,
		Started: st.started, Finished: finished, DurationSeconds: finished.Sub(st.started).Seconds(),
		Output: st.output, Shard: st.shard, Failures: st.failures,
		Error: r.String(msg),
	}
	if len(s.Failures) == 0 && err != nil && !errors.Is(err, errSilent) && code != exitInterrupted {
		s.Failures = []importer.FailureGroup{{Stage: "run", Cause: importer.FailureCause(err), Count: 1}}
	}
	s.Failures = scrubFailures(s.Failures, r)
	var detail any
	if st.detail != nil {
		detail = scrubbedDetail{st.detail, r}
	}
	if _, _, werr := importer.WriteStageSummary(st.logPath, s, detail); werr != nil {
		errorFields(log.Warn(), werr).Msgf("could not write the %s summary: %v", st.name, werr)
	}
}

// scrubFailures masks secrets in the failure groups of a summary: a cause
// is an error's text when it has no status, and an error may quote a
// server that echoed the credential.
func scrubFailures(fs []importer.FailureGroup, r *redact.Redactor) []importer.FailureGroup {
	out := make([]importer.FailureGroup, len(fs))
	for i, f := range fs {
		f.Cause = r.String(f.Cause)
		if f.Examples != nil {
			ex := make([]string, len(f.Examples))
			for j, e := range f.Examples {
				ex[j] = r.String(e)
			}
			f.Examples = ex
		}
		out[i] = f
	}
	return out
}

// scrubbedDetail is a stage's summary detail with every secret masked: its
// warnings quote Bitbucket's and Snyk's refusals, which a gateway may fill
// with the credential it was sent (orgs:data's projects fallback wrote the
// access token into orgs-data-summary.json).
type scrubbedDetail struct {
	v any
	r *redact.Redactor
}

func (d scrubbedDetail) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as importer.WriteStageSummary encodes
	if err := enc.Encode(d.v); err != nil {
		return nil, err
	}
	out := []byte(d.r.String(b.String()))
	if !json.Valid(out) {
		return nil, errors.New("the summary is no JSON once its secrets are masked")
	}
	return out, nil
}
