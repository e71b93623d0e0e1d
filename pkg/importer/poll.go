package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// errPollTimeout is the cause of a job polled for longer than PollTimeout.
var errPollTimeout = errors.New("import job did not finish within the poll timeout")

// pollJob polls one import job, whose kick-off Snyk answered at start,
// until it is `complete` or `failed` (a `failed` job is final), each poll
// when polls says (pollschedule.go). The polls defer to every other Snyk
// request at the budget (httpx.Deferrable): kick-offs go first. Transient
// errors (5xx, 429, network) are retried until timeout; an error with a
// 4xx status other than 408/429 ends polling. It returns ctx's error as
// soon as ctx is done.
func pollJob(ctx context.Context, s Snyk, location string, polls *Polls, start time.Time, timeout time.Duration) (*snyk.ImportJob, error) {
	pctx, cancel := context.WithTimeoutCause(ctx, timeout, errPollTimeout)
	defer cancel()
	j := polls.add(start)
	defer polls.remove(j)
	deferred := httpx.Deferrable(pctx)
	var lastErr error
	for {
		if err := polls.wait(pctx, j); err != nil {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if lastErr != nil {
				return nil, fmt.Errorf("%w (%s); last error: %w", errPollTimeout, timeout, lastErr)
			}
			return nil, fmt.Errorf("%w (%s)", errPollTimeout, timeout)
		}
		sent := polls.cfg.now()
		job, err := s.GetImportJob(deferred, location)
		done := err == nil && job != nil && (job.Status == snyk.JobComplete || job.Status == snyk.JobFailed)
		polls.polled(j, sent, polls.cfg.now(), done)
		switch {
		case err == nil && job == nil:
			lastErr = errors.New("empty import job response")
		case done:
			return job, nil
		case err == nil:
			lastErr = nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case pctx.Err() != nil:
			// Deadline hit during the request: the wait reports it.
		case permanentPollError(err):
			return nil, err
		default:
			lastErr = err
		}
	}
}

// permanentPollError reports whether polling again cannot help: a 4xx
// answer other than 408 and 429 (the job or the token is wrong), or an
// error that cannot heal (see unhealablePollError).
func permanentPollError(err error) bool {
	s := errorStatus(err)
	return s >= 400 && s < 500 && s != 408 && s != 429 || unhealablePollError(err)
}
