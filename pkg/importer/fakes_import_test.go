package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bbimport/bbimport/pkg/snyk"
)

// impFakeSnyk is an in-memory Snyk for the import and list:imported tests.
// By default every import is accepted and its job completes on its
// pendingPolls+1-th poll with one successful project. Hooks override parts.
type impFakeSnyk struct {
	t *testing.T

	// pendingPolls is how many polls a job answers `pending` first.
	pendingPolls int
	// kickOff, if set, runs at the start of every ImportTarget; a non-nil
	// error fails the kick-off.
	kickOff func(ctx context.Context, name string) error
	// poll, if set, replaces the default job answer; n counts the polls of
	// this job from 1. Return nil, nil for the default answer.
	poll func(ctx context.Context, name string, n int) (*snyk.ImportJob, error)
	// result, if set, edits the finished job (status, projects).
	result func(name string, job *snyk.ImportJob)
	// noCalls fails the test on any import or poll (dry run).
	noCalls bool

	// list:imported data.
	groupOrgs    map[string][]snyk.Org
	integrations map[string]map[string]string
	projects     map[string][]snyk.Project
	orgErr       map[string]error

	mu          sync.Mutex
	imports     []impImportCall
	jobs        map[string]*impJob // by location
	active      int                // targets between kick-off and a final job status
	maxActive   int
	finished    int // jobs that reached complete/failed
	pollCount   int
	listOptions []*snyk.ProjectListOptions
}

type impImportCall struct {
	OrgID, IntegrationID string
	Req                  snyk.ImportRequest
	Name                 string // the target's name (or id)
}

type impJob struct {
	id    string
	name  string
	org   string
	polls int
	done  bool
}

func newImpFakeSnyk(t *testing.T) *impFakeSnyk {
	return &impFakeSnyk{t: t, jobs: make(map[string]*impJob)}
}

// impStatusErr is an API error with an HTTP status.
type impStatusErr struct{ code int }

func (e *impStatusErr) Error() string   { return "snyk: " + strconv.Itoa(e.code) + " " + "answer" }
func (e *impStatusErr) HTTPStatus() int { return e.code }

func impTargetName(req snyk.ImportRequest) string {
	var m map[string]any
	_ = json.Unmarshal(req.Target, &m)
	if n, ok := m["name"]; ok {
		return fmt.Sprint(n)
	}
	return fmt.Sprint(m["id"])
}

func (f *impFakeSnyk) ImportTarget(ctx context.Context, orgID, integrationID string, req snyk.ImportRequest) (string, error) {
	if f.noCalls {
		f.t.Errorf("ImportTarget called during a dry run")
	}
	name := impTargetName(req)
	f.mu.Lock()
	f.active++
	f.maxActive = max(f.maxActive, f.active)
	f.imports = append(f.imports, impImportCall{orgID, integrationID, req, name})
	n := len(f.imports)
	f.mu.Unlock()
	if f.kickOff != nil {
		if err := f.kickOff(ctx, name); err != nil {
			f.mu.Lock()
			f.active--
			f.mu.Unlock()
			return "", err
		}
	}
	loc := fmt.Sprintf("https://api.snyk.io/v1/org/%s/integrations/%s/import/job-%d", orgID, integrationID, n)
	f.mu.Lock()
	f.jobs[loc] = &impJob{id: "job-" + strconv.Itoa(n), name: name, org: orgID}
	f.mu.Unlock()
	return loc, nil
}

func (f *impFakeSnyk) GetImportJob(ctx context.Context, location string) (*snyk.ImportJob, error) {
	if f.noCalls {
		f.t.Errorf("GetImportJob called during a dry run")
	}
	f.mu.Lock()
	j, ok := f.jobs[location]
	if !ok {
		f.mu.Unlock()
		return nil, &impStatusErr{404}
	}
	j.polls++
	f.pollCount++
	n := j.polls
	f.mu.Unlock()

	var job *snyk.ImportJob
	if f.poll != nil {
		var err error
		if job, err = f.poll(ctx, j.name, n); err != nil {
			return nil, err
		}
	}
	if job == nil {
		job = &snyk.ImportJob{ID: j.id, Status: snyk.JobPending, Logs: []snyk.ImportLog{}}
		if n > f.pendingPolls {
			job.Status = snyk.JobComplete
			job.Created = "2024-05-01T10:00:00.000Z"
			job.Logs = []snyk.ImportLog{{
				Name: j.name, Status: snyk.JobComplete, Created: "2024-05-01T10:00:00.000Z",
				Projects: []snyk.ImportedProject{{
					TargetFile: "package.json", Success: true,
					ProjectURL: "https://app.snyk.io/org/" + j.org + "/project/p-" + j.id,
				}},
			}}
			if f.result != nil {
				f.result(j.name, job)
			}
		}
	}
	if job.Status == snyk.JobComplete || job.Status == snyk.JobFailed {
		f.mu.Lock()
		if !j.done {
			j.done = true
			f.active--
			f.finished++
		}
		f.mu.Unlock()
	}
	return job, nil
}

func (f *impFakeSnyk) ListGroupOrgsIter(ctx context.Context, groupID string) iter.Seq2[snyk.Org, error] {
	return func(yield func(snyk.Org, error) bool) {
		orgs, ok := f.groupOrgs[groupID]
		if !ok {
			yield(snyk.Org{}, &impStatusErr{404})
			return
		}
		for _, o := range orgs {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (f *impFakeSnyk) CreateOrg(context.Context, snyk.CreateOrgRequest) (*snyk.Org, error) {
	return nil, errors.New("not used")
}

func (f *impFakeSnyk) ListIntegrations(ctx context.Context, orgID string) (map[string]string, error) {
	if err := f.orgErr[orgID]; err != nil {
		return nil, err
	}
	return f.integrations[orgID], nil
}

func (f *impFakeSnyk) DisableNotifications(context.Context, string) error {
	return errors.New("not used")
}

func (f *impFakeSnyk) ListProjectsIter(ctx context.Context, orgID string, opts *snyk.ProjectListOptions) iter.Seq2[snyk.Project, error] {
	f.mu.Lock()
	f.listOptions = append(f.listOptions, opts)
	f.mu.Unlock()
	return func(yield func(snyk.Project, error) bool) {
		for _, p := range f.projects[orgID] {
			if !yield(p, nil) {
				return
			}
		}
	}
}

// importedNames returns the target names of every import call, in order.
func (f *impFakeSnyk) importedNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.imports {
		out = append(out, c.Name)
	}
	return out
}

func (f *impFakeSnyk) importCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.imports)
}

// impProgress records Progress calls.
type impProgress struct {
	mu       sync.Mutex
	stage    Stage
	total    int
	counters map[Counter]int
	done     bool
}

func (p *impProgress) Start(stage Stage, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stage, p.total, p.counters = stage, total, map[Counter]int{}
}

func (p *impProgress) Add(counter Counter, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counters[counter] += n
}

func (p *impProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
}

// impTargetsJSON builds a targets file body from rows.
func impTargetsJSON(rows ...string) string {
	return `{"targets":[` + strings.Join(rows, ",\n") + "]}\n"
}

// impRow is a Bitbucket Cloud target row.
func impRow(org, integ, owner, name, branch string) string {
	return fmt.Sprintf(`{"orgId":%q,"integrationId":%q,"target":{"owner":%q,"name":%q,"branch":%q}}`, org, integ, owner, name, branch)
}
