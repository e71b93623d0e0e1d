package main

import (
	"fmt"
	"time"
)

// The import with real-looking job durations: how close the poll schedule
// keeps the workers to Snyk's own pace.
const (
	// durationScale shrinks time so the row takes seconds: the simulator's
	// job durations (5–60 s), bbimport's 2 s poll floor and Snyk's latency
	// ×0.01, and SNYK_RATE_LIMIT (per real minute) ×100, so the share floor
	// (15 × 1 min ÷ 10 % of 1,500) keeps its scaled 6 s.
	durationScale       = 0.01
	durationConcurrency = 15
)

// importerDefaultShare is importer.DefaultPollShare (bbbench runs the
// binary and does not import its packages).
const importerDefaultShare = 0.1

func scaledDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) * durationScale)
}

// importDurations: sz.durationTargets targets whose jobs run 5–60 s (drawn
// per target), concurrency 15, the default schedule (a 10 % poll share),
// then a 20 % share for comparison: wall time against the ideal
// Σ durations ÷ 15, and polls per target.
func (b *bench) importDurations(sz sizes) error {
	for _, share := range []int{10, 20} {
		if err := b.importDurationsAt(sz, share); err != nil {
			return err
		}
	}
	return nil
}

// importDurationsAt is one row of importDurations, with --pollShare=share.
func (b *bench) importDurationsAt(sz sizes, share int) error {
	ws := (sz.durationTargets + sz.repos - 1) / sz.repos
	st, err := b.prepareImport(fmt.Sprintf("import-durations-%d", share), ws, min(sz.repos, sz.durationTargets),
		"-latency", scaledDuration(300*time.Millisecond).String(), "-pending-polls", "0",
		"-job-durations", scaledDuration(5*time.Second).String()+"-"+scaledDuration(time.Minute).String())
	if err != nil {
		return err
	}
	defer st.sim.Stop()
	limit := int(1500 / durationScale)
	st.env["SNYK_RATE_LIMIT"] = fmt.Sprint(limit)
	res, err := b.measureImport(st, "import-durations", "",
		fmt.Sprintf("--concurrency=%d", durationConcurrency),
		"--pollInterval="+scaledDuration(2*time.Second).String(), fmt.Sprintf("--pollShare=%d", share))
	if err != nil {
		return err
	}
	r := b.importRow(st, res, fmt.Sprintf("jobs 5–60 s, 300 ms latency, --concurrency=%d, --pollShare=%d (%s between polls); time ×%g (durations, latency, 2 s floor), SNYK_RATE_LIMIT 1,500 ×%g",
		durationConcurrency, share, time.Duration(durationConcurrency*int64(time.Minute)*100/(int64(share)*1500)), durationScale, 1/durationScale))
	b.rep.Rows = append(b.rep.Rows, r)

	sum := time.Duration(res.d["snyk.job_duration_ms"]) * time.Millisecond
	ideal := sum / durationConcurrency
	ratio := ideal.Seconds() / res.run.Wall.Seconds()
	late := time.Duration(res.d["snyk.job_notice_late_ms"]/max(int64(st.n), 1)) * time.Millisecond
	measured := fmt.Sprintf("Σ durations ÷ %d = %s, wall %s (scaled ×%g): ratio %.2f; a finished job noticed %s late on average (scaled); %.2f polls per target",
		durationConcurrency, ideal.Round(time.Millisecond), res.run.Wall.Round(time.Millisecond), durationScale, ratio, late, r.PollsPerTarget)
	if share != 100*importerDefaultShare {
		b.note("With --pollShare=%d: %s.", share, measured)
		return nil
	}
	b.rep.Budget = append(b.rep.Budget, budgetRow{
		Run: "import, jobs of 5–60 s", Setting: r.Setting,
		Requests: res.d["snyk.requests"], Ideal: ideal, Wall: res.run.Wall, Ratio: ratio, Sim429: res.d["snyk.429"],
		Result: fmt.Sprintf("%s targets, %.2f polls per target (scaled times)", thousands(st.n), r.PollsPerTarget),
	})
	b.check(fmt.Sprintf("import of %d targets with jobs of 5–60 s at concurrency %d, default schedule: Σ durations ÷ %d at least 0.9 of the wall time", st.n, durationConcurrency, durationConcurrency),
		measured, ratio >= 0.9)
	return nil
}
