package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	rt := newInvocation(os.Stdout, os.Stderr, os.Getenv)
	out := rt.setupOutput()
	stopHooks, err := applyTestingHooks(os.Getenv, &rt.Tuning)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bbimport:", err)
		os.Exit(exitUsage)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first Ctrl-C (or SIGTERM from a CI runner) stops new work, lets
	// in-flight requests finish, flushes the logs and prints the summary so
	// far (exit 130). A second one quits at once: the default action.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		signal.Stop(sigs)
		name := "Ctrl-C"
		if s == syscall.SIGTERM {
			name = "SIGTERM"
		}
		out.notice(fmt.Sprintf("bbimport: %s: stopping; import requests already sent get a few seconds to finish, then the logs are flushed and the summary printed (%s again quits at once)", name, name))
		cancel()
	}()
	code := rt.run(ctx, os.Args)
	signal.Stop(sigs)
	stopHooks()
	os.Exit(code)
}
