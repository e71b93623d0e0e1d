package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
)

// snykSim starts a simulator with cfg as its Snyk half behind httptest.
func snykSim(t *testing.T, cfg sim.SnykConfig) (*sim.Server, *snykCaller) {
	t.Helper()
	s := sim.New(sim.Config{Snyk: cfg})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, &snykCaller{t: t, base: ts.URL, token: sim.SimSnykToken}
}

// snykCaller makes plain HTTP calls to the simulated Snyk.
type snykCaller struct {
	t     *testing.T
	base  string
	token string
}

// call sends method to path (relative to base, or absolute) with body as
// JSON and returns the status, headers and body.
func (c *snykCaller) call(method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.base + path
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "token "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// decode calls and decodes a JSON answer, failing unless it has status want.
func (c *snykCaller) decode(want int, method, path string, body, out any) http.Header {
	c.t.Helper()
	status, h, b := c.call(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return h
}

type snykJobJSON struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Created string `json:"created"`
	Logs    []struct {
		Name     string `json:"name"`
		Status   string `json:"status"`
		Projects []struct {
			TargetFile  string `json:"targetFile"`
			Success     bool   `json:"success"`
			ProjectURL  string `json:"projectUrl"`
			UserMessage string `json:"userMessage"`
		} `json:"projects"`
	} `json:"logs"`
}

// createOrg creates an org in the default group and returns its id and integrations.
func (c *snykCaller) createOrg(name string) (string, map[string]string) {
	c.t.Helper()
	var org struct{ ID string }
	c.decode(201, "POST", "/v1/org", map[string]string{"name": name, "groupId": sim.SimSnykGroupID}, &org)
	var ints map[string]string
	c.decode(200, "GET", "/v1/org/"+org.ID+"/integrations", nil, &ints)
	return org.ID, ints
}

// importTarget kicks off an import and returns the Location.
func (c *snykCaller) importTarget(orgID, intID, owner, name, branch string) string {
	c.t.Helper()
	body := map[string]any{"target": map[string]string{"owner": owner, "name": name, "branch": branch}}
	h := c.decode(201, "POST", "/v1/org/"+orgID+"/integrations/"+intID+"/import", body, nil)
	loc := h.Get("Location")
	if loc == "" {
		c.t.Fatal("201 without Location")
	}
	return loc
}

// pollUntilDone polls a Location until the job is not pending.
func (c *snykCaller) pollUntilDone(loc string) (snykJobJSON, int) {
	c.t.Helper()
	for n := 1; n <= 50; n++ {
		var job snykJobJSON
		c.decode(200, "GET", loc, nil, &job)
		if job.Status != "pending" {
			return job, n
		}
	}
	c.t.Fatalf("job %s still pending after 50 polls", loc)
	return snykJobJSON{}, 0
}

func TestSnykAuth(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{Token: "right"})
	for _, tok := range []string{"", "wrong"} {
		c.token = tok
		status, _, body := c.call("GET", "/v1/group/"+sim.SimSnykGroupID+"/orgs", nil)
		if status != 401 || !strings.Contains(string(body), `"message":"Not authorised"`) {
			t.Errorf("token %q: %d %s", tok, status, body)
		}
	}
	c.token = "wrong"
	if status, h, body := c.call("GET", "/rest/orgs/x/projects?version=2024-10-15", nil); status != 401 ||
		!strings.Contains(h.Get("Content-Type"), "vnd.api+json") {
		t.Errorf("REST with a wrong token: %d %s", status, body)
	}
	c.token = "right"
	c.decode(200, "GET", "/api/v1/group/"+sim.SimSnykGroupID+"/orgs", nil, nil)
	if got := s.Count("snyk.401"); got != 3 {
		t.Errorf("snyk.401 = %d, want 3", got)
	}
	if got := s.Count("snyk.requests"); got != 4 {
		t.Errorf("snyk.requests = %d, want 4", got)
	}
}

