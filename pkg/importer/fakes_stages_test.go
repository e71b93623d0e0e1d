package importer

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/internal/filetest"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// stagesBB is an in-memory Bitbucket for the first three stages. It does not
// apply q= (so client-side filtering is exercised too) but records it.
type stagesBB struct {
	workspaces   []bitbucket.Workspace
	listWSErr    error // returned after the listed workspaces
	repos        map[string][]bitbucket.Repository
	repoErr      map[string]error // returned after the workspace's repos
	generated    map[string]int   // workspace → that many generated repos
	mu           sync.Mutex
	calls        []stagesRepoCall
	yielded      map[string]int
	inFlight     int
	maxInFlight  int
	blockUntil   chan struct{} // if set, ListRepositoriesIter waits on it
	blockOnlyFor string
	// projects overrides a workspace's project listing; without an entry
	// the projects are those of its repositories, in order of appearance.
	projects     map[string][]bitbucket.Project
	projectErr   map[string]error // returned instead of the workspace's projects
	projectCalls []string
}

type stagesRepoCall struct {
	Workspace string
	Query     string
	PageLen   int
}

func (b *stagesBB) ListWorkspacesIter(ctx context.Context) iter.Seq2[bitbucket.Workspace, error] {
	return func(yield func(bitbucket.Workspace, error) bool) {
		for _, ws := range b.workspaces {
			if !yield(ws, nil) {
				return
			}
		}
		if b.listWSErr != nil {
			yield(bitbucket.Workspace{}, b.listWSErr)
		}
	}
}

func (b *stagesBB) ListRepositoriesIter(ctx context.Context, workspace string, opts *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	return func(yield func(bitbucket.Repository, error) bool) {
		call := stagesRepoCall{Workspace: workspace}
		if opts != nil {
			call.Query, call.PageLen = opts.Query, opts.PageLen
		}
		b.mu.Lock()
		b.calls = append(b.calls, call)
		b.inFlight++
		b.maxInFlight = max(b.maxInFlight, b.inFlight)
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			b.inFlight--
			b.mu.Unlock()
		}()
		if b.blockUntil != nil && (b.blockOnlyFor == "" || b.blockOnlyFor == workspace) {
			select {
			case <-b.blockUntil:
			case <-ctx.Done():
				yield(bitbucket.Repository{}, ctx.Err())
				return
			}
		}
		count := func() {
			b.mu.Lock()
			if b.yielded == nil {
				b.yielded = map[string]int{}
			}
			b.yielded[workspace]++
			b.mu.Unlock()
		}
		if n, ok := b.generated[workspace]; ok {
			for i := range n {
				count()
				if !yield(bitbucket.Repository{
					Slug: fmt.Sprintf("repo-%06d", i), Workspace: workspace, MainBranch: "main",
				}, nil) {
					return
				}
			}
			return
		}
		if _, ok := b.repos[workspace]; !ok && b.repoErr[workspace] == nil {
			yield(bitbucket.Repository{}, &stagesHTTPError{status: 404, msg: "workspace " + workspace + " not found"})
			return
		}
		// The one q= the fake applies: the per-project probe of orgs:data,
		// pagelen=1 with q=project.key="K".
		onlyProject, probe := "", false
		if opts != nil && opts.PageLen == 1 {
			if k, ok := strings.CutPrefix(opts.Query, `project.key="`); ok && strings.HasSuffix(k, `"`) && !strings.Contains(k, " ") {
				onlyProject, probe = strings.TrimSuffix(k, `"`), true
			}
		}
		for _, r := range b.repos[workspace] {
			if probe && r.Project.Key != onlyProject {
				continue
			}
			count()
			if !yield(r, nil) {
				return
			}
		}
		if err := b.repoErr[workspace]; err != nil {
			yield(bitbucket.Repository{}, err)
		}
	}
}

func (b *stagesBB) ListProjectsIter(ctx context.Context, workspace string) iter.Seq2[bitbucket.Project, error] {
	return func(yield func(bitbucket.Project, error) bool) {
		b.mu.Lock()
		b.projectCalls = append(b.projectCalls, workspace)
		b.mu.Unlock()
		if err := b.projectErr[workspace]; err != nil {
			yield(bitbucket.Project{}, err)
			return
		}
		projects, ok := b.projects[workspace]
		if !ok {
			repos, known := b.repos[workspace]
			if !known {
				yield(bitbucket.Project{}, &stagesHTTPError{status: 404, msg: "workspace " + workspace + " not found"})
				return
			}
			seen := map[string]bool{}
			for _, r := range repos {
				if k := r.Project.Key; k != "" && !seen[k] {
					seen[k] = true
					projects = append(projects, r.Project)
				}
			}
		}
		for _, p := range projects {
			if !yield(p, nil) {
				return
			}
		}
	}
}

func (b *stagesBB) repoCalls() []stagesRepoCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// stagesHTTPError stands in for the clients' typed errors.
type stagesHTTPError struct {
	status int
	msg    string
}

