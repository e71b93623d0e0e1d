package sim

// The Snyk half of the simulator: the v1 calls bbimport makes (group orgs,
// org creation, integrations, notification settings, import + job poll) under
// both /v1/ and /api/v1/, and the REST project listing under /rest/.
//
// Counters (the names are a contract: tests, the fault suite, bbsim and the
// benchmarks read them):
//
//	snyk.requests            every request to /v1/, /api/v1/ or /rest/, counted before faults
//	snyk.401                 requests refused for a missing or wrong token
//	snyk.429                 429s, from the fault layer or from RateLimitPerMinute
//	snyk.5xx                 503s from the fault layer (accepted-then-5xx is counted apart)
//	snyk.orgs_listed_pages   pages served by GET /group/{groupId}/orgs
//	snyk.orgs_created        orgs created by POST /org
//	snyk.notification_settings  PUT /org/{orgId}/notification-settings answered 200
//	snyk.imports             import jobs created (accepted-then-5xx ones included)
//	snyk.duplicate_imports   jobs created for a target key that already had a job
//	snyk.redundant_imports   jobs created for a target key that already had a job
//	                         which completed (or may still complete): a true double import
//	snyk.accepted_then_5xx   jobs created whose POST was nevertheless answered 500
//	snyk.polls               GET <Location> requests reaching the poll handler
//	snyk.jobs_in_flight      jobs created and not yet reported complete/failed by a poll (a gauge;
//	                         accepted-then-5xx jobs are left out: no client holds their Location)
//	snyk.max_jobs_in_flight  the largest value snyk.jobs_in_flight reached
//	snyk.jobs_complete       jobs a poll first reported complete
//	snyk.jobs_failed         jobs a poll first reported failed
//	snyk.projects_failed     project results with success:false in completed jobs
//	snyk.projects_pages      pages served by REST GET /rest/orgs/{orgId}/projects
//	snyk.job_duration_ms     Σ running times drawn for the jobs created (JobDurations)
//	snyk.job_notice_late_ms  Σ over jobs with a running time: from its end to the poll that found it done
//	snyk.token_exchanges, snyk.token_errors, snyk.401.expired: the service account's tokens (snyk_oauth.go)
//
// A target key is "orgId|owner|name|branch" (see SnykTargetKey).

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Well-known values of the simulated Snyk API. They are fake.
const (
	// SimSnykToken is the token accepted when SnykConfig.Token is empty.
	SimSnykToken = "sim-snyk-token"
	// SimSnykGroupID is the group that exists when SnykConfig.Groups is nil.
	SimSnykGroupID = "5e1f0000-0000-4000-8000-000000000001"
	// SimSnykGroupName is the name of SimSnykGroupID.
	SimSnykGroupName = "Simulated Group"
)

