package syncer

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	SummaryFile                  = "sync-summary.json"
	updatedLoggerName            = "snyk:sync-org-projects"
	failedTargetLoggerName       = "sync"
	defaultWriteConcurrency      = 8
	defaultMaxDeactivatePercent  = 10
	defaultMaxDeactivateFloor    = 10
)

// Snyk is what sync needs from Snyk (*snyk.Client satisfies it).
type Snyk interface {
	importer.Snyk
	ListTargetsIter(ctx context.Context, orgID string) iter.Seq2[snyk.Target, error]
	UpdateProjectBranch(ctx context.Context, orgID, projectID, branch string) error
	DeactivateProject(ctx context.Context, orgID, projectID string) error
	DeleteProject(ctx context.Context, orgID, projectID string) error
}

// Bitbucket is what sync needs from Bitbucket (*bitbucket.Client satisfies it).
type Bitbucket interface {
	ListRepositoriesIter(ctx context.Context, workspace string, opts *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error]
	GetRepository(ctx context.Context, workspace, slug string) (bitbucket.Repository, error)
}

// Limit is --maxDeactivate: a number of projects, or a percentage of the
// org's active projects.
type Limit struct {
	Count   int
	Percent float64 // > 0: a percentage
	// Floor is the least a percentage allows (so a small org can lose one
	// repository); 0 for none.
	Floor int
}

// DefaultLimit is 10 % of the org's active projects, at least 10.
var DefaultLimit = Limit{Percent: defaultMaxDeactivatePercent, Floor: defaultMaxDeactivateFloor}

// ParseLimit reads "25" or "10%".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
			return Limit{}, fmt.Errorf("--maxDeactivate=%q: want a number of projects (25) or a percentage from 0%% to 100%% (10%%)", s)
		}
		return Limit{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("--maxDeactivate=%q: want a number of projects (25) or a percentage (10%%)", s)
	}
	return Limit{Count: n}, nil
}

// Of is the limit for an org of active projects.
func (l Limit) Of(active int) int {
	if l.Percent > 0 {
		return max(int(math.Ceil(l.Percent*float64(active)/100)), l.Floor)
	}
	return l.Count
}

func (l Limit) String() string {
	if l.Percent > 0 {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.Count)
}

// Options configures Sync.
type Options struct {
	Snyk      Snyk
	Bitbucket Bitbucket
	// Orgs to sync: rows of snyk-created-orgs.json, or just {OrgID} (the
	// original's --orgPublicId; its workspaces are then those of its
	// targets' names).
	Orgs []importfiles.CreatedOrg
	// Source is importer.SourceBitbucketCloudApp or SourceBitbucketCloud;
	// it picks the project origins and the integration.
	Source          string
	IntegrationType string
	LogPath         string
	DryRun          bool
	ImportNew       bool
	OnDeleted       string
	MaxDeactivate   Limit
	// ExclusionGlobs deactivate matching projects and are sent with every
	// import (the original never sent them).
	ExclusionGlobs []string
	// Products are the --snykProduct values synced (default open-source).
	Products []string
	// Filter is import:data's discovery filters, applied client-side to a
	// whole listing.
	Filter importer.RepoFilter
	// Import pool settings (see importer.ImportOptions).
	Concurrency          int
	PollInitial, PollMax time.Duration
	PollTimeout          time.Duration
	Now                  func() time.Time
	Progress             importer.Progress
	// WriteConcurrency bounds the project writes in flight (default 8).
	WriteConcurrency int
	// Shard, if set, syncs only the orgs of Orgs in it; the others are
	// counted in Result.OtherShards and left to the other jobs.
	Shard importer.Shard
	// ErrorText words an error in the results and the plan; nil means
	// err.Error(). The clients' errors state facts only: the command
	// passes its own wording, which says what to fix.
	ErrorText func(error) string
}

// errText is err as the results show it.
func (o *Options) errText(err error) string {
	if o.ErrorText != nil {
		return o.ErrorText(err)
	}
	return err.Error()
}

