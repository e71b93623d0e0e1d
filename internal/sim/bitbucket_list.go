package sim

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// serveAPI routes every /2.0 request.
func (st *bitbucketState) serveAPI(w http.ResponseWriter, r *http.Request) {
	if st.s.inject(w, r, "bitbucket", st.cfg.Faults) || !st.enterSerial(r) {
		return
	}
	defer st.leaveSerial()
	st.s.add("bitbucket.requests", 1)
	segs := bbPathSegments(r.URL.EscapedPath())
	route, arg := bbRoute(segs)
	st.s.add("bitbucket.requests."+route, 1)

	if route == "removed" {
		st.gone(w)
		return
	}
	if route == "unknown" {
		st.apiError(w, http.StatusNotFound, "Resource not found", nil, nil)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", http.MethodGet)
		st.apiError(w, http.StatusMethodNotAllowed, "Method not allowed", nil, nil)
		return
	}
	who, msg := st.authenticate(r)
	if who == nil {
		st.apiError(w, http.StatusUnauthorized, msg, nil, nil)
		return
	}
	st.s.add("bitbucket.auth."+who.kind, 1)
	st.s.add("bitbucket.identity."+who.label, 1)
	limit, scaled := st.scaledLimit(who, route)
	key := who.key
	if who.access != nil && !scaled {
		key += ":other" // each resource group has its own count
	}
	wait, used, ok := st.spend(key, limit)
	if !ok {
		st.s.add("bitbucket.429", 1)
		if st.cfg.RateLimitRetryAfter {
			w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(max(wait.Seconds(), 1))), 10))
		}
		if scaled {
			st.announce(w, who, limit, used)
		}
		bbWriteJSON(w, http.StatusTooManyRequests, map[string]any{"type": "error",
			"error": map[string]string{"message": "Rate limit for this resource has been exceeded"}})
		return
	}
	if scaled {
		st.announce(w, who, limit, used)
	}
	scope := "account"
	switch route {
	case "repositories", "repository":
		scope = "repository"
	case "projects":
		scope = "project"
	}
	if !st.hasScope(scope) {
		st.lacksScope(w, scope)
		return
	}
	if arg != "" && !who.reaches(st, arg) {
		st.elsewhere(w, arg)
		return
	}
	if route == "user_workspaces" && st.userWorkspaces(w, r, who) {
		return
	}
	switch route {
	case "user_workspaces":
		st.listWorkspaces(w, r)
	case "repositories":
		st.listRepositories(w, r, arg)
	case "repository":
		st.getRepository(w, r, arg, segs[2])
	case "projects":
		st.listProjects(w, r, arg)
	case "workspace":
		ws := st.workspace(arg)
		if ws == nil {
			st.apiError(w, http.StatusNotFound, "No workspace with identifier '"+arg+"'.", nil, nil)
			return
		}
		bbWriteJSON(w, http.StatusOK, bbWorkspaceJSON(bbBase(r), ws))
	case "user":
		bbWriteJSON(w, http.StatusOK, map[string]any{
			"type": "user", "display_name": "Sim User", "nickname": "sim-user",
			"uuid": estateUUID("user", "sim-user"), "account_id": "557058:sim-user",
		})
	}
}

