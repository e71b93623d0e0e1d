package sim

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"maps"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// snykTargetKeys are the target keys Snyk accepts (snyk-api-import's
// targetProps plus GitLab's id); anything else is a 400.
var snykTargetKeys = map[string]bool{
	"name": true, "appId": true, "functionId": true, "slugId": true, "projectKey": true,
	"repoSlug": true, "owner": true, "branch": true, "id": true,
}

// snykManifests are the manifests a simulated import finds, in order.
var snykManifests = []struct{ dir, file string }{
	{"", "package.json"}, {"backend", "pom.xml"}, {"tools", "requirements.txt"},
	{"api", "go.mod"}, {"web", "Gemfile.lock"}, {"android", "build.gradle"},
}

// snykJobState is an import job and the results its completion reveals.
type snykJobState struct {
	SnykJob
	created  string
	due      time.Time // end of its running time (snyk_jobtime.go)
	logName  string
	fail     bool
	done     bool
	results  []snykProjectResult
	projects []*SnykProject // successful projects, listed by REST once complete
	org      *snykOrgState
}

// snykProjectResult is one entry of logs[].projects[].
type snykProjectResult struct {
	TargetFile  string `json:"targetFile"`
	Success     bool   `json:"success"`
	ProjectURL  string `json:"projectUrl"`
	UserMessage string `json:"userMessage,omitempty"`
}

// snykImportBody is the body of an import POST after validation.
type snykImportBody struct {
	owner, name, branch string
	files               []string
}

// parseImportBody validates an import body as Snyk does; ok is false for a
// body Snyk answers 400 invalidParamData.
func parseImportBody(raw []byte) (b snykImportBody, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return b, false
	}
	for k := range top {
		if k != "target" && k != "files" && k != "exclusionGlobs" {
			return b, false
		}
	}
	var target map[string]any
	if json.Unmarshal(top["target"], &target) != nil || target == nil {
		return b, false
	}
	for k, v := range target {
		if !snykTargetKeys[k] {
			return b, false
		}
		if _, isStr := v.(string); !isStr && k != "id" {
			return b, false
		}
	}
	b.owner, _ = target["owner"].(string)
	b.name, _ = target["name"].(string)
	b.branch, _ = target["branch"].(string)
	if b.owner == "" || b.name == "" {
		return b, false
	}
	if f, present := top["files"]; present && !bytes.Equal(f, []byte("null")) {
		var files []struct {
			Path string `json:"path"`
		}
		if json.Unmarshal(f, &files) != nil {
			return b, false
		}
		for _, x := range files {
			if x.Path == "" {
				return b, false
			}
			b.files = append(b.files, x.Path)
		}
	}
	if g, present := top["exclusionGlobs"]; present && !bytes.Equal(g, []byte("null")) {
		var globs string
		if json.Unmarshal(g, &globs) != nil {
			return b, false
		}
		parts := strings.Split(globs, ",")
		if len(parts) > 10 {
			return b, false
		}
		for _, p := range parts {
			if len(strings.TrimSpace(p)) > 100 {
				return b, false
			}
		}
	}
	return b, true
}

// importTarget serves POST /org/{orgId}/integrations/{integrationId}/import.
func (st *snykState) importTarget(w http.ResponseWriter, r *http.Request) {
	orgID, intID := r.PathValue("orgId"), r.PathValue("integrationId")
	o := st.org(w, r)
	if o == nil {
		return
	}
	origin, ok := o.intTypes[intID] // immutable after creation
	if !ok {
		snykV1Error(w, http.StatusNotFound, "Not found", "Integration not found")
		return
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
		snykV1Error(w, http.StatusBadRequest, "Bad Request", "Could not read body")
		return
	}
	body, ok := parseImportBody(buf.Bytes())
	if !ok {
		snykInvalidParam(w)
		return
	}
	base := st.cfg.LocationBase
	if base == "" {
		base = st.base(r)
	}
	base = strings.TrimRight(base, "/")

	st.mu.Lock()
	then5xx := st.cfg.AcceptThen5xx > 0 && st.rng.Float64() < st.cfg.AcceptThen5xx
	j := st.newJob(o, intID, origin, body, then5xx)
	st.mu.Unlock()

	if then5xx {
		st.s.add("snyk.accepted_then_5xx", 1)
		snykV1Error(w, http.StatusInternalServerError, "Internal Server Error", "Error calling Snyk api")
		return
	}
	prefix := "/v1"
	if st.cfg.LocationForm == "api-v1" {
		prefix = "/api/v1"
	}
	w.Header().Set("Location", base+prefix+"/org/"+orgID+"/integrations/"+intID+"/import/"+j.ID)
	snykJSON(w, http.StatusCreated, struct{}{})
}