func TestSnykGroupOrgsPagination(t *testing.T) {
	orgs := make([]sim.SnykOrg, 250)
	for i := range orgs {
		orgs[i] = sim.SnykOrg{Name: fmt.Sprintf("org-%03d", i)}
	}
	s, c := snykSim(t, sim.SnykConfig{Groups: map[string]sim.SnykGroup{"g1": {Name: "Group One", Orgs: orgs}}})

	var names []string
	for _, prefix := range []string{"/v1", "/api/v1"} {
		names = names[:0]
		for page := 1; ; page++ {
			var resp struct {
				ID, Name, URL string
				Orgs          []struct {
					ID, Name, Slug, URL string
					Group               struct{ ID, Name string }
				}
			}
			c.decode(200, "GET", prefix+"/group/g1/orgs?perPage=100&page="+strconv.Itoa(page), nil, &resp)
			if resp.ID != "g1" || resp.Name != "Group One" || resp.URL == "" {
				t.Fatalf("group fields: %+v", resp)
			}
			for _, o := range resp.Orgs {
				if o.ID == "" || o.Slug == "" || o.URL == "" || o.Group.ID != "g1" {
					t.Fatalf("org fields: %+v", o)
				}
				names = append(names, o.Name)
			}
			if len(resp.Orgs) < 100 {
				break
			}
		}
		if len(names) != 250 || names[0] != "org-000" || names[249] != "org-249" {
			t.Fatalf("%s: listed %d orgs, first %q", prefix, len(names), names[0])
		}
	}
	if got := s.Count("snyk.orgs_listed_pages"); got != 6 {
		t.Errorf("snyk.orgs_listed_pages = %d, want 6", got)
	}
	if status, _, body := c.call("GET", "/v1/group/nope/orgs?perPage=100&page=1", nil); status != 404 ||
		!strings.Contains(string(body), `"code":404`) {
		t.Errorf("unknown group: %d %s", status, body)
	}
	if got := len(s.Orgs("g1")); got != 250 {
		t.Errorf("Orgs(g1) = %d", got)
	}
}

func TestSnykCreateOrgAndIntegrations(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{OrgsWithoutIntegration: []string{"bare"}})
	var org struct {
		ID, Name, Slug, URL, Created string
		Group                        struct{ ID, Name string }
	}
	c.decode(201, "POST", "/v1/org", map[string]string{"name": "Acme Workspace", "groupId": sim.SimSnykGroupID}, &org)
	if org.ID == "" || org.Name != "Acme Workspace" || org.Slug != "acme-workspace" || org.Created == "" ||
		org.Group.ID != sim.SimSnykGroupID || !strings.HasSuffix(org.URL, "/org/acme-workspace") {
		t.Fatalf("created org: %+v", org)
	}
	var dup struct{ ID, Slug string }
	c.decode(201, "POST", "/api/v1/org", map[string]string{"name": "Acme Workspace", "groupId": sim.SimSnykGroupID}, &dup)
	if dup.ID == org.ID || dup.Slug == org.Slug {
		t.Errorf("duplicate name must make a new org with a new slug: %+v", dup)
	}

	var ints map[string]string
	c.decode(200, "GET", "/v1/org/"+org.ID+"/integrations", nil, &ints)
	if len(ints) != 2 || ints["bitbucket-cloud"] == "" || ints["bitbucket-cloud-app"] == "" {
		t.Errorf("integrations: %v", ints)
	}
	var one struct{ ID string }
	c.decode(200, "GET", "/v1/org/"+org.ID+"/integrations/bitbucket-cloud", nil, &one)
	if one.ID != ints["bitbucket-cloud"] {
		t.Errorf("integration by type: %v", one)
	}

	settings := map[string]any{"project-imported": map[string]bool{"enabled": false}}
	var echo map[string]any
	c.decode(200, "PUT", "/v1/org/"+org.ID+"/notification-settings", settings, &echo)
	if _, ok := echo["project-imported"]; !ok || s.NotificationSettings(org.ID) == nil {
		t.Errorf("notification settings echo: %v", echo)
	}

	_, bareInts := c.createOrg("bare")
	if len(bareInts) != 0 {
		t.Errorf("org without integration has %v", bareInts)
	}
	var copied struct{ ID string }
	c.decode(201, "POST", "/v1/org", map[string]string{"name": "copy", "groupId": sim.SimSnykGroupID, "sourceOrgId": org.ID}, &copied)
	c.decode(200, "GET", "/v1/org/"+copied.ID+"/integrations", nil, &ints)
	if len(ints) != 2 {
		t.Errorf("sourceOrgId did not copy integrations: %v", ints)
	}

	for _, tc := range []struct{ method, path string }{
		{"GET", "/v1/org/nope/integrations"},
		{"PUT", "/v1/org/nope/notification-settings"},
	} {
		if status, _, _ := c.call(tc.method, tc.path, map[string]any{}); status != 404 {
			t.Errorf("%s %s = %d, want 404", tc.method, tc.path, status)
		}
	}
	if status, _, _ := c.call("POST", "/v1/org", map[string]string{"name": "x", "groupId": "nope"}); status != 404 {
		t.Errorf("create in unknown group = %d, want 404", status)
	}
	if got := s.Count("snyk.orgs_created"); got != 4 {
		t.Errorf("snyk.orgs_created = %d, want 4", got)
	}
	if got := len(s.Orgs(sim.SimSnykGroupID)); got != 4 {
		t.Errorf("Orgs = %d, want 4", got)
	}
}