func (e *stagesHTTPError) Error() string   { return fmt.Sprintf("%d: %s", e.status, e.msg) }
func (e *stagesHTTPError) HTTPStatus() int { return e.status }

// stagesSnyk is an in-memory Snyk for orgs:create and import:data.
type stagesSnyk struct {
	mu           sync.Mutex
	orgs         map[string][]snyk.Org // group → orgs
	integrations map[string]map[string]string
	// newIntegrations is what a newly created org gets.
	newIntegrations map[string]string
	createErr       map[string]error // by org name
	listGroupErr    map[string]error
	integErr        map[string]error // by org id
	notifErr        error
	nextID          int
	afterCreate     func() // called after each successful create, unlocked

	creates      []snyk.CreateOrgRequest
	integCalls   []string
	notifCalls   []string
	listedGroups []string
}

func newStagesSnyk() *stagesSnyk {
	return &stagesSnyk{orgs: map[string][]snyk.Org{}, integrations: map[string]map[string]string{}}
}

func (s *stagesSnyk) ListGroupOrgsIter(ctx context.Context, groupID string) iter.Seq2[snyk.Org, error] {
	return func(yield func(snyk.Org, error) bool) {
		s.mu.Lock()
		s.listedGroups = append(s.listedGroups, groupID)
		err := s.listGroupErr[groupID]
		orgs := slices.Clone(s.orgs[groupID])
		s.mu.Unlock()
		if err != nil {
			yield(snyk.Org{}, err)
			return
		}
		for _, o := range orgs {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (s *stagesSnyk) CreateOrg(ctx context.Context, req snyk.CreateOrgRequest) (*snyk.Org, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creates = append(s.creates, req)
	if err := s.createErr[req.Name]; err != nil {
		return nil, err
	}
	s.nextID++
	org := snyk.Org{
		ID: fmt.Sprintf("org-%d", s.nextID), Name: req.Name, Slug: strings.ToLower(strings.ReplaceAll(req.Name, " ", "-")),
		URL: fmt.Sprintf("https://app.snyk.io/org/org-%d", s.nextID), Created: "2025-01-02T03:04:05.678Z",
		Group: &snyk.Group{ID: req.GroupID},
	}
	s.orgs[req.GroupID] = append(s.orgs[req.GroupID], org)
	if s.newIntegrations != nil {
		s.integrations[org.ID] = s.newIntegrations
	}
	if f := s.afterCreate; f != nil {
		s.mu.Unlock()
		f()
		s.mu.Lock()
	}
	return &org, nil
}

func (s *stagesSnyk) ListIntegrations(ctx context.Context, orgID string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.integCalls = append(s.integCalls, orgID)
	if err := s.integErr[orgID]; err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range s.integrations[orgID] {
		out[k] = v
	}
	return out, nil
}

func (s *stagesSnyk) DisableNotifications(ctx context.Context, orgID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifCalls = append(s.notifCalls, orgID)
	return s.notifErr
}

var errStagesUnused = errors.New("not used by the first stages")

func (s *stagesSnyk) ImportTarget(context.Context, string, string, snyk.ImportRequest) (string, error) {
	return "", errStagesUnused
}

func (s *stagesSnyk) GetImportJob(context.Context, string) (*snyk.ImportJob, error) {
	return nil, errStagesUnused
}

func (s *stagesSnyk) ListProjectsIter(context.Context, string, *snyk.ProjectListOptions) iter.Seq2[snyk.Project, error] {
	return func(yield func(snyk.Project, error) bool) { yield(snyk.Project{}, errStagesUnused) }
}

// stagesProgress records counters; safe for concurrent use so the race
// detector checks the stages' own serialisation only through counts.
type stagesProgress struct {
	mu       sync.Mutex
	stage    Stage
	total    int
	counts   map[Counter]int
	done     int
	inCall   bool
	overlaps int
}

func (p *stagesProgress) enter() {
	p.mu.Lock()
	if p.inCall {
		p.overlaps++
	}
	p.inCall = true
	p.mu.Unlock()
}

func (p *stagesProgress) leave() {
	p.mu.Lock()
	p.inCall = false
	p.mu.Unlock()
}

func (p *stagesProgress) Start(stage Stage, total int) {
	p.enter()
	defer p.leave()
	p.stage, p.total, p.counts = stage, total, map[Counter]int{}
}

func (p *stagesProgress) Add(counter Counter, n int) {
	p.enter()
	defer p.leave()
	p.counts[counter] += n
}

func (p *stagesProgress) Done() {
	p.enter()
	defer p.leave()
	p.done++
}

// writeStagesFile writes content into dir/name and returns its path.
var writeStagesFile = filetest.Write

// readStagesFile reads a file or fails the test.
var readStagesFile = filetest.Read

// compatPath is a file written by the original, copied from ../shared/compat.
func compatPath(name string) string { return filepath.Join("..", "..", "fixtures", "compat", name) }
