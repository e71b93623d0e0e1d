package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// What `bbimport sync` needs of the simulated Snyk: targets (one per
// repository, derived from project names "workspace/repo:file"), project
// branch update, deactivation and deletion.
//
// Counters (a contract, like snyk.go's):
//
//	snyk.targets_pages         pages served by REST GET /rest/orgs/{orgId}/targets
//	snyk.projects_updated      v1 PUT /org/{orgId}/project/{projectId} answered 200
//	snyk.projects_deactivated  v1 POST /org/{orgId}/project/{projectId}/deactivate answered 200
//	snyk.projects_deleted      REST DELETE /rest/orgs/{orgId}/projects/{projectId} answered 204
//
// SnykWrites sums every counter of a Snyk write.

// snykTargets are an org's targets: display name (lower-cased) → id.
type snykTargets struct {
	ids   map[string]string
	order []snykTargetState
}

type snykTargetState struct {
	id, name, created string
}

// targetID returns the id of the target of project name, creating the
// target on first use. Callers hold st.mu (or own st).
func (st *snykState) targetID(o *snykOrgState, projectName string) string {
	name, _, _ := strings.Cut(projectName, ":")
	key := strings.ToLower(name)
	if o.targets.ids == nil {
		o.targets.ids = map[string]string{}
	}
	if id, ok := o.targets.ids[key]; ok {
		return id
	}
	id := st.newID()
	o.targets.ids[key] = id
	o.targets.order = append(o.targets.order, snykTargetState{id: id, name: name, created: st.now()})
	return id
}

