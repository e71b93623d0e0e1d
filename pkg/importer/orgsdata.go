package importer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
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
	// Bitbucket lists workspaces, projects and repositories.
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
	// SkipEmptyOrgs drops workspaces without repositories: one request with
	// pagelen=1 per workspace. With OrgPerProject it drops projects without
	// repositories instead: one request with pagelen=1 and
	// q=project.key="KEY" per project.
	SkipEmptyOrgs bool
	// OrgPer is OrgPerWorkspace (default) or OrgPerProject. Per project, each
	// workspace's projects are listed (GET /2.0/workspaces/{workspace}/
	// projects: one request per 100 projects, however many repositories
	// there are) and every project is a row, one without repositories too
	// unless SkipEmptyOrgs. If the credentials may not list projects (403:
	// no project permission), the workspace's repositories are listed
	// instead and the projects holding at least one become rows; a warning
	// says so.
	OrgPer OrgPer
	// LogPath is the directory the file is written into (required, existing).
	LogPath string
	// Concurrency bounds the Bitbucket calls made at once (default 8).
	Concurrency int
	// Progress receives "workspaces", "projects" and "repositories" counts;
	// may be nil.
	Progress Progress
	// ErrorText words an error inside a warning; nil means err.Error().
	// The clients' errors state facts only: the command passes its own
	// wording, which names the permission or flag to fix.
	ErrorText func(error) string
}

// DroppedWorkspace is a workspace, or one project of a workspace, that
// orgs:data left out, and why.
type DroppedWorkspace struct {
	Workspace string
	// Project is the project key when one project was left out
	// (OrgPerProject); empty when the whole workspace was.
	Project string
	Reason  string
}

// OrgsDataResult is what OrgsData did.
type OrgsDataResult struct {
	// Path is the file written.
	Path string
	// Orgs are the rows written, in order.
	Orgs []OrgRow
	// Workspaces is how many workspaces were considered.
	Workspaces int
	// Dropped lists the workspaces (or projects) without a row, in order.
	Dropped []DroppedWorkspace
	// Warnings are sentences for the person running orgs:data, such as a
	// project listing that had to fall back to listing repositories.
	Warnings []string
}