// newJob creates and counts an import job. A job whose POST is answered 500
// (then5xx) is not counted in flight: no client learns its Location, so no
// poll would ever end it. Callers hold st.mu.
func (st *snykState) newJob(o *snykOrgState, intID, origin string, b snykImportBody, then5xx bool) *snykJobState {
	key := SnykTargetKey(o.ID, b.owner, b.name, b.branch)
	st.jobSeq++
	j := &snykJobState{
		SnykJob: SnykJob{ID: st.newID(), OrgID: o.ID, IntegrationID: intID, Key: key, Status: "pending",
			AcceptedThen5xx: then5xx},
		created: st.now(),
		logName: b.owner + "/" + b.name,
		fail:    (st.cfg.FailJobEvery > 0 && st.jobSeq%int64(st.cfg.FailJobEvery) == 0) || st.s.hostile.failsImport(b.owner, b.name),
		org:     o,
	}
	st.jobs[j.ID] = j
	st.jobOrder = append(st.jobOrder, j)
	st.startClock(j)

	st.s.add("snyk.imports", 1)
	if st.byTarget[key] > 0 {
		st.s.add("snyk.duplicate_imports", 1)
	}
	if st.doneTargets[key] {
		st.s.add("snyk.redundant_imports", 1)
	}
	st.byTarget[key]++
	if !j.fail {
		st.doneTargets[key] = true
	}
	if !then5xx {
		st.inFlight++
		st.s.add("snyk.jobs_in_flight", 1)
		st.s.max("snyk.max_jobs_in_flight", st.inFlight)
	}

	if j.fail {
		return j
	}
	for _, file := range st.importManifests(key, b) {
		st.projectSeq++
		if st.cfg.FailProjectEvery > 0 && st.projectSeq%int64(st.cfg.FailProjectEvery) == 0 {
			j.results = append(j.results, snykProjectResult{
				TargetFile:  file,
				Success:     false,
				ProjectURL:  "",
				UserMessage: "Could not parse " + path.Base(file) + ": unexpected token (simulated failure)",
			})
			continue
		}
		name := j.logName + ":" + file
		p := o.byName[name+"\x00"+b.branch]
		if p == nil {
			// Re-importing a target re-tests its projects: same ids.
			p = &SnykProject{ID: st.newID(), Name: name, Origin: origin, Branch: b.branch, TargetFile: file}
		}
		j.projects = append(j.projects, p)
		j.results = append(j.results, snykProjectResult{
			TargetFile: file,
			Success:    true,
			ProjectURL: "https://app.snyk.io/org/" + o.Slug + "/project/" + p.ID,
		})
	}
	return j
}

// manifests lists the manifests an import of key finds: the requested files,
// else ProjectsPerTarget (or 1–3) of snykManifests.
func (st *snykState) manifests(key string, files []string) []string {
	if len(files) > 0 {
		return files
	}
	n := st.cfg.ProjectsPerTarget
	if n == 0 {
		h := fnv.New32a()
		h.Write([]byte(key))
		n = 1 + int(h.Sum32()%3)
	}
	out := make([]string, 0, max(n, 0))
	for i := range n {
		m := snykManifests[i%len(snykManifests)]
		dir := m.dir
		if i >= len(snykManifests) {
			dir = "services/svc-" + strconv.Itoa(i)
		}
		out = append(out, path.Join(dir, m.file))
	}
	return out
}

// pollJob serves GET /org/{orgId}/integrations/{integrationId}/import/{jobId}.
func (st *snykState) pollJob(w http.ResponseWriter, r *http.Request) {
	st.s.add("snyk.polls", 1)
	st.mu.Lock()
	j := st.jobs[r.PathValue("jobId")]
	if j == nil || j.OrgID != r.PathValue("orgId") || j.IntegrationID != r.PathValue("integrationId") {
		st.mu.Unlock()
		snykV1Error(w, http.StatusNotFound, "Not found", "Import job not found")
		return
	}
	j.Polls++
	if !j.done && j.Polls > st.cfg.PendingPolls && !st.running(j) {
		st.finish(j)
	}
	type logJSON struct {
		Name     string              `json:"name"`
		Created  string              `json:"created"`
		Status   string              `json:"status"`
		Projects []snykProjectResult `json:"projects"`
	}
	lg := logJSON{Name: j.logName, Created: j.created, Status: j.Status, Projects: []snykProjectResult{}}
	switch {
	case j.done && j.fail:
		lg.Status = "failed" // inside a complete job unless FailWholeJob
	case j.Status == "complete":
		lg.Projects = j.results
	}
	resp := struct {
		ID      string    `json:"id"`
		Status  string    `json:"status"`
		Created string    `json:"created"`
		Logs    []logJSON `json:"logs"`
	}{j.ID, j.Status, j.created, []logJSON{lg}}
	st.mu.Unlock()
	snykJSON(w, http.StatusOK, resp)
}

// finish ends a job: complete (its projects become listed) or failed.
// Callers hold st.mu.
func (st *snykState) finish(j *snykJobState) {
	j.done = true
	if !j.AcceptedThen5xx {
		st.inFlight--
		st.s.add("snyk.jobs_in_flight", -1)
	}
	if j.fail {
		// snyk.jobs_failed counts failed imports in either form.
		j.Status = "complete"
		if st.cfg.FailWholeJob {
			j.Status = "failed"
		}
		st.s.add("snyk.jobs_failed", 1)
		return
	}
	j.Status = "complete"
	st.s.add("snyk.jobs_complete", 1)
	for _, res := range j.results {
		if !res.Success {
			st.s.add("snyk.projects_failed", 1)
		}
	}
	for _, p := range j.projects {
		if j.org.byName[p.Name+"\x00"+p.Branch] == nil {
			st.addProject(j.org, *p)
		}
	}
}

// ImportedTargets returns, per target key (SnykTargetKey), how many import
// jobs were created for it.
func (s *Server) ImportedTargets() map[string]int {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	return maps.Clone(st.byTarget)
}

// SnykJobs returns every import job in creation order.
func (s *Server) SnykJobs() []SnykJob {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]SnykJob, len(st.jobOrder))
	for i, j := range st.jobOrder {
		out[i] = j.SnykJob
	}
	return out
}
