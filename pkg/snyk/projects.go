package snyk

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ProjectsPerPage is the page size of [Client.ListProjectsIter].
const ProjectsPerPage = 100

// projectData is one project of REST GET /orgs/{orgId}/projects (JSON:API).
type projectData struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes struct {
		Name            string `json:"name"`
		Type            string `json:"type"`
		Origin          string `json:"origin"`
		TargetFile      string `json:"target_file"`
		TargetReference string `json:"target_reference"`
		// targetReference is how pre-GA versions spelled it.
		TargetReferenceBeta string `json:"targetReference"`
		Status              string `json:"status"`
		Created             string `json:"created"`
	} `json:"attributes"`
	Relationships struct {
		Target struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		} `json:"target"`
	} `json:"relationships"`
}

func (d projectData) project() Project {
	p := Project{
		ID:         d.ID,
		Name:       d.Attributes.Name,
		Origin:     d.Attributes.Origin,
		Branch:     cmp.Or(d.Attributes.TargetReference, d.Attributes.TargetReferenceBeta),
		Type:       d.Attributes.Type,
		TargetFile: d.Attributes.TargetFile,
		Status:     d.Attributes.Status,
		Created:    d.Attributes.Created,
		TargetID:   d.Relationships.Target.Data.ID,
	}
	return p
}

// ListProjectsIter lists an org's projects, all pages, [ProjectsPerPage] at a
// time, following `links.next` to the last page. When opts names exactly
// one origin it is sent as `origins=`; any origins given are also filtered
// client-side. The listing must be whole: a project or a page served twice,
// or a listing past the caps, ends it with an *listing.IncompleteError. On
// an error it yields one (zero Project, err) and stops.
//
// Snyk REST API: GET /rest/orgs/{orgId}/projects?version=…&limit=100
// (https://docs.snyk.io/snyk-api/reference/projects).
func (c *Client) ListProjectsIter(ctx context.Context, orgID string, opts *ProjectListOptions) iter.Seq2[Project, error] {
	var origins []string
	if opts != nil {
		origins = slices.Clone(opts.Origins)
	}
	return func(yield func(Project, error) bool) {
		if err := requireID("org id", orgID); err != nil {
			yield(Project{}, err)
			return
		}
		q := url.Values{"version": {c.restVersion}, "limit": {strconv.Itoa(restLimit(ProjectsPerPage))}}
		if len(origins) == 1 {
			q.Set("origins", origins[0])
		}
		first, err := c.restListURL("orgs/"+url.PathEscape(orgID)+"/projects", q)
		if err != nil {
			yield(Project{}, err)
			return
		}
		for d, err := range listREST(ctx, c, first, "projects of org "+orgID, func(d projectData) string { return d.ID }) {
			if err != nil {
				yield(Project{}, err)
				return
			}
			p := d.project()
			if len(origins) > 0 && !slices.Contains(origins, p.Origin) {
				continue
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// resolveRESTNext turns a JSON:API `links.next` into an absolute URL on the
// REST host. Snyk sends it relative to the host ("/rest/orgs/…") or relative
// to the REST base ("/orgs/…"); an absolute link is followed only on the REST
// base's scheme and host, otherwise its path is re-rooted there, so the token
// never goes to another host. The version parameter is kept, or added back.
func (c *Client) resolveRESTNext(next string) (*url.URL, error) {
	n, err := url.Parse(strings.TrimSpace(next))
	if err != nil {
		return nil, fmt.Errorf("snyk: links.next %q is not a URL: %w", next, err)
	}
	var u *url.URL
	switch {
	case n.IsAbs() && strings.EqualFold(n.Scheme, c.restURL.Scheme) && strings.EqualFold(n.Host, c.restURL.Host):
		u = n
	default:
		p := n.EscapedPath()
		if !strings.HasPrefix(p, c.restURL.EscapedPath()) {
			p = strings.TrimLeft(p, "/")
			if rest, ok := strings.CutPrefix(p, "rest/"); ok {
				p = rest
			}
			p = c.restURL.EscapedPath() + p
		}
		ref, err := url.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("snyk: links.next %q: %w", next, err)
		}
		ref.RawQuery = n.RawQuery
		u = c.restURL.ResolveReference(ref)
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if q := u.Query(); q.Get("version") == "" {
		q.Set("version", c.restVersion)
		u.RawQuery = q.Encode()
	}
	return u, nil
}