// bbPathSegments splits an escaped /2.0/... path into unescaped segments
// after "2.0", dropping one trailing empty segment.
func bbPathSegments(p string) []string {
	parts := strings.Split(strings.TrimPrefix(p, "/2.0/"), "/")
	if n := len(parts); n > 1 && parts[n-1] == "" {
		parts = parts[:n-1]
	}
	for i, s := range parts {
		if u, err := url.PathUnescape(s); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// bbRoute names the route of a path and returns its workspace argument.
func bbRoute(segs []string) (route, arg string) {
	switch {
	case len(segs) == 1 && (segs[0] == "workspaces" || segs[0] == "repositories"):
		return "removed", ""
	case len(segs) == 3 && segs[0] == "user" && segs[1] == "permissions" &&
		(segs[2] == "workspaces" || segs[2] == "repositories"):
		return "removed", ""
	case len(segs) == 2 && segs[0] == "user" && segs[1] == "workspaces":
		return "user_workspaces", ""
	case len(segs) == 2 && segs[0] == "repositories" && segs[1] != "":
		return "repositories", segs[1]
	case len(segs) == 3 && segs[0] == "repositories" && segs[1] != "" && segs[2] != "":
		return "repository", segs[1]
	case len(segs) == 2 && segs[0] == "workspaces" && segs[1] != "":
		return "workspace", segs[1]
	case len(segs) == 3 && segs[0] == "workspaces" && segs[1] != "" && segs[2] == "projects":
		return "projects", segs[1]
	case len(segs) == 1 && segs[0] == "user":
		return "user", ""
	}
	return "unknown", ""
}

// listWorkspaces is GET /2.0/user/workspaces of a user who sees the whole
// estate.
func (st *bitbucketState) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	st.listWorkspacesOf(w, r, func(*WorkspaceSpec) bool { return true })
}

// listWorkspacesOf is GET /2.0/user/workspaces listing the listed (not
// Unlisted) workspaces that see keeps.
func (st *bitbucketState) listWorkspacesOf(w http.ResponseWriter, r *http.Request, see func(*WorkspaceSpec) bool) {
	page, pagelen, fields, ok := st.listParams(w, r)
	if !ok {
		return
	}
	var idx []int
	for i := range st.ws {
		if !st.ws[i].Unlisted && see(&st.ws[i]) {
			idx = append(idx, i)
		}
	}
	start := min((page-1)*pagelen, len(idx))
	end := min(start+pagelen, len(idx))
	base := bbBase(r)
	values := make([]any, 0, end-start)
	for _, i := range idx[start:end] {
		ws := &st.ws[i]
		values = append(values, map[string]any{
			"type":          "workspace_access",
			"administrator": false,
			"workspace":     st.bbWorkspaceAccessJSON(base, ws),
			"links": map[string]any{
				"self": bbHref(base + "/2.0/user/workspaces/" + url.PathEscape(ws.Slug)),
			},
		})
	}
	n := st.writePage(w, r, page, pagelen, len(idx), values, fields, false)
	st.s.add("bitbucket.workspaces_pages", 1)
	st.s.add("bitbucket.bytes", int64(n))
}

// listRepositories is GET /2.0/repositories/{workspace}.
func (st *bitbucketState) listRepositories(w http.ResponseWriter, r *http.Request, id string) {
	ws, page, pagelen, fields, ok := st.workspaceListing(w, r, id)
	if !ok {
		return
	}
	var filter bbExpr
	if q := r.URL.Query().Get("q"); q != "" {
		if !st.cfg.BBQLAcceptZ && bbqlZoneZ(q) {
			st.apiError(w, http.StatusBadRequest, "Illegal character in input: 'Z'", nil, nil)
			return
		}
		var err error
		if filter, err = parseBBQL(q); err != nil {
			st.apiError(w, http.StatusBadRequest, "Invalid query", err.Error(), nil)
			return
		}
	}
	start := (page - 1) * pagelen
	var matched []BitbucketRepo
	total := 0
	n, repoAt := st.visibleRepos(ws)
	if filter == nil {
		total = n
		for i := start; i < min(start+pagelen, total); i++ {
			matched = append(matched, repoAt(i))
		}
	} else {
		for i := 0; i < n; i++ {
			repo := repoAt(i)
			if !filter.eval(&repo) {
				continue
			}
			if total >= start && total < start+pagelen {
				matched = append(matched, repo)
			}
			total++
		}
	}
	cut := st.s.hostile.cut(ws.Slug)
	if cut == ListingEmptyPage && page == 2 {
		matched = nil
	}
	base := bbBase(r)
	values := make([]any, len(matched))
	want := fields.valueKeys()
	for i := range matched {
		values[i] = bbRepoJSON(base, ws, &matched[i], want)
	}
	n = st.writePage(w, r, page, pagelen, total, values, fields, cut == ListingNoNext && page == 1)
	st.countWorkspacePage("repositories", ws, n)
}

// listProjects is GET /2.0/workspaces/{workspace}/projects: the projects of
// WorkspaceSpec.Projects then EmptyProjects, paginated like repositories.
// q= is not supported here (as for workspaces, it is ignored).
func (st *bitbucketState) listProjects(w http.ResponseWriter, r *http.Request, id string) {
	ws, page, pagelen, fields, ok := st.workspaceListing(w, r, id)
	if !ok {
		return
	}
	keys := ws.projectKeys()
	start := min((page-1)*pagelen, len(keys))
	end := min(start+pagelen, len(keys))
	base := bbBase(r)
	values := make([]any, 0, end-start)
	for _, k := range keys[start:end] {
		values = append(values, bbProjectJSON(base, ws, k))
	}
	st.writeWorkspacePage(w, r, "projects", ws, page, pagelen, len(keys), values, fields)
}

// workspaceListing starts a listing of one workspace's resources: it answers
// 404 for an unknown workspace, the workspace's ListStatus, or a 400 for bad
// paging parameters, and reports ok=false when it has answered.
func (st *bitbucketState) workspaceListing(w http.ResponseWriter, r *http.Request, id string) (ws *WorkspaceSpec, page, pagelen int, fields *bbFields, ok bool) {
	if ws = st.workspace(id); ws == nil {
		st.apiError(w, http.StatusNotFound, "No workspace with identifier '"+id+"'.", nil, nil)
		return nil, 0, 0, nil, false
	}
	if status := st.listStatus(ws); status != 0 {
		st.workspaceListError(w, status, id)
		return nil, 0, 0, nil, false
	}
	page, pagelen, fields, ok = st.listParams(w, r)
	return ws, page, pagelen, fields, ok
}

// writeWorkspacePage writes one page of a workspace listing and counts it.
func (st *bitbucketState) writeWorkspacePage(w http.ResponseWriter, r *http.Request, kind string, ws *WorkspaceSpec, page, pagelen, total int, values []any, fields *bbFields) {
	st.countWorkspacePage(kind, ws, st.writePage(w, r, page, pagelen, total, values, fields, false))
}

// countWorkspacePage counts a page of n bytes of a workspace listing as
// bitbucket.<kind>_pages, bitbucket.<kind>_pages.<slug> and bitbucket.bytes.
func (st *bitbucketState) countWorkspacePage(kind string, ws *WorkspaceSpec, n int) {
	st.s.add("bitbucket."+kind+"_pages", 1)
	st.s.add("bitbucket."+kind+"_pages."+ws.Slug, 1)
	st.s.add("bitbucket.bytes", int64(n))
}

// workspaceListError answers a listing of a workspace with ListStatus.
func (st *bitbucketState) workspaceListError(w http.ResponseWriter, status int, id string) {
	msg := http.StatusText(status)
	switch status {
	case http.StatusForbidden:
		msg = "You do not have access to this workspace's repositories."
	case http.StatusNotFound:
		msg = "No workspace with identifier '" + id + "'."
	}
	st.apiError(w, status, msg, nil, nil)
}

// bbProjectJSON is a project object as GET .../projects returns it.
func bbProjectJSON(base string, ws *WorkspaceSpec, key string) map[string]any {
	self := base + "/2.0/workspaces/" + url.PathEscape(ws.Slug) + "/projects/" + url.PathEscape(key)
	html := "https://bitbucket.org/" + url.PathEscape(ws.Slug) + "/workspace/projects/" + url.PathEscape(key)
	created := estateFrom.Add(time.Duration(estateHash(ws.Slug, key)%(3*365*24)) * time.Hour)
	return map[string]any{
		"type":                       "project",
		"key":                        key,
		"uuid":                       estateUUID("project", ws.Slug+"/"+key),
		"name":                       estateProjectName(key),
		"description":                "Simulated project " + key + " of " + ws.Name + ".",
		"is_private":                 true,
		"has_publicly_visible_repos": false,
		"created_on":                 bbTime(created),
		"updated_on":                 bbTime(created.Add(24 * time.Hour)),
		"owner": map[string]any{
			"type": "team", "uuid": ws.UUID, "username": ws.Slug, "display_name": ws.Name,
		},
		"workspace": map[string]any{
			"type": "workspace", "uuid": ws.UUID, "slug": ws.Slug, "name": ws.Name,
		},
		"links": map[string]any{
			"self":         bbHref(self),
			"html":         bbHref(html),
			"avatar":       bbHref(html + "/avatar/32"),
			"repositories": bbHref(base + "/2.0/repositories/" + url.PathEscape(ws.Slug) + "?q=project.key%3D%22" + url.QueryEscape(key) + "%22"),
		},
	}
}

// listParams reads page, pagelen and fields, answering 400 when invalid.
func (st *bitbucketState) listParams(w http.ResponseWriter, r *http.Request) (page, pagelen int, fields *bbFields, ok bool) {
	q := r.URL.Query()
	page, pagelen = 1, 10
	if v := q.Get("pagelen"); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil {
			st.s.max("bitbucket.max_pagelen", int64(n))
		}
		if err != nil || n < 1 || n > st.cfg.MaxPageLen {
			st.apiError(w, http.StatusBadRequest, "Invalid pagelen",
				"pagelen must be an integer between 1 and "+strconv.Itoa(st.cfg.MaxPageLen)+".", nil)
			return 0, 0, nil, false
		}
		pagelen = n
	} else {
		st.s.max("bitbucket.max_pagelen", 10)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			st.apiError(w, http.StatusBadRequest, "Invalid page", "page must be a positive integer.", nil)
			return 0, 0, nil, false
		}
		page = n
	}
	if vs := q["fields"]; len(vs) > 0 {
		fields = parseFields(strings.Join(vs, ","))
	}
	return page, pagelen, fields, true
}