func TestSnykImportLocationForms(t *testing.T) {
	for _, tc := range []struct {
		form, base, want string
	}{
		{"", "", "/v1/org/"},
		{"v1", "", "/v1/org/"},
		{"api-v1", "", "/api/v1/org/"},
		{"api-v1", "https://api.snyk.example", "https://api.snyk.example/api/v1/org/"},
	} {
		t.Run(tc.form+tc.base, func(t *testing.T) {
			_, c := snykSim(t, sim.SnykConfig{LocationForm: tc.form, LocationBase: tc.base})
			orgID, ints := c.createOrg("ws")
			loc := c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "repo", "main")
			prefix := tc.want
			if tc.base == "" {
				prefix = c.base + tc.want
			}
			want := prefix + orgID + "/integrations/" + ints["bitbucket-cloud"] + "/import/"
			if !strings.HasPrefix(loc, want) || len(loc) != len(want)+36 {
				t.Fatalf("Location = %q, want %q<uuid>", loc, want)
			}
			// Poll through the simulator whatever host the Location names.
			poll := loc
			if tc.base != "" {
				poll = c.base + strings.TrimPrefix(loc, tc.base)
			}
			job, _ := c.pollUntilDone(poll)
			if job.Status != "complete" || job.ID != loc[len(want):] {
				t.Errorf("job: %+v", job)
			}
		})
	}
}

