package importer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// OrgPer says what one Snyk org stands for.
type OrgPer string

// What an org stands for.
const (
	// OrgPerWorkspace makes one org per Bitbucket workspace (the default).
	OrgPerWorkspace OrgPer = "workspace"
	// OrgPerProject makes one org per Bitbucket project, named
	// "<workspace> / <project name>", for workspaces too big for one org.
	OrgPerProject OrgPer = "project"
)

// defaultWorkspaceConcurrency bounds the per-workspace calls of orgs:data.
const defaultWorkspaceConcurrency = 8

// OrgsDataOptions configures OrgsData (orgs:data).
type OrgsDataOptions struct {
	// Bitbucket lists workspaces and repositories.
	Bitbucket Bitbucket
	// Source is SourceBitbucketCloudApp (default) or SourceBitbucketCloud;
	// it decides the org names and the file name.
	Source string
	// GroupID is the Snyk group every row belongs to (required).
	GroupID string
	// SourceOrgID is copied into every row as sourceOrgId.
	SourceOrgID string
	// Workspaces, if set, are the workspace slugs to use instead of listing
	// (org names are then the slugs, whatever the source).
	Workspaces []string
	// SkipEmptyOrgs drops workspaces (or projects) without repositories:
	// one request with pagelen=1 per workspace.
	SkipEmptyOrgs bool
	// OrgPer is OrgPerWorkspace (default) or OrgPerProject. Per project,
	// every repository of every workspace is listed to find the projects
	// that hold repositories (projects without one are never rows).
	OrgPer OrgPer
	// LogPath is the directory the file is written into (required, existing).
	LogPath string
	// Concurrency bounds the workspaces worked on at once (default 8).
	Concurrency int
	// Progress receives "workspaces" and "repositories" counts; may be nil.
	Progress Progress
}

// DroppedWorkspace is a workspace orgs:data left out, and why.
type DroppedWorkspace struct {
	Workspace string
	Reason    string
}

// OrgsDataResult is what OrgsData did.
type OrgsDataResult struct {
	// Path is the file written.
	Path string
	// Orgs are the rows written, in order.
	Orgs []OrgRow
	// Workspaces is how many workspaces were considered.
	Workspaces int
	// Dropped lists the workspaces without a row, in order.
	Dropped []DroppedWorkspace
}

// Reasons a workspace has no row.
const (
	dropNoRepositories = "no repositories (--skipEmptyOrgs)"
	dropNoProjects     = "no repositories, so no projects"
)

// OrgsData lists the Bitbucket workspaces (or takes opts.Workspaces) and
// writes <LogPath>/group-<groupId>-<source>-orgs.json with one row per
// workspace, or per project with OrgPerProject. A listing error (401, 403,
// 410, …) is returned as is, wrapped, and no file is written: a rejected
// credential is never an empty estate.
func OrgsData(ctx context.Context, opts OrgsDataOptions) (*OrgsDataResult, error) {
	if opts.Source == "" {
		opts.Source = SourceBitbucketCloudApp
	}
	if opts.OrgPer == "" {
		opts.OrgPer = OrgPerWorkspace
	}
	if err := validateOrgsDataOptions(&opts); err != nil {
		return nil, err
	}
	prog := &lockedStageProgress{p: progressOrNop(opts.Progress)}
	prog.Start("orgs:data", -1)
	defer prog.Done()

	workspaces, err := orgsDataWorkspaces(ctx, &opts, prog)
	if err != nil {
		return nil, err
	}

	res := &OrgsDataResult{Workspaces: len(workspaces)}
	type wsOutcome struct {
		rows    []OrgRow
		dropped string
	}
	outcomes := make([]wsOutcome, len(workspaces))
	work := func(ctx context.Context, i int) error {
		ws := workspaces[i]
		switch {
		case opts.OrgPer == OrgPerProject:
			projects, listed, orphans, err := workspaceProjects(ctx, opts.Bitbucket, ws.Slug, prog)
			if err != nil {
				return fmt.Errorf("list repositories of workspace %q: %w", ws.Slug, err)
			}
			switch {
			case listed == 0:
				outcomes[i].dropped = dropNoProjects
			case orphans > 0:
				outcomes[i].dropped = fmt.Sprintf("%d of %d repositories belong to no project and get no org", orphans, listed)
			}
			for _, p := range projects {
				pname := p.Name
				if pname == "" {
					pname = p.Key
				}
				outcomes[i].rows = append(outcomes[i].rows, OrgRow{
					Name: orgName(opts.Source, ws) + " / " + pname, GroupID: opts.GroupID,
					SourceOrgID: opts.SourceOrgID, Workspace: ws.Slug, Project: p.Key,
				})
			}
		case opts.SkipEmptyOrgs:
			ok, err := hasRepositories(ctx, opts.Bitbucket, ws.Slug)
			if err != nil {
				return fmt.Errorf("check workspace %q for repositories: %w", ws.Slug, err)
			}
			if !ok {
				outcomes[i].dropped = dropNoRepositories
				return nil
			}
			fallthrough
		default:
			outcomes[i].rows = []OrgRow{{
				Name: orgName(opts.Source, ws), GroupID: opts.GroupID,
				SourceOrgID: opts.SourceOrgID, Workspace: ws.Slug,
			}}
		}
		return nil
	}
	if opts.SkipEmptyOrgs || opts.OrgPer == OrgPerProject {
		err = boundedEach(ctx, len(workspaces), opts.Concurrency, work)
	} else {
		for i := range workspaces {
			_ = work(ctx, i)
		}
	}
	if err != nil {
		return nil, err
	}
	res.Orgs = []OrgRow{}
	for i, o := range outcomes {
		res.Orgs = append(res.Orgs, o.rows...)
		if o.dropped != "" {
			res.Dropped = append(res.Dropped, DroppedWorkspace{Workspace: workspaces[i].Slug, Reason: o.dropped})
		}
	}
	res.Path = filepath.Join(opts.LogPath, OrgsDataFileName(opts.GroupID, opts.Source))
	if err := WriteOrgsDataFile(res.Path, res.Orgs); err != nil {
		return nil, err
	}
	return res, nil
}

