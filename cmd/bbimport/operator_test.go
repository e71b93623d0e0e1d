package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// otherTenantOrgs is a created-orgs file made for the group id of the
// simulator's group, but on another Snyk tenant: its orgs are not there.
func otherTenantOrgs(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "snyk-created-orgs.json")
	rows := `{"orgData":[
	 {"orgId":"0b1e0000-0000-4000-8000-0000000000a1","name":"North","groupId":"` + sim.SimSnykGroupID + `","workspace":"north","integrations":{"bitbucket-cloud-app":"0b1e0000-0000-4000-8000-0000000000b1"}},
	 {"orgId":"0b1e0000-0000-4000-8000-0000000000a2","name":"South","groupId":"` + sim.SimSnykGroupID + `","workspace":"south-side","integrations":{"bitbucket-cloud-app":"0b1e0000-0000-4000-8000-0000000000b2"}}]}`
	if err := os.WriteFile(p, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// otherTenantTargets is a targets file of 40 targets of such orgs.
func otherTenantTargets(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"targets":[`)
	for i := range 40 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"orgId":"0b1e0000-0000-4000-8000-0000000000a1","integrationId":"0b1e0000-0000-4000-8000-0000000000b1","target":{"owner":"north","name":"repo-` +
			strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `","branch":"main"}}`)
	}
	b.WriteString("]}")
	p := filepath.Join(t.TempDir(), "targets.json")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWrongSetupFailsEarly (issue 23 row 1): a group id that is no id is a
// usage error; a group the Snyk credential cannot see fails orgs:data with
// one Snyk request and no Bitbucket request; a created-orgs file of another
// tenant fails import:data and sync (exit 1, naming the org and the group)
// with one listing of the group and no Bitbucket request; an import whose kick-offs
// are all refused alike stops after ProbeKickOffs and exits 1 with the
// cause on its final line, not 3.
func TestWrongSetupFailsEarly(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	oneLine(t, e.Run("orgs:data", "--groupId=my-group"), nil, `--groupId="my-group" is not a Snyk group id`, "UUID")

	counts := func() (bb, sn int64) { return e.Sim.Count("bitbucket.requests"), e.Sim.Count("snyk.requests") }
	bb0, sn0 := counts()
	r := e.MustRun(exitFailed, "orgs:data", "--groupId=4a18d42f-0706-4ad0-b127-24078731fbed")
	wantContains(t, finalLine(t, r.Stderr), "Snyk group 4a18d42f-0706-4ad0-b127-24078731fbed could not be read, so no Bitbucket workspace was listed", "404")
	if bb, sn := counts(); bb != bb0 || sn != sn0+1 {
		t.Errorf("orgs:data of an unknown group: %d Bitbucket and %d Snyk requests, want 0 and 1", bb-bb0, sn-sn0)
	}
	if _, err := os.Stat(e.File("group-4a18d42f-0706-4ad0-b127-24078731fbed-bitbucket-cloud-app-orgs.json")); err == nil {
		t.Error("orgs:data wrote a file for a group it could not read")
	}

	bb0, sn0 = counts()
	r = e.MustRun(exitFailed, "import:data", "--orgsData="+otherTenantOrgs(t))
	wantContains(t, finalLine(t, r.Stderr), `org "North" (0b1e0000-0000-4000-8000-0000000000a1) is not in Snyk group `+sim.SimSnykGroupID,
		"check that SNYK_API and the Snyk credential are those of the group's tenant")
	if bb, sn := counts(); bb != bb0 || sn-sn0 > 2 {
		t.Errorf("import:data of another tenant's orgs: %d Bitbucket and %d Snyk requests, want 0 and at most 2", bb-bb0, sn-sn0)
	}

	bb0, sn0 = counts()
	r = e.MustRun(exitFailed, "sync", "--orgsData="+otherTenantOrgs(t), "--importNew")
	wantContains(t, finalLine(t, r.Stderr), "none of the 2 orgs of", "so nothing was synced",
		`org "North" (0b1e0000-0000-4000-8000-0000000000a1) is not in Snyk group `+sim.SimSnykGroupID)
	if bb, sn := counts(); bb != bb0 || sn-sn0 > 2 {
		t.Errorf("sync of another tenant's orgs: %d Bitbucket and %d Snyk requests, want 0 and at most 2", bb-bb0, sn-sn0)
	}

	sn0 = e.Sim.Count("snyk.requests")
	r = e.MustRun(exitFailed, "import", "--file="+otherTenantTargets(t))
	wantContains(t, finalLine(t, r.Stderr), "Snyk accepted none of the first 5 imports and refused each the same way, so the run stopped: 35 targets were not sent",
		"0b1e0000-0000-4000-8000-0000000000a1", "404")
	if sn := e.Sim.Count("snyk.requests") - sn0; sn != 5 {
		t.Errorf("import into another tenant's org: %d Snyk requests, want 5", sn)
	}
}

// TestRefusedDuringStageNamesVariable (issue 23 row 4): an API refusing
// connections, after the retries, is worded with its endpoint and the
// variable to check, and the import stops after its probes.
func TestRefusedDuringStageNamesVariable(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("SNYK_API", "http://127.0.0.1:1/v1")
	r := e.MustRun(exitFailed, "import", "--file="+otherTenantTargets(t))
	wantContains(t, finalLine(t, r.Stderr), "cannot reach Snyk API: 127.0.0.1:1 refused the connection", "fix: check SNYK_API")
}

// silentAPI is a loopback address that accepts connections and never
// answers: a firewall that drops packets, as a request sees it.
func silentAPI(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestSilentAPINamesVariable (issue 23 row 4): an API that accepts the
// connection and never answers fails doctor's check, and a stage after its
// retries, worded with the endpoint and the variable to check, not as a
// bare "context deadline exceeded".
func TestSilentAPINamesVariable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		variable, path string
		args           []string
		check          string // doctor's ✗ line; "" for a stage's final line
		want           string
	}{
		{"BITBUCKET_APP_API_BASE", "/2.0", []string{"doctor"}, "workspaces", "cannot reach Bitbucket API: "},
		{"BITBUCKET_APP_TOKEN_URL", "/site/oauth2/access_token", []string{"doctor"}, "Bitbucket token", "cannot reach Bitbucket token endpoint: "},
		{"SNYK_API", "/v1", []string{"doctor", "--groupId=" + sim.SimSnykGroupID}, "Snyk group " + sim.SimSnykGroupID, "cannot reach Snyk API: "},
		{"BITBUCKET_APP_API_BASE", "/2.0", []string{"orgs:data", "--groupId=" + sim.SimSnykGroupID}, "", "cannot reach Bitbucket API: "},
	} {
		t.Run(tt.variable+"/"+tt.args[0], func(t *testing.T) {
			t.Parallel()
			e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
			e.Tuning.AttemptTimeout = 250 * time.Millisecond
			base := silentAPI(t)
			e.Set(tt.variable, base+tt.path)
			r := e.MustRun(exitFailed, tt.args...)
			line := ""
			if tt.check != "" {
				line = checkLine(t, r.Stdout, "✗", tt.check)
			} else {
				line = finalLine(t, r.Stderr)
			}
			wantContains(t, line, tt.want+strings.TrimPrefix(base, "http://")+" did not answer in time", "fix: check "+tt.variable+" ("+base+tt.path+")")
			if strings.Contains(line, "deadline exceeded") {
				t.Errorf("worded as a bare timeout: %s", line)
			}
		})
	}
}

