package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

// The testing hooks: environment variables the real binary reads for tests
// and benchmarks that run bbimport as a subprocess (Tuning cannot reach a
// subprocess). They are for testing only and not supported settings
// (docs/budgets.md, docs/benchmarks.md say so).
const (
	// testingWindowEnv shortens the Bitbucket budget's window: two
	// processes sharing one ledger must see the window slide to finish.
	testingWindowEnv = "BBIMPORT_TESTING_BITBUCKET_WINDOW"
	// testingSnykWindowEnv shortens the Snyk budget's window, so a
	// benchmark whose time is scaled keeps Snyk's limit per scaled minute.
	testingSnykWindowEnv = "BBIMPORT_TESTING_SNYK_WINDOW"
	// testingCPUProfileEnv writes a CPU profile of the run to this path
	// (make bench's share of the ledger in a run's CPU).
	testingCPUProfileEnv = "BBIMPORT_TESTING_CPUPROFILE"
)

// applyTestingHooks sets what the testing variables ask, in the binary only
// (main calls it; in-process tests set Tuning themselves). stop ends what
// must end before the process exits (the CPU profile).
func applyTestingHooks(getenv func(string) string, t *tuning) (stop func(), err error) {
	stop = func() {}
	for _, w := range []struct {
		env string
		set *time.Duration
	}{{testingWindowEnv, &t.BitbucketWindow}, {testingSnykWindowEnv, &t.SnykWindow}} {
		raw := trimmedEnv(getenv, w.env)
		if raw == "" {
			continue
		}
		d, err := checkDuration(w.env, raw, 100*time.Millisecond, time.Hour)
		if err != nil {
			return stop, err
		}
		*w.set = d
	}
	if path := trimmedEnv(getenv, testingCPUProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return stop, fmt.Errorf("%s: %w", testingCPUProfileEnv, err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("%s: %w", testingCPUProfileEnv, err)
		}
		stop = func() {
			pprof.StopCPUProfile()
			f.Close()
		}
	}
	return stop, nil
}