// importManifests are the manifests an import finds: the requested files,
// else the generated ones plus what Server.ChangeEstate added to the
// repository. Callers hold st.mu; the Bitbucket overlay lock is taken
// inside it and never the other way round.
func (st *snykState) importManifests(key string, b snykImportBody) []string {
	files := st.manifests(key, b.files)
	if len(b.files) == 0 {
		for _, f := range st.s.bb.extraManifests(b.owner, b.name) {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return files
}

func (st *snykState) registerSync(mux *http.ServeMux) {
	mux.HandleFunc("GET /rest/orgs/{orgId}/targets", st.rest(st.listTargets))
	mux.HandleFunc("DELETE /rest/orgs/{orgId}/projects/{projectId}", st.rest(st.deleteProject))
	for _, p := range []string{"/v1", "/api/v1"} {
		mux.HandleFunc("PUT "+p+"/org/{orgId}/project/{projectId}", st.v1(st.updateProject))
		mux.HandleFunc("POST "+p+"/org/{orgId}/project/{projectId}/deactivate", st.v1(st.deactivateProject))
	}
}

// listTargets serves REST GET /rest/orgs/{orgId}/targets?version=&limit=
// &starting_after=: the targets that have at least one project
// (exclude_empty's default).
func (st *snykState) listTargets(w http.ResponseWriter, r *http.Request) {
	if st.s.hostile.isEndless(r.PathValue("orgId")) {
		st.endlessTargets(w, r, r.PathValue("orgId"))
		return
	}
	limit, after, ok := restPageQuery(w, r.URL.Query(), "t:")
	if !ok {
		return
	}
	orgID := r.PathValue("orgId")
	repeat, times := st.firstPageRepeat(r, orgID, "targets")
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
	used := map[string]string{} // target id → the branch of its first project
	for _, p := range o.projects {
		if _, ok := used[p.TargetID]; !ok {
			used[p.TargetID] = p.Branch
		}
	}
	data := []any{}
	last, more := -1, false
	for i := after + 1; i < len(o.targets.order); i++ {
		t := o.targets.order[i]
		branch, ok := used[t.id]
		if !ok {
			continue
		}
		if len(data) == limit {
			more = true
			break
		}
		var display any
		if name, _, ok := st.s.hostile.targetName(orgID, t.name, branch); ok {
			display = name
		}
		data = append(data, map[string]any{
			"id": t.id, "type": "target",
			"attributes": map[string]any{"display_name": display, "url": nil, "is_private": true, "created_at": t.created},
			"relationships": map[string]any{
				"organization": map[string]any{"data": map[string]string{"type": "org", "id": orgID}},
			},
		})
		last = i
	}
	st.mu.Unlock()
	st.s.add("snyk.targets_pages", 1)
	links := map[string]any{"self": st.restLink(r, r.URL.Query())}
	st.nextLink(r, links, "t:", after, last, repeat, times, more)
	w.Header().Set("Content-Type", "application/vnd.api+json")
	snykJSON(w, http.StatusOK, map[string]any{"jsonapi": map[string]string{"version": "1.0"}, "data": data, "links": links})
}

// project finds a project of the request's org; callers hold st.mu.
func (st *snykState) project(r *http.Request) (*snykOrgState, int) {
	o := st.orgs[r.PathValue("orgId")]
	if o == nil {
		return nil, -1
	}
	id := r.PathValue("projectId")
	for i, p := range o.projects {
		if p.ID == id {
			return o, i
		}
	}
	return o, -1
}

// updateProject serves v1 PUT /org/{orgId}/project/{projectId}; only
// {"branch"} is supported.
func (st *snykState) updateProject(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
		snykV1Error(w, http.StatusBadRequest, "Bad Request", "Could not read body")
		return
	}
	var body struct {
		Branch *string `json:"branch"`
	}
	if json.Unmarshal(buf.Bytes(), &body) != nil || body.Branch == nil || *body.Branch == "" {
		snykInvalidParam(w)
		return
	}
	st.mu.Lock()
	o, i := st.project(r)
	if i < 0 {
		st.mu.Unlock()
		snykV1Error(w, http.StatusNotFound, "Not found", "Project not found")
		return
	}
	p := o.projects[i]
	o.unindex(p)
	p.Branch = *body.Branch
	o.byName[p.Name+"\x00"+p.Branch] = p
	out := snykProjectResource(o.ID, p)
	st.mu.Unlock()
	st.s.add("snyk.projects_updated", 1)
	snykJSON(w, http.StatusOK, map[string]any{"id": out.ID, "name": out.Attributes.Name, "branch": p.Branch})
}

// deactivateProject serves v1 POST /org/{orgId}/project/{projectId}/deactivate.
func (st *snykState) deactivateProject(w http.ResponseWriter, r *http.Request) {
	st.mu.Lock()
	o, i := st.project(r)
	if i < 0 {
		st.mu.Unlock()
		snykV1Error(w, http.StatusNotFound, "Not found", "Project not found")
		return
	}
	o.projects[i].Status = "inactive"
	st.mu.Unlock()
	st.s.add("snyk.projects_deactivated", 1)
	snykJSON(w, http.StatusOK, struct{}{})
}

// deleteProject serves REST DELETE /rest/orgs/{orgId}/projects/{projectId}.
func (st *snykState) deleteProject(w http.ResponseWriter, r *http.Request) {
	if v := r.URL.Query().Get("version"); !snykVersion.MatchString(v) {
		snykRESTError(w, http.StatusBadRequest, "Bad Request", "missing or invalid query parameter 'version'")
		return
	}
	st.mu.Lock()
	o, i := st.project(r)
	if i < 0 {
		st.mu.Unlock()
		snykRESTError(w, http.StatusNotFound, "Not Found", "Project not found")
		return
	}
	p := o.projects[i]
	o.unindex(p)
	o.projects = slices.Delete(o.projects, i, i+1)
	st.mu.Unlock()
	st.s.add("snyk.projects_deleted", 1)
	w.WriteHeader(http.StatusNoContent)
}

// SnykWrites is the number of Snyk writes served: orgs created,
// notification settings, import jobs, project updates, deactivations and
// deletions (a dry run must leave it at 0).
func (s *Server) SnykWrites() int64 {
	var n int64
	for _, c := range []string{"snyk.orgs_created", "snyk.notification_settings", "snyk.imports",
		"snyk.projects_updated", "snyk.projects_deactivated", "snyk.projects_deleted"} {
		n += s.Count(c)
	}
	return n
}

// unindex drops p from the name index (before its branch changes or it is
// deleted). Callers hold st.mu.
func (o *snykOrgState) unindex(p *SnykProject) {
	if o.byName[p.Name+"\x00"+p.Branch] == p {
		delete(o.byName, p.Name+"\x00"+p.Branch)
	}
}