// TestReleaseBinaryOperator (issue 23): on the built binary, every
// command's --help fits 100 columns with an EXAMPLES section, `bbimport
// version` works, completion offers an enumerated flag's values, doctor
// against an unreachable API fails in seconds naming the variable (at the
// production retry settings), and a created-orgs file of another tenant
// fails import:data at once naming the org and the group.
func TestReleaseBinaryOperator(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, t.TempDir())
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	run := func(want int, env []string, args ...string) (stdout, stderr string, took time.Duration) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = binaryEnv(e, env...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		took = time.Since(start)
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Fatalf("bbimport %q: exit %d, want %d\n%s%s", args, code, want, out.String(), errb.String())
		}
		return out.String(), errb.String(), took
	}
	_, commands := appCommands(t)
	for _, c := range commands {
		if c.Name == "help" {
			continue
		}
		out, _, _ := run(0, []string{"COLUMNS=100"}, c.Name, "--help")
		checkFits(t, c.Name+" --help", out, 100)
		if !strings.Contains(out, "\nEXAMPLES\n") {
			t.Errorf("%s --help has no EXAMPLES", c.Name)
		}
	}
	if out, _, _ := run(0, nil, "version"); !strings.HasPrefix(out, "bbimport version ") {
		t.Errorf("version: %q", out)
	}
	script, _, _ := run(0, nil, "completion", "bash")
	if !strings.Contains(script, `--logFormat) vals="auto json text"`) {
		t.Error("the bash completion has no values for --logFormat")
	}

	out, _, took := run(exitFailed, []string{"BITBUCKET_APP_API_BASE=http://127.0.0.1:1/2.0"}, "doctor", "--groupId="+sim.SimSnykGroupID)
	if took > 5*time.Second {
		t.Errorf("doctor against an unreachable Bitbucket took %s, want under 5 s", took)
	}
	wantContains(t, out, "✗ workspaces: cannot reach Bitbucket API: 127.0.0.1:1 refused the connection", "fix: check BITBUCKET_APP_API_BASE")
	out, _, took = run(exitFailed, []string{"SNYK_API=http://127.0.0.1:1/v1"}, "doctor", "--groupId="+sim.SimSnykGroupID)
	if took > 5*time.Second {
		t.Errorf("doctor against an unreachable Snyk took %s, want under 5 s", took)
	}
	wantContains(t, out, "cannot reach Snyk API: 127.0.0.1:1 refused the connection", "fix: check SNYK_API")

	_, stderr, _ := run(exitFailed, nil, "import:data", "--orgsData="+otherTenantOrgs(t))
	wantContains(t, finalLine(t, stderr), `org "North" (0b1e0000-0000-4000-8000-0000000000a1) is not in Snyk group `+sim.SimSnykGroupID)
}

