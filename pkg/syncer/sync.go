package syncer

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Files sync writes in the log directory (besides the import logs of the
// imports it starts).
const (
	UpdatedProjectsLogSuffix     = ".updated-projects.log"
	FailedToUpdateProjectsSuffix = ".failed-to-update-projects.log"
	FailedToSyncTargetLogSuffix  = ".failed-to-sync-target.log"
	PlanFileSuffix               = ".sync-plan.json"
	updatedLoggerName            = "snyk:sync-org-projects"
	failedTargetLoggerName       = "sync"
)

// Snyk is what sync needs from Snyk (*snyk.Client satisfies it).
type Snyk interface {
	importer.Snyk
	ListTargetsIter(ctx context.Context, orgID string) iter.Seq2[snyk.Target, error]
	UpdateProjectBranch(ctx context.Context, orgID, projectID, branch string) error
	DeactivateProject(ctx context.Context, orgID, projectID string) error
	DeleteProject(ctx context.Context, orgID, projectID string) error
}

// Bitbucket is what sync needs from Bitbucket (*bitbucket.Client satisfies
// it). GetRepository is asked by uuid (`{…}` in place of the slug).
type Bitbucket interface {
	ListRepositoriesIter(ctx context.Context, workspace string, opts *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error]
	GetRepository(ctx context.Context, workspace, slug string) (bitbucket.Repository, error)
}

// HeldBack is a plan the guard stopped: nothing was changed in the org.
type HeldBack struct {
	// Removals of Active projects were planned; Max were allowed by Limit.
	Removals int   `json:"removals"`
	Active   int   `json:"active"`
	Max      int   `json:"max"`
	Limit    Limit `json:"-"`
	// Empties says the plan deactivates every active project of the org,
	// which only an explicit limit allows.
	Empties bool `json:"empties,omitempty"`
}

// OrgResult is what sync did for one org.
type OrgResult struct {
	OrgID string `json:"orgId"`
	Name  string `json:"name,omitempty"`
	// Plan is set until Options.OnOrg has seen it.
	Plan *Plan `json:"-"`
	// Planned and Done count steps per action (a rename is one step).
	Planned map[Action]int `json:"planned"`
	Done    map[Action]int `json:"done"`
	// ActiveProjects, Removals and MaxRemovals are the plan's guard figures.
	ActiveProjects int `json:"activeProjects"`
	Removals       int `json:"removals"`
	MaxRemovals    int `json:"maxRemovals"`
	// Project counts of what was applied. ProjectsImported are the projects
	// the imports made that Snyk did not have; ProjectsRetested those it had.
	ProjectsUpdated     int `json:"projectsUpdated"`
	ProjectsDeactivated int `json:"projectsDeactivated"`
	ProjectsDeleted     int `json:"projectsDeleted"`
	ProjectsImported    int `json:"projectsImported"`
	ProjectsRetested    int `json:"projectsRetested"`
	// Failures are the steps (or writes) that did not succeed, as short
	// sentences; the next run tries them again.
	Failures []string `json:"failures,omitempty"`
	// FailedWorkspaces, HeldBack: copied from the plan.
	FailedWorkspaces []WorkspaceIssue `json:"failedWorkspaces,omitempty"`
	HeldBack         *HeldBack        `json:"heldBack,omitempty"`
	// Confirmations are the repository reads made for deletion candidates.
	Confirmations int `json:"confirmations"`
	// Err is why the org could not be synced at all.
	Err    error  `json:"-"`
	ErrMsg string `json:"error,omitempty"`
}

// Failed reports an org that needs the user's attention (exit 3).
func (o *OrgResult) Failed() bool {
	return o.Err != nil || len(o.Failures) > 0 || len(o.FailedWorkspaces) > 0 || o.HeldBack != nil
}

// Result is what Sync did.
type Result struct {
	DryRun      bool          `json:"dryRun"`
	Orgs        []*OrgResult  `json:"orgs"`
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"-"`
	Interrupted bool          `json:"interrupted"`
	// Shard is the part of the estate synced ("2/5"), and OtherShards the
	// orgs asked for that were left to the other parts.
	Shard       string `json:"shard,omitempty"`
	OtherShards int    `json:"otherShards,omitempty"`
}

// Failed reports whether any org failed or was held back.
func (r *Result) Failed() bool {
	return slices.ContainsFunc(r.Orgs, (*OrgResult).Failed)
}

// Sync syncs every org of opts.Orgs, several at once: it reads the org's Snyk
// targets and projects once, lists each workspace once per run, matches
// targets to repositories by evidence (identity.go), plans, applies the
// guard, proves each deletion with one request, and applies the plan (or,
// with DryRun, only writes it). Per org it writes <orgId>.sync-plan.json,
// the original's sync logs and <orgId>.sync-state.json.
//
// The error is about the run (options, files, ctx ending, or credentials
// every org refused); an org that failed is reported in its OrgResult.
func Sync(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	res := &Result{DryRun: opts.DryRun, Started: opts.Now(), Shard: opts.Shard.String()}
	if !opts.Shard.All() {
		mine := make([]importer.CreatedOrg, 0, len(opts.Orgs))
		for _, o := range opts.Orgs {
			if opts.Shard.Keep(o.OrgID) {
				mine = append(mine, o)
			} else {
				res.OtherShards++
			}
		}
		opts.Orgs = mine
	}
	resume, err := importfiles.LoadResumeLog(filepath.Join(opts.LogPath, importfiles.ImportedTargetsLog))
	if err != nil {
		return nil, err
	}
	s := &syncRun{opts: &opts, resume: resume, listings: newListingCache(opts.Orgs)}
	// One pool for every org's imports: the run keeps to one Concurrency
	// and one poll schedule however many orgs import at once.
	s.pool = importer.NewPool(importer.ImportOptions{Snyk: opts.Snyk, Concurrency: opts.Concurrency,
		PollInitial: opts.PollInitial, PollMax: opts.PollMax, PollShare: opts.PollShare, SnykRateLimit: opts.SnykRateLimit,
		OnPollSchedule: opts.OnPollSchedule})
	var errs []error
	prog := opts.Progress
	if prog == nil {
		prog = nopProgress{}
	}
	prog.Start(importer.StageSync, len(opts.Orgs))
	defer prog.Done()
	// Several orgs at once, within the budget of repositories in flight
	// (inflight.go), in order of the file: each org is reported as soon as
	// it is done. An org's state is read before it starts: its size.
	done := make([]*OrgResult, len(opts.Orgs))
	atOnce := func() int { return cmp.Or(opts.OrgConcurrency, importer.OrgsAtOnce(opts.Snyk)) }
	gate := newGate()
	var wg sync.WaitGroup
	for i, row := range opts.Orgs {
		if ctx.Err() != nil {
			break
		}
		prev, stateErr := loadOrgState(opts.LogPath, row.OrgID)
		size := gate.guess()
		if prev != nil {
			size = len(prev.Repositories)
		}
		t, err := gate.enter(ctx, atOnce, size)
		if err != nil {
			break
		}
		wg.Go(func() {
			defer t.leave()
			o := s.org(ctx, row, prev, stateErr, t)
			s.listings.done(row)
			if o.Err != nil {
				o.ErrMsg = opts.errText(o.Err)
			}
			s.mu.Lock() // the progress is shared with the listings
			defer s.mu.Unlock()
			prog.Add(importer.CounterOrgs, 1)
			if opts.OnOrg != nil {
				opts.OnOrg(o)
			}
			o.Plan = nil
			done[i] = o
		})
	}
	wg.Wait()
	authFailures := 0
	for _, o := range done {
		if o == nil {
			continue // not started: interrupted
		}
		if o.Err != nil && isAuth(o.Err) {
			authFailures++
		}
		res.Orgs = append(res.Orgs, o)
	}
	res.Duration = opts.Now().Sub(res.Started)
	res.Interrupted = ctx.Err() != nil
	if err := s.logFailure(); err != nil {
		errs = append(errs, fmt.Errorf("some sync log lines could not be written: %w", err))
	}
	if authFailures > 0 && authFailures == len(res.Orgs) {
		errs = append(errs, res.Orgs[0].Err)
	} else if err := s.listings.allRefused(); err != nil {
		errs = append(errs, err)
	}
	if res.Interrupted {
		errs = append(errs, fmt.Errorf("sync interrupted: %w", ctx.Err()))
	}
	return res, errors.Join(errs...)
}

// syncRun is the state of one Sync call, shared by the orgs synced at once.
type syncRun struct {
	opts     *Options
	resume   *importfiles.ResumeLog
	listings *listingCache
	pool     *importer.Pool

	// mu guards logErr, the progress and OnOrg.
	mu     sync.Mutex
	logErr error
}

// loadOrgState is the org's state; an org id that cannot name a file has
// none (the org fails on its id).
func loadOrgState(dir, orgID string) (*State, error) {
	if importfiles.CheckOrgID(orgID) != nil {
		return nil, nil
	}
	return LoadState(dir, orgID)
}

// orgSync is the state of one org's sync: its log files, open while it is
// synced (an estate of thousands of orgs must not hold thousands of files
// open).
type orgSync struct {
	*syncRun
	ticket       *ticket
	logs, failed *importfiles.LogFiles
}

type nopProgress struct{}

func (nopProgress) Start(importer.Stage, int) {}
func (nopProgress) Add(importer.Counter, int) {}
func (nopProgress) Done()                     {}

func (s *syncRun) logLine(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logErr == nil {
		s.logErr = err
	}
}

func (s *syncRun) logFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logErr
}

// org syncs one org whose state (or the error reading it) is prev
// (stateErr); t is its place in the budget.
func (s *syncRun) org(ctx context.Context, row importfiles.CreatedOrg, prev *State, stateErr error, t *ticket) *OrgResult {
	opts := s.opts
	o := &OrgResult{OrgID: row.OrgID, Name: row.Name, Planned: map[Action]int{}, Done: map[Action]int{}}
	// The org id names files in the log directory.
	if err := importfiles.CheckOrgID(row.OrgID); err != nil {
		o.Err = err
		return o
	}
	if stateErr != nil {
		o.Err = stateErr
		return o
	}
	run := &orgSync{syncRun: s, ticket: t,
		logs:   newLogFiles(opts.LogPath, updatedLoggerName, opts.Now, opts.Redact),
		failed: newLogFiles(opts.LogPath, failedTargetLoggerName, opts.Now, opts.Redact)}
	defer func() {
		s.logLine(run.logs.Close())
		s.logLine(run.failed.Close())
	}()
	run.syncOrg(ctx, row, prev, o)
	return o
}

// syncOrg syncs the org of row, whose state is prev, into o.
func (s *orgSync) syncOrg(ctx context.Context, row importfiles.CreatedOrg, prev *State, o *OrgResult) {
	opts := s.opts
	// Snyk, once and whole: a partial listing would make repositories look
	// new or gone, so an incomplete one stops the org.
	// What is kept of each item is what sync reads, its repeated words
	// shared: an org is held in memory while it is planned.
	var (
		targets          []snyk.Target
		projects         []snyk.Project
		targetsErr, pErr error
		wg               sync.WaitGroup
	)
	// The org's own workspace is listed while Snyk is read: the pages of
	// one listing go one after another, the three listings side by side.
	if row.Workspace != "" || row.Name != "" {
		wg.Go(func() { s.listing(ctx, row.WorkspaceSlug()) })
	}
	wg.Go(func() {
		for t, err := range opts.Snyk.ListTargetsIter(ctx, row.OrgID) {
			if err != nil {
				targetsErr = fmt.Errorf("org %s: list its Snyk targets: %w", row.OrgID, err)
				return
			}
			targets = append(targets, snyk.Target{ID: t.ID, DisplayName: t.DisplayName, URL: t.URL, IsPrivate: t.IsPrivate})
		}
	})
	wg.Go(func() {
		words := interner{}
		for p, err := range opts.Snyk.ListProjectsIter(ctx, row.OrgID, &snyk.ProjectListOptions{Origins: opts.origins()}) {
			if err != nil {
				pErr = fmt.Errorf("org %s: list its Snyk projects: %w", row.OrgID, err)
				return
			}
			p.Origin, p.Branch, p.Type, p.Status = words.of(p.Origin), words.of(p.Branch), words.of(p.Type), words.of(p.Status)
			projects = append(projects, p)
		}
	})
	wg.Wait()
	if o.Err = cmp.Or(targetsErr, pErr); o.Err != nil {
		return
	}
	integrationID, err := importer.ResolveIntegrationID(ctx, opts.Snyk, row, opts.Source, opts.IntegrationType)
	if err != nil {
		o.Err = err
		return
	}
	matcher := importer.NewRepoMatcher(opts.Filter, row.Project)
	products := opts.Products
	in := &Input{
		OrgID: row.OrgID, Targets: targets, Projects: projects, State: prev, Now: opts.Now(), ErrorText: opts.errText,
		ImportNew: opts.ImportNew, OnDeleted: opts.OnDeleted, DeleteAfter: opts.DeleteAfter, Excluded: ExclusionMatcher(opts.ExclusionGlobs),
		InScope: func(p snyk.Project) bool { return slices.Contains(products, ProductOf(p.Type)) },
		Skip: func(ws string, r *bitbucket.Repository) bool {
			_, skip := matcher.Skip(ws, r)
			return skip
		},
		AlreadyRequested: func(owner, name, branch string) bool {
			return s.resume.Skip(importfiles.ResumeKey(row.OrgID, integrationID, importfiles.NewBitbucketTarget(owner, name, branch)))
		},
	}
	// A row of the orgs file names the org's workspace: the others listed
	// (named by a stray target, or by the state) are other orgs' to import.
	if row.Workspace != "" || row.Name != "" {
		own := row.WorkspaceSlug()
		in.NewFrom = func(ws string) bool { return strings.EqualFold(ws, own) }
	}
	// Workspaces: the org's, those the state recorded, and those its
	// targets name.
	seen := map[string]bool{}
	addWS := func(ws string) {
		if k := strings.ToLower(ws); ws != "" && !seen[k] {
			seen[k] = true
			in.Listings = append(in.Listings, s.listing(ctx, ws))
		}
	}
	if row.Workspace != "" || row.Name != "" {
		addWS(row.WorkspaceSlug())
	}
	if prev != nil {
		var wss []string
		for _, rs := range prev.Repositories {
			wss = append(wss, rs.Workspace)
		}
		slices.Sort(wss)
		for _, ws := range wss {
			addWS(ws)
		}
	}
	for _, ws := range workspacesNamed(targets, projects) {
		addWS(ws)
	}
	if ctx.Err() != nil {
		o.Err = ctx.Err()
		return
	}
	listed := 0
	for _, l := range in.Listings {
		listed += len(l.Repos)
	}
	s.ticket.listed(listed)
	pic := newPicture(in)
	pic.identify(prev)
	plan := build(in, pic)
	o.Plan = plan
	o.FailedWorkspaces = plan.FailedWorkspaces

	// The guard counts before the confirmations, so a listing that lost
	// most of an estate costs no request per missing repository.
	limit, base := opts.MaxDeactivate, plan.GuardBase()
	plan.MaxRemovals = limit.Of(base)
	if plan.Removals > plan.MaxRemovals {
		plan.HeldBack = &HeldBack{Removals: plan.Removals, Active: base, Max: plan.MaxRemovals, Limit: limit,
			Empties: !limit.Explicit && plan.Removals >= base}
	} else {
		s.confirm(ctx, row.OrgID, plan, pic, prev, o)
	}
	o.HeldBack = plan.HeldBack
	o.Planned = plan.Counts()
	o.ActiveProjects, o.Removals, o.MaxRemovals = plan.ActiveProjects, plan.Removals, plan.MaxRemovals
	if err := writePlan(opts.LogPath, plan); err != nil {
		o.Err = err
		return
	}
	if opts.DryRun || plan.HeldBack != nil {
		return
	}

	a := &applier{s: s, ctx: ctx, org: row, integrationID: integrationID, plan: plan, pic: pic, res: o, out: newOutcome()}
	a.run()
	next := nextState(prev, opts.Now(), pic, plan, a.out)
	if err := next.Save(opts.LogPath); err != nil {
		o.Failures = append(o.Failures, err.Error())
	}
	if ctx.Err() != nil && o.Err == nil {
		o.Err = ctx.Err()
	}
}

// listing lists a workspace once per run (see listingCache). A listing
// that failed or was not whole keeps its error and no repository. Orgs
// synced at once that name the same workspace share one listing.
func (s *syncRun) listing(ctx context.Context, ws string) *Listing {
	e, lead := s.listings.claim(ws)
	if !lead {
		select {
		case <-e.ready:
			return e.l
		case <-ctx.Done():
			return &Listing{Workspace: ws, Err: fmt.Errorf("listing interrupted: %w", ctx.Err())}
		}
	}
	l := &Listing{Workspace: ws}
	prog := s.opts.Progress
	words := interner{}
	for r, err := range s.opts.Bitbucket.ListRepositoriesIter(ctx, ws, nil) {
		if err != nil {
			l.Err = err
			break
		}
		// Only what sync and the discovery filters read is kept.
		l.Repos = append(l.Repos, bitbucket.Repository{Slug: r.Slug, UUID: r.UUID, Workspace: words.of(cmp.Or(r.Workspace, ws)),
			IsPrivate: r.IsPrivate, MainBranch: words.of(r.MainBranch), IsFork: r.IsFork, UpdatedOn: r.UpdatedOn,
			Project: bitbucket.Project{Key: words.of(r.Project.Key)}})
		if prog != nil {
			s.mu.Lock()
			prog.Add(importer.CounterRepositories, 1)
			s.mu.Unlock()
		}
	}
	if l.Err == nil && ctx.Err() != nil {
		l.Err = fmt.Errorf("listing interrupted: %w", ctx.Err())
	}
	if l.Err != nil {
		l.Repos = nil
	}
	s.listings.put(e, l)
	return l
}

// interner shares one copy of each repeated word (branch names, statuses,
// workspace slugs) among the items of a listing.
type interner map[string]string

func (w interner) of(s string) string {
	if v, ok := w[s]; ok {
		return v
	}
	w[s] = s
	return s
}

// listingCache keeps each workspace's listing while an org still to be
// synced names it, so a workspace shared by several orgs (one per
// Bitbucket project) is listed once, and a run's memory holds the listings
// of the orgs being synced, not of the estate. Safe for concurrent use:
// the orgs synced at once that need one workspace wait for one listing.
type listingCache struct {
	mu   sync.Mutex
	m    map[string]*listingEntry
	need map[string]int // orgs still to come that name the workspace
	// refused is the first listing Bitbucket refused the credentials for;
	// others says some listing was not refused.
	refused error
	others  bool
}

// listingEntry is one workspace's listing: ready is closed once l is set.
type listingEntry struct {
	ready chan struct{}
	l     *Listing
}

func newListingCache(orgs []importfiles.CreatedOrg) *listingCache {
	c := &listingCache{m: map[string]*listingEntry{}, need: map[string]int{}}
	for _, o := range orgs {
		if o.Workspace != "" || o.Name != "" {
			c.need[strings.ToLower(o.WorkspaceSlug())]++
		}
	}
	return c
}

// claim returns ws's entry, and whether the caller is to list it (no other
// org has started to).
func (c *listingCache) claim(ws string) (*listingEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := strings.ToLower(ws)
	if e := c.m[k]; e != nil {
		return e, false
	}
	e := &listingEntry{ready: make(chan struct{})}
	c.m[k] = e
	return e, true
}

// put completes e with its listing.
func (c *listingCache) put(e *listingEntry, l *Listing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.l = l
	close(e.ready)
	if l.Err != nil && httpx.CredentialsRejected(l.Err) {
		c.refused = cmp.Or(c.refused, l.Err)
	} else {
		c.others = true
	}
}

// done releases the finished listings no org still to come names.
func (c *listingCache) done(row importfiles.CreatedOrg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if row.Workspace != "" || row.Name != "" {
		c.need[strings.ToLower(row.WorkspaceSlug())]--
	}
	for k, e := range c.m {
		if e.l != nil && c.need[k] <= 0 {
			delete(c.m, k)
		}
	}
}

// allRefused is the error of a run in which Bitbucket refused the
// credentials for every workspace listed (exit 4, not a partial run).
func (c *listingCache) allRefused() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused == nil || c.others {
		return nil
	}
	return fmt.Errorf("Bitbucket refused the credentials for every workspace: %w", c.refused)
}

// workspacesNamed are the workspaces the names of the org's targets (with
// projects of the source) name, sorted.
func workspacesNamed(targets []snyk.Target, projects []snyk.Project) []string {
	display := make(map[string]string, len(targets))
	for _, t := range targets {
		display[t.ID] = t.DisplayName
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range projects {
		name, _, _ := strings.Cut(p.Name, ":")
		if ws := workspaceOf(cmp.Or(display[p.TargetID], name)); ws != "" && !seen[strings.ToLower(ws)] {
			seen[strings.ToLower(ws)] = true
			out = append(out, ws)
		}
	}
	slices.Sort(out)
	return out
}

func writePlan(dir string, p *Plan) error {
	type planJSON struct {
		*Plan
		Counts map[Action]int `json:"counts"`
	}
	if p.Steps == nil {
		p.Steps = []Step{}
	}
	return writeJSON(filepath.Join(dir, p.OrgID+PlanFileSuffix), planJSON{p, p.Counts()})
}

func writeJSON(path string, v any) error {
	return importfiles.WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	})
}

func isAuth(err error) bool { return snyk.IsAuthError(err) || httpx.CredentialsRejected(err) }

// newLogFiles writes bunyan lines under sync's own logger name.
func newLogFiles(dir, logger string, now func() time.Time, redact func(string) string) *importfiles.LogFiles {
	l := importfiles.NewLogFiles(dir, "", 0, now)
	l.Logger, l.Redact = logger, redact
	return l
}

// restTarget is a target as the original's failed-to-sync-target.log
// carries it: the whole REST target of the 2022-09-15~beta version the
// original reads ({id, type, attributes: {displayName, origin, remoteUrl,
// isPrivate}, relationships}). A repository Snyk has no target of yet gets
// one without id, named as its import names it.
type restTarget struct {
	ID         string `json:"id,omitempty"`
	Type       string `json:"type"`
	Attributes struct {
		DisplayName string  `json:"displayName"`
		Origin      string  `json:"origin"`
		RemoteURL   *string `json:"remoteUrl"`
		IsPrivate   bool    `json:"isPrivate"`
	} `json:"attributes"`
	Relationships struct {
		Org struct {
			Data struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"data"`
		} `json:"org"`
	} `json:"relationships"`
}

// targetFailed writes a <orgId>.failed-to-sync-target.log line.
func (s *orgSync) targetFailed(orgID string, t *TargetRef, name, msg string) {
	rt := restTarget{Type: "target"}
	rt.Attributes.DisplayName, rt.Attributes.Origin = name, s.opts.Source
	if t != nil {
		rt.ID = t.ID
		rt.Attributes.DisplayName = cmp.Or(t.DisplayName, name)
		rt.Attributes.Origin = cmp.Or(t.Origin, s.opts.Source)
		rt.Attributes.IsPrivate = t.IsPrivate
		if t.RemoteURL != "" {
			rt.Attributes.RemoteURL = &t.RemoteURL
		}
	}
	rt.Relationships.Org.Data.ID, rt.Relationships.Org.Data.Type = orgID, "org"
	s.logLine(s.failed.Write(orgID+FailedToSyncTargetLogSuffix, importfiles.LevelError, "Failed to sync target",
		importfiles.LogField{Key: "orgId", Value: orgID}, importfiles.LogField{Key: "target", Value: rt},
		importfiles.LogField{Key: "errorMessage", Value: msg}))
}