func TestSnykLocationUsesStartedBaseURL(t *testing.T) {
	s := sim.New(sim.Config{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	c := &snykCaller{t: t, base: s.URL, token: sim.SimSnykToken}
	orgID, ints := c.createOrg("ws")
	loc := c.importTarget(orgID, ints["bitbucket-cloud-app"], "ws", "repo", "main")
	if !strings.HasPrefix(loc, s.URL+"/v1/org/"+orgID+"/") {
		t.Fatalf("Location %q not under %s", loc, s.URL)
	}
	if job, _ := c.pollUntilDone(loc); job.Status != "complete" {
		t.Errorf("job: %+v", job)
	}
}

func TestSnykImportValidation(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{})
	orgID, ints := c.createOrg("ws")
	path := "/v1/org/" + orgID + "/integrations/" + ints["bitbucket-cloud"] + "/import"
	invalid := `{"code":400,"message":"Invalid parameter format.","name":"invalidParamData"}`
	for name, body := range map[string]any{
		"fork key":          map[string]any{"target": map[string]any{"owner": "ws", "name": "r", "branch": "main", "fork": true}},
		"full_name key":     map[string]any{"target": map[string]any{"owner": "ws", "name": "r", "full_name": "ws/r"}},
		"no owner":          map[string]any{"target": map[string]any{"name": "r"}},
		"no target":         map[string]any{"files": []any{}},
		"non-string branch": map[string]any{"target": map[string]any{"owner": "ws", "name": "r", "branch": 3}},
		"unknown top key":   map[string]any{"target": map[string]any{"owner": "ws", "name": "r"}, "extra": 1},
	} {
		status, _, b := c.call("POST", path, body)
		if status != 400 || strings.TrimSpace(string(b)) != invalid {
			t.Errorf("%s: %d %s", name, status, b)
		}
	}
	ok := map[string]any{
		"target":         map[string]any{"owner": "ws", "name": "r"},
		"files":          []map[string]string{{"path": "a/package.json"}, {"path": "pom.xml"}},
		"exclusionGlobs": "fixtures, tests",
	}
	if status, _, b := c.call("POST", "/v1/org/"+orgID+"/integrations/nope/import", ok); status != 404 {
		t.Errorf("unknown integration: %d %s", status, b)
	}
	if status, _, b := c.call("POST", "/v1/org/nope/integrations/"+ints["bitbucket-cloud"]+"/import", ok); status != 404 {
		t.Errorf("unknown org: %d %s", status, b)
	}
	if got := s.Count("snyk.imports"); got != 0 {
		t.Fatalf("rejected imports created %d jobs", got)
	}
	h := c.decode(201, "POST", path, ok, nil)
	job, _ := c.pollUntilDone(h.Get("Location"))
	ps := job.Logs[0].Projects
	if len(ps) != 2 || ps[0].TargetFile != "a/package.json" || ps[1].TargetFile != "pom.xml" {
		t.Errorf("files import projects: %+v", ps)
	}
	if key := sim.SnykTargetKey(orgID, "ws", "r", ""); s.ImportedTargets()[key] != 1 {
		t.Errorf("ImportedTargets = %v", s.ImportedTargets())
	}
}

func TestSnykJobPendingThenComplete(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{PendingPolls: 2, ProjectsPerTarget: 3})
	orgID, ints := c.createOrg("ws")
	loc1 := c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "repo", "main")
	loc2 := c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "other", "main")
	if got := s.Count("snyk.jobs_in_flight"); got != 2 {
		t.Errorf("snyk.jobs_in_flight = %d, want 2", got)
	}
	for i := 1; i <= 2; i++ {
		var job snykJobJSON
		c.decode(200, "GET", loc1, nil, &job)
		if job.Status != "pending" || len(job.Logs) != 1 || job.Logs[0].Name != "ws/repo" || len(job.Logs[0].Projects) != 0 {
			t.Fatalf("poll %d: %+v", i, job)
		}
	}
	job, n := c.pollUntilDone(loc1)
	if n != 1 || job.Status != "complete" || job.Created == "" {
		t.Fatalf("third poll: %+v", job)
	}
	ps := job.Logs[0].Projects
	if len(ps) != 3 || ps[0].TargetFile != "package.json" || !ps[0].Success ||
		!strings.HasPrefix(ps[0].ProjectURL, "https://app.snyk.io/org/ws/project/") {
		t.Fatalf("projects: %+v", ps)
	}
	if got := s.Count("snyk.jobs_in_flight"); got != 1 {
		t.Errorf("snyk.jobs_in_flight = %d, want 1", got)
	}
	c.pollUntilDone(loc2)
	if got := s.Count("snyk.jobs_in_flight"); got != 0 {
		t.Errorf("snyk.jobs_in_flight = %d, want 0", got)
	}
	if got := s.Count("snyk.max_jobs_in_flight"); got != 2 {
		t.Errorf("snyk.max_jobs_in_flight = %d, want 2", got)
	}
	if got := s.Count("snyk.polls"); got != 6 {
		t.Errorf("snyk.polls = %d, want 6", got)
	}
	// A finished job keeps answering the same result.
	var again snykJobJSON
	c.decode(200, "GET", loc1, nil, &again)
	if again.Status != "complete" || len(again.Logs[0].Projects) != 3 {
		t.Errorf("re-poll: %+v", again)
	}
	if status, _, _ := c.call("GET", loc1[:len(loc1)-4]+"0000", nil); status != 404 {
		t.Errorf("unknown job = %d, want 404", status)
	}
}

func TestSnykFailedProjectsAndJobs(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{ProjectsPerTarget: 2, FailProjectEvery: 2, FailJobEvery: 3, FailWholeJob: true})
	orgID, ints := c.createOrg("ws")
	var statuses []string
	failedProjects := 0
	for i := range 3 {
		job, _ := c.pollUntilDone(c.importTarget(orgID, ints["bitbucket-cloud"], "ws", fmt.Sprint("r", i), "main"))
		statuses = append(statuses, job.Status)
		for _, p := range job.Logs[0].Projects {
			if !p.Success {
				failedProjects++
				if p.UserMessage == "" {
					t.Errorf("failed project without userMessage: %+v", p)
				}
			}
		}
	}
	if got := strings.Join(statuses, ","); got != "complete,complete,failed" {
		t.Errorf("statuses = %s", got)
	}
	if failedProjects != 2 || s.Count("snyk.projects_failed") != 2 || s.Count("snyk.jobs_failed") != 1 {
		t.Errorf("failed projects = %d, counters %v", failedProjects, s.Counters())
	}
	// Only successful projects of completed jobs are listed.
	if got := len(s.SnykProjects(orgID)); got != 2 {
		t.Errorf("listed projects = %d, want 2", got)
	}
}

