package bitbucket

import (
	"cmp"
	"context"
	"iter"
	"strconv"
	"strings"
	"time"
)

// repositoryFields is the partial-response list for repository pages: only
// what [Repository] holds, plus `next` so pagination keeps working.
const repositoryFields = "next,size,values.slug,values.name,values.full_name,values.is_private," +
	"values.mainbranch.name,values.parent.full_name,values.updated_on," +
	"values.project.key,values.project.name,values.project.uuid,values.workspace.slug,values.uuid"

// repositoryJSON is a repository as Bitbucket sends it.
type repositoryJSON struct {
	Slug       string    `json:"slug"`
	UUID       string    `json:"uuid"`
	Name       string    `json:"name"`
	FullName   string    `json:"full_name"`
	IsPrivate  bool      `json:"is_private"`
	UpdatedOn  time.Time `json:"updated_on"`
	MainBranch *struct {
		Name string `json:"name"`
	} `json:"mainbranch"`
	Parent *struct {
		FullName string `json:"full_name"`
	} `json:"parent"`
	Project   *Project `json:"project"`
	Workspace *struct {
		Slug string `json:"slug"`
	} `json:"workspace"`
}

// id tells repositories apart in a listing: the uuid, else the name.
func (r repositoryJSON) id() string {
	if r.UUID != "" {
		return r.UUID
	}
	return cmp.Or(r.FullName, r.Slug)
}

// toRepository converts r; workspace is the slug or {uuid} the listing was
// for, used only when the body does not name the workspace.
func (r repositoryJSON) toRepository(workspace string) Repository {
	repo := Repository{
		Slug:      r.Slug,
		UUID:      r.UUID,
		Name:      r.Name,
		FullName:  r.FullName,
		IsPrivate: r.IsPrivate,
		IsFork:    r.Parent != nil,
		UpdatedOn: r.UpdatedOn,
	}
	owner, slug, _ := strings.Cut(r.FullName, "/")
	if repo.Slug == "" {
		repo.Slug = slug
	}
	switch {
	case r.Workspace != nil && r.Workspace.Slug != "":
		repo.Workspace = r.Workspace.Slug
	case owner != "" && slug != "":
		repo.Workspace = owner
	default:
		repo.Workspace = workspace
	}
	if repo.FullName == "" && repo.Slug != "" {
		repo.FullName = repo.Workspace + "/" + repo.Slug
	}
	if r.MainBranch != nil {
		repo.MainBranch = r.MainBranch.Name
	}
	if r.Project != nil {
		repo.Project = *r.Project
	}
	return repo
}

// repositoriesURL is the first page of a workspace's repositories.
func (c *Client) repositoriesURL(workspace string, opts *RepositoryListOptions) (string, error) {
	seg, err := pathSegment("workspace", workspace)
	if err != nil {
		return "", err
	}
	pageLen, query := 100, ""
	if opts != nil {
		if opts.PageLen > 0 {
			pageLen = opts.PageLen
		}
		query = opts.Query
	}
	return c.endpoint("repositories/"+seg,
		"pagelen", strconv.Itoa(pageLen),
		"fields", repositoryFields,
		"q", query)
}

// ListRepositoriesIter yields every repository of workspace (a slug or a
// `{uuid}`), page by page in order, with pagelen=100 and a trimmed `fields`
// list; opts.Query is sent as `q=` so Bitbucket filters server-side. It
// yields at most one error, then stops; a 404 becomes an [*ErrorResponse]
// naming the workspace.
//
// Bitbucket API: GET /2.0/repositories/{workspace}
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-get)
func (c *Client) ListRepositoriesIter(ctx context.Context, workspace string, opts *RepositoryListOptions) iter.Seq2[Repository, error] {
	first, err := c.repositoriesURL(workspace, opts)
	if err != nil {
		return func(yield func(Repository, error) bool) { yield(Repository{}, err) }
	}
	return paginate(ctx, c, first, workspace, "repositories of workspace "+workspace, repositoryJSON.id, func(r repositoryJSON) (Repository, bool) {
		return r.toRepository(workspace), true
	})
}

// ListRepositories fetches one page of workspace's repositories: the
// first (built from opts) when next is empty, else next, a
// [Response.NextURL] from the page before.
//
// Bitbucket API: GET /2.0/repositories/{workspace}
func (c *Client) ListRepositories(ctx context.Context, workspace string, opts *RepositoryListOptions, next string) ([]Repository, *Response, error) {
	u := next
	if u != "" {
		if err := c.checkNext(u); err != nil {
			return nil, nil, err
		}
	} else {
		var err error
		if u, err = c.repositoriesURL(workspace, opts); err != nil {
			return nil, nil, err
		}
	}
	items, resp, err := fetchPage[repositoryJSON](ctx, c, u, workspace)
	if err != nil {
		return nil, resp, err
	}
	out := make([]Repository, len(items))
	for i, it := range items {
		out[i] = it.toRepository(workspace)
	}
	return out, resp, nil
}
