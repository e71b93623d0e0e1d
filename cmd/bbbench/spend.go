package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/bbimport/bbimport/pkg/syncer"
)

// The rows of issue 22, "spend the budgets": each run against a simulator
// that enforces the Snyk limit, beside its floor (what the budget and the
// latency allow at best), in the budget table.
const (
	// snykLimit is Snyk's limit a minute and SNYK_RATE_LIMIT's default.
	snykLimit = 1500
	// spendLatency is the latency of the orgs:create and sync rows.
	spendLatency = 200 * time.Millisecond
	// spendConcurrency is the most orgs at once (importer.OrgsAtOnce) and
	// the sync rows' --concurrency: the concurrency of their floor.
	spendConcurrency = 50
)

// perLimit is n ÷ a limit of limit a minute, as a time.
func perLimit(n, limit int64) time.Duration {
	return time.Duration(float64(n) / float64(limit) * float64(time.Minute))
}

// importQuick: 555 targets whose jobs finish at their second poll, at the
// default settings (15 workers, SNYK_RATE_LIMIT 1,500 a minute, enforced
// by the simulator): within 1.5× of requests ÷ the limit, no minute above
// it, no 429.
func (b *bench) importQuick(sz sizes) error {
	ws, repos := 3, sz.quickTargets/3
	st, err := b.prepareImport("import-quick", ws, repos,
		"-latency", importLatency.String(), "-pending-polls", "1", "-snyk-rate-limit", fmt.Sprint(snykLimit))
	if err != nil {
		return err
	}
	defer st.sim.Stop()
	delete(st.env, "SNYK_RATE_LIMIT") // the default
	res, err := b.measureImport(st, "import-quick", "snyk.requests")
	if err != nil {
		return err
	}
	r := b.importRow(st, res, "50 ms, jobs done at their 2nd poll, default settings (15 workers, SNYK_RATE_LIMIT 1,500/min, enforced by the simulator)")
	b.rep.Rows = append(b.rep.Rows, r)
	reqs := res.d["snyk.requests"]
	floor := perLimit(reqs, snykLimit)
	ratio := res.run.Wall.Seconds() / floor.Seconds()
	maxWin, span := maxInWindow(res.samples, time.Minute)
	b.rep.Budget = append(b.rep.Budget, budgetRow{
		Run: fmt.Sprintf("import, %s quick targets", thousands(st.n)), Setting: r.Setting,
		Requests: reqs, Ideal: floor, Wall: res.run.Wall, Ratio: ratio, Sim429: res.d["snyk.429"],
		Result: fmt.Sprintf("floor: requests ÷ 1,500/min; busiest minute %s requests; %.2f polls per target", thousands(maxWin), r.PollsPerTarget),
	})
	b.check(fmt.Sprintf("import of %s quick targets (2 polls each) at default settings within 1.5× of requests ÷ Snyk limit, 0 429s", thousands(st.n)),
		fmt.Sprintf("%s Snyk requests in %s vs %s ÷ 1,500/min = %s (%.2f×); busiest %s window: %s (limit %s); %d 429s",
			thousands(reqs), seconds(res.run.Wall), thousands(reqs), seconds(floor), ratio, span.Round(time.Second), thousands(maxWin), thousands(snykLimit), res.d["snyk.429"]),
		ratio <= 1.5 && res.d["snyk.429"] == 0 && maxWin <= snykLimit)
	return nil
}

// durationScale shrinks time so the rows with real-looking job durations
// take seconds: the simulator's job durations (5–60 s), its latency, the
// 500 ms poll floor and Snyk's minute (the simulator's window and
// bbimport's, BBIMPORT_TESTING_SNYK_WINDOW) ×0.01; the limit stays 1,500
// a (scaled) minute.
const durationScale = 0.01

func scaledDuration(d time.Duration) time.Duration {
	return time.Duration(float64(d) * durationScale)
}

