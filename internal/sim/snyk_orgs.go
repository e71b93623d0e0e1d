package sim

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// snykGroupJSON is a group as the v1 API shows it.
type snykGroupJSON struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	ID   string `json:"id"`
}

// snykOrgJSON is an org as the v1 API shows it.
type snykOrgJSON struct {
	Name    string         `json:"name"`
	ID      string         `json:"id"`
	Slug    string         `json:"slug"`
	URL     string         `json:"url"`
	Created string         `json:"created,omitempty"`
	Group   *snykGroupJSON `json:"group"`
}

// group returns the group gid, creating it. Callers hold st.mu (or own st).
func (st *snykState) group(gid, name string) *snykGroupState {
	g := st.groups[gid]
	if g == nil {
		if name == "" {
			name = gid
		}
		g = &snykGroupState{id: gid, name: name}
		st.groups[gid] = g
	}
	return g
}

func (g *snykGroupState) json() *snykGroupJSON {
	return &snykGroupJSON{Name: g.name, URL: "https://app.snyk.io/group/" + g.id, ID: g.id}
}

func (st *snykState) orgJSON(o *snykOrgState, withCreated bool) snykOrgJSON {
	j := snykOrgJSON{Name: o.Name, ID: o.ID, Slug: o.Slug, URL: o.URL}
	if withCreated {
		j.Created = o.Created
	}
	if g := st.groups[o.GroupID]; g != nil {
		j.Group = g.json()
	}
	return j
}

// withoutIntegration reports whether an org named name or with id id gets
// no integration.
func (st *snykState) withoutIntegration(id, name string) bool {
	for _, v := range st.cfg.OrgsWithoutIntegration {
		if v == id || v == name {
			return true
		}
	}
	return false
}

// addOrg creates an org in group gid (gid may be "" for a personal org).
// Empty fields of o are filled in; nil o.Integrations means the default
// set. Callers hold st.mu (or own st).
func (st *snykState) addOrg(gid string, o SnykOrg) *snykOrgState {
	if o.ID == "" {
		o.ID = st.newID()
	}
	if o.Slug == "" {
		o.Slug = st.uniqueSlug(o.Name)
	}
	st.slugs[o.Slug] = true
	if o.URL == "" {
		o.URL = "https://app.snyk.io/org/" + o.Slug
	}
	if o.Created == "" {
		o.Created = st.now()
	}
	o.GroupID = gid
	if o.Integrations == nil {
		o.Integrations = map[string]string{}
		if !st.withoutIntegration(o.ID, o.Name) {
			for _, t := range st.cfg.IntegrationTypes {
				o.Integrations[t] = st.newID()
			}
		}
	} else {
		o.Integrations = maps.Clone(o.Integrations)
	}
	so := &snykOrgState{SnykOrg: o, intTypes: map[string]string{}, byName: map[string]*SnykProject{}}
	for t, id := range o.Integrations {
		so.intTypes[id] = t
	}
	st.orgs[o.ID] = so
	if gid != "" {
		g := st.group(gid, "")
		g.orgs = append(g.orgs, so)
	}
	return so
}

// uniqueSlug derives an unused slug from an org name.
func (st *snykState) uniqueSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.TrimRight(b.String(), "-")
	if base == "" {
		base = "org"
	}
	slug := base
	for n := 2; st.slugs[slug]; n++ {
		slug = base + "-" + strconv.Itoa(n)
	}
	return slug
}

// orgByIDOrName finds an org by id, else by name. Callers hold st.mu.
func (st *snykState) orgByIDOrName(key string) *snykOrgState {
	if o := st.orgs[key]; o != nil {
		return o
	}
	for _, id := range slices.Sorted(maps.Keys(st.orgs)) {
		if st.orgs[id].Name == key {
			return st.orgs[id]
		}
	}
	return nil
}

// listGroupOrgs serves GET /group/{groupId}/orgs?perPage=&page=.
func (st *snykState) listGroupOrgs(w http.ResponseWriter, r *http.Request) {
	perPage, ok1 := snykIntParam(r, "perPage", 100)
	page, ok2 := snykIntParam(r, "page", 1)
	if !ok1 || !ok2 || perPage < 1 || page < 1 {
		snykV1Error(w, http.StatusBadRequest, "Bad Request", "perPage and page must be positive integers")
		return
	}
	st.mu.Lock()
	g := st.groups[r.PathValue("groupId")]
	if g == nil {
		st.mu.Unlock()
		snykV1Error(w, http.StatusNotFound, "Not found", "Group not found or you do not have access to it")
		return
	}
	from := min((page-1)*perPage, len(g.orgs))
	to := min(from+perPage, len(g.orgs))
	orgs := make([]snykOrgJSON, 0, to-from)
	for _, o := range g.orgs[from:to] {
		orgs = append(orgs, st.orgJSON(o, false))
	}
	gj := g.json()
	st.mu.Unlock()
	st.s.add("snyk.orgs_listed_pages", 1)
	snykJSON(w, http.StatusOK, struct {
		*snykGroupJSON
		Orgs []snykOrgJSON `json:"orgs"`
	}{gj, orgs})
}

