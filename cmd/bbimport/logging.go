package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"
)

// setupLogging builds the run's logger from --logLevel, --logFormat and the
// original's DEBUG switch. Logs go to stderr, never stdout, and every byte
// passes through the redactor (rt.stderr).
func (rt *runtime) setupLogging(c *cli.Context) error {
	rt.setupOutput()
	level := zerolog.InfoLevel
	if s := strings.TrimSpace(c.String("logLevel")); s != "" {
		l, err := zerolog.ParseLevel(strings.ToLower(s))
		if err != nil || l == zerolog.NoLevel || l > zerolog.PanicLevel {
			return usagef("--logLevel %q is not a level; use one of trace, debug, info, warn, error", s)
		}
		level = l
	}
	if debugEnabled(rt.Getenv("DEBUG")) && level > zerolog.DebugLevel {
		level = zerolog.DebugLevel
	}
	w := rt.stderr()
	switch f := strings.ToLower(strings.TrimSpace(c.String("logFormat"))); f {
	case "", "auto":
		if rt.StderrTTY {
			w = rt.consoleWriter(w)
		}
	case "json":
	case "text", "console":
		w = rt.consoleWriter(w)
	default:
		return usagef("--logFormat %q is not a format; use auto (text on a terminal, JSON lines otherwise), json or text", f)
	}
	rt.log = zerolog.New(w).Level(level).With().Timestamp().Logger()
	return nil
}

// consoleWriter renders human-readable lines; colours only on a terminal
// that has not asked for none (NO_COLOR), so `--logFormat=text` in CI stays
// free of escape codes.
func (rt *runtime) consoleWriter(w io.Writer) io.Writer {
	return zerolog.ConsoleWriter{
		Out: w, TimeFormat: time.TimeOnly,
		NoColor: !rt.StderrTTY || rt.Getenv("NO_COLOR") != "" || rt.Getenv("TERM") == "dumb",
	}
}

// debugEnabled follows the original's `debug` library convention: DEBUG=*snyk*
// (or anything naming snyk, or *) turns on debug output.
func debugEnabled(v string) bool {
	v = strings.ToLower(v)
	return strings.Contains(v, "snyk") || strings.Contains(v, "*")
}

// humanDuration prints a wait the way a person reads it ("40s", "2m30s").
func humanDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(time.Second).String()
}
