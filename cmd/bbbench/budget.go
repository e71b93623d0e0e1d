package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
)

// The budget table: import:data on a fresh Bitbucket budget, a second run
// in the same hour sharing the first one's state directory, and the import
// with real-looking job durations (pollbench.go), side by side.
const (
	// budgetLatency is the simulator's latency for both APIs: a mid value
	// of what Bitbucket Cloud answers a repository page in.
	budgetLatency = 200 * time.Millisecond
	// budgetLimit is Bitbucket's own: 1,000 requests per consumer in any
	// rolling hour, enforced by the simulator (-bitbucket-rate-limit, its
	// window an hour) and configured in bbimport (BITBUCKET_RATE_LIMIT).
	budgetLimit = 1000
	// budgetGrace is how long the second run is watched after it said it
	// waits: any request in it would be one over the budget.
	budgetGrace = 3 * time.Second
)

// budgetRow is one row of the budget table.
type budgetRow struct {
	Run     string `json:"run"`
	Setting string `json:"setting"`
	// Requests is what the simulator counted (Bitbucket requests, or for
	// the import row Snyk polls per target in Result).
	Requests int64         `json:"requests"`
	Ideal    time.Duration `json:"idealNs"`
	Wall     time.Duration `json:"wallNs"`
	// Ratio is wall ÷ ideal for import:data (goal ≤ 2), ideal ÷ wall for
	// the import (goal ≥ 0.9); 0 where there is no ideal.
	Ratio  float64 `json:"ratio"`
	Sim429 int64   `json:"sim429"`
	Result string  `json:"result"`
}

// budgetBench: import:data at 100 and 200 workspaces × 250 repositories on
// a fresh budget, each with its own simulator and state directory, then a
// second run of the larger estate within the same hour and state directory.
func (b *bench) budgetBench(sz sizes) error {
	estates := []int{100, 200}
	if b.cfg.quick {
		estates = []int{4, 8}
	}
	for i, ws := range estates {
		if err := b.budgetFresh(ws, sz.repos, i == len(estates)-1); err != nil {
			return err
		}
	}
	return nil
}

// budgetFresh measures one fresh-budget import:data; with second, the run
// in the same window after it.
func (b *bench) budgetFresh(ws, repos int, second bool) error {
	ctx := context.Background()
	n := ws * repos
	dir, _ := filepath.Abs(filepath.Join(b.cfg.out, fmt.Sprintf("budget-%d", n)))
	s, err := startSim(b.cfg.bin, dir, "-workspaces", fmt.Sprint(ws), "-repos", fmt.Sprint(repos),
		"-latency", budgetLatency.String(), "-workspace-names", "-bitbucket-rate-limit", fmt.Sprint(budgetLimit))
	if err != nil {
		return err
	}
	defer s.Stop()
	logs := filepath.Join(dir, "logs")
	env := unlimited(s, logs)
	env["BITBUCKET_RATE_LIMIT"] = fmt.Sprint(budgetLimit)
	env["BBIMPORT_STATE_DIR"] = filepath.Join(dir, "state")
	// orgs:data spends from the same budget (its workspace pages), as it
	// would in production: the ledger and the simulator both count it.
	if err := b.mustRun(ctx, dir, "budget-orgs-data", env, 0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+s.Env["SNYK_GROUP_ID"]); err != nil {
		return err
	}
	created := filepath.Join(dir, "snyk-created-orgs.json")
	if err := writeCreatedOrgs(filepath.Join(logs, "group-"+s.Env["SNYK_GROUP_ID"]+"-bitbucket-cloud-app-orgs.json"), created); err != nil {
		return err
	}
	env = withoutSnyk(env) // the second run's too
	args := []string{"import:data", "--source=bitbucket-cloud-app", "--orgsData=" + created}
	r, err := measure(ctx, s, b.cfg.bin, dir, "budget-import-data", env, args...)
	if err != nil {
		return err
	}
	d := r.Moved
	conc := importer.DefaultImportDataConcurrency
	reqs := d["bitbucket.requests"]
	ideal := time.Duration(reqs) * budgetLatency / time.Duration(conc)
	ratio := r.Wall.Seconds() / ideal.Seconds()
	waited := firstLine(r.Stderr, "Bitbucket budget:")
	result := "no budget wait"
	if waited != "" {
		result = "waited: " + waited
	}
	estate := fmt.Sprintf("%d × %d = %s repos", ws, repos, thousands(int64(n)))
	b.rep.Budget = append(b.rep.Budget, budgetRow{
		Run: "import:data, fresh budget", Setting: fmt.Sprintf("%s, %s latency, default --concurrency (%d), limit %s/h in the simulator and BITBUCKET_RATE_LIMIT",
			estate, budgetLatency, conc, thousands(budgetLimit)),
		Requests: reqs, Ideal: ideal, Wall: r.Wall, Ratio: ratio, Sim429: d["bitbucket.429"], Result: result,
	})
	b.check(fmt.Sprintf("import:data, %s repositories on a fresh budget: within 2× of requests × latency ÷ concurrency, 0 429s", thousands(int64(n))),
		fmt.Sprintf("%s in %s vs %d × %s ÷ %d = %s (%.2f×); %d 429s; %s", thousands(reqs), seconds(r.Wall), reqs, budgetLatency, conc, seconds(ideal), ratio, d["bitbucket.429"], result),
		ratio <= 2 && d["bitbucket.429"] == 0 && waited == "")
	if !second {
		return nil
	}
	return b.budgetSecondRun(ctx, s, dir, env, args, estate)
}