// OrgResult is what sync did for one org.
type OrgResult struct {
	OrgID string `json:"orgId"`
	Name  string `json:"name,omitempty"`
	Plan  *Plan  `json:"-"`
	// Planned and Done count steps per action.
	Planned map[Action]int `json:"planned"`
	Done    map[Action]int `json:"done"`
	// Project counts of what was applied.
	ProjectsUpdated     int `json:"projectsUpdated"`
	ProjectsDeactivated int `json:"projectsDeactivated"`
	ProjectsDeleted     int `json:"projectsDeleted"`
	ProjectsImported    int `json:"projectsImported"`
	// Failures are the steps (or writes) that did not succeed, as short
	// sentences; the next run tries them again.
	Failures []string `json:"failures,omitempty"`
	// FailedWorkspaces and HeldBack: copied from the plan.
	FailedWorkspaces []WorkspaceIssue `json:"failedWorkspaces,omitempty"`
	HeldBack         string           `json:"heldBack,omitempty"`
	// Confirmations are the GET requests made for deletion candidates.
	Confirmations int `json:"confirmations"`
	// Err is why the org could not be synced at all.
	Err    error  `json:"-"`
	ErrMsg string `json:"error,omitempty"`
}

// Failed reports an org that needs the user's attention (exit 3).
func (o *OrgResult) Failed() bool {
	return o.Err != nil || len(o.Failures) > 0 || len(o.FailedWorkspaces) > 0 || o.HeldBack != ""
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
	for _, o := range r.Orgs {
		if o.Failed() {
			return true
		}
	}
	return false
}

// Sync syncs every org of opts.Orgs in turn: it reads the org's Snyk
// targets and projects once, lists each workspace once (a workspace shared
// by several orgs is listed once per run), plans, confirms each deletion
// with one GET, applies the --maxDeactivate guard, and applies the plan (or,
// with DryRun, only writes it). Per org it writes <orgId>.sync-plan.json,
// the original's sync logs and <orgId>.sync-state.json; at the end
// sync-summary.json.
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
	s := &syncRun{opts: &opts, resume: resume, listings: map[string]*Listing{},
		logs:   newLogFiles(opts.LogPath, updatedLoggerName, opts.Now),
		failed: newLogFiles(opts.LogPath, failedTargetLoggerName, opts.Now)}
	var errs []error
	authFailures := 0
	prog := opts.Progress
	if prog == nil {
		prog = nopProgress{}
	}
	prog.Start(importer.StageSync, len(opts.Orgs))
	defer prog.Done()
	for i, org := range opts.Orgs {
		if ctx.Err() != nil {
			break
		}
		o := s.org(ctx, org)
		if s.importsRan {
			// The import pool showed its own stage: back to the orgs.
			s.importsRan = false
			prog.Start(importer.StageSync, len(opts.Orgs))
			prog.Add(importer.CounterOrgs, i)
		}
		prog.Add(importer.CounterOrgs, 1)
		if o.Err != nil {
			o.ErrMsg = opts.errText(o.Err)
			if isAuth(o.Err) {
				authFailures++
			}
		}
		res.Orgs = append(res.Orgs, o)
	}
	res.Duration = opts.Now().Sub(res.Started)
	res.Interrupted = ctx.Err() != nil
	if err := s.logs.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := s.failed.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := writeSummary(opts.LogPath, res); err != nil {
		errs = append(errs, err)
	}
	if s.logErr != nil {
		errs = append(errs, fmt.Errorf("some sync log lines could not be written: %w", s.logErr))
	}
	if authFailures > 0 && authFailures == len(res.Orgs) {
		errs = append(errs, res.Orgs[0].Err)
	} else if err := s.allListingsRefused(); err != nil {
		errs = append(errs, err)
	}
	if res.Interrupted {
		errs = append(errs, fmt.Errorf("sync interrupted: %w", ctx.Err()))
	}
	return res, errors.Join(errs...)
}