// Reasons a workspace or project has no row (DroppedWorkspace.Reason); the
// command may word the ones its options decide in their terms.
const (
	DropNoRepositories = "no repositories, and empty orgs are skipped"
	dropNoProjects     = "no projects"
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
	prog.Start(StageOrgsData, -1)
	defer prog.Done()

	workspaces, err := orgsDataWorkspaces(ctx, &opts, prog)
	if err != nil {
		return nil, err
	}

	res := &OrgsDataResult{Workspaces: len(workspaces), Orgs: []OrgRow{}}
	if err := nameWorkspaces(ctx, &opts, workspaces, res); err != nil {
		return nil, err
	}
	if opts.OrgPer == OrgPerProject {
		if err := orgsDataPerProject(ctx, &opts, workspaces, prog, res); err != nil {
			return nil, err
		}
	} else {
		empty := make([]bool, len(workspaces))
		if opts.SkipEmptyOrgs {
			err := boundedEach(ctx, len(workspaces), opts.Concurrency, func(ctx context.Context, i int) error {
				ok, err := hasRepositories(ctx, opts.Bitbucket, workspaces[i].Slug, "")
				if err != nil {
					return fmt.Errorf("check workspace %q for repositories: %w", workspaces[i].Slug, err)
				}
				empty[i] = !ok
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		for i, ws := range workspaces {
			if empty[i] {
				res.Dropped = append(res.Dropped, DroppedWorkspace{Workspace: ws.Slug, Reason: DropNoRepositories})
				continue
			}
			res.Orgs = append(res.Orgs, OrgRow{
				Name: orgName(opts.Source, ws), GroupID: opts.GroupID,
				SourceOrgID: opts.SourceOrgID, Workspace: ws.Slug,
			})
		}
	}
	res.Path = filepath.Join(opts.LogPath, importfiles.OrgsDataFileName(opts.GroupID, opts.Source))
	if err := importfiles.WriteOrgsDataFile(res.Path, res.Orgs); err != nil {
		return nil, err
	}
	return res, nil
}

// workspaceProjectsFound is what orgs:data learnt about one workspace's
// projects.
type workspaceProjectsFound struct {
	projects []bitbucket.Project // sorted by key
	// probe: SkipEmptyOrgs must ask Bitbucket whether each project holds a
	// repository (false after the fallback, whose projects all hold one).
	probe   bool
	dropped string
	warning string
}

// orgsDataPerProject makes one row per project: first every workspace's
// projects are listed (at most Concurrency workspaces at once), then, with
// SkipEmptyOrgs, every project is probed (at most Concurrency at once).
func orgsDataPerProject(ctx context.Context, opts *OrgsDataOptions, workspaces []bitbucket.Workspace, prog Progress, res *OrgsDataResult) error {
	found := make([]workspaceProjectsFound, len(workspaces))
	err := boundedEach(ctx, len(workspaces), opts.Concurrency, func(ctx context.Context, i int) error {
		f, err := findProjects(ctx, opts.Bitbucket, workspaces[i].Slug, prog, opts.ErrorText)
		if err != nil {
			return err
		}
		f.probe = f.probe && opts.SkipEmptyOrgs
		found[i] = f
		return nil
	})
	if err != nil {
		return err
	}

	type probe struct{ ws, p int }
	var probes []probe
	for i := range found {
		if found[i].probe {
			for j := range found[i].projects {
				probes = append(probes, probe{i, j})
			}
		}
	}
	empty := make([]bool, len(probes))
	err = boundedEach(ctx, len(probes), opts.Concurrency, func(ctx context.Context, k int) error {
		ws, key := workspaces[probes[k].ws].Slug, found[probes[k].ws].projects[probes[k].p].Key
		ok, err := hasRepositories(ctx, opts.Bitbucket, ws, projectTerm([]string{key}))
		if err != nil {
			return fmt.Errorf("check project %s of workspace %q for repositories: %w", key, ws, err)
		}
		empty[k] = !ok
		return nil
	})
	if err != nil {
		return err
	}

	k := 0
	for i, f := range found {
		ws := workspaces[i]
		if f.warning != "" {
			res.Warnings = append(res.Warnings, f.warning)
		}
		if f.dropped != "" {
			res.Dropped = append(res.Dropped, DroppedWorkspace{Workspace: ws.Slug, Reason: f.dropped})
		}
		for _, p := range f.projects {
			if f.probe {
				k++
				if empty[k-1] {
					res.Dropped = append(res.Dropped, DroppedWorkspace{Workspace: ws.Slug, Project: p.Key, Reason: DropNoRepositories})
					continue
				}
			}
			res.Orgs = append(res.Orgs, OrgRow{
				Name: ProjectOrgName(orgName(opts.Source, ws), p), GroupID: opts.GroupID,
				SourceOrgID: opts.SourceOrgID, Workspace: ws.Slug, Project: p.Key,
			})
		}
	}
	return nil
}

// ProjectOrgName is the name of the org of one project:
// "<workspace> / <project name>" (the key when the project has no name).
func ProjectOrgName(workspace string, p bitbucket.Project) string {
	name := strings.TrimSpace(p.Name)
	if name == "" {
		name = p.Key
	}
	return workspace + " / " + name
}

// findProjects lists a workspace's projects, or, when Bitbucket refuses the
// project listing with 403, finds them by listing its repositories.
func findProjects(ctx context.Context, bb Bitbucket, workspace string, prog Progress, errText func(error) string) (workspaceProjectsFound, error) {
	var f workspaceProjectsFound
	byKey := map[string]bitbucket.Project{}
	var listErr error
	for p, err := range bb.ListProjectsIter(ctx, workspace) {
		if err != nil {
			listErr = err
			break
		}
		if _, dup := byKey[p.Key]; p.Key != "" && !dup {
			byKey[p.Key] = p
			prog.Add(CounterProjects, 1)
		}
	}
	if listErr != nil {
		if !isForbidden(listErr) {
			return f, fmt.Errorf("list projects of workspace %q: %w", workspace, listErr)
		}
		projects, listed, orphans, err := workspaceProjects(ctx, bb, workspace, prog)
		if err != nil {
			return f, fmt.Errorf("list repositories of workspace %q: %w", workspace, err)
		}
		f.projects = projects
		why := listErr.Error()
		if errText != nil {
			why = errText(listErr)
		}
		f.warning = fmt.Sprintf("found the projects of workspace %q by listing its %s, because Bitbucket refused to list its projects: %s",
			workspace, pluralWord(listed, "repository", "repositories"), why)
		switch {
		case listed == 0:
			f.dropped = dropNoProjects
		case orphans > 0:
			f.dropped = fmt.Sprintf("%d of %d repositories belong to no project and get no org", orphans, listed)
		}
		return f, nil
	}
	f.projects = make([]bitbucket.Project, 0, len(byKey))
	for _, p := range byKey {
		f.projects = append(f.projects, p)
	}
	slices.SortFunc(f.projects, func(a, b bitbucket.Project) int { return strings.Compare(a.Key, b.Key) })
	f.probe = true
	if len(f.projects) == 0 {
		f.dropped = dropNoProjects
	}
	return f, nil
}

// isForbidden reports a 403 from an API client's typed error.
func isForbidden(err error) bool {
	var sc statusCoder
	return errors.As(err, &sc) && sc.HTTPStatus() == http.StatusForbidden
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func validateOrgsDataOptions(opts *OrgsDataOptions) error {
	switch {
	case opts.Bitbucket == nil:
		return errors.New("orgs:data: no Bitbucket client")
	case strings.TrimSpace(opts.GroupID) == "":
		return fieldErrorf("orgs:data", "GroupID", "a group id is required ({GroupID})")
	case strings.ContainsAny(opts.GroupID, `/\`):
		return fmt.Errorf("orgs:data: group id %q: must not contain a slash", opts.GroupID)
	case opts.LogPath == "":
		return fieldErrorf("orgs:data", "LogPath", "a log path is required ({LogPath})")
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
	if orgsByDisplayName(source) && ws.Name != "" {
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
			prog.Add(CounterWorkspaces, 1)
		}
		if len(out) == 0 {
			return nil, fieldErrorf("orgs:data", "Workspaces", "{Workspaces} was given but names no workspace")
		}
		return out, nil
	}
	for ws, err := range opts.Bitbucket.ListWorkspacesIter(ctx) {
		if err != nil {
			return nil, fmt.Errorf("list workspaces: %w", err)
		}
		if ws.Slug == "" || seen[ws.Slug] {
			continue
		}
		seen[ws.Slug] = true
		out = append(out, ws)
		prog.Add(CounterWorkspaces, 1)
	}
	return out, nil
}

// hasRepositories asks for one repository (pagelen=1, with the BBQL query
// q if not empty) and stops there: one request.
func hasRepositories(ctx context.Context, bb Bitbucket, workspace, q string) (bool, error) {
	for _, err := range bb.ListRepositoriesIter(ctx, workspace, &bitbucket.RepositoryListOptions{PageLen: 1, Query: q}) {
		if err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// workspaceProjects lists every repository of a workspace and returns the
// projects that hold at least one, sorted by key, how many repositories were
// listed, and how many belong to no project. It is the fallback of
// findProjects for credentials without the project permission.
func workspaceProjects(ctx context.Context, bb Bitbucket, workspace string, prog Progress) (projects []bitbucket.Project, listed, orphans int, err error) {
	byKey := map[string]bitbucket.Project{}
	for repo, err := range bb.ListRepositoriesIter(ctx, workspace, nil) {
		if err != nil {
			return nil, 0, 0, err
		}
		if err := ctx.Err(); err != nil {
			return nil, 0, 0, err
		}
		listed++
		prog.Add(CounterRepositories, 1)
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

// lockedStageProgress serialises calls to a Progress shared by goroutines.
type lockedStageProgress struct {
	mu sync.Mutex
	p  Progress
}

func (l *lockedStageProgress) Start(stage Stage, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Start(stage, total)
}

func (l *lockedStageProgress) Add(counter Counter, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Add(counter, n)
}

func (l *lockedStageProgress) Done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Done()
}
