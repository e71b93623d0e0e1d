package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/rs/zerolog"
)

// commandIO is what a command's run function prints to and reads the time
// from (cli/cli's IOStreams), plus the stage summary it fills in. The
// urfave Action takes it from the invocation; tests build one with buffers.
type commandIO struct {
	// Out takes the results (stdout).
	Out io.Writer
	// Log takes the lines for people (stderr).
	Log zerolog.Logger
	// Now is the clock.
	Now func() time.Time
	// NewProgress renders a stage's progress; nil renders none.
	NewProgress func() importer.Progress
	// ErrText is an error as a log line says it (worded by explain);
	// nil: err.Error().
	ErrText func(error) string
	// Stage is the summary of the run (output file, detail, failures).
	Stage *stageRun
}

func (o *commandIO) progress() importer.Progress {
	if o.NewProgress == nil {
		return noProgress{}
	}
	return o.NewProgress()
}

func (o *commandIO) errText(err error) string {
	if o.ErrText == nil {
		return err.Error()
	}
	return o.ErrText(err)
}

// next prints the command that follows a stage (see nextLine).
func (o *commandIO) next(ctx context.Context, format string, a ...any) {
	nextLine(ctx, o.Out, format, a...)
}

// nextLine tells the user the command that follows a stage, unless the
// stage was interrupted: then the next thing to run is the same command
// again.
func nextLine(ctx context.Context, w io.Writer, format string, a ...any) {
	if ctx != nil && ctx.Err() != nil {
		fmt.Fprintln(w, "Interrupted: run the same command again to finish this stage before going on.")
		return
	}
	fmt.Fprintf(w, "Next: "+format+"\n", a...)
}

type noProgress struct{}

func (noProgress) Start(importer.Stage, int) {}
func (noProgress) Add(importer.Counter, int) {}
func (noProgress) Done()                     {}