// createOrg serves POST /org {name, groupId?, sourceOrgId?}.
func (st *snykState) createOrg(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name        string `json:"name"`
		GroupID     string `json:"groupId"`
		SourceOrgID string `json:"sourceOrgId"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		snykV1Error(w, http.StatusBadRequest, "Bad Request", "Invalid JSON body")
		return
	}
	if strings.TrimSpace(body.Name) == "" {
		snykV1Error(w, http.StatusBadRequest, "Bad Request", "Org name is required")
		return
	}
	st.mu.Lock()
	if body.GroupID != "" && st.groups[body.GroupID] == nil {
		st.mu.Unlock()
		snykV1Error(w, http.StatusNotFound, "Not found", "Group not found or you do not have access to it")
		return
	}
	o := SnykOrg{Name: body.Name}
	if body.SourceOrgID != "" {
		src := st.orgs[body.SourceOrgID]
		if src == nil {
			st.mu.Unlock()
			snykV1Error(w, http.StatusNotFound, "Not found", "Source org not found")
			return
		}
		// Settings and integrations are copied; the copies get new ids.
		o.Integrations = map[string]string{}
		for _, t := range slices.Sorted(maps.Keys(src.Integrations)) {
			o.Integrations[t] = st.newID()
		}
	}
	so := st.addOrg(body.GroupID, o)
	resp := st.orgJSON(so, true)
	st.mu.Unlock()
	st.s.add("snyk.orgs_created", 1)
	snykJSON(w, http.StatusCreated, resp)
}

// org looks up {orgId}, answering 404 itself when it is unknown.
func (st *snykState) org(w http.ResponseWriter, r *http.Request) *snykOrgState {
	st.mu.Lock()
	o := st.orgs[r.PathValue("orgId")]
	st.mu.Unlock()
	if o == nil {
		snykV1Error(w, http.StatusNotFound, "Not found", "Org not found or you do not have access to it")
	}
	return o
}

// listIntegrations serves GET /org/{orgId}/integrations.
func (st *snykState) listIntegrations(w http.ResponseWriter, r *http.Request) {
	o := st.org(w, r)
	if o == nil {
		return
	}
	snykJSON(w, http.StatusOK, o.Integrations) // immutable after creation
}

// getIntegration serves GET /org/{orgId}/integrations/{type}.
func (st *snykState) getIntegration(w http.ResponseWriter, r *http.Request) {
	o := st.org(w, r)
	if o == nil {
		return
	}
	id, ok := o.Integrations[r.PathValue("type")]
	if !ok {
		snykV1Error(w, http.StatusNotFound, "Not found", "Integration not found")
		return
	}
	snykJSON(w, http.StatusOK, map[string]string{"id": id})
}

// putNotificationSettings serves PUT /org/{orgId}/notification-settings
// and echoes the settings.
func (st *snykState) putNotificationSettings(w http.ResponseWriter, r *http.Request) {
	o := st.org(w, r)
	if o == nil {
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		snykV1Error(w, http.StatusBadRequest, "Bad Request", "Invalid JSON body")
		return
	}
	raw, _ := json.Marshal(body)
	st.mu.Lock()
	o.notify = raw
	st.mu.Unlock()
	st.s.add("snyk.notification_settings", 1)
	snykJSON(w, http.StatusOK, body)
}

// snykIntParam reads an integer query parameter; ok is false when it is
// present and not an integer.
func snykIntParam(r *http.Request, name string, def int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// Orgs returns the orgs of a Snyk group in creation order (nil for an
// unknown group).
func (s *Server) Orgs(groupID string) []SnykOrg {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[groupID]
	if g == nil {
		return nil
	}
	out := make([]SnykOrg, 0, len(g.orgs))
	for _, o := range g.orgs {
		c := o.SnykOrg
		c.Integrations = maps.Clone(c.Integrations)
		out = append(out, c)
	}
	return out
}

// Org returns one Snyk org by id.
func (s *Server) Org(orgID string) (SnykOrg, bool) {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	o := st.orgs[orgID]
	if o == nil {
		return SnykOrg{}, false
	}
	c := o.SnykOrg
	c.Integrations = maps.Clone(c.Integrations)
	return c, true
}

// NotificationSettings returns the settings last PUT for an org (nil if none).
func (s *Server) NotificationSettings(orgID string) json.RawMessage {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	if o := st.orgs[orgID]; o != nil {
		return slices.Clone(o.notify)
	}
	return nil
}

// SeedOrg adds a pre-existing org to a Snyk group (creating the group when
// needed) as if it had been made before the run; o's empty fields are
// filled in as for SnykGroup.Orgs. It does not count snyk.orgs_created.
func (s *Server) SeedOrg(groupID string, o SnykOrg) SnykOrg {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.addOrg(groupID, o).SnykOrg
	c.Integrations = maps.Clone(c.Integrations)
	return c
}
