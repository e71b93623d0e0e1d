package snyk

import (
	"context"
	"iter"
)

// importerSnyk is pkg/importer's Snyk interface, copied here so a change to
// a signature fails this package's build, not only the importer's.
type importerSnyk interface {
	ListGroupOrgsIter(ctx context.Context, groupID string) iter.Seq2[Org, error]
	CreateOrg(ctx context.Context, req CreateOrgRequest) (*Org, error)
	ListIntegrations(ctx context.Context, orgID string) (map[string]string, error)
	DisableNotifications(ctx context.Context, orgID string) error
	ImportTarget(ctx context.Context, orgID, integrationID string, req ImportRequest) (string, error)
	GetImportJob(ctx context.Context, location string) (*ImportJob, error)
	ListProjectsIter(ctx context.Context, orgID string, opts *ProjectListOptions) iter.Seq2[Project, error]
}

var _ importerSnyk = (*Client)(nil)