func validateOrgsDataOptions(opts *OrgsDataOptions) error {
	switch {
	case opts.Bitbucket == nil:
		return errors.New("orgs:data: no Bitbucket client")
	case strings.TrimSpace(opts.GroupID) == "":
		return errors.New("orgs:data: a group id is required (--groupId)")
	case strings.ContainsAny(opts.GroupID, `/\`):
		return fmt.Errorf("orgs:data: group id %q: must not contain a slash", opts.GroupID)
	case opts.LogPath == "":
		return errors.New("orgs:data: a log path is required (SNYK_LOG_PATH or --logPath)")
	case opts.Source != SourceBitbucketCloudApp && opts.Source != SourceBitbucketCloud:
		return fmt.Errorf("orgs:data: source %q: want %q or %q", opts.Source, SourceBitbucketCloudApp, SourceBitbucketCloud)
	case opts.OrgPer != OrgPerWorkspace && opts.OrgPer != OrgPerProject:
		return fmt.Errorf("orgs:data: orgPer %q: want %q or %q", opts.OrgPer, OrgPerWorkspace, OrgPerProject)
	case opts.Concurrency < 0:
		return fmt.Errorf("orgs:data: concurrency %d: want at least 1", opts.Concurrency)
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = defaultWorkspaceConcurrency
	}
	return nil
}

// orgName is the org name for a workspace: the display name for the app
// source (as the original, so names match orgs it created), else the slug.
func orgName(source string, ws bitbucket.Workspace) string {
	if source == SourceBitbucketCloudApp && ws.Name != "" {
		return ws.Name
	}
	return ws.Slug
}

// orgsDataWorkspaces returns opts.Workspaces (trimmed, deduplicated, named by
// their slugs) or lists every visible workspace, deduplicated by slug.
func orgsDataWorkspaces(ctx context.Context, opts *OrgsDataOptions, prog Progress) ([]bitbucket.Workspace, error) {
	seen := map[string]bool{}
	var out []bitbucket.Workspace
	if len(opts.Workspaces) > 0 {
		for _, s := range opts.Workspaces {
			s = strings.TrimSpace(s)
			if s == "" || seen[s] {
				continue
			}
			seen[s] = true
			out = append(out, bitbucket.Workspace{Slug: s, Name: s})
			prog.Add("workspaces", 1)
		}
		if len(out) == 0 {
			return nil, errors.New("orgs:data: --workspace was given but names no workspace")
		}
		return out, nil
	}
	for ws, err := range opts.Bitbucket.ListWorkspaces(ctx) {
		if err != nil {
			return nil, fmt.Errorf("list workspaces: %w", err)
		}
		if ws.Slug == "" || seen[ws.Slug] {
			continue
		}
		seen[ws.Slug] = true
		out = append(out, ws)
		prog.Add("workspaces", 1)
	}
	return out, nil
}

// hasRepositories asks for one repository (pagelen=1) and stops there.
func hasRepositories(ctx context.Context, bb Bitbucket, workspace string) (bool, error) {
	for _, err := range bb.ListRepositories(ctx, workspace, &bitbucket.RepositoryListOptions{PageLen: 1}) {
		if err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// workspaceProjects lists every repository of a workspace and returns the
// projects that hold at least one, sorted by key, how many repositories were
// listed, and how many belong to no project.
func workspaceProjects(ctx context.Context, bb Bitbucket, workspace string, prog Progress) (projects []bitbucket.Project, listed, orphans int, err error) {
	byKey := map[string]bitbucket.Project{}
	for repo, err := range bb.ListRepositories(ctx, workspace, nil) {
		if err != nil {
			return nil, 0, 0, err
		}
		if err := ctx.Err(); err != nil {
			return nil, 0, 0, err
		}
		listed++
		prog.Add("repositories", 1)
		k := repo.Project.Key
		if k == "" {
			orphans++
			continue
		}
		if _, ok := byKey[k]; !ok {
			byKey[k] = repo.Project
		}
	}
	projects = make([]bitbucket.Project, 0, len(byKey))
	for _, p := range byKey {
		projects = append(projects, p)
	}
	slices.SortFunc(projects, func(a, b bitbucket.Project) int { return strings.Compare(a.Key, b.Key) })
	return projects, listed, orphans, nil
}

// boundedEach runs fn for 0..n-1 with at most limit at once. The first error
// cancels the others' context and is returned (context errors of the
// cancelled ones are not).
func boundedEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
loop:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// lockedStageProgress serialises calls to a Progress shared by goroutines.
type lockedStageProgress struct {
	mu sync.Mutex
	p  Progress
}

func (l *lockedStageProgress) Start(stage string, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Start(stage, total)
}

func (l *lockedStageProgress) Add(counter string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Add(counter, n)
}

func (l *lockedStageProgress) Done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Done()
}