// SnykConfig configures the simulated Snyk API. The zero value is usable:
// token SimSnykToken, one group SimSnykGroupID with no orgs, jobs complete on
// their first poll with 1–3 projects each, no failures.
type SnykConfig struct {
	// Faults are injected in front of every Snyk route (/v1, /api/v1, /rest).
	Faults Faults
	// Token is the only API token accepted (`Authorization: token <t>` or
	// `Bearer <t>`); "" means SimSnykToken.
	Token string
	// ClientID and ClientSecret are the service account whose tokens
	// /oauth2/token mints (defaults SimSnykClientID, SimSnykClientSecret);
	// TokenTTL is their lifetime (default 1h, Snyk's), expires_in its whole
	// seconds rounded up (snyk_oauth.go).
	ClientID, ClientSecret string
	TokenTTL               time.Duration
	// Groups are the groups that exist, by group id, with their pre-existing
	// orgs. nil means one empty group SimSnykGroupID.
	Groups map[string]SnykGroup
	// Projects seeds REST-listed projects, keyed by org id or org name
	// (for list:imported tests). New panics on a key naming no org.
	Projects map[string][]SnykProject
	// IntegrationTypes are the integrations every new org gets (ids are
	// generated). nil means bitbucket-cloud and bitbucket-cloud-app.
	IntegrationTypes []string
	// OrgsWithoutIntegration names orgs (by name or id) created or seeded
	// with no integration at all.
	OrgsWithoutIntegration []string
	// PendingPolls is how many polls a job answers `pending` before it
	// answers complete (or failed).
	PendingPolls int
	// JobDurations, if set, also keeps a job pending until its running time
	// (drawn per target) has passed (snyk_jobtime.go).
	JobDurations JobDurations
	// FailProjectEvery makes every Nth project result success:false with a
	// userMessage (0 = never). Counted over all jobs.
	FailProjectEvery int
	// FailJobEvery makes every Nth job's import fail (0 = never). As Snyk
	// reports it, the job ends `complete` with its log entry `failed` and
	// `projects: []`; FailWholeJob makes the job itself end `failed`.
	FailJobEvery int
	// FailWholeJob (lenient knob): FailJobEvery's jobs end with the job
	// status `failed` instead of a failed log entry in a complete job.
	FailWholeJob bool
	// ProjectsPerTarget is how many manifests an import without `files`
	// finds: 0 means 1–3 (derived from the target), < 0 means none (an empty
	// repository: complete with no projects).
	ProjectsPerTarget int
	// AcceptThen5xx is the fraction (0..1) of import POSTs that create the
	// job and then answer 500: a client that retries them imports twice.
	AcceptThen5xx float64
	// LocationForm is the form of the Location header: "v1" (default)
	// <base>/v1/org/{o}/integrations/{i}/import/{job}, or "api-v1"
	// <base>/api/v1/org/...
	LocationForm string
	// LocationBase replaces <base> in Location headers (for example
	// "https://api.snyk.io", to test clients that must rebase a Location
	// whose host is not SNYK_API). "" means the simulator's own base URL.
	LocationBase string
	// RESTLinks is the form of REST `links` (self, next): "" or "bare" =
	// "/orgs/..." relative to the REST base, as Snyk's REST OpenAPI
	// documents; "rest" = "/rest/orgs/..." (the older simulator's form);
	// "absolute" = "<base>/rest/orgs/..."; "object" = the LinkProperty
	// object form {"href": "/orgs/...", "meta": {...}}.
	RESTLinks string
	// RateLimitPerMinute answers 429 once this many Snyk requests arrived
	// in the current window (0 = no limit). Like Snyk's v1 and REST
	// descriptions, the 429 names no Retry-After unless
	// RateLimitRetryAfter asks for one (seconds to the window's end).
	RateLimitPerMinute  int
	RateLimitRetryAfter bool
	// RateLimitWindow is the window of RateLimitPerMinute (default 1 minute;
	// shorter in tests).
	RateLimitWindow time.Duration
	// Now is the clock behind `created` timestamps (nil = time.Now).
	Now func() time.Time
	// PollRedirect (hostile knob): every poll is answered 302 to this URL
	// (another origin, where the client must not send its token).
	PollRedirect string
	// PollBodySize (hostile knob): every poll body is padded to at least
	// this many bytes with a "padding" string the client ignores, streamed
	// so the simulator holds none of it.
	PollBodySize int
}

// SnykGroup is a group of the simulated Snyk and its pre-existing orgs.
type SnykGroup struct {
	Name string
	// Orgs exist from the start. ID is generated when empty, Slug is derived
	// from Name when empty, nil Integrations means the default set.
	Orgs []SnykOrg
}

// SnykOrg is an org of the simulated Snyk.
type SnykOrg struct {
	ID      string
	Name    string
	Slug    string
	URL     string
	GroupID string
	Created string
	// Integrations maps integration type to integration id.
	Integrations map[string]string
}

// SnykProject is a project of the simulated Snyk, as REST lists it.
type SnykProject struct {
	ID string // generated when empty
	// Name is "workspace/repo:path/to/manifest".
	Name       string
	Origin     string // default "bitbucket-cloud"
	Type       string // default derived from the manifest name
	Status     string // default "active"
	Branch     string // target_reference; may be empty
	TargetFile string // default the part of Name after ":"
	Created    string
	// TargetID is the target of the repository (the part of Name before
	// ":"), assigned by the simulator.
	TargetID string
}

// SnykJob is an import job of the simulated Snyk.
type SnykJob struct {
	ID            string
	OrgID         string
	IntegrationID string
	// Key is the target key (see SnykTargetKey).
	Key string
	// Status is "pending" until a poll reports it complete or failed.
	Status string
	Polls  int
	// AcceptedThen5xx is true when the POST that created it got a 500.
	AcceptedThen5xx bool
	// Duration is its running time (SnykConfig.JobDurations); Late is how
	// long after it ended the poll came that found it done (0 until then).
	Duration, Late time.Duration
}

// SnykTargetKey is the key the simulator counts imports by.
func SnykTargetKey(orgID, owner, name, branch string) string {
	return orgID + "|" + owner + "|" + name + "|" + branch
}

