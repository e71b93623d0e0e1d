package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bbimport/bbimport/pkg/snyk"
)

// errPollTimeout is the cause of a job polled for longer than PollTimeout.
var errPollTimeout = errors.New("import job did not finish within the poll timeout")

// pollJob polls one import job until it is `complete` or `failed` (a
// `failed` job is final). The first poll comes after floor, then each after
// a tenth of the job's age (PollSchedule), within floor..max. Transient
// errors (5xx, 429, network) are retried until timeout; an error with a 4xx
// status other than 408/429 ends polling. It returns ctx's error as soon as
// ctx is done.
func pollJob(ctx context.Context, s Snyk, location string, floor, max, timeout time.Duration) (*snyk.ImportJob, error) {
	pctx, cancel := context.WithTimeoutCause(ctx, timeout, errPollTimeout)
	defer cancel()
	sched := PollSchedule{Floor: floor, Max: max}
	start := time.Now()
	timer := time.NewTimer(sched.next(0))
	defer timer.Stop()
	var lastErr error
	for {
		select {
		case <-pctx.Done():
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if lastErr != nil {
				return nil, fmt.Errorf("%w (%s); last error: %w", errPollTimeout, timeout, lastErr)
			}
			return nil, fmt.Errorf("%w (%s)", errPollTimeout, timeout)
		case <-timer.C:
		}
		job, err := s.GetImportJob(pctx, location)
		switch {
		case err == nil && job == nil:
			lastErr = errors.New("empty import job response")
		case err == nil:
			lastErr = nil
			if job.Status == snyk.JobComplete || job.Status == snyk.JobFailed {
				return job, nil
			}
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case pctx.Err() != nil:
			// Deadline hit during the request: the select reports it.
		case permanentPollError(err):
			return nil, err
		default:
			lastErr = err
		}
		timer.Reset(sched.next(time.Since(start)))
	}
}

// permanentPollError reports whether polling again cannot help: a 4xx
// answer other than 408 and 429 (the job or the token is wrong), or an
// error that cannot heal (see unhealablePollError).
func permanentPollError(err error) bool {
	s := errorStatus(err)
	return s >= 400 && s < 500 && s != 408 && s != 429 || unhealablePollError(err)
}
