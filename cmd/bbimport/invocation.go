package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/ledger"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// Exit codes, as the README documents them.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitPartial     = 3
	exitAuth        = 4
	exitInterrupted = 130
)

// invocation is everything a command touches outside its arguments, so tests
// can run the real app with buffers, a fake environment and no TTY.
type invocation struct {
	Stdout io.Writer
	Stderr io.Writer // raw; logs go through the redacting writer
	Getenv func(string) string
	// StderrTTY decides human-readable logs and live progress bars;
	// StdoutTTY decides colour in the results (doctor's ✓/✗).
	StderrTTY, StdoutTTY bool
	Now                  func() time.Time
	// ProgressInterval is how often CI progress lines come (default 10 s).
	ProgressInterval time.Duration
	// Tuning shortens the waits in tests; the zero value is production.
	Tuning tuning

	redactor      *redact.Redactor
	log           zerolog.Logger
	actionStarted bool
	// term serialises stderr: log lines from many goroutines, and on a TTY
	// the live progress bar, share it without garbling each other.
	term *terminal

	// jsonStderr: --logFormat=json was asked for, so every stderr line,
	// the final message included, is a JSON object.
	jsonStderr bool

	wrapOnce sync.Once
	// ctx is the run's context, so the closing hints know about Ctrl-C.
	ctx context.Context

	observerOnce sync.Once
	observer     *httpLog
	// net holds the trusted roots and the base URLs in use.
	net netSetup
	// stage is the running stage, for its summary file; nil for doctor.
	stage *stageRun
	// parsed releases urfaveGlobals once the arguments are parsed.
	parsed func()
	// ledgers are the budgets' request ledgers, closed when the run ends.
	ledgers []*ledger.File
}

func newInvocation(stdout, stderr io.Writer, getenv func(string) string) *invocation {
	rt := &invocation{Stdout: stdout, Stderr: stderr, Getenv: getenv, Now: time.Now, parsed: func() {}}
	if f, ok := stderr.(*os.File); ok {
		rt.StderrTTY = term.IsTerminal(int(f.Fd()))
	}
	if f, ok := stdout.(*os.File); ok {
		rt.StdoutTTY = term.IsTerminal(int(f.Fd()))
	}
	return rt
}

// run runs the app and maps its outcome to an exit code, printing the one
// paragraph a failed run owes the user on stderr.
func (rt *invocation) run(ctx context.Context, args []string) int {
	rt.setupOutput()
	rt.ctx = ctx
	rt.jsonStderr = jsonLogFormatIn(args)
	err := runApp(ctx, rt, args)
	rt.closeLedgers()
	code := exitCode(err, rt.actionStarted)
	msg := ""
	if err != nil && !errors.Is(err, errSilent) {
		msg = rt.errMessage(err)
		if code == exitInterrupted {
			msg = "interrupted: stopped before finishing; what was done so far is recorded in SNYK_LOG_PATH, run the same command again to resume"
		}
		msg = "bbimport: " + strings.TrimSpace(msg)
	}
	rt.writeSummary(code, err, msg)
	if msg != "" {
		rt.finalLine(code, err, msg)
	}
	return code
}

// finalLine prints the one paragraph a failed run owes the user: a JSON
// line (with error, status and retryable) when the logs are JSON by
// request, so that every stderr line parses; otherwise the text, escaped,
// in red on a terminal that takes colour.
func (rt *invocation) finalLine(code int, err error, msg string) {
	if rt.jsonStderr {
		// Its own logger: --logLevel must not hide the run's outcome.
		l := zerolog.New(rt.stderr()).With().Timestamp().Logger()
		errorFields(l.Error(), err).Int("exit_code", code).Msg(msg)
		return
	}
	fmt.Fprintln(rt.stderr(), rt.paint(rt.StderrTTY, colourRed, termSafe(msg, true)))
}

// notice prints a line of the CLI's own to stderr (the Ctrl-C notice): a
// JSON warn line when logs are JSON by request, else the text.
func (rt *invocation) notice(msg string) {
	if rt.jsonStderr {
		l := zerolog.New(rt.stderr()).With().Timestamp().Logger()
		l.Warn().Msg(msg)
		return
	}
	fmt.Fprintln(rt.stderr(), msg)
}

