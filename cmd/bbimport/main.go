// Command bbimport mirrors Bitbucket Cloud workspaces and repositories into
// Snyk organisations and imports them. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rt := newRuntime(os.Stdout, os.Stderr, os.Getenv)
	code := rt.run(ctx, os.Args)
	stop()
	os.Exit(code)
}