// budgetSecondRun runs the same import:data again within the hour, sharing
// the state directory (its own log directory): it may send only what the
// budget has left, then must wait. It is stopped (SIGINT) a second plus
// budgetGrace after it says so: the rest of the wait is the hour's, not a
// measurement.
func (b *bench) budgetSecondRun(ctx context.Context, s *sim, dir string, env map[string]string, args []string, estate string) error {
	env2 := map[string]string{}
	for k, v := range env {
		env2[k] = v
	}
	env2["SNYK_LOG_PATH"] = filepath.Join(dir, "logs-2")
	c0, err := s.Counters()
	if err != nil {
		return err
	}
	remaining := budgetLimit - c0["bitbucket.requests"]
	p, err := startBBImport(ctx, b.cfg.bin, dir, "budget-import-data-2", env2, args...)
	if err != nil {
		return err
	}
	var line string
	var atWait counters
	deadline := time.Now().Add(2 * time.Minute)
	for line == "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if line = firstLine(p.r.Stderr, "Bitbucket budget:"); line != "" {
			if atWait, err = s.Counters(); err != nil {
				break
			}
		}
	}
	waitedAfter := time.Since(p.start)
	// Requests let through just before the wait line may still be on the
	// wire (one latency); a second later they have all arrived, and from
	// then on the run must send nothing.
	var settled, later counters
	if line != "" && err == nil {
		time.Sleep(time.Second)
		if settled, err = s.Counters(); err == nil {
			time.Sleep(budgetGrace)
			later, err = s.Counters()
		}
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	r, werr := p.wait()
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	if line == "" {
		return fmt.Errorf("the second run never said it waits for the budget (exit %d); see %s", r.ExitCode, r.Stderr)
	}
	inFlight := settled.sub(atWait)["bitbucket.requests"]
	sent := settled.sub(c0)["bitbucket.requests"]
	during := later.sub(settled)["bitbucket.requests"]
	n429 := later.sub(c0)["bitbucket.429"]
	b.rep.Budget = append(b.rep.Budget, budgetRow{
		Run: "import:data, second run in the same hour",
		Setting: fmt.Sprintf("%s again, the same state directory, right after the run above (%s of %s spent)",
			estate, thousands(c0["bitbucket.requests"]), thousands(budgetLimit)),
		Requests: sent, Wall: waitedAfter, Sim429: n429,
		Result: fmt.Sprintf("%s sent (the %s left; %d of them still arriving when it said): %q; %d requests in the next %s; stopped with SIGINT, exit %d",
			thousands(sent), thousands(remaining), inFlight, line, during, budgetGrace, r.ExitCode),
	})
	b.check("a second run in the same window sends exactly the remaining budget, then waits, 0 429s",
		fmt.Sprintf("%s sent of the %s left, then the wait line (%s after start), %d requests in the %s after, %d 429s",
			thousands(sent), thousands(remaining), seconds(waitedAfter), during, budgetGrace, n429),
		sent == remaining && during == 0 && n429 == 0)
	return nil
}

// firstLine is the first line of the file at path holding marker, from the
// marker on ("" if none).
func firstLine(path, marker string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), marker); ok {
			msg := marker + after
			// A structured line: the message ends at its closing quote,
			// the first one not escaped.
			for i := 0; i < len(msg); i++ {
				if msg[i] == '\\' {
					i++
					continue
				}
				if msg[i] == '"' {
					msg = strings.ReplaceAll(msg[:i], `\"`, `"`)
					break
				}
			}
			return strings.TrimSpace(msg)
		}
	}
	return ""
}
