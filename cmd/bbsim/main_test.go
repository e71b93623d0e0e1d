package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-workspaces", "-1"},
		{"-fault-rate", "1.5"},
		{"-location-form", "v2"},
		{"-user-workspaces", "all"},
		{"extra"},
		{"-nope"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	o, err := parseFlags([]string{"-workspaces", "3", "-repos", "7", "-pending-polls", "2"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.config()
	if len(cfg.Bitbucket.Workspaces) != 3 || cfg.Bitbucket.Workspaces[0].Repos != 7 || cfg.Snyk.PendingPolls != 2 {
		t.Errorf("config: %+v", cfg)
	}
	o, err = parseFlags([]string{"-workspaces", "2", "-consumer-per-workspace", "-user-workspaces", "403",
		"-access-token-per-workspace", "-access-token-limit", "5000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg = o.config()
	if c := cfg.Bitbucket.Consumers; len(c) != 2 || c[1].Owns[0] != cfg.Bitbucket.Workspaces[1].Slug || c[1].UserWorkspaces != "403" {
		t.Errorf("consumers: %+v", c)
	}
	if a := cfg.Bitbucket.AccessTokens; len(a) != 2 || a[0].Limit != 5000 || a[0].Workspace != cfg.Bitbucket.Workspaces[0].Slug {
		t.Errorf("access tokens: %+v", a)
	}
}

// TestRunServesAndDumpsCounters starts bbsim in-process, calls both APIs
// through the announced URL, and stops it with SIGTERM.
func TestRunServesAndDumpsCounters(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "sim.url")
	var stdout bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-url-file", urlFile, "-env-file", filepath.Join(dir, "sim.env")}, &stdout, io.Discard)
	}()

	var base string
	for deadline := time.Now().Add(5 * time.Second); base == ""; {
		if b, err := os.ReadFile(urlFile); err == nil {
			base = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatal("no URL file after 5s")
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	get := func(path string, auth string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/v1/group/"+sim.SimSnykGroupID+"/orgs", "token "+sim.SimSnykToken); got != 200 {
		t.Errorf("Snyk orgs = %d", got)
	}
	if got := get("/2.0/repositories/acme-mobile", "Bearer "+simAPIToken); got != 200 {
		t.Errorf("Bitbucket repositories = %d", got)
	}
	if got := get("/_sim/counters", ""); got != 200 {
		t.Errorf("counters endpoint = %d", got)
	}
	env, err := os.ReadFile(filepath.Join(dir, "sim.env"))
	if err != nil || !strings.Contains(string(env), "export SNYK_API="+base+"/v1\n") {
		t.Errorf("env file: %s %v", env, err)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bbsim did not stop on SIGTERM")
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "bbsim listening on "+base) {
		t.Errorf("stdout starts %q", out[:min(len(out), 80)])
	}
	var counters map[string]int64
	if err := json.Unmarshal([]byte(out[strings.LastIndex(out, "\n{")+1:]), &counters); err != nil {
		t.Fatalf("counters: %v in %s", err, out)
	}
	if counters["snyk.requests"] != 1 || counters["snyk.orgs_listed_pages"] != 1 || counters["bitbucket.repositories_pages"] != 1 {
		t.Errorf("counters: %v", counters)
	}
}
