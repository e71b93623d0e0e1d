package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Integration types list:imported understands (the original's list, plus
// `bitbucket-connect-app`, the origin Snyk gives Bitbucket Cloud App projects).
var ListImportedTypes = []string{
	"github", "github-cloud-app", "github-enterprise", "bitbucket-cloud", "bitbucket-cloud-app",
	"bitbucket-connect-app", "gcr", "docker-hub", "gitlab", "azure-repos", "bitbucket-server",
}

// ListImportedOptions configures ListImported.
type ListImportedOptions struct {
	// Snyk lists orgs, projects and integrations.
	Snyk Snyk
	// GroupID or OrgID: exactly one. With GroupID every org of the group
	// is listed.
	GroupID string
	OrgID   string
	// IntegrationTypes are the project origins to keep (ListImportedTypes);
	// empty means all of them. `bitbucket-cloud-app` and
	// `bitbucket-connect-app` each include the other.
	IntegrationTypes []string
	// LogPath is the directory of imported-targets.log (created if missing).
	LogPath string
	// Concurrency is how many orgs are listed at once (0: OrgsAtOnce,
	// sized from the Snyk budget and the latency its answers take).
	Concurrency int
	// Now, Hostname and PID are written in every log line (defaults: the
	// clock, this host and process).
	Now      func() time.Time
	Hostname string
	PID      int
	// Progress receives the counters "orgs" and "targets" of the stage
	// "list:imported"; nil is allowed.
	Progress Progress
}

// ListImportedResult is what ListImported found.
type ListImportedResult struct {
	// LogFile is the imported-targets.log lines were appended to.
	LogFile string
	// Orgs is the number of orgs listed (failed ones included).
	Orgs int
	// Projects is the number of projects whose origin matched.
	Projects int
	// Targets is the number of distinct targets found; Written of them got a
	// new `Target exists in Snyk` line, the others already had their last
	// line saying they are in Snyk.
	Targets int
	Written int
	// NoIntegration counts matching projects skipped because their org has
	// no integration of the project's origin.
	NoIntegration int
	// FailedOrgs are the orgs whose projects or integrations could not be
	// listed; the others are complete.
	FailedOrgs []OrgFailure
}

// OrgFailure is an org list:imported could not process.
type OrgFailure struct {
	OrgID string
	Name  string
	Err   error
}

// Failed reports whether some org could not be processed.
func (r *ListImportedResult) Failed() bool { return len(r.FailedOrgs) > 0 }

// ListImported lists the projects Snyk already has (in a group's orgs or in
// one org), turns each into the import target it came from, and appends
// one `Target exists in Snyk` line per distinct target to
// imported-targets.log, so that `import` skips them. One failing org does
// not stop the others: it is reported in FailedOrgs.
func ListImported(ctx context.Context, opts ListImportedOptions) (*ListImportedResult, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	prog := progressOrNop(opts.Progress)
	var orgs []snyk.Org
	if opts.GroupID != "" {
		for org, err := range opts.Snyk.ListGroupOrgsIter(ctx, opts.GroupID) {
			if err != nil {
				return nil, fmt.Errorf("list orgs of group %s: %w", opts.GroupID, err)
			}
			orgs = append(orgs, org)
		}
	} else {
		orgs = []snyk.Org{{ID: opts.OrgID}}
	}

	if err := os.MkdirAll(opts.LogPath, 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	logFile := filepath.Join(opts.LogPath, importfiles.ImportedTargetsLog)
	resume, err := importfiles.LoadResumeLog(logFile)
	if err != nil {
		return nil, err
	}
	l := &listImported{
		ctx:    ctx,
		opts:   &opts,
		prog:   prog,
		logs:   importfiles.NewLogFiles(opts.LogPath, opts.Hostname, opts.PID, opts.Now),
		resume: resume,
		types:  expandListTypes(opts.IntegrationTypes),
		seen:   make(map[string]struct{}),
		res:    &ListImportedResult{LogFile: logFile, Orgs: len(orgs)},
	}
	prog.Start(StageListImported, len(orgs))
	atOnce := func() int { return cmp.Or(opts.Concurrency, OrgsAtOnce(opts.Snyk)) }
	_ = BoundedEach(ctx, len(orgs), atOnce, func(_ context.Context, i int) error {
		org := orgs[i]
		if err := l.org(org); err != nil {
			l.mu.Lock()
			l.res.FailedOrgs = append(l.res.FailedOrgs, OrgFailure{OrgID: org.ID, Name: org.Name, Err: err})
			l.mu.Unlock()
		}
		l.mu.Lock()
		prog.Add(CounterOrgs, 1)
		l.mu.Unlock()
		return nil
	})
	prog.Done()
	slices.SortFunc(l.res.FailedOrgs, func(a, b OrgFailure) int { return strings.Compare(a.OrgID, b.OrgID) })

	var errs []error
	if err := l.logs.Close(); err != nil {
		errs = append(errs, err)
	}
	if l.logErr != nil {
		errs = append(errs, l.logErr)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("list:imported interrupted: %w", err))
	}
	return l.res, errors.Join(errs...)
}

func (o *ListImportedOptions) validate() error {
	switch {
	case o.GroupID == "" && o.OrgID == "":
		return fieldErrorf("", "GroupID", "give either {GroupID} or {OrgID}")
	case o.GroupID != "" && o.OrgID != "":
		return fieldErrorf("", "GroupID", "give either {GroupID} or {OrgID}, not both")
	case o.LogPath == "":
		return fieldErrorf("", "LogPath", "no log directory given ({LogPath})")
	case o.Snyk == nil:
		return errors.New("importer: ListImportedOptions.Snyk is nil")
	}
	for _, t := range o.IntegrationTypes {
		if !slices.Contains(ListImportedTypes, t) {
			return fieldErrorf("", "IntegrationTypes", fmt.Sprintf("unknown {IntegrationTypes} %q (one of %s)", t, strings.Join(ListImportedTypes, ", ")))
		}
	}
	if o.Concurrency < 0 {
		o.Concurrency = 0
	}
	return nil
}

// expandListTypes returns the origins to keep: all when none are given;
// the Bitbucket Cloud App's two names include each other.
func expandListTypes(types []string) []string {
	if len(types) == 0 {
		return slices.Clone(ListImportedTypes)
	}
	out := slices.Clone(types)
	for _, t := range types {
		out = append(out, integrationAliases(t)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type listImported struct {
	ctx    context.Context
	opts   *ListImportedOptions
	prog   Progress
	logs   *importfiles.LogFiles
	resume *ResumeLog
	types  []string

	mu     sync.Mutex // guards seen, res, logErr, prog
	seen   map[string]struct{}
	res    *ListImportedResult
	logErr error
}

// org lists one org's integrations and projects and logs their targets.
func (l *listImported) org(org snyk.Org) error {
	integrations, err := l.opts.Snyk.ListIntegrations(l.ctx, org.ID)
	if err != nil {
		return fmt.Errorf("list integrations: %w", err)
	}
	popts := &snyk.ProjectListOptions{Origins: l.types}
	for p, err := range l.opts.Snyk.ListProjectsIter(l.ctx, org.ID, popts) {
		if err != nil {
			return fmt.Errorf("list projects: %w", err)
		}
		if !slices.Contains(l.types, p.Origin) {
			continue
		}
		target, ok := projectTarget(p)
		if !ok {
			continue
		}
		intID := integrations[p.Origin]
		if src, _ := integrationSource(p.Origin); len(src.Integrations) > 1 {
			// The app's projects may carry either origin; pick the id the
			// way import:data does, or the resume keys would never match.
			intID = ""
			for _, k := range IntegrationCandidates(src.Name, "") {
				if intID = integrations[k]; intID != "" {
					break
				}
			}
		}
		it := ImportTarget{OrgID: org.ID, IntegrationID: intID, Target: target}
		l.add(it)
	}
	return nil
}

// add logs a target unless it was seen already in this run or its last
// resume-log line already says it is in Snyk.
func (l *listImported) add(it ImportTarget) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.Projects++
	if it.IntegrationID == "" {
		l.res.NoIntegration++
		return
	}
	key := it.Key()
	if _, dup := l.seen[key]; dup {
		return
	}
	l.seen[key] = struct{}{}
	l.res.Targets++
	l.prog.Add(CounterTargets, 1)
	if l.resume.Skip(key) {
		return
	}
	if err := l.logs.TargetLine(importfiles.LevelInfo, importfiles.MsgTargetExists, it, ""); err != nil {
		if l.logErr == nil {
			l.logErr = err
		}
		return
	}
	l.res.Written++
}

// projectTarget turns a Snyk project into the target it was imported from,
// as the original does: SCM names `owner/repo(:path)` → {owner, name,
// branch?}; Bitbucket Server → {projectKey, repoSlug}; GitLab → {name:
// "group/repo", branch?}; images → {name}.
func projectTarget(p snyk.Project) (Target, bool) {
	var t Target
	base, _, _ := strings.Cut(p.Name, ":")
	switch p.Origin {
	case "gcr", "docker-hub":
		if p.Name == "" {
			return t, false
		}
		t.Set("name", p.Name)
		return t, true
	case "gitlab":
		if base == "" {
			return t, false
		}
		t.Set("name", base)
		if p.Branch != "" {
			t.Set("branch", p.Branch)
		}
		return t, true
	}
	owner, repo, ok := strings.Cut(base, "/")
	if !ok || owner == "" || repo == "" {
		return t, false
	}
	repo, _, _ = strings.Cut(repo, "/")
	// A project of a non-default branch may be named `owner/repo(branch)`.
	if i := strings.IndexByte(repo, '('); i > 0 {
		repo = repo[:i]
	}
	if p.Origin == "bitbucket-server" {
		t.Set("projectKey", owner)
		t.Set("repoSlug", repo)
		return t, true
	}
	t.Set("name", repo)
	t.Set("owner", owner)
	if p.Branch != "" {
		t.Set("branch", p.Branch)
	}
	return t, true
}
