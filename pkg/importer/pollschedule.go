package importer

import (
	"fmt"
	"time"
)

// Defaults of the poll schedule.
const (
	// DefaultPollShare is the share of the Snyk request budget the polls of all
	// workers together may use: the kick-offs and the other stages keep
	// the rest.
	DefaultPollShare = 0.1
	// pollAgeDivisor: a job is polled again after a tenth of its age, so a
	// finished job is noticed within 10 % of its running time, at the cost
	// of a number of polls that grows with the logarithm of its length.
	pollAgeDivisor = 10
)

// PollSchedule is when the import stage polls a job: the wait before the
// next poll is a tenth of the job's age (time since its kick-off was
// answered), but at least Floor and at most Max; the first poll comes after
// Floor. Get it from [ImportOptions.PollSchedule].
type PollSchedule struct {
	// Floor is the shortest wait: the larger of ImportOptions.PollInitial
	// and ShareFloor.
	Floor time.Duration
	// ShareFloor is the wait that keeps the polls of Concurrency workers,
	// each polling one job, within Share of RateLimit requests per minute:
	// Concurrency × 1 min ÷ (Share × RateLimit). 0 when RateLimit is not
	// known.
	ShareFloor time.Duration
	// Max is the longest wait (ImportOptions.PollMax), unless Floor is
	// longer: the budget wins over promptness.
	Max time.Duration

	Share       float64
	RateLimit   int
	Concurrency int
}

// PollSchedule returns the schedule Import will follow with these options
// (their defaults applied), for the command layer to report.
func (o ImportOptions) PollSchedule() PollSchedule {
	initial := o.PollInitial
	if initial <= 0 {
		initial = DefaultPollInitial
	}
	maxWait := o.PollMax
	if maxWait <= 0 {
		maxWait = DefaultPollMax
	}
	share := o.PollShare
	if share <= 0 || share > 1 {
		share = DefaultPollShare
	}
	p := PollSchedule{Share: share, RateLimit: o.SnykRateLimit, Concurrency: max(o.Concurrency, 1)}
	if o.SnykRateLimit > 0 {
		perMinute := share * float64(o.SnykRateLimit)
		p.ShareFloor = time.Duration(float64(p.Concurrency) * float64(time.Minute) / perMinute)
	}
	p.Floor = max(initial, p.ShareFloor)
	p.Max = max(maxWait, p.Floor)
	return p
}

// next is the wait before the next poll of a job of the given age.
func (p PollSchedule) next(age time.Duration) time.Duration {
	return min(max(p.Floor, age/pollAgeDivisor), p.Max)
}

// String describes the schedule in one line, for a debug log.
func (p PollSchedule) String() string {
	s := fmt.Sprintf("import jobs polled every max(%s, 10%% of the job's age), at most every %s", p.Floor, p.Max)
	if p.RateLimit > 0 {
		s += fmt.Sprintf("; polls limited to %g%% of %d requests/min: %d workers × 1m ÷ %g/min = %s between polls of one job",
			100*p.Share, p.RateLimit, p.Concurrency, p.Share*float64(p.RateLimit), p.ShareFloor.Round(time.Millisecond))
	}
	return s
}
