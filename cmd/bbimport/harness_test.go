package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// simEnv runs the real app (newInvocation + run, as main does) against a
// simulator on loopback, with a private environment and log directory.
type simEnv struct {
	t       *testing.T
	Sim     *sim.Server
	LogPath string
	mu      sync.Mutex
	Env     map[string]string
	Tuning  tuning
}

// newSimEnv starts a simulator with cfg and an environment pointing at it
// with the simulator's (fake) credentials. Waits are shortened to
// milliseconds so fault tests stay fast.
func newSimEnv(t *testing.T, cfg sim.Config) *simEnv {
	t.Helper()
	s := sim.New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	logPath := filepath.Join(t.TempDir(), "logs")
	e := &simEnv{t: t, Sim: s, LogPath: logPath, Env: map[string]string{
		"SNYK_LOG_PATH":               logPath,
		"SNYK_API":                    s.URL + "/v1",
		"SNYK_TOKEN":                  sim.SimSnykToken,
		"BITBUCKET_APP_API_BASE":      s.URL + "/2.0",
		"BITBUCKET_APP_TOKEN_URL":     s.URL + "/site/oauth2/access_token",
		"BITBUCKET_APP_CLIENT_ID":     sim.DefaultBitbucketClientID,
		"BITBUCKET_APP_CLIENT_SECRET": sim.DefaultBitbucketClientSecret,
	}, Tuning: tuning{
		RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
		PollInitial: 5 * time.Millisecond, PollMax: 20 * time.Millisecond,
		SnykPause: 20 * time.Millisecond,
	}}
	return e
}

func (e *simEnv) getenv(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.Env[k]
}

// Set changes one variable ("" removes it).
func (e *simEnv) Set(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v == "" {
		delete(e.Env, k)
		return
	}
	e.Env[k] = v
}

// result is one run of the app.
type result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs `bbimport args...` and returns its exit code and output.
func (e *simEnv) Run(args ...string) result {
	e.t.Helper()
	return e.RunContext(e.t.Context(), args...)
}

// RunContext is Run with a caller's context (for interruption tests).
func (e *simEnv) RunContext(ctx context.Context, args ...string) result {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	rt := newInvocation(&stdout, &stderr, e.getenv)
	rt.Tuning = e.Tuning
	rt.ProgressInterval = 50 * time.Millisecond
	code := rt.run(ctx, append([]string{"bbimport"}, args...))
	return result{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}
}

// MustRun runs and fails the test unless the exit code is want.
func (e *simEnv) MustRun(want int, args ...string) result {
	e.t.Helper()
	r := e.Run(args...)
	if r.Code != want {
		e.t.Fatalf("bbimport %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, want, r.Stdout, r.Stderr)
	}
	return r
}

// File is the path of a generated file in the log directory.
func (e *simEnv) File(name string) string { return filepath.Join(e.LogPath, name) }

// Pipeline runs orgs:data → orgs:create → import:data for the app source and
// returns the targets file.
func (e *simEnv) Pipeline() string {
	e.t.Helper()
	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--source=bitbucket-cloud-app", "--groupId="+group)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	e.MustRun(0, "import:data", "--source=bitbucket-cloud-app", "--orgsData="+e.File("snyk-created-orgs.json"))
	return e.File("bitbucket-cloud-app-import-targets.json")
}

// allOutput is every byte the run left behind: its output and every file in
// the log directory (for secret-leak assertions).
func (e *simEnv) allOutput(r result) string {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(r.Stdout)
	b.WriteString(r.Stderr)
	_ = filepath.WalkDir(e.LogPath, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(p)
		b.Write(data)
		return nil
	})
	return b.String()
}