// writePage writes one page of a paginated listing and returns the body's
// length. values is the page's slice of the total matching items; noNext
// leaves `next` out whatever the page (a listing cut short, hostile.go).
func (st *bitbucketState) writePage(w http.ResponseWriter, r *http.Request, page, pagelen, total int, values []any, fields *bbFields, noNext bool) int {
	last := max(1, (total+pagelen-1)/pagelen)
	body := map[string]any{
		"pagelen": pagelen,
		"page":    page,
		"size":    total,
		"values":  values,
	}
	switch {
	case noNext:
	case page < last:
		body["next"] = bbPageURL(r, page+1)
	case page == last && st.cfg.LastPageNext == LastPageNextEmpty:
		body["next"] = bbPageURL(r, page+1)
	case page == last && st.cfg.LastPageNext == LastPageNextSame:
		body["next"] = bbPageURL(r, page)
	}
	if page > 1 {
		body["previous"] = bbPageURL(r, page-1)
	}
	var out any = body
	if fields != nil {
		out = fields.apply(body)
	}
	b, err := json.Marshal(out)
	if err != nil {
		st.apiError(w, http.StatusInternalServerError, err.Error(), nil, nil)
		return 0
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	n, _ := w.Write(b)
	return n
}

// bbBase is the scheme and host the request came to.
func bbBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// bbPageURL is the absolute URL of another page of the same listing: the
// request's path and query with page replaced.
func bbPageURL(r *http.Request, page int) string {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page))
	u := url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
	return bbBase(r) + u.String()
}

