package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	bbsim "github.com/bbimport/bbimport/internal/sim"
)

// The credentials table: import:data of one estate with one credential and
// with one credential per workspace, against the simulator's rolling
// limit per credential; and one access token announcing its scaled limit
// against one announcing nothing (the default pacing). The window is
// scaled down (the simulator's and bbimport's, BBIMPORT_TESTING_BITBUCKET_WINDOW)
// so that spending a budget, and waiting for it, takes seconds.
type credentialSizes struct {
	workspaces, repos int           // the estate of the 1-vs-N rows
	limit             int           // requests per credential per window, simulator and bbimport
	latency           time.Duration // of every request, the 1-vs-N rows
	window            time.Duration
	tokenRepos        int // the access token's one workspace
	tokenLimit        int // what the access token announces
}

func (b *bench) credentialsBench(sizes) error {
	cs := credentialSizes{workspaces: 20, repos: 5000, limit: 600, latency: 200 * time.Millisecond, window: 20 * time.Second,
		tokenRepos: 150_000, tokenLimit: 10_000}
	if b.cfg.quick {
		cs = credentialSizes{workspaces: 4, repos: 500, limit: 10, latency: 20 * time.Millisecond, window: 2 * time.Second,
			tokenRepos: 1500, tokenLimit: 100}
	}
	one, err := b.credentialsRun(cs, false)
	if err != nil {
		return err
	}
	many, err := b.credentialsRun(cs, true)
	if err != nil {
		return err
	}
	pages := int64(cs.workspaces * ((cs.repos + 99) / 100))
	floor := time.Duration((cs.repos+99)/100) * cs.latency
	b.check(fmt.Sprintf("import:data of %d workspaces × %s repositories: requests equal the minimum (%s) with 1 and with %d credentials",
		cs.workspaces, thousands(int64(cs.repos)), thousands(pages), cs.workspaces),
		fmt.Sprintf("%s and %s", thousands(one.Requests), thousands(many.Requests)),
		one.Requests == pages && many.Requests == pages)
	b.check(fmt.Sprintf("with %d credentials, wall within 1.5× of the slowest workspace's own floor (%d pages × %s = %s)",
		cs.workspaces, (cs.repos+99)/100, cs.latency, seconds(floor)),
		fmt.Sprintf("%s (%.2f×), %d 429s", seconds(many.Wall), many.Wall.Seconds()/floor.Seconds(), many.Sim429),
		many.Wall.Seconds() <= 1.5*floor.Seconds() && many.Sim429 == 0)
	b.check(fmt.Sprintf("with 1 credential, at least one budget window (%s)", cs.window),
		fmt.Sprintf("%s, %d 429s", seconds(one.Wall), one.Sim429), one.Wall >= cs.window && one.Sim429 == 0)

	announced, err := b.accessTokenRun(cs, true)
	if err != nil {
		return err
	}
	quiet, err := b.accessTokenRun(cs, false)
	if err != nil {
		return err
	}
	b.check(fmt.Sprintf("one access token announcing %s a window: no budget wait; the same token announcing nothing: the default pacing (1,000 a window)", thousands(int64(cs.tokenLimit))),
		fmt.Sprintf("%s (%s) against %s (%s); 429s %d and %d", seconds(announced.Wall), announced.Result, seconds(quiet.Wall), quiet.Result, announced.Sim429, quiet.Sim429),
		!strings.HasPrefix(announced.Result, "waited") && strings.HasPrefix(quiet.Result, "waited") && announced.Sim429+quiet.Sim429 == 0)
	return nil
}

// credentialsRun lists the estate with one credential that sees every
// workspace (perWorkspace false: the simulator's default consumer) or with
// one consumer per workspace, each named for its workspace in
// BITBUCKET_CREDENTIALS.
func (b *bench) credentialsRun(cs credentialSizes, perWorkspace bool) (budgetRow, error) {
	ctx := context.Background()
	label := "1 credential"
	if perWorkspace {
		label = fmt.Sprintf("%d credentials", cs.workspaces)
	}
	dir, _ := filepath.Abs(filepath.Join(b.cfg.out, "credentials-"+strings.ReplaceAll(label, " ", "-")))
	args := []string{"-workspaces", fmt.Sprint(cs.workspaces), "-repos", fmt.Sprint(cs.repos), "-latency", cs.latency.String(),
		"-workspace-names", "-bitbucket-rate-limit", fmt.Sprint(cs.limit), "-bitbucket-rate-window", cs.window.String()}
	if perWorkspace {
		args = append(args, "-consumer-per-workspace")
	}
	s, err := startSim(b.cfg.bin, dir, args...)
	if err != nil {
		return budgetRow{}, err
	}
	defer s.Stop()
	env := unlimited(s, filepath.Join(dir, "logs"))
	env["BITBUCKET_RATE_LIMIT"] = fmt.Sprint(cs.limit)
	env["BBIMPORT_STATE_DIR"] = filepath.Join(dir, "state")
	env["BBIMPORT_TESTING_BITBUCKET_WINDOW"] = cs.window.String()
	if perWorkspace {
		var lines []string
		for i, w := range bbsim.Estate(cs.workspaces, cs.repos) {
			id, secret := bbsim.WorkspaceConsumer(w.Slug)
			env[fmt.Sprintf("BB_%d_KEY", i)], env[fmt.Sprintf("BB_%d_SECRET", i)] = id, secret
			lines = append(lines, fmt.Sprintf("%s consumer id=BB_%d_KEY secret=BB_%d_SECRET workspaces=%s", w.Slug, i, i, w.Slug))
		}
		env["BITBUCKET_CREDENTIALS"] = strings.Join(lines, "\n")
	}
	r, err := b.orgsThenImportData(ctx, s, dir, "credentials", env)
	if err != nil {
		return budgetRow{}, err
	}
	row := budgetRow{
		Run: "import:data, " + label,
		Setting: fmt.Sprintf("%d × %s repositories, %s latency, %d requests per credential per %s window (simulator and bbimport)",
			cs.workspaces, thousands(int64(cs.repos)), cs.latency, cs.limit, cs.window),
		Requests: r.Moved["bitbucket.requests"], Wall: r.Wall, Sim429: r.Moved["bitbucket.429"], Result: waitResult(r.Stderr),
	}
	b.rep.Budget = append(b.rep.Budget, row)
	return row, nil
}