// snykState is the Snyk half's state; its mu is taken before Server.mu,
// never after.
type snykState struct {
	s   *Server
	cfg SnykConfig

	mu      sync.Mutex
	rng     *rand.Rand
	baseURL string

	groups   map[string]*snykGroupState
	orgs     map[string]*snykOrgState
	slugs    map[string]bool
	jobs     map[string]*snykJobState
	jobOrder []*snykJobState
	byTarget map[string]int // target key → jobs created
	// doneTargets marks target keys with a job that completed, or that was
	// accepted and may still complete.
	doneTargets map[string]bool
	projectSeq  int64
	jobSeq      int64
	inFlight    int64

	windowStart time.Time
	windowCount int

	tokens map[string]time.Time // minted access token → expiry
}

type snykGroupState struct {
	id, name string
	orgs     []*snykOrgState
}

type snykOrgState struct {
	SnykOrg
	intTypes map[string]string // integration id → type
	notify   json.RawMessage
	projects []*SnykProject
	byName   map[string]*SnykProject // project name + "\x00" + branch → project
	targets  snykTargets             // snyk_sync.go
}

func newSnykState(s *Server, cfg SnykConfig) *snykState {
	if cfg.Token == "" {
		cfg.Token = SimSnykToken
	}
	if cfg.ClientID == "" {
		cfg.ClientID = SimSnykClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = SimSnykClientSecret
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.IntegrationTypes == nil {
		cfg.IntegrationTypes = []string{"bitbucket-cloud", "bitbucket-cloud-app"}
	}
	if cfg.RateLimitWindow <= 0 {
		cfg.RateLimitWindow = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Groups == nil {
		cfg.Groups = map[string]SnykGroup{SimSnykGroupID: {Name: SimSnykGroupName}}
	}
	seed := s.cfg.Seed
	if seed == 0 {
		seed = 1
	}
	st := &snykState{
		s:           s,
		cfg:         cfg,
		rng:         rand.New(rand.NewPCG(seed^0x5e1f, seed+0x5e1f)),
		groups:      map[string]*snykGroupState{},
		orgs:        map[string]*snykOrgState{},
		slugs:       map[string]bool{},
		jobs:        map[string]*snykJobState{},
		byTarget:    map[string]int{},
		doneTargets: map[string]bool{},
		tokens:      map[string]time.Time{},
	}
	for _, gid := range slices.Sorted(maps.Keys(cfg.Groups)) {
		g := cfg.Groups[gid]
		st.group(gid, g.Name)
		for _, o := range g.Orgs {
			st.addOrg(gid, o)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(cfg.Projects)) {
		o := st.orgByIDOrName(key)
		if o == nil {
			panic("sim: SnykConfig.Projects names unknown org " + key)
		}
		for _, p := range cfg.Projects[key] {
			st.addProject(o, p)
		}
	}
	return st
}

// setBaseURL records the simulator's base URL once it listens.
func (st *snykState) setBaseURL(u string) {
	st.mu.Lock()
	st.baseURL = strings.TrimRight(u, "/")
	st.mu.Unlock()
}

// base is the base URL for absolute URLs in responses.
func (st *snykState) base(r *http.Request) string {
	st.mu.Lock()
	b := st.baseURL
	st.mu.Unlock()
	if b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// now is the clock formatted as Snyk formats timestamps.
func (st *snykState) now() string {
	return st.cfg.Now().UTC().Format("2006-01-02T15:04:05.000Z")
}

// newID returns a random-looking but seeded UUID v4. Callers hold st.mu.
func (st *snykState) newID() string {
	a, b := st.rng.Uint64(), st.rng.Uint64()
	a = a&^0xf000 | 0x4000     // version 4
	b = b&^(0xc<<60) | 0x8<<60 // variant 10
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// registerSnyk routes the Snyk API on mux.
func (s *Server) registerSnyk(mux *http.ServeMux) {
	st := s.snyk
	for _, p := range []string{"/v1", "/api/v1"} {
		mux.HandleFunc("GET "+p+"/group/{groupId}/orgs", st.v1(st.listGroupOrgs))
		mux.HandleFunc("POST "+p+"/org", st.v1(st.createOrg))
		mux.HandleFunc("GET "+p+"/org/{orgId}/integrations", st.v1(st.listIntegrations))
		mux.HandleFunc("GET "+p+"/org/{orgId}/integrations/{type}", st.v1(st.getIntegration))
		mux.HandleFunc("PUT "+p+"/org/{orgId}/notification-settings", st.v1(st.putNotificationSettings))
		mux.HandleFunc("POST "+p+"/org/{orgId}/integrations/{integrationId}/import", st.v1(st.importTarget))
		mux.HandleFunc("GET "+p+"/org/{orgId}/integrations/{integrationId}/import/{jobId}", st.v1(st.pollJob))
		mux.HandleFunc(p+"/", st.v1(func(w http.ResponseWriter, r *http.Request) {
			snykV1Error(w, http.StatusNotFound, "Not found", "Resource not found")
		}))
	}
	mux.HandleFunc("/oauth2/token", st.serveToken)
	mux.HandleFunc("GET /rest/orgs/{orgId}/projects", st.rest(st.listProjects))
	st.registerSync(mux)
	mux.HandleFunc("/rest/", st.rest(func(w http.ResponseWriter, r *http.Request) {
		snykRESTError(w, http.StatusNotFound, "Not Found", "The requested resource does not exist")
	}))
}

// v1 wraps a v1 handler with counting, faults, the rate limit and auth.
func (st *snykState) v1(h http.HandlerFunc) http.HandlerFunc {
	return st.wrap(h, false)
}

// rest wraps a REST handler like v1, with JSON:API error bodies.
func (st *snykState) rest(h http.HandlerFunc) http.HandlerFunc {
	return st.wrap(h, true)
}

func (st *snykState) wrap(h http.HandlerFunc, rest bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st.s.add("snyk.requests", 1)
		if st.s.inject(w, r, "snyk", st.cfg.Faults) || st.s.throttles(w, "snyk", "snyk") {
			return
		}
		if st.rateLimited(w) {
			return
		}
		if !st.authorised(r) {
			st.s.add("snyk.401", 1)
			if rest {
				snykRESTError(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
			} else {
				snykV1Error(w, http.StatusUnauthorized, "Not authorised", "Not authorised")
			}
			return
		}
		h(w, r)
	}
}

// authorised checks `Authorization: token <t>` (or Bearer) for the API
// token, or `Bearer <t>` for a minted token that has not expired.
func (st *snykState) authorised(r *http.Request) bool {
	scheme, tok, ok := snykScheme(r.Header.Get("Authorization"))
	switch {
	case !ok:
		return false
	case (scheme == "token" || scheme == "bearer") && tok == st.cfg.Token:
		return true
	}
	return scheme == "bearer" && st.bearerValid(tok)
}

// rateLimited answers 429 when RateLimitPerMinute is spent in this window.
func (st *snykState) rateLimited(w http.ResponseWriter) bool {
	if st.cfg.RateLimitPerMinute <= 0 {
		return false
	}
	now := time.Now()
	st.mu.Lock()
	if now.Sub(st.windowStart) >= st.cfg.RateLimitWindow {
		st.windowStart, st.windowCount = now, 0
	}
	st.windowCount++
	over := st.windowCount > st.cfg.RateLimitPerMinute
	wait := st.windowStart.Add(st.cfg.RateLimitWindow).Sub(now)
	st.mu.Unlock()
	if !over {
		return false
	}
	st.s.add("snyk.429", 1)
	if st.cfg.RateLimitRetryAfter {
		secs := int64((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(max(secs, 1)))
	}
	snykV1Error(w, http.StatusTooManyRequests, "Too Many Requests", "Rate limit exceeded")
	return true
}

// snykJSON writes v as JSON with status (Content-Type application/json
// unless the handler set one).
func snykJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// snykV1Error writes a v1 error body: {"code","error","message"}.
func snykV1Error(w http.ResponseWriter, status int, errText, msg string) {
	w.Header().Set("x-error-reference", "sim-error-ref")
	snykJSON(w, status, map[string]any{"code": status, "error": errText, "message": msg})
}

// snykInvalidParam writes the 400 Snyk sends for a malformed import body.
func snykInvalidParam(w http.ResponseWriter) {
	w.Header().Set("x-error-reference", "sim-error-ref")
	snykJSON(w, http.StatusBadRequest, map[string]any{
		"code": 400, "message": "Invalid parameter format.", "name": "invalidParamData",
	})
}

// snykRESTError writes a JSON:API error document.
func snykRESTError(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"jsonapi": map[string]string{"version": "1.0"},
		"errors": []map[string]string{{
			"status": fmt.Sprint(status), "title": title, "detail": detail,
		}},
	})
}