// importDurations: sz.durationTargets targets whose jobs run 5–60 s (drawn
// per target) at 15 and 50 workers, default settings: wall time against
// the ideal Σ durations ÷ workers, Snyk's busiest (scaled) minute, 429s
// and polls per target.
func (b *bench) importDurations(sz sizes) error {
	for _, conc := range []int{15, 50} {
		if err := b.importDurationsAt(sz, conc); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) importDurationsAt(sz sizes, conc int) error {
	ws := (sz.durationTargets + sz.repos - 1) / sz.repos
	minute := scaledDuration(time.Minute)
	st, err := b.prepareImport(fmt.Sprintf("import-durations-c%d", conc), ws, min(sz.repos, sz.durationTargets),
		"-latency", scaledDuration(300*time.Millisecond).String(), "-pending-polls", "0",
		"-job-durations", scaledDuration(5*time.Second).String()+"-"+scaledDuration(time.Minute).String(),
		"-snyk-rate-limit", fmt.Sprint(snykLimit), "-snyk-rate-window", minute.String())
	if err != nil {
		return err
	}
	defer st.sim.Stop()
	delete(st.env, "SNYK_RATE_LIMIT") // the default, per scaled minute
	st.env["BBIMPORT_TESTING_SNYK_WINDOW"] = minute.String()
	st.sampleEvery = minute / 24
	res, err := b.measureImport(st, fmt.Sprintf("import-durations-c%d", conc), "snyk.requests",
		fmt.Sprintf("--concurrency=%d", conc), "--pollInterval="+scaledDuration(500*time.Millisecond).String())
	if err != nil {
		return err
	}
	r := b.importRow(st, res, fmt.Sprintf("jobs 5–60 s, 300 ms latency, --concurrency=%d, default schedule; time ×%g (durations, latency, 500 ms floor, Snyk's minute), SNYK_RATE_LIMIT 1,500 a scaled minute, enforced by the simulator",
		conc, durationScale))
	b.rep.Rows = append(b.rep.Rows, r)

	sum := time.Duration(res.d["snyk.job_duration_ms"]) * time.Millisecond
	ideal := sum / time.Duration(conc)
	ratio := ideal.Seconds() / res.run.Wall.Seconds()
	late := time.Duration(res.d["snyk.job_notice_late_ms"]/max(st.n, 1)) * time.Millisecond
	maxWin, _ := maxInWindow(res.samples, minute)
	goal := 0.95
	if conc > 15 {
		goal = 0.9
	}
	perMinute := float64(res.d["snyk.requests"]) / (res.run.Wall.Seconds() / minute.Seconds())
	b.rep.Budget = append(b.rep.Budget, budgetRow{
		Run: fmt.Sprintf("import, jobs of 5–60 s, %d workers", conc), Setting: r.Setting,
		Requests: res.d["snyk.requests"], Ideal: ideal, Wall: res.run.Wall, Ratio: ratio, Sim429: res.d["snyk.429"],
		Result: fmt.Sprintf("ideal Σ durations ÷ %d; %s targets, %.2f polls per target; %.0f Snyk requests a scaled minute on average, busiest %s", conc, thousands(st.n), r.PollsPerTarget, perMinute, thousands(maxWin)),
	})
	b.check(fmt.Sprintf("import of %s targets, jobs of 5–60 s, %d workers, default settings: at least %.2f of Σ durations ÷ %d, Snyk requests per minute within the limit, 0 429s", thousands(st.n), conc, goal, conc),
		fmt.Sprintf("Σ durations ÷ %d = %s, wall %s (scaled ×%g): ratio %.3f; a finished job noticed %s late on average (scaled); %.2f polls per target; busiest scaled minute %s of %s; %d 429s",
			conc, ideal.Round(time.Millisecond), res.run.Wall.Round(time.Millisecond), durationScale, ratio, late, r.PollsPerTarget, thousands(maxWin), thousands(snykLimit), res.d["snyk.429"]),
		ratio >= goal && maxWin <= snykLimit && res.d["snyk.429"] == 0)
	return nil
}

// orgsCreate: orgs:create of sz.createOrgs orgs at 200 ms latency and the
// default SNYK_RATE_LIMIT (enforced by the simulator): within 1.5× of
// max(requests ÷ limit, requests × latency ÷ concurrency).
func (b *bench) orgsCreate(sz sizes) error {
	ctx := context.Background()
	dir, _ := filepath.Abs(filepath.Join(b.cfg.out, "orgs-create"))
	s, err := startSim(b.cfg.bin, dir, "-workspaces", fmt.Sprint(sz.createOrgs), "-repos", "1", "-workspace-names",
		"-latency", spendLatency.String(), "-snyk-rate-limit", fmt.Sprint(snykLimit))
	if err != nil {
		return err
	}
	defer s.Stop()
	logs := filepath.Join(dir, "logs")
	env := unlimited(s, logs)
	group := s.Env["SNYK_GROUP_ID"]
	if err := b.mustRun(ctx, dir, "orgs-create-setup", env, 0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group); err != nil {
		return err
	}
	delete(env, "SNYK_RATE_LIMIT") // the default
	r, err := measure(ctx, s, b.cfg.bin, dir, "orgs-create", env, "orgs:create", "--file="+filepath.Join(logs, "group-"+group+"-bitbucket-cloud-app-orgs.json"))
	if err != nil {
		return err
	}
	reqs := r.Moved["snyk.requests"]
	floor := max(perLimit(reqs, snykLimit), time.Duration(reqs)*spendLatency/spendConcurrency)
	ratio := r.Wall.Seconds() / floor.Seconds()
	setting := fmt.Sprintf("%s orgs, 200 ms latency, SNYK_RATE_LIMIT 1,500/min (default, enforced by the simulator)", thousands(int64(sz.createOrgs)))
	b.rep.Budget = append(b.rep.Budget, budgetRow{
		Run: "orgs:create", Setting: setting, Requests: reqs, Ideal: floor, Wall: r.Wall, Ratio: ratio, Sim429: r.Moved["snyk.429"],
		Result: fmt.Sprintf("floor: max(requests ÷ 1,500/min, requests × 200 ms ÷ %d); %s orgs created", spendConcurrency, thousands(r.Moved["snyk.orgs_created"])),
	})
	b.check(fmt.Sprintf("orgs:create of %s orgs at 200 ms latency within 1.5× of max(requests ÷ limit, requests × latency ÷ concurrency), 0 429s", thousands(int64(sz.createOrgs))),
		fmt.Sprintf("%s Snyk requests in %s vs %s (%.2f×); %d 429s", thousands(reqs), seconds(r.Wall), seconds(floor), ratio, r.Moved["snyk.429"]),
		ratio <= 1.5 && r.Moved["snyk.429"] == 0)
	return nil
}

// syncSpend is one estate of the sync rows against their floor: Snyk's
// limit a window enforced by the simulator, its latency, and time scaled
// by scale (the window, the latency) so a run at Snyk's default limit
// takes under a minute.
type syncSpend struct {
	name, label string
	limit       int64
	scale       float64
}

// syncSpends: the 50,000 of the sync rows at 200 ms with Snyk's limit
// raised tenfold, past any limit Snyk grants (1,620/min REST, 2,000 v1), so
// the latency term dominates; and at the default limit, time ×0.1, where
// the limit's term dominates, as it does at every limit Snyk grants.
var syncSpends = []syncSpend{
	{name: "sync-latency", label: "200 ms latency, SNYK_RATE_LIMIT 15,000/min", limit: 10 * snykLimit, scale: 1},
	{name: "sync-default-limit", label: "default SNYK_RATE_LIMIT (1,500/min); time ×0.1: 20 ms latency, 1,500 a 6 s window", limit: snykLimit, scale: 0.1},
}

// syncLatency measures sync of sz.syncLatencyWS orgs of 1,000 repositories
// at each of syncSpends, beside max(requests ÷ limit, requests × latency ÷
// concurrency). Sync runs as many orgs at once as its budget of
// repositories in flight holds (syncer.ReposInFlight ÷ 1,000), fewer than
// --concurrency: the row says so.
func (b *bench) syncLatency(sz sizes) error {
	for _, sp := range syncSpends {
		if err := b.syncSpend(sz, sp); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) syncSpend(sz sizes, sp syncSpend) error {
	ctx := context.Background()
	ws, repos := sz.syncLatencyWS, 1000
	scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * sp.scale) }
	window, latency := scaled(time.Minute), scaled(spendLatency)
	dir, _ := filepath.Abs(filepath.Join(b.cfg.out, fmt.Sprintf("%s-%dx%d", sp.name, ws, repos)))
	s, err := startSim(b.cfg.bin, dir, "-workspaces", fmt.Sprint(ws), "-repos", fmt.Sprint(repos), "-pending-polls", "0",
		"-latency", latency.String(), "-snyk-rate-limit", fmt.Sprint(sp.limit), "-snyk-rate-window", window.String())
	if err != nil {
		return err
	}
	defer s.Stop()
	logs := filepath.Join(dir, "logs")
	env := unlimited(s, logs)
	if sp.limit == snykLimit {
		delete(env, "SNYK_RATE_LIMIT") // the default
	} else {
		env["SNYK_RATE_LIMIT"] = fmt.Sprint(sp.limit)
	}
	if sp.scale != 1 {
		env["BBIMPORT_TESTING_SNYK_WINDOW"] = window.String()
	}
	args, rows, _, err := b.syncSetup(ctx, s, dir, env)
	if err != nil {
		return err
	}
	changes, err := b.syncChange(s, rows, repos)
	if err != nil {
		return err
	}
	estate := fmt.Sprintf("%d × %s = %s repos", ws, thousands(int64(repos)), thousands(int64(ws*repos)))
	orgsAtOnce := min(max(syncer.ReposInFlight/repos, 1), spendConcurrency, ws)
	runs := []struct{ name, setting string }{
		{sp.name + "-changed", fmt.Sprintf("%s changed (10 %%), --importNew", thousands(int64(changes)))},
		{sp.name + "-unchanged", "nothing changed since the last sync"},
	}
	for _, run := range runs {
		r, err := measure(ctx, s, b.cfg.bin, dir, run.name, env, args...)
		if err != nil {
			return err
		}
		snykReqs, bbReqs := r.Moved["snyk.requests"], r.Moved["bitbucket.requests"]
		byLimit := time.Duration(float64(snykReqs) / float64(sp.limit) * float64(window))
		floor := max(byLimit, time.Duration(snykReqs+bbReqs)*latency/spendConcurrency)
		ratio := r.Wall.Seconds() / floor.Seconds()
		setting := fmt.Sprintf("%s, %s; %s, --concurrency=%d (enforced by the simulator); %d orgs at once (the budget of %s repositories in flight)",
			estate, run.setting, sp.label, spendConcurrency, orgsAtOnce, thousands(syncer.ReposInFlight))
		b.rep.Budget = append(b.rep.Budget, budgetRow{
			Run: "sync", Setting: setting, Requests: snykReqs, Ideal: floor, Wall: r.Wall, Ratio: ratio, Sim429: r.Moved["snyk.429"],
			Result: fmt.Sprintf("floor: max(Snyk requests ÷ %s a %s window, (Snyk + %s Bitbucket requests) × %s ÷ %d in flight); in flight at most: %d orgs × 3 listings while reading, × %d writes or confirmations while writing, %d imports; peak RSS %.1f MiB",
				thousands(sp.limit), window, thousands(bbReqs), latency, spendConcurrency, orgsAtOnce, syncer.DefaultWriteConcurrency, spendConcurrency, float64(r.MaxRSS)/1024),
		})
		b.check(fmt.Sprintf("sync of %s (%s), %s, within 1.5× of max(requests ÷ limit, requests × latency ÷ concurrency), 0 429s", estate, run.setting, sp.label),
			fmt.Sprintf("%s Snyk and %s Bitbucket requests in %s vs %s (%.2f×); %d 429s", thousands(snykReqs), thousands(bbReqs), seconds(r.Wall), seconds(floor), ratio, r.Moved["snyk.429"]),
			ratio <= 1.5 && r.Moved["snyk.429"] == 0)
	}
	return nil
}