func TestSnykDuplicateImportCounted(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{FailJobEvery: 1, FailWholeJob: true})
	orgID, ints := c.createOrg("ws")
	c.pollUntilDone(c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "repo", "main"))
	c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "repo", "main")
	c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "repo", "dev")
	key := sim.SnykTargetKey(orgID, "ws", "repo", "main")
	if got := s.ImportedTargets()[key]; got != 2 {
		t.Errorf("ImportedTargets[%s] = %d, want 2", key, got)
	}
	if s.Count("snyk.imports") != 3 || s.Count("snyk.duplicate_imports") != 1 {
		t.Errorf("counters: %v", s.Counters())
	}
	// Re-importing a target whose job failed is a retry, not a double import.
	if got := s.Count("snyk.redundant_imports"); got != 0 {
		t.Errorf("snyk.redundant_imports = %d, want 0", got)
	}
	jobs := s.SnykJobs()
	if len(jobs) != 3 || jobs[0].Status != "failed" || jobs[1].Status != "pending" || jobs[0].Key != key {
		t.Errorf("jobs: %+v", jobs)
	}
}

func TestSnykAcceptedThen5xx(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{AcceptThen5xx: 1})
	orgID, ints := c.createOrg("ws")
	body := map[string]any{"target": map[string]string{"owner": "ws", "name": "repo", "branch": "main"}}
	status, h, b := c.call("POST", "/v1/org/"+orgID+"/integrations/"+ints["bitbucket-cloud"]+"/import", body)
	if status != 500 || h.Get("Location") != "" || !strings.Contains(string(b), `"code":500`) {
		t.Fatalf("accepted then 5xx: %d %v %s", status, h, b)
	}
	if s.Count("snyk.imports") != 1 || s.Count("snyk.accepted_then_5xx") != 1 || s.Count("snyk.jobs_in_flight") != 0 {
		t.Errorf("counters: %v", s.Counters())
	}
	if jobs := s.SnykJobs(); len(jobs) != 1 || !jobs[0].AcceptedThen5xx {
		t.Errorf("jobs: %+v", jobs)
	}
	// A client retrying it would import twice: the simulator says so.
	c.call("POST", "/v1/org/"+orgID+"/integrations/"+ints["bitbucket-cloud"]+"/import", body)
	if s.Count("snyk.duplicate_imports") != 1 || s.Count("snyk.redundant_imports") != 1 {
		t.Errorf("counters after a retry: %v", s.Counters())
	}
}

func TestSnykRESTProjects(t *testing.T) {
	for _, form := range []string{"rest", "bare", "absolute"} {
		t.Run("links="+form, func(t *testing.T) {
			s, c := snykSim(t, sim.SnykConfig{
				ProjectsPerTarget: 3,
				RESTLinks:         form,
				Groups:            map[string]sim.SnykGroup{"g": {Orgs: []sim.SnykOrg{{Name: "ws"}}}},
				Projects: map[string][]sim.SnykProject{"ws": {
					{Name: "ws/old:package.json", Branch: "master"},
					{Name: "gh/x:go.mod", Origin: "github"},
				}},
			})
			org := s.Orgs("g")[0]
			for i := range 4 {
				c.pollUntilDone(c.importTarget(org.ID, org.Integrations["bitbucket-cloud"], "ws", fmt.Sprint("r", i), "main"))
			}
			path := "/rest/orgs/" + org.ID + "/projects?version=2024-10-15&limit=5&origins=bitbucket-cloud"
			var names []string
			pages := 0
			for path != "" {
				var resp struct {
					Data []struct {
						ID, Type   string
						Attributes struct {
							Name, Origin, Type, Status string
							TargetReference            *string `json:"target_reference"`
						}
					}
					Links struct{ Self, Next string }
				}
				c.decode(200, "GET", path, nil, &resp)
				pages++
				for _, d := range resp.Data {
					if d.Type != "project" || d.ID == "" || d.Attributes.Origin != "bitbucket-cloud" ||
						d.Attributes.Status != "active" || d.Attributes.TargetReference == nil {
						t.Fatalf("project: %+v", d)
					}
					names = append(names, d.Attributes.Name+"@"+*d.Attributes.TargetReference)
				}
				path = resp.Links.Next
				switch {
				case path == "" || form == "absolute":
				case form == "bare":
					path = "/rest" + path
				}
			}
			if len(names) != 13 || pages != 3 || names[0] != "ws/old:package.json@master" || names[1] != "ws/r0:package.json@main" {
				t.Errorf("%d pages, names %v", pages, names)
			}
			if got := s.Count("snyk.projects_pages"); got != 3 {
				t.Errorf("snyk.projects_pages = %d", got)
			}
		})
	}

	s, c := snykSim(t, sim.SnykConfig{})
	orgID, _ := c.createOrg("ws")
	for _, q := range []string{"", "?limit=10", "?version=latest", "?version=2024-10-15&limit=0", "?version=2024-10-15&starting_after=zz"} {
		status, h, b := c.call("GET", "/rest/orgs/"+orgID+"/projects"+q, nil)
		if status != 400 || !strings.Contains(h.Get("Content-Type"), "vnd.api+json") || !strings.Contains(string(b), `"errors"`) {
			t.Errorf("%q: %d %s", q, status, b)
		}
	}
	var empty struct {
		Data  []any
		Links map[string]string
	}
	c.decode(200, "GET", "/rest/orgs/"+orgID+"/projects?version=2024-10-15~beta", nil, &empty)
	if empty.Data == nil || len(empty.Data) != 0 || empty.Links["next"] != "" {
		t.Errorf("empty listing: %+v", empty)
	}
	if status, _, _ := c.call("GET", "/rest/orgs/nope/projects?version=2024-10-15", nil); status != 404 {
		t.Errorf("unknown org = %d", status)
	}
	if _, err := s.SeedProject("nope", sim.SnykProject{Name: "a/b:c"}); err == nil {
		t.Error("SeedProject into an unknown org succeeded")
	}
}