func bbHref(h string) map[string]string { return map[string]string{"href": h} }

// bbWorkspaceJSON is a workspace object.
func bbWorkspaceJSON(base string, ws *WorkspaceSpec) map[string]any {
	return map[string]any{
		"type": "workspace",
		"uuid": ws.UUID,
		"slug": ws.Slug,
		"name": ws.Name,
		"links": map[string]any{
			"self":   bbHref(base + "/2.0/workspaces/" + url.PathEscape(ws.Slug)),
			"html":   bbHref("https://bitbucket.org/" + url.PathEscape(ws.Slug) + "/"),
			"avatar": bbHref("https://bitbucket.org/workspaces/" + url.PathEscape(ws.Slug) + "/avatar/?ts=1700000000"),
		},
	}
}

// bbRepoJSON is the repository object Bitbucket returns without fields=.
// want, when not nil, says which top-level keys are needed, so a trimmed
// listing does not build (and then drop) the bulky ones.
func bbRepoJSON(base string, ws *WorkspaceSpec, r *BitbucketRepo, want func(string) bool) map[string]any {
	repo := make(map[string]any, 24)
	need := func(k string) bool { return want == nil || want(k) }
	api := base + "/2.0/repositories/" + url.PathEscape(ws.Slug) + "/" + url.PathEscape(r.Slug)
	wsSelf := bbHref(base + "/2.0/workspaces/" + url.PathEscape(ws.Slug))
	repo["type"] = "repository"
	repo["full_name"] = r.FullName
	repo["name"] = r.Name
	repo["slug"] = r.Slug
	repo["scm"] = "git"
	repo["website"] = nil
	repo["is_private"] = r.IsPrivate
	repo["fork_policy"] = bbForkPolicy(r)
	repo["created_on"] = bbTime(r.CreatedOn)
	repo["updated_on"] = bbTime(r.UpdatedOn)
	repo["size"] = r.Size
	repo["language"] = r.Language
	repo["uuid"] = r.UUID
	repo["has_issues"] = false
	repo["has_wiki"] = false
	repo["mainbranch"] = nil
	if r.MainBranch != "" {
		repo["mainbranch"] = map[string]string{"name": r.MainBranch, "type": "branch"}
	}
	if need("description") {
		repo["description"] = "Simulated repository " + r.Name + " of " + ws.Name + "."
	}
	if need("override_settings") {
		repo["override_settings"] = map[string]bool{"default_merge_strategy": true, "branching_model": true}
	}
	if need("links") {
		repo["links"] = map[string]any{
			"self":         bbHref(api),
			"html":         bbHref("https://bitbucket.org/" + r.FullName),
			"avatar":       bbHref("https://bytebucket.org/ravatar/" + url.PathEscape(r.UUID) + "?ts=default"),
			"pullrequests": bbHref(api + "/pullrequests"),
			"commits":      bbHref(api + "/commits"),
			"forks":        bbHref(api + "/forks"),
			"watchers":     bbHref(api + "/watchers"),
			"branches":     bbHref(api + "/refs/branches"),
			"tags":         bbHref(api + "/refs/tags"),
			"downloads":    bbHref(api + "/downloads"),
			"source":       bbHref(api + "/src"),
			"hooks":        bbHref(api + "/hooks"),
			"clone": []any{
				map[string]string{"name": "https", "href": "https://bitbucket.org/" + r.FullName + ".git"},
				map[string]string{"name": "ssh", "href": "git@bitbucket.org:" + r.FullName + ".git"},
			},
		}
	}
	if need("owner") {
		repo["owner"] = map[string]any{
			"display_name": ws.Name,
			"links": map[string]any{
				"self":   bbHref(base + "/2.0/workspaces/" + url.PathEscape(ws.UUID)),
				"avatar": bbHref("https://bitbucket.org/account/" + url.PathEscape(ws.Slug) + "/avatar/"),
				"html":   bbHref("https://bitbucket.org/" + url.PathEscape(ws.UUID) + "/"),
			},
			"type":     "team",
			"uuid":     ws.UUID,
			"username": ws.Slug,
		}
	}
	if need("workspace") {
		repo["workspace"] = map[string]any{
			"type": "workspace",
			"uuid": ws.UUID,
			"name": ws.Name,
			"slug": ws.Slug,
			"links": map[string]any{
				"avatar": bbHref("https://bitbucket.org/workspaces/" + url.PathEscape(ws.Slug) + "/avatar/?ts=1700000000"),
				"html":   bbHref("https://bitbucket.org/" + url.PathEscape(ws.Slug) + "/"),
				"self":   wsSelf,
			},
		}
	}
	if need("project") {
		proj := "/" + url.PathEscape(ws.Slug) + "/workspace/projects/" + url.PathEscape(r.ProjectKey)
		repo["project"] = map[string]any{
			"type": "project",
			"key":  r.ProjectKey,
			"uuid": r.ProjectUUID,
			"name": r.ProjectName,
			"links": map[string]any{
				"self":   bbHref(base + "/2.0/workspaces/" + url.PathEscape(ws.Slug) + "/projects/" + url.PathEscape(r.ProjectKey)),
				"html":   bbHref("https://bitbucket.org" + proj),
				"avatar": bbHref("https://bitbucket.org" + proj + "/avatar/32"),
			},
		}
	}
	if r.IsFork && need("parent") {
		pws, pslug, _ := strings.Cut(r.Parent, "/")
		puuid := estateUUID("repository", r.Parent)
		repo["parent"] = map[string]any{
			"type":      "repository",
			"full_name": r.Parent,
			"links": map[string]any{
				"self":   bbHref(base + "/2.0/repositories/" + url.PathEscape(pws) + "/" + url.PathEscape(pslug)),
				"html":   bbHref("https://bitbucket.org/" + r.Parent),
				"avatar": bbHref("https://bytebucket.org/ravatar/" + url.PathEscape(puuid) + "?ts=default"),
			},
			"name": pslug,
			"uuid": puuid,
		}
	}
	return repo
}

// bbTime formats a time as Bitbucket does: 2019-03-07T12:35:02.900024+00:00.
func bbTime(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.000000-07:00")
}
