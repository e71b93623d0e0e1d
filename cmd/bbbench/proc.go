package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sim is one bin/bbsim process on a loopback port.
type sim struct {
	cmd  *exec.Cmd
	dir  string
	Base string            // http://127.0.0.1:PORT
	Env  map[string]string // the export lines of its -env-file
	http *http.Client
	// Rusage of the process once stopped.
	Usage *syscall.Rusage
}

// startSim starts bin/bbsim with args in dir and waits until it listens.
func startSim(bin, dir string, args ...string) (*sim, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	envFile := filepath.Join(dir, "sim.env")
	urlFile := filepath.Join(dir, "sim.url")
	log, err := os.Create(filepath.Join(dir, "sim.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	all := append([]string{"-addr", "127.0.0.1:0", "-url-file", urlFile, "-env-file", envFile,
		"-counters-file", filepath.Join(dir, "sim.counters.json")}, args...)
	cmd := exec.Command(filepath.Join(bin, "bbsim"), all...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &sim{cmd: cmd, dir: dir, http: &http.Client{Timeout: 30 * time.Second}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// bbsim writes the URL file, then the env file (each atomically).
		if b, err := os.ReadFile(urlFile); err == nil && len(b) > 0 {
			if st, err := os.Stat(envFile); err == nil && st.Size() > 0 {
				s.Base = strings.TrimSpace(string(b))
				break
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("bbsim did not start within 10s; see %s", filepath.Join(dir, "sim.log"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	env, err := readEnvFile(envFile)
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.Env = env
	return s, nil
}

// readEnvFile parses `export K=V` lines.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export ")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out, sc.Err()
}

// Counters answers GET /_sim/counters.
func (s *sim) Counters() (counters, error) {
	resp, err := s.http.Get(s.Base + "/_sim/counters")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /_sim/counters: %s", resp.Status)
	}
	var c counters
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// CPU is the simulator's user+system CPU time so far, from
// /proc/<pid>/stat (Linux; 0 elsewhere), in USER_HZ ticks of 10 ms.
func (s *sim) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) from field 3 on.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	_, _ = fmt.Sscan(f[11], &ut)
	_, _ = fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// Stop sends SIGINT (the simulator writes its counters and exits) and
// records its resource usage.
func (s *sim) Stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	if s.cmd.ProcessState != nil {
		s.Usage, _ = s.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	}
}

// bitbucketToken gets an access token from the simulator's token endpoint
// with the OAuth consumer of its environment (for the untrimmed-page probe).
func (s *sim) bitbucketToken() (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequest("POST", s.Env["BITBUCKET_APP_TOKEN_URL"], strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.Env["BITBUCKET_APP_CLIENT_ID"], s.Env["BITBUCKET_APP_CLIENT_SECRET"])
	resp, err := s.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token exchange: %s %v", resp.Status, err)
	}
	return tok.AccessToken, nil
}

// pageBytes follows a repository listing from first and returns the body
// bytes of every page and the number of pages.
func (s *sim) pageBytes(token, first string) (int64, int, error) {
	var total int64
	pages := 0
	for next := first; next != "" && pages < 100; pages++ {
		req, err := http.NewRequest("GET", next, nil)
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := s.http.Do(req)
		if err != nil {
			return 0, 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, err
		}
		if resp.StatusCode != 200 {
			return 0, 0, fmt.Errorf("GET %s: %s", next, resp.Status)
		}
		total += int64(len(body))
		var page struct {
			Next string `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return 0, 0, err
		}
		next = page.Next
	}
	return total, pages, nil
}

// counters is a snapshot of the simulator's counters.
type counters map[string]int64

// sub is c - before, key by key.
func (c counters) sub(before counters) counters {
	out := counters{}
	for k, v := range c {
		out[k] = v - before[k]
	}
	return out
}

// procRun is one finished bbimport process.
type procRun struct {
	Args     []string
	Wall     time.Duration
	MaxRSS   int64 // KiB (Linux ru_maxrss)
	CPU      time.Duration
	ExitCode int
	Stdout   string
	Stderr   string // path of the stderr (log) file
}

// runBBImport runs bin/bbimport with args and the environment env (added to
// a scrubbed copy of this process's environment), in dir.
func runBBImport(ctx context.Context, bin, dir, name string, env map[string]string, args ...string) (*procRun, error) {
	p, err := startBBImport(ctx, bin, dir, name, env, args...)
	if err != nil {
		return nil, err
	}
	return p.wait()
}

// runningProc is a started bbimport whose stderr goes to a file.
type runningProc struct {
	cmd    *exec.Cmd
	name   string
	stdout *strings.Builder
	errF   *os.File
	start  time.Time
	r      *procRun
}

// startBBImport starts what runBBImport runs, for a caller that acts on it
// (reads its log, interrupts it) before waiting.
func startBBImport(ctx context.Context, bin, dir, name string, env map[string]string, args ...string) (*runningProc, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "bbimport"), args...)
	cmd.Dir = dir
	cmd.Env = childEnv(env)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	errPath := filepath.Join(dir, name+".stderr.log")
	ef, err := os.Create(errPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = ef
	p := &runningProc{cmd: cmd, name: name, stdout: &stdout, errF: ef, start: time.Now(),
		r: &procRun{Args: args, Stderr: errPath}}
	if err := cmd.Start(); err != nil {
		ef.Close()
		return nil, err
	}
	return p, nil
}

func (p *runningProc) wait() (*procRun, error) {
	defer p.errF.Close()
	err := p.cmd.Wait()
	r := p.r
	r.Wall, r.Stdout = time.Since(p.start), p.stdout.String()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, err
	}
	st := p.cmd.ProcessState
	r.ExitCode = st.ExitCode()
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = int64(ru.Maxrss)
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	_ = os.WriteFile(filepath.Join(p.cmd.Dir, p.name+".stdout.txt"), []byte(r.Stdout), 0o644)
	return r, nil
}

// childEnv is this process's environment without any setting bbimport reads
// (so a developer's real credentials never reach the run), plus env.
func childEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "SNYK_"), strings.HasPrefix(k, "BITBUCKET_"),
			k == "DEBUG", k == "CONCURRENT_IMPORTS", k == "HTTP_PROXY", k == "HTTPS_PROXY",
			k == "http_proxy", k == "https_proxy", k == "ALL_PROXY", k == "all_proxy":
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// sampler polls the simulator's counters every interval while a run goes.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

// sample is one reading of a counter: the simulator took it at some moment
// between start and end.
type sample struct {
	start, end time.Time
	n          int64
}

func startSampler(s *sim, key string, every time.Duration) *sampler {
	sp := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sp.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			start := time.Now()
			if c, err := s.Counters(); err == nil {
				sp.mu.Lock()
				sp.samples = append(sp.samples, sample{start, time.Now(), c[key]})
				sp.mu.Unlock()
			}
			select {
			case <-sp.stop:
				return
			case <-t.C:
			}
		}
	}()
	return sp
}

func (sp *sampler) Stop() []sample {
	close(sp.stop)
	<-sp.done
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.samples
}

// measuredRun is one bbimport run and what it moved on the simulator.
type measuredRun struct {
	*procRun
	Moved  counters      // the simulator's counters, after less before
	SimCPU time.Duration // the simulator's CPU time during the run
}

// measure runs bbimport between two readings of the simulator's counters.
// A run that does not exit 0 is an error naming what ran and its stderr.
func measure(ctx context.Context, s *sim, bin, dir, name string, env map[string]string, args ...string) (*measuredRun, error) {
	c0, err := s.Counters()
	if err != nil {
		return nil, err
	}
	cpu := s.CPU()
	r, err := runBBImport(ctx, bin, dir, name, env, args...)
	if err != nil {
		return nil, err
	}
	cpu = s.CPU() - cpu
	if r.ExitCode != 0 {
		return nil, fmt.Errorf("%s (%s) exited %d; see %s", args[0], name, r.ExitCode, r.Stderr)
	}
	c1, err := s.Counters()
	if err != nil {
		return nil, err
	}
	return &measuredRun{procRun: r, Moved: c1.sub(c0), SimCPU: cpu}, nil
}