func TestSnykRateLimitPerMinute(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{RateLimitPerMinute: 3, RateLimitRetryAfter: true})
	path := "/v1/group/" + sim.SimSnykGroupID + "/orgs"
	for range 3 {
		c.decode(200, "GET", path, nil, nil)
	}
	status, h, _ := c.call("GET", path, nil)
	if status != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("4th request: %d Retry-After %q", status, h.Get("Retry-After"))
	}
	if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Errorf("Retry-After = %q", h.Get("Retry-After"))
	}
	if got := s.Count("snyk.429"); got != 1 {
		t.Errorf("snyk.429 = %d", got)
	}

	s, c = snykSim(t, sim.SnykConfig{RateLimitPerMinute: 2, RateLimitWindow: 50 * time.Millisecond})
	for range 2 {
		c.decode(200, "GET", path, nil, nil)
	}
	if status, h, _ := c.call("GET", path, nil); status != 429 || h.Get("Retry-After") != "" {
		t.Fatalf("3rd request = %d, Retry-After %q (none by default, as Snyk documents)", status, h.Get("Retry-After"))
	}
	time.Sleep(60 * time.Millisecond)
	c.decode(200, "GET", path, nil, nil)
	_ = s
}

func TestSnykFaults(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{Faults: sim.Faults{RateLimitEvery: 2, RetryAfter: "1"}})
	path := "/v1/group/" + sim.SimSnykGroupID + "/orgs"
	c.decode(200, "GET", path, nil, nil)
	if status, h, _ := c.call("GET", path, nil); status != 429 || h.Get("Retry-After") != "1" {
		t.Errorf("2nd request = %d", status)
	}
	if s.Count("snyk.429") != 1 || s.Count("snyk.requests") != 2 {
		t.Errorf("counters: %v", s.Counters())
	}
}