// setupOutput builds the redactor from the secret environment variables and
// routes every byte the run prints through it: stdout (results), stderr
// (logs, the final message) and the CLI's own help and usage text. Only the
// progress bar writes raw, and it prints nothing but counters.
func (rt *invocation) setupOutput() {
	rt.wrapOnce.Do(func() {
		rt.redactor = redact.New(rt.secretValues()...)
		rt.term = &terminal{w: rt.Stderr}
		var out io.Writer = &lockedWriter{w: rt.Stdout}
		if rt.colour(rt.StdoutTTY) {
			out = markColours{out}
		}
		// Redact first (secrets are matched in the raw text), then escape
		// what a server or an input file put in the results.
		rt.Stdout = rt.redactor.Writer(safeWriter{out})
		rt.log = zerolog.New(rt.stderr()).With().Timestamp().Logger()
	})
}

// stderr is where log lines and messages go: redacted, one whole line per
// write, and clear of the progress bar.
func (rt *invocation) stderr() io.Writer { return rt.redactor.Writer(rt.term) }

// lockedWriter serialises writes to a writer that is not safe for
// concurrent use.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// secretVars are the environment variables whose values never appear in any
// output.
var secretVars = []string{
	"SNYK_TOKEN", "SNYK_OAUTH_TOKEN", "SNYK_CLIENT_SECRET",
	"BITBUCKET_APP_CLIENT_SECRET",
	"BITBUCKET_CLOUD_PASSWORD", "BITBUCKET_CLOUD_API_TOKEN", "BITBUCKET_CLOUD_OAUTH_TOKEN",
}

func (rt *invocation) secretValues() []string {
	var out []string
	for _, name := range secretVars {
		if v := strings.TrimSpace(rt.Getenv(name)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// env returns a trimmed environment variable.
func (rt *invocation) env(name string) string { return strings.TrimSpace(rt.Getenv(name)) }

// tuning holds the waits tests shorten: retry backoff, job polling and the
// timeout of one HTTP attempt (0: httpx.DefaultAttemptTimeout).
type tuning struct {
	RetryWaitMin, RetryWaitMax time.Duration
	PollInitial, PollMax       time.Duration
	AttemptTimeout             time.Duration
	// The budgets' windows (0: an hour for Bitbucket, a minute for Snyk),
	// Snyk's pause after a 429 without Retry-After (0: a minute) and how
	// long 429s are retried (0: --rateLimitWait or its default).
	BitbucketWindow, SnykWindow time.Duration
	SnykPause                   time.Duration
	RateLimitWait               time.Duration
}

// usageError is a mistake in how the command was called (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// partialError is a run that finished but where some targets or orgs failed
// (exit 3). Its message says what failed and where the details are.
type partialError struct{ msg string }

func (e *partialError) Error() string { return e.msg }

// authError is a credential problem (exit 4).
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// errSilent ends a run with exit 1 when the message was already printed
// (doctor prints each failed check itself).
var errSilent = errors.New("failed")

// exitCode maps an error to the documented exit code, in one place.
func exitCode(err error, actionStarted bool) int {
	var (
		usage   *usageError
		partial *partialError
		auth    *authError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &auth) || httpx.CredentialsRejected(err):
		return exitAuth
	case errors.As(err, &partial):
		return exitPartial
	case !actionStarted:
		// urfave/cli rejected the arguments before any command ran.
		return exitUsage
	default:
		return exitFailed
	}
}

// newProgress renders stage progress on stderr: a bar on a TTY, a line
// every 10 s in CI.
func (rt *invocation) newProgress() *progress {
	return newProgress(rt.term, rt.StderrTTY, rt.log, rt.progressInterval())
}

func (rt *invocation) progressInterval() time.Duration {
	if rt.ProgressInterval > 0 {
		return rt.ProgressInterval
	}
	return 10 * time.Second
}

// next prints the command that follows a stage (see nextLine).
func (rt *invocation) next(format string, a ...any) { nextLine(rt.ctx, rt.Stdout, format, a...) }
