package main

import "time"

// testingWindowEnv shortens the Bitbucket budget's window in the real
// binary. It exists for tests that run bbimport as a subprocess (two
// processes sharing one ledger must see the window slide to finish, and
// Tuning cannot reach a subprocess); it is for testing only and not a
// supported setting (docs/budgets.md says so).
const testingWindowEnv = "BBIMPORT_TESTING_BITBUCKET_WINDOW"

// applyTestingHooks sets what testingWindowEnv asks, in the binary only
// (main calls it; in-process tests set Tuning themselves).
func applyTestingHooks(getenv func(string) string, t *tuning) error {
	raw := trimmedEnv(getenv, testingWindowEnv)
	if raw == "" {
		return nil
	}
	d, err := checkDuration(testingWindowEnv, raw, 100*time.Millisecond, time.Hour)
	if err != nil {
		return err
	}
	t.BitbucketWindow = d
	return nil
}
