package main

import (
	"context"
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

// binding is what a command's bind function reads: its command line, the
// environment, the global options, and the factory whose settings it checks
// now and whose clients its run builds later.
type binding struct {
	c       *cli.Context
	g       globalOptions
	logPath string
	env     func(string) string
	tuning  tuning
	clients *factory
	// io is the run function's streams and clock, with the stage summary.
	io *commandIO
	// lock: the stage writes in the log directory, so it takes its lock.
	// A bind function clears it for a run that only reads (dry runs).
	lock bool
}

// readOnly marks a dry run: no lock, and (summary false) no summary file.
func (b *binding) readOnly(summary bool) {
	b.lock = false
	b.io.Stage.dryRun = !summary
}

// getenv is a variable of the run, trimmed.
func (b *binding) getenv(name string) string { return trimmedEnv(b.env, name) }

// bitbucket checks the Bitbucket settings for source now and returns the
// constructor the run calls.
func (b *binding) bitbucket(source string) (func() (*bitbucketClient, error), error) {
	s, err := b.clients.bitbucketSettings(source, b.c.String("sourceUrl"))
	if err != nil {
		return nil, err
	}
	return func() (*bitbucketClient, error) { return b.clients.newBitbucket(s, s.Credentials[0]) }, nil
}

// snyk checks the Snyk settings now and returns the constructor the run
// calls.
func (b *binding) snyk() (func() (*snykClient, error), error) {
	s, err := b.clients.snykSettings()
	if err != nil {
		return nil, err
	}
	return func() (*snykClient, error) { return b.clients.newSnyk(s) }, nil
}

// intSetting is a whole-number flag, else its variable, else def.
func (b *binding) intSetting(flag, envName string, def int) (int, error) {
	return intSetting(flag, flagValue(b.c, flag), envName, b.env, def)
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
		s.Failures = []importer.FailureGroup{{Stage: "run", Cause: r.String(importer.FailureCause(err)), Count: 1}}
	}
	if _, _, werr := importer.WriteStageSummary(st.logPath, s, st.detail); werr != nil {
		errorFields(log.Warn(), werr).Msgf("could not write the %s summary: %v", st.name, werr)
	}
}
