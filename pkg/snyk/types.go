package snyk

import "encoding/json"

// Group is the group part of GET /group/{groupId}/orgs.
type Group struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Org is a Snyk organisation as returned by the group listing or POST /org.
type Org struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Slug    string `json:"slug,omitempty"`
	URL     string `json:"url,omitempty"`
	Created string `json:"created,omitempty"`
	Group   *Group `json:"group,omitempty"`
}

// CreateOrgRequest is the body of POST /org.
type CreateOrgRequest struct {
	Name        string `json:"name"`
	GroupID     string `json:"groupId"`
	SourceOrgID string `json:"sourceOrgId,omitempty"`
}

// ImportFile names one manifest to import.
type ImportFile struct {
	Path string `json:"path"`
}

// ImportRequest is the body of POST /org/{orgId}/integrations/{integrationId}/import.
// Target is marshalled as given: the caller sends only the keys Snyk accepts.
type ImportRequest struct {
	Target         json.RawMessage `json:"target"`
	Files          []ImportFile    `json:"files,omitempty"`
	ExclusionGlobs *string         `json:"exclusionGlobs,omitempty"`
}

// Job statuses of an import job.
const (
	JobPending  = "pending"
	JobComplete = "complete"
	JobFailed   = "failed"
)

// ImportJob is the body of GET <Location> for an import job.
type ImportJob struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Created string      `json:"created,omitempty"`
	Logs    []ImportLog `json:"logs"`
}

// ImportLog is one target's log inside an import job.
type ImportLog struct {
	Name     string            `json:"name"`
	Created  string            `json:"created,omitempty"`
	Status   string            `json:"status"`
	Projects []ImportedProject `json:"projects"`
}

// ImportedProject is one project result of an import job.
type ImportedProject struct {
	TargetFile  string `json:"targetFile"`
	Success     bool   `json:"success"`
	ProjectURL  string `json:"projectUrl"`
	UserMessage string `json:"userMessage,omitempty"`
}

// Project is a Snyk project as listed by REST GET /rest/orgs/{orgId}/projects.
type Project struct {
	ID     string
	Name   string // e.g. "workspace/repo:path/package.json"
	Origin string // integration type, e.g. "bitbucket-cloud"
	Branch string // target reference, may be empty

	// What sync needs besides (list:imported ignores them).
	Type       string // e.g. "npm", "sast", "dockerfile"
	TargetFile string // manifest path, e.g. "web/package.json"
	Status     string // "active" or "inactive"
	Created    string // RFC 3339
	TargetID   string // relationships.target.data.id
}

// ProjectListOptions narrows the REST project listing.
type ProjectListOptions struct {
	// Origins, when exactly one is given, is sent as `origins=`; otherwise
	// filtering happens client-side.
	Origins []string
}
