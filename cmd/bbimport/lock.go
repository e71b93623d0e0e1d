package main

import (
	"errors"

	"github.com/bbimport/bbimport/internal/dirlock"
	"github.com/urfave/cli/v2"
)

// waitFlag is --wait of the commands that lock the log directory.
func waitFlag() cli.Flag {
	return &cli.BoolFlag{Name: "wait", Usage: "when another bbimport is using the log directory, wait for it to finish instead of exiting (exit 2)"}
}

// lockLogDir takes the log directory's lock for the running command, so
// two runs never send the same imports or create the same orgs. Held by
// another process, it is a usage error (exit 2) naming the holder, unless
// --wait: then it says whom it waits for and waits. Commands that only read
// (doctor, dry runs) do not call it.
func (rt *invocation) lockLogDir(c *cli.Context, logPath string) (*dirlock.Lock, error) {
	l, err := dirlock.Acquire(c.Context, logPath, c.Command.Name, false)
	var held *dirlock.HeldError
	if errors.As(err, &held) && c.Bool("wait") {
		rt.log.Info().Str("lock", held.Path).Msgf("waiting: %v", held)
		l, err = dirlock.Acquire(c.Context, logPath, c.Command.Name, true)
	}
	if errors.As(err, &held) {
		return nil, &usageError{&wordedError{msg: held.Error() + "; wait for it to finish, pass --wait to wait for it, or use another SNYK_LOG_PATH", err: err}}
	}
	return l, err
}
