package sim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// snykVersion is the shape of the REST `version` parameter.
var snykVersion = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(~beta|~experimental)?$`)

// snykTypes maps a manifest's file name to a Snyk project type.
var snykTypes = map[string]string{
	"package.json": "npm", "package-lock.json": "npm", "yarn.lock": "yarn",
	"pom.xml": "maven", "build.gradle": "gradle", "requirements.txt": "pip",
	"Pipfile": "pipenv", "go.mod": "gomodules", "Gemfile.lock": "rubygems",
	"Gemfile": "rubygems", "composer.lock": "composer", "Dockerfile": "dockerfile",
}

// addProject makes p listed by REST for org o, filling its empty fields.
// Callers hold st.mu (or own st).
func (st *snykState) addProject(o *snykOrgState, p SnykProject) *SnykProject {
	if p.ID == "" {
		p.ID = st.newID()
	}
	if p.Origin == "" {
		p.Origin = "bitbucket-cloud"
	}
	if p.TargetFile == "" {
		if _, file, ok := strings.Cut(p.Name, ":"); ok {
			p.TargetFile = file
		}
	}
	if p.Type == "" {
		p.Type = snykTypes[path.Base(p.TargetFile)]
		if p.Type == "" {
			p.Type = "npm"
		}
	}
	if p.Status == "" {
		p.Status = "active"
	}
	if p.Created == "" {
		p.Created = st.now()
	}
	p.TargetID = st.targetID(o, p.Name)
	o.projects = append(o.projects, &p)
	o.byName[p.Name+"\x00"+p.Branch] = &p
	return &p
}

// snykProjectJSON is a project as REST lists it (JSON:API resource).
type snykProjectJSON struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes struct {
		Name                string         `json:"name"`
		Type                string         `json:"type"`
		TargetFile          string         `json:"target_file"`
		TargetReference     *string        `json:"target_reference"`
		Origin              string         `json:"origin"`
		Created             string         `json:"created"`
		Status              string         `json:"status"`
		BusinessCriticality []string       `json:"business_criticality"`
		Environment         []string       `json:"environment"`
		Lifecycle           []string       `json:"lifecycle"`
		Tags                []string       `json:"tags"`
		ReadOnly            bool           `json:"read_only"`
		Settings            map[string]any `json:"settings"`
	} `json:"attributes"`
	Relationships map[string]any `json:"relationships"`
}

// listProjects serves REST GET /rest/orgs/{orgId}/projects
// ?version=&limit=&starting_after=&origins=.
func (st *snykState) listProjects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, after, ok := restPageQuery(w, q, "p:")
	if !ok {
		return
	}
	origins := map[string]bool{}
	for _, v := range q["origins"] {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				origins[o] = true
			}
		}
	}

	orgID := r.PathValue("orgId")
	repeat, times := st.firstPageRepeat(r, orgID, "projects")
	if repeat > 0 {
		after = -1
	}
	st.mu.Lock()
	o := st.orgs[orgID]
	if o == nil {
		st.mu.Unlock()
		snykRESTError(w, http.StatusNotFound, "Not Found", "Org "+orgID+" not found")
		return
	}
	data := []snykProjectJSON{}
	last, more := -1, false
	for i := after + 1; i < len(o.projects); i++ {
		p := o.projects[i]
		if len(origins) > 0 && !origins[p.Origin] {
			continue
		}
		if len(data) == limit {
			more = true
			break
		}
		j := snykProjectResource(orgID, p)
		j.Attributes.Name = st.s.hostile.projectName(orgID, p.Name, p.Branch)
		data = append(data, j)
		last = i
	}
	st.mu.Unlock()

	st.s.add("snyk.projects_pages", 1)
	links := map[string]any{"self": st.restLink(r, r.URL.Query())}
	st.nextLink(r, links, "p:", after, last, repeat, times, more)
	w.Header().Set("Content-Type", "application/vnd.api+json")
	snykJSON(w, http.StatusOK, map[string]any{
		"jsonapi": map[string]string{"version": "1.0"},
		"data":    data,
		"links":   links,
	})
}

// restLink builds a link to the request's path with query q, in the form
// SnykConfig.RESTLinks asks for.
func (st *snykState) restLink(r *http.Request, q url.Values) any {
	p := r.URL.Path + "?" + q.Encode()
	switch st.cfg.RESTLinks {
	case "rest":
		return p
	case "absolute":
		return st.base(r) + p
	case "object":
		return map[string]any{"href": strings.TrimPrefix(p, "/rest"), "meta": map[string]any{}}
	default:
		return strings.TrimPrefix(p, "/rest")
	}
}

func snykProjectResource(orgID string, p *SnykProject) snykProjectJSON {
	var j snykProjectJSON
	j.ID, j.Type = p.ID, "project"
	a := &j.Attributes
	a.Name, a.Type, a.TargetFile, a.Origin = p.Name, p.Type, p.TargetFile, p.Origin
	a.Created, a.Status = p.Created, p.Status
	if p.Branch != "" {
		b := p.Branch
		a.TargetReference = &b
	}
	a.BusinessCriticality, a.Environment, a.Lifecycle, a.Tags = []string{}, []string{}, []string{}, []string{}
	a.Settings = map[string]any{"recurring_tests": map[string]string{"frequency": "daily"}}
	j.Relationships = map[string]any{
		"organization": map[string]any{"data": map[string]string{"type": "org", "id": orgID}},
	}
	if p.TargetID != "" {
		j.Relationships["target"] = map[string]any{"data": map[string]string{"type": "target", "id": p.TargetID}}
	}
	return j
}

// SeedProject adds a project to an org (by id or name) as if it had been
// imported before the run; p's empty fields are filled in.
func (s *Server) SeedProject(org string, p SnykProject) (SnykProject, error) {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	o := st.orgByIDOrName(org)
	if o == nil {
		return SnykProject{}, fmt.Errorf("sim: no Snyk org %q", org)
	}
	return *st.addProject(o, p), nil
}

// SnykProjects returns the projects REST lists for an org, in order.
func (s *Server) SnykProjects(orgID string) []SnykProject {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	o := st.orgs[orgID]
	if o == nil {
		return nil
	}
	out := make([]SnykProject, len(o.projects))
	for i, p := range o.projects {
		out[i] = *p
	}
	return out
}

// restPageQuery checks a REST listing's version and reads its page
// parameters: limit (default 10, 1 to 100) and the starting_after cursor,
// base64 of cursorPrefix + the index of the last item served (-1: from the
// start). On a bad parameter it has answered 400 and ok is false.
func restPageQuery(w http.ResponseWriter, q url.Values, cursorPrefix string) (limit, after int, ok bool) {
	if v := q.Get("version"); v == "" {
		snykRESTError(w, http.StatusBadRequest, "Bad Request", "missing required query parameter 'version'")
		return 0, 0, false
	} else if !snykVersion.MatchString(v) {
		snykRESTError(w, http.StatusBadRequest, "Bad Request", "invalid version "+strconv.Quote(v))
		return 0, 0, false
	}
	limit = 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			snykRESTError(w, http.StatusBadRequest, "Bad Request", "limit must be an integer between 1 and 100")
			return 0, 0, false
		}
		limit = n
	}
	after = -1
	if c := q.Get("starting_after"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), cursorPrefix))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), cursorPrefix) || n < 0 {
			snykRESTError(w, http.StatusBadRequest, "Bad Request", "invalid starting_after cursor")
			return 0, 0, false
		}
		after = n
	}
	return limit, after, true
}
