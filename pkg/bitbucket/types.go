package bitbucket

import "time"

// Workspace is a Bitbucket Cloud workspace as listed by GET /2.0/user/workspaces
// (the nested `workspace` object of each item).
type Workspace struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// Project is the Bitbucket project a repository belongs to.
type Project struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// Repository is the subset of a Bitbucket repository that bbimport uses.
type Repository struct {
	// Slug is the URL-safe repository identifier; it is what Snyk's import
	// target calls `name`.
	Slug string
	// UUID is the braced repository UUID; it survives a rename (sync tells
	// renames from deletions by it).
	UUID string
	// Name is the display name, which may differ from Slug.
	Name     string
	FullName string
	// Workspace is the slug of the owning workspace.
	Workspace string
	IsPrivate bool
	// MainBranch is empty for an empty repository (Bitbucket sends
	// `mainbranch: null`).
	MainBranch string
	// IsFork is true when Bitbucket reports a `parent`.
	IsFork    bool
	UpdatedOn time.Time
	Project   Project
}

// RepositoryListOptions narrows GET /2.0/repositories/{workspace}.
type RepositoryListOptions struct {
	// Query is a BBQL expression sent as `q=` so Bitbucket filters
	// server-side (for example `updated_on>2024-01-01T00:00:00+00:00`).
	Query string
	// PageLen defaults to 100, the largest Bitbucket accepts.
	PageLen int
}
