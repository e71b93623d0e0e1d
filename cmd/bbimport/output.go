package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/redact"
	"github.com/rs/zerolog"
)

// output is where a run prints (cli/cli's IOStreams): results on stdout,
// logs and messages on stderr, every byte through the redactor, and on a
// terminal the progress bar below the log lines.
type output struct {
	// stdout takes the results: redacted, then escaped.
	stdout io.Writer
	// stderrTTY decides human-readable logs and live progress bars;
	// stdoutTTY decides colour in the results (doctor's ✓/✗).
	stderrTTY, stdoutTTY bool
	getenv               func(string) string

	redactor *redact.Redactor
	log      zerolog.Logger
	// term serialises stderr: log lines from many goroutines, and on a TTY
	// the live progress bar, share it without garbling each other.
	term *terminal
	// jsonStderr: --logFormat=json was asked for, so every stderr line,
	// the final message included, is a JSON object.
	jsonStderr bool
	// progressInterval is how often CI progress lines come.
	progressInterval time.Duration
}

// newOutput builds the redactor from the secret environment variables and
// routes every byte the run prints through it: stdout (results), stderr
// (logs, the final message) and the CLI's own help and usage text. Only the
// progress bar writes raw, and it prints nothing but counters.
func newOutput(stdout, stderr io.Writer, stdoutTTY, stderrTTY bool, getenv func(string) string) *output {
	o := &output{stdoutTTY: stdoutTTY, stderrTTY: stderrTTY, getenv: getenv, progressInterval: 10 * time.Second}
	o.redactor = redact.New(secretValues(getenv)...)
	o.term = &terminal{w: stderr}
	var out io.Writer = &lockedWriter{w: stdout}
	if o.colour(stdoutTTY) {
		out = markColours{out}
	}
	// Redact first (secrets are matched in the raw text), then escape
	// what a server or an input file put in the results.
	o.stdout = o.redactor.Writer(safeWriter{out})
	o.log = zerolog.New(o.stderr()).With().Timestamp().Logger()
	return o
}

// stderr is where log lines and messages go: redacted, one whole line per
// write, and clear of the progress bar.
func (o *output) stderr() io.Writer { return o.redactor.Writer(o.term) }

// setupLogging builds the run's logger from --logLevel, --logFormat and the
// original's DEBUG switch. Logs go to stderr, never stdout, and every byte
// passes through the redactor.
func (o *output) setupLogging(logLevel, logFormat string) error {
	level := zerolog.InfoLevel
	if s := strings.TrimSpace(logLevel); s != "" {
		l, err := zerolog.ParseLevel(strings.ToLower(s))
		if err != nil || l == zerolog.NoLevel || l > zerolog.PanicLevel {
			return usagef("--logLevel %q is not a level; use one of trace, debug, info, warn, error", s)
		}
		level = l
	}
	if debugEnabled(o.getenv("DEBUG")) && level > zerolog.DebugLevel {
		level = zerolog.DebugLevel
	}
	w := o.stderr()
	switch f := strings.ToLower(strings.TrimSpace(logFormat)); f {
	case "", "auto":
		if o.stderrTTY {
			w = o.redactor.Writer(o.consoleWriter(w))
		}
	case "json":
		o.jsonStderr = true
	case "text", "console":
		// Redacted before it is rendered too: the rendering quotes field
		// values (a bidi override in a secret becomes \u202e), after which
		// the redactor would not know the secret.
		w = o.redactor.Writer(o.consoleWriter(w))
	default:
		return usagef("--logFormat %q is not a format; use auto (text on a terminal, JSON lines otherwise), json or text", f)
	}
	o.log = zerolog.New(w).Level(level).With().Timestamp().Logger()
	return nil
}

// consoleWriter renders human-readable lines; colours only on a terminal
// that has not asked for none (NO_COLOR), so `--logFormat=text` in CI stays
// free of escape codes.
func (o *output) consoleWriter(w io.Writer) io.Writer {
	return zerolog.ConsoleWriter{
		Out: w, TimeFormat: time.TimeOnly,
		NoColor: !o.colour(o.stderrTTY),
		// The message may quote a server or a file; field values with a
		// control character are quoted (escaped) by zerolog already.
		FormatPrepare: func(evt map[string]any) error {
			if m, ok := evt[zerolog.MessageFieldName].(string); ok {
				evt[zerolog.MessageFieldName] = termSafe(m, false)
			}
			return nil
		},
	}
}

// colour reports whether output to a stream takes ANSI colour: a terminal
// that has not asked for none (NO_COLOR, https://no-color.org; TERM=dumb).
func (o *output) colour(tty bool) bool {
	return tty && o.getenv("NO_COLOR") == "" && o.getenv("TERM") != "dumb"
}

// finalLine prints the one paragraph a failed run owes the user: a JSON
// line (with error, status and retryable) when the logs are JSON by
// request, so that every stderr line parses; otherwise the text, escaped,
// in red on a terminal that takes colour.
func (o *output) finalLine(code int, err error, msg string) {
	if o.jsonStderr {
		// Its own logger: --logLevel must not hide the run's outcome.
		l := zerolog.New(o.stderr()).With().Timestamp().Logger()
		errorFields(l.Error(), err).Int("exit_code", code).Msg(msg)
		return
	}
	msg = termSafe(o.redactor.String(msg), true) // redacted before it is escaped
	if o.colour(o.stderrTTY) {
		msg = colourRed + msg + colourReset
	}
	fmt.Fprintln(o.stderr(), msg)
}

// notice prints a line of the CLI's own to stderr (the Ctrl-C notice): a
// JSON warn line when logs are JSON by request, else the text.
func (o *output) notice(msg string) {
	if o.jsonStderr {
		l := zerolog.New(o.stderr()).With().Timestamp().Logger()
		l.Warn().Msg(msg)
		return
	}
	fmt.Fprintln(o.stderr(), msg)
}

// newProgress renders stage progress on stderr: a bar on a TTY, a line
// every progressInterval in CI.
func (o *output) newProgress() *progress {
	return newProgress(o.term, o.stderrTTY, o.log, o.progressInterval)
}

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
	envSnykToken, envSnykOAuthToken, envSnykClientSecret,
	envAppClientSecret,
	envCloudPassword, envCloudAPIToken, envCloudOAuthToken,
}

func secretValues(getenv func(string) string) []string {
	var out []string
	for _, name := range secretVars {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			out = append(out, v)
		}
	}
	return append(out, listSecretValues(getenv)...)
}