// TestTrueOutput (issue 23 row 5): what the output says is so. A resume
// with nothing left says so; a dry run names the file holding its whole
// plan; the created-orgs log lines carry bunyan's common fields; after
// orgs:create reuses orgs from a file not named by orgs:data, the Next:
// line names the source in use.
func TestTrueOutput(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: smallEstate()}})
	targets := e.Pipeline()
	r := e.MustRun(0, "import", "--dryRun", "--file="+targets)
	plan := e.File("import-plan.json")
	wantContains(t, r.Stdout, "The whole plan, as a targets file: "+plan)
	data, err := os.ReadFile(plan)
	if err != nil || strings.Count(string(data), `"orgId"`) < 10 {
		t.Fatalf("the plan: %v\n%.300s", err, data)
	}
	e.MustRun(0, "import", "--file="+targets)
	r = e.MustRun(0, "import", "--file="+targets)
	wantContains(t, r.Stdout, "Nothing to do: all ", " targets already imported")
	if strings.Contains(r.Stdout, "No projects imported") {
		t.Errorf("a resume with nothing left:\n%s", r.Stdout)
	}

	logs, _ := filepath.Glob(e.File("*.created-orgs.log"))
	if len(logs) != 1 {
		t.Fatalf("created-orgs logs: %v", logs)
	}
	line, _ := os.ReadFile(logs[0])
	for _, f := range []string{`"name":`, `"hostname":`, `"pid":`, `"level":30`, `"msg":"Created org"`} {
		if !strings.Contains(string(line), f) {
			t.Errorf("created-orgs log lacks %s:\n%s", f, line)
		}
	}

	orgs, _ := os.ReadFile(e.File("group-" + sim.SimSnykGroupID + "-bitbucket-cloud-app-orgs.json"))
	renamed := filepath.Join(t.TempDir(), "orgs.json")
	if err := os.WriteFile(renamed, orgs, 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.MustRun(0, "orgs:create", "--file="+renamed)
	wantContains(t, r.Stdout, "reused", "Next: bbimport import:data --source=bitbucket-cloud-app --orgsData=")
}
