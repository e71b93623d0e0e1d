package main

import (
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

// pollShareFlag is --pollShare: the percentage of SNYK_RATE_LIMIT the
// polls of all import workers together may spend.
func pollShareFlag() cli.Flag {
	// A string, so that intSetting answers `--pollShare=abc` with the range.
	return &cli.StringFlag{Name: "pollShare",
		Usage: "percentage of SNYK_RATE_LIMIT the polls of all workers may use, 1 to 100 (default 10); sets the shortest wait between polls unless --pollInterval alone does"}
}

// pollBudget fills the poll-rate fields of opts and logs the schedule at
// debug. An explicit --pollInterval (or a test's tuning) is the operator's
// own floor: the share then applies only if --pollShare is given too, so a
// chosen interval is kept as chosen.
func (b *binding) pollBudget(opts *importer.ImportOptions) error {
	c := b.c
	percent, err := b.intSetting("pollShare", "", int(100*importer.DefaultPollShare))
	if err != nil {
		return err
	}
	opts.PollShare = float64(percent) / 100
	ownFloor := c.IsSet("pollInterval") || b.tuning.PollInitial > 0
	if !ownFloor || c.IsSet("pollShare") {
		if opts.SnykRateLimit, err = b.intSetting("snykRateLimit", "SNYK_RATE_LIMIT", defaultSnykPerMinute); err != nil {
			return err
		}
	}
	b.io.Log.Debug().Float64("pollShare", opts.PollShare).Int("snykRateLimit", opts.SnykRateLimit).
		Msg(opts.PollSchedule().String())
	return nil
}
