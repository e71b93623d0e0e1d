package main

import (
	"errors"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

// valueRule is the range a numeric flag accepts. One table serves the flag
// parser's errors (`--concurrency=abc`), the check before a command runs
// (`--pollTimeout=1ns`) and the environment variables behind the flags, so a
// value gets the same message wherever it came from.
type valueRule struct {
	duration bool
	// shard: K/N, K from 1 to N, N from 1 to max.
	shard bool
	// snykID: a Snyk public id, which is a UUID (a group's name is not).
	snykID   string
	min, max int64 // whole numbers, or nanoseconds for durations
}

// unbounded: a rate limit has no upper bound; a value too large for the
// machine's int is refused as such.
const unbounded = math.MaxInt

// maxPollTimeout: an import job running longer than a week is stuck.
const maxPollTimeout = 7 * 24 * time.Hour

var valueRules = map[string]valueRule{
	// Requests per hour / per minute: any positive number (a limit above what
	// the API allows only moves the waiting to its 429 answers).
	"bitbucketRateLimit": {min: 1, max: unbounded},
	"snykRateLimit":      {min: 1, max: unbounded},
	"concurrency":        {min: importer.MinConcurrency, max: importer.MaxConcurrency},
	// 0: every workspace.
	"maxWorkspaces": {min: 0, max: unbounded},
	// A job is polled at least once a second or so; a timeout below a
	// second would log every target failed before its first poll.
	"pollTimeout":  {duration: true, min: int64(time.Second), max: int64(maxPollTimeout)},
	"pollInterval": {duration: true, min: int64(time.Millisecond), max: int64(time.Minute)},
	"pollShare":    {min: 1, max: 100}, // percent of SNYK_RATE_LIMIT
	"shard":        {shard: true, min: 1, max: maxShards},
	"groupId":      {snykID: "group"},
}

// check parses raw (from names the flag or variable) and checks the range.
func (r valueRule) check(from, raw string) error {
	if r.snykID != "" {
		return checkSnykID(from, raw, r.snykID)
	}
	if r.duration {
		_, err := checkDuration(from, raw, time.Duration(r.min), time.Duration(r.max))
		return err
	}
	if r.shard {
		_, err := checkShard(from, raw, int(r.max))
		return err
	}
	_, err := checkWhole(from, raw, int(r.min), int(r.max))
	return err
}

// snykPublicID is the form of Snyk's public ids (groups, orgs): a UUID.
var snykPublicID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkSnykID refuses a value that cannot be a Snyk public id, such as a
// group's name or slug given for its id: Snyk would answer 404, after the
// run has listed Bitbucket.
func checkSnykID(from, raw, what string) error {
	if v := strings.TrimSpace(raw); !snykPublicID.MatchString(v) {
		return usagef("%s=%q is not a Snyk %s id: an id is a UUID such as 4a18d42f-0706-4ad0-b127-24078731fbed; copy it from Snyk, %s settings → General",
			from, v, what, capitalise(what))
	}
	return nil
}

// checkWhole parses a whole number in [min, max]; from is "--flag" or the
// variable's name.
func checkWhole(from, raw string, min, max int) (int, error) {
	raw = strings.TrimSpace(raw)
	want := fmt.Sprintf("set it to a number from %d to %d", min, max)
	if max == unbounded {
		want = fmt.Sprintf("set it to a whole number, %d or more", min)
	}
	n, err := strconv.Atoi(raw)
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && !strings.HasPrefix(raw, "-"):
		return 0, usagef("%s=%s is too large; %s", from, raw, want)
	case err != nil:
		return 0, usagef("%s=%q is not a whole number; %s", from, raw, want)
	case n < min || n > max:
		return 0, usagef("%s=%d is out of range; %s", from, n, want)
	}
	return n, nil
}

// checkDuration parses a Go duration (30s, 5m, 2h) in [min, max].
func checkDuration(from, raw string, min, max time.Duration) (time.Duration, error) {
	raw = strings.TrimSpace(raw)
	want := fmt.Sprintf("set it to a duration from %s to %s", english.Duration(min), english.Duration(max))
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, usagef("%s=%q is not a duration; %s, such as 30s, 5m or 2h", from, raw, want)
	}
	if d < min || d > max {
		return 0, usagef("%s=%s is out of range; %s", from, english.Duration(d), want)
	}
	return d, nil
}

// checkValues applies valueRules to the flags given on the command line,
// before the command does anything.
func checkValues(c *cli.Context) error {
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		r, ok := valueRules[name]
		if !ok || !c.IsSet(name) {
			continue
		}
		raw := fmt.Sprint(c.Value(name))
		if err := r.check("--"+name, raw); err != nil {
			return err
		}
	}
	return nil
}