func (o *Options) validate() error {
	switch {
	case o.Snyk == nil || o.Bitbucket == nil:
		return errors.New("syncer: Snyk and Bitbucket clients are required")
	case o.LogPath == "":
		return errors.New("sync: a log path is required (SNYK_LOG_PATH or --logPath)")
	case len(o.Orgs) == 0:
		return errors.New("sync: no org to sync (--orgPublicId, --orgsData or --groupId)")
	case o.Source != importer.SourceBitbucketCloudApp && o.Source != importer.SourceBitbucketCloud:
		return fmt.Errorf("sync: source %q: want %q or %q", o.Source, importer.SourceBitbucketCloudApp, importer.SourceBitbucketCloud)
	}
	switch o.OnDeleted {
	case "":
		o.OnDeleted = OnDeletedDeactivate
	case OnDeletedDeactivate, OnDeletedDelete, OnDeletedIgnore:
	default:
		return fmt.Errorf("--onDeletedRepo=%q: want deactivate, delete or ignore", o.OnDeleted)
	}
	if o.MaxDeactivate == (Limit{}) {
		o.MaxDeactivate = DefaultLimit
	}
	if err := ValidateGlobs(o.ExclusionGlobs); err != nil {
		return err
	}
	if err := o.Filter.Validate(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if len(o.Products) == 0 {
		o.Products = []string{ProductOpenSource}
	}
	for _, p := range o.Products {
		if p != ProductOpenSource && p != ProductContainer && p != ProductIaC {
			return fmt.Errorf("--snykProduct=%q: want open-source, container or iac", p)
		}
	}
	o.Concurrency = cmp.Or(o.Concurrency, importer.DefaultConcurrency)
	o.WriteConcurrency = cmp.Or(o.WriteConcurrency, defaultWriteConcurrency)
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// origins are the project origins of the source: the app's projects are
// listed as either bitbucket-cloud-app or bitbucket-connect-app.
func (o *Options) origins() []string {
	return importer.IntegrationCandidates(o.Source, "")
}

// syncRun is the state of one Sync call.
type syncRun struct {
	opts     *Options
	resume   *importfiles.ResumeLog
	listings map[string]*Listing // by lower-cased workspace slug, for the whole run
	logs     *importfiles.LogFiles
	failed   *importfiles.LogFiles
	logErr   error
	// importsRan says the last org started imports (whose pool took over
	// the progress display).
	importsRan bool
}

type nopProgress struct{}

func (nopProgress) Start(importer.Stage, int) {}
func (nopProgress) Add(importer.Counter, int) {}
func (nopProgress) Done()                     {}

func (s *syncRun) logLine(err error) {
	if err != nil && s.logErr == nil {
		s.logErr = err
	}
}

// allListingsRefused is the error of a run in which Bitbucket refused the
// credentials for every workspace listed (exit 4, not a partial run).
func (s *syncRun) allListingsRefused() error {
	var first error
	for _, l := range s.listings {
		if l.Err == nil || !httpx.CredentialsRejected(l.Err) {
			return nil
		}
		first = cmp.Or(first, l.Err)
	}
	if first == nil {
		return nil
	}
	return fmt.Errorf("Bitbucket refused the credentials for every workspace: %w", first)
}

// org syncs one org.
func (s *syncRun) org(ctx context.Context, row importfiles.CreatedOrg) *OrgResult {
	opts := s.opts
	o := &OrgResult{OrgID: row.OrgID, Name: row.Name, Planned: map[Action]int{}, Done: map[Action]int{}}

	// Snyk, once: a partial listing would make repositories look new or
	// gone, so an error stops the org.
	var targets []snyk.Target
	for t, err := range opts.Snyk.ListTargetsIter(ctx, row.OrgID) {
		if err != nil {
			o.Err = fmt.Errorf("org %s: list its Snyk targets: %w", row.OrgID, err)
			return o
		}
		targets = append(targets, t)
	}
	var projects []snyk.Project
	for p, err := range opts.Snyk.ListProjectsIter(ctx, row.OrgID, &snyk.ProjectListOptions{Origins: opts.origins()}) {
		if err != nil {
			o.Err = fmt.Errorf("org %s: list its Snyk projects: %w", row.OrgID, err)
			return o
		}
		projects = append(projects, p)
	}
	integrationID, err := importer.ResolveIntegrationID(ctx, opts.Snyk, row, opts.Source, opts.IntegrationType)
	if err != nil {
		o.Err = err
		return o
	}
	prev, err := LoadState(opts.LogPath, row.OrgID)
	if err != nil {
		o.Err = err
		return o
	}

	// Workspaces: the org's, and those its targets name.
	var listings []*Listing
	seen := map[string]bool{}
	addWS := func(ws string) {
		if k := strings.ToLower(ws); ws != "" && !seen[k] {
			seen[k] = true
			listings = append(listings, s.listing(ctx, ws))
		}
	}
	if row.Workspace != "" || row.Name != "" {
		addWS(row.WorkspaceSlug())
	}
	for _, t := range groupTargets(targets, projects) {
		addWS(t.workspace)
	}
	if ctx.Err() != nil {
		o.Err = ctx.Err()
		return o
	}

	matcher := importer.NewRepoMatcher(opts.Filter, row.Project)
	products := opts.Products
	plan := Build(Input{
		OrgID: row.OrgID, Targets: targets, Projects: projects, Listings: listings, State: prev, ErrorText: opts.ErrorText,
		ImportNew: opts.ImportNew, OnDeleted: opts.OnDeleted, Excluded: ExclusionMatcher(opts.ExclusionGlobs),
		InScope: func(p snyk.Project) bool { return slices.Contains(products, ProductOf(p.Type)) },
		Skip: func(ws string, r *bitbucket.Repository) bool {
			_, skip := matcher.Skip(ws, r)
			return skip
		},
		AlreadyRequested: func(owner, name, branch string) bool {
			return s.resume.Skip(importfiles.ResumeKey(row.OrgID, integrationID, importfiles.NewBitbucketTarget(owner, name, branch)))
		},
	})
	o.Plan = plan
	o.FailedWorkspaces = plan.FailedWorkspaces

	// The guard counts before the confirmations, so a listing that lost
	// most of an estate costs no request per missing repository.
	plan.MaxRemovals = opts.MaxDeactivate.Of(plan.ActiveProjects)
	if plan.Removals > plan.MaxRemovals {
		plan.HeldBack = fmt.Sprintf("the plan deactivates or deletes %d of %d active projects, more than --maxDeactivate=%s allows (%d): nothing was changed in this org; check the plan in %s and run again with a higher --maxDeactivate if it is right",
			plan.Removals, plan.ActiveProjects, opts.MaxDeactivate, plan.MaxRemovals, filepath.Join(opts.LogPath, row.OrgID+PlanFileSuffix))
	} else {
		s.confirm(ctx, row.OrgID, plan, listings, o)
	}
	o.HeldBack = plan.HeldBack
	o.Planned = plan.Counts()
	if err := writePlan(opts.LogPath, plan); err != nil {
		o.Err = err
		return o
	}
	if opts.DryRun || plan.HeldBack != "" {
		return o
	}

	a := &applier{s: s, ctx: ctx, org: row, integrationID: integrationID, plan: plan, res: o, done: map[int]bool{}}
	a.run()
	next := nextState(prev, row.OrgID, opts.Now(), listings, plan, a.done)
	if err := next.Save(opts.LogPath); err != nil {
		o.Failures = append(o.Failures, err.Error())
	}
	if ctx.Err() != nil && o.Err == nil {
		o.Err = ctx.Err()
	}
	return o
}

// listing lists a workspace once per run. A failed or cut-short listing
// keeps what it got and its error.
func (s *syncRun) listing(ctx context.Context, ws string) *Listing {
	k := strings.ToLower(ws)
	if l := s.listings[k]; l != nil {
		return l
	}
	l := &Listing{Workspace: ws}
	prog := s.opts.Progress
	for r, err := range s.opts.Bitbucket.ListRepositoriesIter(ctx, ws, nil) {
		if err != nil {
			l.Err = err
			break
		}
		if r.Workspace == "" {
			r.Workspace = ws
		}
		l.Repos = append(l.Repos, r)
		if prog != nil {
			prog.Add(importer.CounterRepositories, 1)
		}
	}
	if l.Err == nil && ctx.Err() != nil {
		l.Err = fmt.Errorf("listing interrupted: %w", ctx.Err())
	}
	s.listings[k] = l
	return l
}

// confirm checks each deletion candidate with one GET: 404 confirms it; the
// repository answered under another slug with the uuid of a listed
// repository is a rename; any other answer drops the step (and an error
// counts as a failure: the next run asks again).
func (s *syncRun) confirm(ctx context.Context, orgID string, plan *Plan, listings []*Listing, o *OrgResult) {
	byUUID := map[string]*bitbucket.Repository{}
	for _, l := range listings {
		if l.Err == nil {
			for i := range l.Repos {
				if u := l.Repos[i].UUID; u != "" {
					byUUID[strings.ToLower(u)] = &l.Repos[i]
				}
			}
		}
	}
	drop := map[int]bool{}
	dropKey := map[string]bool{} // new-repository steps absorbed by a rename
	for i := range plan.Steps {
		st := &plan.Steps[i]
		if !st.Unconfirmed {
			continue
		}
		if ctx.Err() != nil {
			drop[i] = true
			continue
		}
		o.Confirmations++
		repo, err := s.opts.Bitbucket.GetRepository(ctx, st.Workspace, st.Slug)
		switch {
		case bitbucket.IsNotFound(err):
			st.Unconfirmed = false
			st.Reason = "not in the workspace's listing, and Bitbucket answers 404"
		case err != nil:
			drop[i] = true
			msg := fmt.Sprintf("%s/%s: could not confirm that the repository is gone: %v", st.Workspace, st.Slug, err)
			o.Failures = append(o.Failures, msg)
			s.logLine(s.failed.Write(orgID+FailedToSyncTargetLogSuffix, importfiles.LevelError, "Failed to sync target",
				importfiles.LogField{Key: "orgId", Value: orgID}, importfiles.LogField{Key: "target", Value: st.Target},
				importfiles.LogField{Key: "errorMessage", Value: msg}))
		case repo.UUID != "" && byUUID[strings.ToLower(repo.UUID)] != nil && !strings.EqualFold(repo.Slug, st.Slug):
			// Bitbucket redirected the old slug to the renamed repository.
			nr := byUUID[strings.ToLower(repo.UUID)]
			st.Action, st.OldSlug, st.Slug, st.UUID, st.To = ActionRename, st.Slug, nr.Slug, nr.UUID, nr.MainBranch
			st.Unconfirmed, st.Reason = false, "renamed (Bitbucket answers the old slug with the same uuid)"
			dropKey[repoKey(st.Workspace, nr.Slug)] = true
		default:
			drop[i] = true // it is there after all: a listing glitch
		}
	}
	var kept []Step
	for i, st := range plan.Steps {
		if drop[i] || ((st.Action == ActionImportNew || st.Action == ActionNewNotImported) && dropKey[st.Key()]) {
			continue
		}
		kept = append(kept, st)
	}
	plan.Steps = kept
	plan.countRemovals()
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

func writeSummary(dir string, r *Result) error {
	type summary struct {
		*Result
		Finished        time.Time `json:"finished"`
		DurationSeconds float64   `json:"durationSeconds"`
		Failed          bool      `json:"failed"`
	}
	if r.Orgs == nil {
		r.Orgs = []*OrgResult{}
	}
	return writeJSON(filepath.Join(dir, SummaryFile), summary{r, r.Started.Add(r.Duration), r.Duration.Seconds(), r.Failed()})
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
func newLogFiles(dir, logger string, now func() time.Time) *importfiles.LogFiles {
	l := importfiles.NewLogFiles(dir, "", 0, now)
	l.Logger = logger
	return l
}
