package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// invocation is one run of bbimport and everything it touches outside its
// arguments, so tests can run the real app with buffers, a fake
// environment and no TTY. Its parts each have one job: out prints, net
// knows the network set-up, clients builds the API clients, stage is the
// summary of the running stage.
type invocation struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// StderrTTY decides human-readable logs and live progress bars;
	// StdoutTTY decides colour in the results (doctor's ✓/✗).
	StderrTTY, StdoutTTY bool
	Now                  func() time.Time
	// ProgressInterval is how often CI progress lines come (default 10 s).
	ProgressInterval time.Duration
	// Tuning shortens the waits in tests; the zero value is production.
	Tuning tuning

	outOnce sync.Once
	out     *output
	net     *network
	// clients is made by begin, from the global options.
	clients *factory
	// stage is the running stage, for its summary file; nil for doctor.
	stage *stageRun
	// actionStarted: a command's action ran (the arguments were accepted).
	actionStarted bool
	// parsed releases urfaveGlobals once the arguments are parsed.
	parsed func()
}

func newInvocation(stdout, stderr io.Writer, getenv func(string) string) *invocation {
	rt := &invocation{Stdout: stdout, Stderr: stderr, Getenv: getenv, Now: time.Now, parsed: func() {}}
	if f, ok := stderr.(*os.File); ok {
		rt.StderrTTY = term.IsTerminal(int(f.Fd()))
	}
	if f, ok := stdout.(*os.File); ok {
		rt.StdoutTTY = term.IsTerminal(int(f.Fd()))
	}
	rt.net = &network{getenv: getenv}
	return rt
}

// setupOutput makes the run's output from the streams, once.
func (rt *invocation) setupOutput() *output {
	rt.outOnce.Do(func() {
		rt.out = newOutput(rt.Stdout, rt.Stderr, rt.StdoutTTY, rt.StderrTTY, rt.Getenv)
		if rt.ProgressInterval > 0 {
			rt.out.progressInterval = rt.ProgressInterval
		}
	})
	return rt.out
}

// run runs the app (every command, or the commands given, as tests do) and
// maps its outcome to an exit code, printing the one paragraph a failed
// run owes the user on stderr.
func (rt *invocation) run(ctx context.Context, args []string, commands ...*cli.Command) int {
	out := rt.setupOutput()
	out.jsonStderr = jsonLogFormatIn(args)
	if len(commands) == 0 {
		commands = allCommands(rt)
	}
	err := runApp(ctx, rt, newApp(rt, commands), args)
	rt.clients.close()
	code := exitCode(err, rt.actionStarted)
	msg := ""
	if err != nil && !errors.Is(err, errSilent) {
		msg = explainer{rt.net}.errMessage(err)
		if code == exitInterrupted {
			msg = "interrupted: stopped before finishing; what was done so far is recorded in SNYK_LOG_PATH, run the same command again to resume"
		}
		msg = "bbimport: " + strings.TrimSpace(msg)
	}
	rt.stage.write(rt.Now(), code, err, msg, out.redactor, out.log)
	if msg != "" {
		out.finalLine(code, err, msg)
	}
	return code
}

// begin runs first in every command's action: it marks the arguments as
// accepted, sets up logging, refuses stray arguments, reads the global
// options and makes the run's client factory from them.
func (rt *invocation) begin(c *cli.Context) (globalOptions, error) {
	rt.actionStarted = true
	rt.parsed() // see urfaveGlobals
	if err := rt.out.setupLogging(c.String("logLevel"), c.String("logFormat")); err != nil {
		return globalOptions{}, err
	}
	if c.Args().Len() > 0 {
		return globalOptions{}, usagef("unexpected argument %q; flags take the form --name=value", c.Args().First())
	}
	g, err := bindGlobals(c, rt.Getenv, rt.Tuning.RateLimitWait)
	if err != nil {
		return g, err
	}
	rt.clients = newFactory(rt.Getenv, rt.Tuning, g, rt.out, rt.net)
	return g, nil
}

// commandIO is the run's streams and clock for a run function.
func (rt *invocation) commandIO(st *stageRun) *commandIO {
	return &commandIO{
		Out: rt.out.stdout, Log: rt.out.log, Now: rt.Now, Stage: st, ErrText: explainer{rt.net}.errMessage,
		NewProgress: func() importer.Progress { return rt.out.newProgress() },
	}
}

// tuning holds the waits tests shorten: retry backoff, job polling and the
// timeout of one HTTP attempt (0: httpx.DefaultAttemptTimeout).
type tuning struct {
	RetryWaitMin, RetryWaitMax time.Duration
	PollInitial, PollMax       time.Duration
	AttemptTimeout             time.Duration
	// RetryMax is the retries of a failed request (0: the default;
	// negative: none); OneConnectAttempt sends a request that got no
	// answer once (doctor).
	RetryMax          int
	OneConnectAttempt bool
	// The budgets' windows (0: an hour for Bitbucket, a minute for Snyk),
	// Snyk's pause after a 429 without Retry-After (0: a minute) and how
	// long 429s are retried (0: --rateLimitWait or its default).
	BitbucketWindow, SnykWindow time.Duration
	SnykPause                   time.Duration
	RateLimitWait               time.Duration
	// BitbucketDefault replaces the default Bitbucket limit (1,000 a
	// window), so a test can show a limit nobody set raised by a server's
	// announcement without a thousand requests.
	BitbucketDefault int
}