// accessTokenRun lists one workspace with its access token, which
// announces its scaled limit (announces) or nothing; bbimport's limit is
// the default, which nobody set.
func (b *bench) accessTokenRun(cs credentialSizes, announces bool) (budgetRow, error) {
	ctx := context.Background()
	name := "access-token-quiet"
	if announces {
		name = "access-token-announced"
	}
	dir, _ := filepath.Abs(filepath.Join(b.cfg.out, name))
	args := []string{"-workspaces", "1", "-repos", fmt.Sprint(cs.tokenRepos), "-workspace-names",
		"-bitbucket-rate-window", cs.window.String(), "-access-token-per-workspace", "-access-token-limit", fmt.Sprint(cs.tokenLimit)}
	if !announces {
		args = append(args, "-access-token-quiet")
	}
	s, err := startSim(b.cfg.bin, dir, args...)
	if err != nil {
		return budgetRow{}, err
	}
	defer s.Stop()
	env := unlimited(s, filepath.Join(dir, "logs"))
	delete(env, "BITBUCKET_RATE_LIMIT") // the default: what a server's announcement may raise
	env["BBIMPORT_STATE_DIR"] = filepath.Join(dir, "state")
	env["BBIMPORT_TESTING_BITBUCKET_WINDOW"] = cs.window.String()
	slug := bbsim.Estate(1, cs.tokenRepos)[0].Slug
	env["BB_TOKEN"] = bbsim.WorkspaceAccessToken(slug)
	env["BITBUCKET_CREDENTIALS"] = "token access-token token=BB_TOKEN workspaces=" + slug
	r, err := b.orgsThenImportData(ctx, s, dir, name, env)
	if err != nil {
		return budgetRow{}, err
	}
	what := "announcing nothing (default pacing, 1,000 a window)"
	if announces {
		what = fmt.Sprintf("announcing %s a window in X-RateLimit-Limit", thousands(int64(cs.tokenLimit)))
	}
	row := budgetRow{
		Run:      "import:data, one access token " + what,
		Setting:  fmt.Sprintf("1 × %s repositories, no latency, %s window, BITBUCKET_RATE_LIMIT not set", thousands(int64(cs.tokenRepos)), cs.window),
		Requests: r.Moved["bitbucket.requests"], Wall: r.Wall, Sim429: r.Moved["bitbucket.429"], Result: waitResult(r.Stderr),
	}
	b.rep.Budget = append(b.rep.Budget, row)
	return row, nil
}

// orgsThenImportData runs orgs:data (it spends from the same budgets, as in
// production), writes the created-orgs file from its output, and measures
// import:data.
func (b *bench) orgsThenImportData(ctx context.Context, s *sim, dir, name string, env map[string]string) (*measuredRun, error) {
	group := s.Env["SNYK_GROUP_ID"]
	if err := b.mustRun(ctx, dir, name+"-orgs-data", env, 0, "orgs:data", "--groupId="+group); err != nil {
		return nil, err
	}
	created := filepath.Join(dir, "snyk-created-orgs.json")
	if err := writeCreatedOrgs(filepath.Join(env["SNYK_LOG_PATH"], "group-"+group+"-bitbucket-cloud-app-orgs.json"), created); err != nil {
		return nil, err
	}
	return measure(ctx, s, b.cfg.bin, dir, name+"-import-data", withoutSnyk(env), "import:data", "--orgsData="+created)
}

// waitResult is what a run said of its budget: the first wait line, if any.
func waitResult(stderr string) string {
	if line := firstLine(stderr, "Bitbucket budget:"); line != "" {
		return "waited: " + line
	}
	return "no budget wait"
}
