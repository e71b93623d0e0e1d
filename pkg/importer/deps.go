package importer

import (
	"context"
	"iter"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Bitbucket is what the stages need from a Bitbucket Cloud client
// (*bitbucket.Client satisfies it).
type Bitbucket interface {
	// ListWorkspacesIter lists every workspace the credentials can see, all pages.
	ListWorkspacesIter(ctx context.Context) iter.Seq2[bitbucket.Workspace, error]
	// ListRepositoriesIter lists every repository of one workspace, all pages.
	ListRepositoriesIter(ctx context.Context, workspace string, opts *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error]
	// ListProjectsIter lists every project of one workspace, all pages, including
	// projects without repositories (orgs:data with an org per project).
	ListProjectsIter(ctx context.Context, workspace string) iter.Seq2[bitbucket.Project, error]
}

// Snyk is what the stages need from a Snyk client (*snyk.Client satisfies it).
type Snyk interface {
	// ListGroupOrgsIter lists every org of a group, all pages.
	ListGroupOrgsIter(ctx context.Context, groupID string) iter.Seq2[snyk.Org, error]
	// CreateOrg creates an org: POST /org.
	CreateOrg(ctx context.Context, req snyk.CreateOrgRequest) (*snyk.Org, error)
	// ListIntegrations returns an org's integrations as {type: id}.
	ListIntegrations(ctx context.Context, orgID string) (map[string]string, error)
	// DisableNotifications switches an org's notification e-mails off.
	DisableNotifications(ctx context.Context, orgID string) error
	// ImportTarget kicks off an import and returns the job's Location URL.
	ImportTarget(ctx context.Context, orgID, integrationID string, req snyk.ImportRequest) (string, error)
	// GetImportJob polls an import job by its Location URL.
	GetImportJob(ctx context.Context, location string) (*snyk.ImportJob, error)
	// ListProjectsIter lists an org's projects (REST), all pages.
	ListProjectsIter(ctx context.Context, orgID string, opts *snyk.ProjectListOptions) iter.Seq2[snyk.Project, error]
}

// Progress receives a stage's progress so the command layer can render it
// (a bar on a TTY, a periodic line in CI). Stages and counters are the
// constants of [Stage] and [Counter]. A nil Progress is allowed.
type Progress interface {
	// Start begins a stage; total is -1 when unknown.
	Start(stage Stage, total int)
	// Add moves a counter of the current stage by n.
	Add(counter Counter, n int)
	// Done ends the current stage.
	Done()
}

type nopProgress struct{}

func (nopProgress) Start(Stage, int) {}
func (nopProgress) Add(Counter, int) {}
func (nopProgress) Done()            {}

func progressOrNop(p Progress) Progress {
	if p == nil {
		return nopProgress{}
	}
	return p
}
