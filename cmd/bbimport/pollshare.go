package main

import (
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

// pollShareFlag is --pollShare: an optional cap on the polls of all import
// workers, as a percentage of SNYK_RATE_LIMIT. Without it the polls use
// what the Snyk budget leaves after everything else (docs/polling.md).
func pollShareFlag() cli.Flag {
	// A string, so that intSetting answers `--pollShare=abc` with the range.
	return &cli.StringFlag{Name: "pollShare",
		Usage: "cap the polls of all import workers at this percentage of SNYK_RATE_LIMIT, 1 to 100 (default: no cap, polls use what the Snyk budget leaves)"}
}

// pollIntervalUsage is --pollInterval's help, for import and sync.
const pollIntervalUsage = "shortest wait between polls of an import job, and before its first (how often a job that has likely finished is polled while the Snyk budget is idle); jobs are polled by the chance they have finished and what the budget leaves, at least every 30s"

// pollSettings are the poll settings import and sync share: --pollShare's
// cap (0: none) of SNYK_RATE_LIMIT, and the debug line of the schedule in
// force, said whenever it changes much.
type pollSettings struct {
	share  float64
	limit  int
	report func(importer.PollSchedule)
}

func (b *binding) pollSettings() (pollSettings, error) {
	log := b.io.Log
	ps := pollSettings{report: func(s importer.PollSchedule) {
		log.Debug().Float64("poll_rate", s.Rate).Int("jobs", s.Jobs).Int("durations_seen", s.Seen).Msg(s.String())
	}}
	if !b.c.IsSet("pollShare") {
		return ps, nil
	}
	percent, err := b.intSetting("pollShare", "", 0)
	if err != nil {
		return ps, err
	}
	if ps.limit, err = b.intSetting("snykRateLimit", "SNYK_RATE_LIMIT", defaultSnykPerMinute); err != nil {
		return ps, err
	}
	ps.share = float64(percent) / 100
	return ps, nil
}

// pollBudget fills the poll settings of opts.
func (b *binding) pollBudget(opts *importer.ImportOptions) error {
	ps, err := b.pollSettings()
	opts.PollShare, opts.SnykRateLimit, opts.OnPollSchedule = ps.share, ps.limit, ps.report
	return err
}
