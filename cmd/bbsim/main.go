package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// Fake credentials of the bitbucket-cloud (Basic / token) source.
const (
	simUser        = "sim-user"
	simAppPassword = "sim-app-password"
	simAPIToken    = "sim-bitbucket-api-token"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bbsim:", err)
		os.Exit(1)
	}
}

// options are bbsim's flags.
type options struct {
	addr, urlFile, envFile, countersFile string
	workspaces, repos                    int
	latency                              time.Duration
	faultRate                            float64
	throttleEvery                        int
	retryAfter                           string
	pendingPolls                         int
	tokenTTL, snykTokenTTL               time.Duration
	bbRateLimit                          int
	bbRateWindow                         time.Duration
	snykRateLimit                        int
	snykRateWindow                       time.Duration
	failProjectEvery, failJobEvery       int
	acceptThen5xx                        float64
	locationForm                         string
	failWholeJob, workspaceNames         bool
	groupID                              string
	seed                                 uint64
	jobDurations                         sim.JobDurations
	// Identities of 2026 (internal/sim/bitbucket_identities.go).
	consumers        bool
	userWorkspaces   sim.UserWorkspaces
	accessTokens     bool
	accessTokenLimit int
	accessTokenQuiet bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bbsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address (loopback; port 0 picks a free port)")
	fs.StringVar(&o.urlFile, "url-file", "", "write the base URL to this file once listening")
	fs.StringVar(&o.envFile, "env-file", "", "write the environment (export lines) to this file once listening")
	fs.StringVar(&o.countersFile, "counters-file", "", "write the counters here on exit or SIGUSR1 (default stdout)")
	fs.IntVar(&o.workspaces, "workspaces", 0, "generated estate: number of workspaces (0 = the small fixture estate)")
	fs.IntVar(&o.repos, "repos", 250, "generated estate: repositories per workspace")
	fs.DurationVar(&o.latency, "latency", 0, "latency added to every request of both APIs")
	fs.Float64Var(&o.faultRate, "fault-rate", 0, "fraction (0..1) of requests of both APIs answered 503")
	fs.IntVar(&o.throttleEvery, "throttle-every", 0, "answer every Nth request of each API with 429 (0 = never)")
	fs.StringVar(&o.retryAfter, "retry-after", "1", "Retry-After sent with -throttle-every 429s (\"\" = none)")
	fs.IntVar(&o.pendingPolls, "pending-polls", 1, "polls an import job stays pending before it completes")
	fs.DurationVar(&o.tokenTTL, "token-ttl", time.Hour, "lifetime of Bitbucket access tokens")
	fs.DurationVar(&o.snykTokenTTL, "snyk-token-ttl", time.Hour, "lifetime of the tokens Snyk's /oauth2/token mints for the service account")
	fs.IntVar(&o.bbRateLimit, "bitbucket-rate-limit", 0, "Bitbucket requests per credential per -bitbucket-rate-window (0 = unlimited)")
	fs.DurationVar(&o.bbRateWindow, "bitbucket-rate-window", time.Hour, "the rolling window of -bitbucket-rate-limit")
	fs.IntVar(&o.snykRateLimit, "snyk-rate-limit", 0, "Snyk requests per -snyk-rate-window (0 = unlimited)")
	fs.DurationVar(&o.snykRateWindow, "snyk-rate-window", time.Minute, "the window of -snyk-rate-limit (a benchmark that scales time scales it)")
	fs.IntVar(&o.failProjectEvery, "fail-project-every", 0, "every Nth imported project fails (0 = never)")
	fs.IntVar(&o.failJobEvery, "fail-job-every", 0, "every Nth import job fails: complete with a failed log entry, as Snyk reports it (0 = never)")
	fs.BoolVar(&o.failWholeJob, "fail-whole-job", false, "lenient: -fail-job-every's jobs end with the job status failed instead")
	fs.BoolVar(&o.workspaceNames, "workspace-names", false, "lenient: GET /2.0/user/workspaces items carry the workspace name (the spec's carry none)")
	fs.Float64Var(&o.acceptThen5xx, "accept-then-5xx", 0, "fraction of import POSTs that create the job and answer 500")
	fs.StringVar(&o.locationForm, "location-form", "v1", "form of import Location URLs: v1 or api-v1")
	fs.StringVar(&o.groupID, "snyk-group", sim.SimSnykGroupID, "id of the one Snyk group")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the fault layer and generated ids")
	fs.BoolVar(&o.consumers, "consumer-per-workspace", false, "each workspace owns an OAuth consumer (sim-consumer-<slug>, secret sim-consumer-secret-<slug>-0123456789abcdef) whose token is an app user reaching only that workspace")
	fs.Func("user-workspaces", "what GET /2.0/user/workspaces answers those app users: owned (default), empty, or an HTTP status such as 403", func(v string) (err error) {
		o.userWorkspaces, err = sim.ParseUserWorkspaces(v)
		return err
	})
	fs.BoolVar(&o.accessTokens, "access-token-per-workspace", false, "each workspace has an access token (sim-access-token-<slug>-0123456789) bound to it")
	fs.IntVar(&o.accessTokenLimit, "access-token-limit", 1000, "the scaled hourly limit (per -bitbucket-rate-window) of those access tokens, announced in X-RateLimit-Limit")
	fs.BoolVar(&o.accessTokenQuiet, "access-token-quiet", false, "those access tokens announce nothing (no X-RateLimit-* headers), as some users report")
	fs.Func("job-durations", "import jobs run for a time drawn per target, uniform in MIN-MAX (e.g. 5s-60s; default: they end on -pending-polls alone)", func(v string) (err error) {
		o.jobDurations, err = sim.ParseJobDurations(v)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.workspaces < 0 || o.repos < 0:
		return nil, errors.New("-workspaces and -repos must not be negative")
	case o.faultRate < 0 || o.faultRate > 1 || o.acceptThen5xx < 0 || o.acceptThen5xx > 1:
		return nil, errors.New("-fault-rate and -accept-then-5xx must be between 0 and 1")
	case o.locationForm != "v1" && o.locationForm != "api-v1":
		return nil, fmt.Errorf("-location-form %q: want v1 or api-v1", o.locationForm)
	}
	return o, nil
}

// config turns the flags into a simulator configuration.
func (o *options) config() sim.Config {
	faults := sim.Faults{
		Latency:         o.latency,
		ServerErrorRate: o.faultRate,
		RateLimitEvery:  o.throttleEvery,
		RetryAfter:      o.retryAfter,
	}
	cfg := sim.Config{
		Seed: o.seed,
		Bitbucket: sim.BitbucketConfig{
			Faults:               faults,
			TokenFaults:          faults,
			TokenTTL:             o.tokenTTL,
			Users:                map[string]string{simUser: simAppPassword},
			StaticTokens:         []string{simAPIToken},
			RateLimitPerToken:    o.bbRateLimit,
			RateLimitWindow:      o.bbRateWindow,
			WorkspaceAccessNames: o.workspaceNames,
		},
		Snyk: sim.SnykConfig{
			Faults:             faults,
			Groups:             map[string]sim.SnykGroup{o.groupID: {Name: sim.SimSnykGroupName}},
			PendingPolls:       o.pendingPolls,
			JobDurations:       o.jobDurations,
			FailProjectEvery:   o.failProjectEvery,
			FailJobEvery:       o.failJobEvery,
			FailWholeJob:       o.failWholeJob,
			AcceptThen5xx:      o.acceptThen5xx,
			LocationForm:       o.locationForm,
			RateLimitPerMinute: o.snykRateLimit,
			RateLimitWindow:    o.snykRateWindow,
			TokenTTL:           o.snykTokenTTL,
		},
	}
	if o.workspaces > 0 {
		cfg.Bitbucket.Workspaces = sim.Estate(o.workspaces, o.repos)
	}
	estate := cfg.Bitbucket.Workspaces
	if estate == nil {
		estate = sim.FixtureWorkspaces()
	}
	if o.consumers {
		cfg.Bitbucket.Consumers = sim.PerWorkspaceConsumers(estate, o.userWorkspaces)
	}
	if o.accessTokens {
		cfg.Bitbucket.AccessTokens = sim.PerWorkspaceAccessTokens(estate, o.accessTokenLimit)
		for i := range cfg.Bitbucket.AccessTokens {
			cfg.Bitbucket.AccessTokens[i].NoHeaders = o.accessTokenQuiet
		}
	}
	return cfg
}

// environment is what a bbimport run against base needs, as export lines.
func (o *options) environment(base string) string {
	return fmt.Sprintf(`export SNYK_API=%[1]s/v1
# a Snyk service account, whose tokens %[1]s/oauth2/token mints (-snyk-token-ttl);
#   or an API token instead: SNYK_TOKEN=%[2]s
export SNYK_CLIENT_ID=%[9]s
export SNYK_CLIENT_SECRET=%[10]s
export SNYK_GROUP_ID=%[3]s
export BITBUCKET_APP_API_BASE=%[1]s/2.0
export BITBUCKET_APP_TOKEN_URL=%[1]s/site/oauth2/access_token
export BITBUCKET_APP_CLIENT_ID=%[4]s
export BITBUCKET_APP_CLIENT_SECRET=%[5]s
# bitbucket-cloud source: BITBUCKET_CLOUD_USERNAME=%[6]s BITBUCKET_CLOUD_PASSWORD=%[7]s
#   or BITBUCKET_CLOUD_API_TOKEN=%[8]s
`, base, sim.SimSnykToken, o.groupID, sim.DefaultBitbucketClientID, sim.DefaultBitbucketClientSecret,
		simUser, simAppPassword, simAPIToken, sim.SimSnykClientID, sim.SimSnykClientSecret)
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	s := sim.New(o.config())
	// Listen for signals before announcing the URL: a script that read the
	// URL file may signal at once.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
	defer signal.Stop(sigs)

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		_ = ln.Close()
		return fmt.Errorf("-addr %s is not a loopback address", o.addr)
	}
	base := "http://" + ln.Addr().String()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sim/counters", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(countersJSON(s))
	})
	registerEstate(mux, s)
	mux.Handle("/", s)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	env := o.environment(base)
	if o.urlFile != "" {
		if err := writeFileAtomic(o.urlFile, []byte(base+"\n")); err != nil {
			return err
		}
	}
	if o.envFile != "" {
		if err := writeFileAtomic(o.envFile, []byte(env)); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "bbsim listening on %s (counters: GET %s/_sim/counters)\n%s", base, base, env)

	for {
		select {
		case err := <-served:
			return err
		case sig := <-sigs:
			if sig == syscall.SIGUSR1 {
				if err := o.writeCounters(s, stdout); err != nil {
					fmt.Fprintln(stderr, "bbsim:", err)
				}
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
			}
			cancel()
			return o.writeCounters(s, stdout)
		}
	}
}

// countersJSON is every counter as one JSON object, keys sorted.
func countersJSON(s *sim.Server) []byte {
	b, _ := json.MarshalIndent(s.Counters(), "", "  ")
	return append(b, '\n')
}

// writeCounters writes the counters to -counters-file, or stdout.
func (o *options) writeCounters(s *sim.Server, stdout io.Writer) error {
	if o.countersFile == "" {
		_, err := stdout.Write(countersJSON(s))
		return err
	}
	return writeFileAtomic(o.countersFile, countersJSON(s))
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, so a script polling for path never reads half of it.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".bbsim-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
