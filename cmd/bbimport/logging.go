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
// original's DEBUG switch. Every byte passes through the redactor.
func (rt *runtime) setupLogging(c *cli.Context) error {
	level := zerolog.InfoLevel
	if s := c.String("logLevel"); s != "" {
		l, err := zerolog.ParseLevel(strings.ToLower(s))
		if err != nil || l == zerolog.NoLevel {
			return usagef("--logLevel %q is not a level; use one of trace, debug, info, warn, error", s)
		}
		level = l
	}
	if debugEnabled(rt.Getenv("DEBUG")) && level > zerolog.DebugLevel {
		level = zerolog.DebugLevel
	}
	var w io.Writer = rt.redactor.Writer(rt.Stderr)
	switch f := strings.ToLower(c.String("logFormat")); f {
	case "", "auto":
		if rt.StderrTTY {
			w = consoleWriter(w)
		}
	case "json":
	case "text", "console":
		w = consoleWriter(w)
	default:
		return usagef("--logFormat %q is not a format; use auto, json or text", f)
	}
	rt.log = zerolog.New(w).Level(level).With().Timestamp().Logger()
	return nil
}

func consoleWriter(w io.Writer) io.Writer {
	return zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: false}
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
