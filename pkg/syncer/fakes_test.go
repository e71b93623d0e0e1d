package syncer

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"sync"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// fakeSnyk is an org's Snyk: its projects, and scripted failures.
type fakeSnyk struct {
	mu       sync.Mutex
	projects []snyk.Project
	listErr  error
	failOn   map[string]error // "deactivate:<id>", "branch:<id>", "import:<owner/name>"
	writes   []string
	jobs     map[string]string // location → "owner/name"
}

func (f *fakeSnyk) ListGroupOrgsIter(context.Context, string) iter.Seq2[snyk.Org, error] { return nil }
func (f *fakeSnyk) CreateOrg(context.Context, snyk.CreateOrgRequest) (*snyk.Org, error) {
	return nil, errors.New("not used")
}
func (f *fakeSnyk) ListIntegrations(context.Context, string) (map[string]string, error) {
	return map[string]string{"bitbucket-cloud-app": "int-1"}, nil
}
func (f *fakeSnyk) DisableNotifications(context.Context, string) error { return nil }
func (f *fakeSnyk) ListTargetsIter(context.Context, string) iter.Seq2[snyk.Target, error] {
	return func(yield func(snyk.Target, error) bool) {}
}
func (f *fakeSnyk) ListProjectsIter(_ context.Context, _ string, _ *snyk.ProjectListOptions) iter.Seq2[snyk.Project, error] {
	return func(yield func(snyk.Project, error) bool) {
		if f.listErr != nil {
			yield(snyk.Project{}, f.listErr)
			return
		}
		for _, p := range f.projects {
			if !yield(p, nil) {
				return
			}
		}
	}
}

func (f *fakeSnyk) write(kind, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, kind+":"+id)
	return f.failOn[kind+":"+id]
}
func (f *fakeSnyk) UpdateProjectBranch(_ context.Context, _, id, _ string) error {
	return f.write("branch", id)
}
func (f *fakeSnyk) DeactivateProject(_ context.Context, _, id string) error {
	return f.write("deactivate", id)
}
func (f *fakeSnyk) DeleteProject(_ context.Context, _, id string) error { return f.write("delete", id) }
func (f *fakeSnyk) ImportTarget(_ context.Context, _, _ string, r snyk.ImportRequest) (string, error) {
	var t importfiles.Target
	_ = t.UnmarshalJSON(r.Target)
	owner, _ := t.Get("owner")
	name, _ := t.Get("name")
	if err := f.write("import", owner+"/"+name); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.jobs == nil {
		f.jobs = map[string]string{}
	}
	loc := "https://api.snyk.io/v1/org/o/integrations/int-1/import/" + name
	f.jobs[loc] = owner + "/" + name
	return loc, nil
}
func (f *fakeSnyk) GetImportJob(_ context.Context, loc string) (*snyk.ImportJob, error) {
	return &snyk.ImportJob{ID: "j", Status: snyk.JobComplete, Logs: []snyk.ImportLog{{Projects: []snyk.ImportedProject{
		{TargetFile: "package.json", Success: true, ProjectURL: "https://app.snyk.io/org/o/project/new-" + lastSegment(loc)}}}}}, nil
}

// fakeBitbucket lists one workspace and answers repository reads.
type fakeBitbucket struct {
	repos   []bitbucket.Repository
	listErr error
	get     map[string]func() (bitbucket.Repository, error) // uuid → answer (default Bitbucket's 404)
	mu      sync.Mutex
	gets    []string
}

func (b *fakeBitbucket) ListRepositoriesIter(context.Context, string, *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	return func(yield func(bitbucket.Repository, error) bool) {
		for _, r := range b.repos {
			if !yield(r, nil) {
				return
			}
		}
		if b.listErr != nil {
			yield(bitbucket.Repository{}, b.listErr)
		}
	}
}

// errGone is Bitbucket's own 404 for a repository; errProxy404 a proxy's.
var (
	errGone = &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: http.StatusNotFound},
		Message: "Repository not found", FromBitbucket: true}
	errProxy404 = &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: http.StatusNotFound}}
)

// GetRepository answers by uuid (what sync asks by): get's answer, else
// Bitbucket's own 404.
func (b *fakeBitbucket) GetRepository(_ context.Context, _, uuid string) (bitbucket.Repository, error) {
	b.mu.Lock()
	b.gets = append(b.gets, uuid)
	b.mu.Unlock()
	if f := b.get[uuid]; f != nil {
		return f()
	}
	return bitbucket.Repository{}, errGone
}