func TestSnykConcurrentImports(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{PendingPolls: 1})
	orgID, ints := c.createOrg("ws")
	importPath := c.base + "/v1/org/" + orgID + "/integrations/" + ints["bitbucket-cloud"] + "/import"
	send := func(method, url, body string) (*http.Response, error) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "token "+sim.SimSnykToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp, resp.Body.Close()
	}
	errs := make(chan error, 40)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			resp, err := send("POST", importPath, fmt.Sprintf(`{"target":{"owner":"ws","name":"r%d","branch":"main"}}`, i))
			if err != nil || resp.StatusCode != 201 {
				errs <- fmt.Errorf("import %d: %v %v", i, resp, err)
				return
			}
			for range 2 { // pending once, then complete
				if resp, err := send("GET", resp.Header.Get("Location"), ""); err != nil || resp.StatusCode != 200 {
					errs <- fmt.Errorf("poll %d: %v %v", i, resp, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.Count("snyk.imports") != 40 || s.Count("snyk.duplicate_imports") != 0 || s.Count("snyk.jobs_in_flight") != 0 ||
		s.Count("snyk.jobs_complete") != 40 {
		t.Errorf("counters: %v", s.Counters())
	}
	if m := s.Count("snyk.max_jobs_in_flight"); m < 1 || m > 40 {
		t.Errorf("snyk.max_jobs_in_flight = %d", m)
	}
	if len(s.ImportedTargets()) != 40 {
		t.Errorf("ImportedTargets = %d", len(s.ImportedTargets()))
	}
}

// TestSnyk_JobDurations: a job with a running time stays pending until it
// has passed, however often it is polled; its duration is drawn per target
// within the bounds, and the poll that finds it done records how late it came.
func TestSnyk_JobDurations(t *testing.T) {
	s, c := snykSim(t, sim.SnykConfig{JobDurations: sim.JobDurations{Min: 40 * time.Millisecond, Max: 80 * time.Millisecond}})
	orgID, ints := c.createOrg("acme")
	// The job's clock starts when the import is handled, so ours starts
	// before the request: after it, a slow answer would make the job look
	// done early.
	start := time.Now()
	loc := c.importTarget(orgID, ints["bitbucket-cloud"], "acme", "repo-1", "main")
	polls := 0
	for {
		polls++
		var job snykJobJSON
		if c.decode(200, "GET", loc, nil, &job); job.Status != "pending" {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("job still pending after 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	jobs := s.SnykJobs()
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	j := jobs[0]
	if j.Duration < 40*time.Millisecond || j.Duration > 80*time.Millisecond {
		t.Errorf("duration %v; want within 40–80 ms", j.Duration)
	}
	if took := time.Since(start); took < j.Duration {
		t.Errorf("complete after %v; want no sooner than its %v", took, j.Duration)
	}
	if polls < 2 || j.Late <= 0 || j.Late > time.Second {
		t.Errorf("%d polls, noticed %v late; want several polls and a small positive lateness", polls, j.Late)
	}
	if got := s.Count("snyk.job_duration_ms"); got != j.Duration.Milliseconds() {
		t.Errorf("snyk.job_duration_ms = %d; want %d", got, j.Duration.Milliseconds())
	}
}

func TestParseJobDurations(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want sim.JobDurations
		err  bool
	}{
		{"", sim.JobDurations{}, false},
		{"5s-60s", sim.JobDurations{Min: 5 * time.Second, Max: time.Minute}, false},
		{"30s", sim.JobDurations{Min: 30 * time.Second, Max: 30 * time.Second}, false},
		{"60s-5s", sim.JobDurations{}, true},
		{"x-5s", sim.JobDurations{}, true},
	} {
		got, err := sim.ParseJobDurations(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseJobDurations(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// The hostile poll knobs: a body padded to a size, still an import job; a
// redirect to another origin.
func TestSnykHostilePolls(t *testing.T) {
	_, c := snykSim(t, sim.SnykConfig{PollBodySize: 1 << 20})
	orgID, ints := c.createOrg("ws")
	loc := c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "repo", "main")
	status, _, body := c.call("GET", loc, nil)
	var job snykJobJSON
	if err := json.Unmarshal(body, &job); status != 200 || err != nil || len(body) != 1<<20 || job.Status == "" {
		t.Errorf("padded poll, gzip: %d, %d bytes, %v, %+v", status, len(body), err, job)
	}
	plain := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", loc, nil)
	req.Header.Set("Authorization", "token "+sim.SimSnykToken)
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(body, &job); err != nil || len(body) != 1<<20 || resp.ContentLength != 1<<20 {
		t.Errorf("padded poll, plain: %d bytes (Content-Length %d), %v", len(body), resp.ContentLength, err)
	}

	_, c = snykSim(t, sim.SnykConfig{PollRedirect: "https://elsewhere.example.com/jobs"})
	orgID, ints = c.createOrg("ws")
	loc = c.importTarget(orgID, ints["bitbucket-cloud"], "ws", "repo", "main")
	req, _ = http.NewRequestWithContext(t.Context(), "GET", loc, nil)
	req.Header.Set("Authorization", "token "+sim.SimSnykToken)
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://elsewhere.example.com/jobs" {
		t.Errorf("redirected poll: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
