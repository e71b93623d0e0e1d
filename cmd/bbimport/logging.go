package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"

	"github.com/rs/zerolog"
)

const (
	colourRed    = "\x1b[31m"
	colourGreen  = "\x1b[32m"
	colourYellow = "\x1b[33m"
	colourReset  = "\x1b[0m"
)

// markColours colours the mark that starts a result line (doctor's ✓, ✗,
// ⚠ and the summaries' ⚠). It sits below the escaping writer, so its
// escape codes are the only ones that reach the terminal.
type markColours struct{ w io.Writer }

var marks = []struct{ mark, colour string }{
	{"✓ ", colourGreen}, {"✗ ", colourRed}, {"⚠ ", colourYellow},
}

func (m markColours) Write(p []byte) (int, error) {
	lines := strings.SplitAfter(string(p), "\n")
	changed := false
	for i, l := range lines {
		for _, mk := range marks {
			if strings.HasPrefix(l, mk.mark) {
				lines[i] = mk.colour + strings.TrimSuffix(mk.mark, " ") + colourReset + " " + l[len(mk.mark):]
				changed = true
				break
			}
		}
	}
	if !changed {
		return m.w.Write(p)
	}
	if _, err := io.WriteString(m.w, strings.Join(lines, "")); err != nil {
		return 0, err
	}
	return len(p), nil
}

// jsonLogFormatIn reports whether the command line asks for JSON logs, for
// the lines printed before (or without) any command's logging set-up: a
// flag error, the final message.
func jsonLogFormatIn(args []string) bool {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if a == "--" {
			return false
		}
		if !strings.HasPrefix(a, "-") || (name != "logFormat" && name != "log-format") {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		return strings.EqualFold(strings.TrimSpace(value), "json")
	}
	return false
}

// errorFields adds what a machine reading an error log line needs: the
// error's text, the HTTP status when there was one, and whether a later
// run may succeed without anyone changing anything (retryable).
func errorFields(ev *zerolog.Event, err error) *zerolog.Event {
	if err == nil {
		return ev
	}
	ev = ev.AnErr(zerolog.ErrorFieldName, err)
	if s := httpStatus(err); s != 0 {
		ev = ev.Int("status", s)
	}
	return ev.Bool("retryable", retryable(err))
}

// httpStatus is the HTTP status an error of either API carries, or 0.
func httpStatus(err error) int {
	var sc interface{ HTTPStatus() int }
	if errors.As(err, &sc) {
		return sc.HTTPStatus()
	}
	return 0
}

// retryable: rate limits, server errors, timeouts and passing network
// trouble may go away by themselves; a rejected credential, a 4xx, a bad
// flag or a network failure such as an unknown host will not.
func retryable(err error) bool {
	var (
		partial *partialError
		usage   *usageError
		auth    *authError
	)
	switch {
	case errors.As(err, &partial):
		return true // the next run retries what failed
	case errors.As(err, &usage), errors.As(err, &auth), httpx.CredentialsRejected(err):
		return false
	}
	if _, final := httpx.AsNetError(err); final {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
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
