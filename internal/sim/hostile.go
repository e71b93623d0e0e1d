package sim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Hostile modes, for `bbimport sync`'s tests: answers that look like
// evidence of a deleted repository, or like a whole listing, and are not.
// Each is a knob on a running simulator, for one org or one workspace, so a
// test can show the other orgs and workspaces synced as usual.
//
// Counters:
//
//	bitbucket.proxy_404   repository reads answered by the proxy's HTML 404 (HTMLNotFoundFromProxy)
//	snyk.repeated_pages   Snyk REST pages served again under a new cursor (RepeatFirstPage)
//	snyk.endless_pages    Snyk REST targets pages invented by EndlessTargets

// TargetNameForm is how the simulated Snyk names an org's targets and
// projects (SetTargetNames). Snyk documents no format for Bitbucket Cloud
// App targets; these are forms a sync must not read a slug out of.
type TargetNameForm string

const (
	// TargetNamesPlain: display_name "<workspace>/<slug>", project names
	// "<workspace>/<slug>:<file>" (the default).
	TargetNamesPlain TargetNameForm = ""
	// TargetNamesBranch: display_name "<workspace>/<slug>(<branch>)".
	TargetNamesBranch TargetNameForm = "branch"
	// TargetNamesNone: no display_name, and project names
	// "<workspace>/<slug>(<branch>):<file>".
	TargetNamesNone TargetNameForm = "none"
	// TargetNamesJunk: display_name "<workspace>/<slug> (archived)".
	TargetNamesJunk TargetNameForm = "junk"
)

// ListingCut is how SetListingCut cuts a workspace's repository listing
// short while it looks whole.
type ListingCut string

const (
	// ListingWhole: no cut.
	ListingWhole ListingCut = ""
	// ListingEmptyPage: page 2 has no values but links to page 3 (page 2's
	// repositories are never served).
	ListingEmptyPage ListingCut = "empty-page"
	// ListingNoNext: page 1 has no `next`, while `size` counts every
	// repository.
	ListingNoNext ListingCut = "no-next"
)

// hostileKnobs holds the modes set; the zero value is none.
type hostileKnobs struct {
	mu        sync.Mutex
	names     map[string]TargetNameForm // org id → form
	hidden    map[string]map[string]bool
	proxied   map[string]bool // workspace → repository reads get the proxy's 404
	repeat    map[string]int  // org id + " " + listing → times
	failing   map[string]bool // "owner/name" (lower-cased) → its imports fail
	endless   map[string]bool // org id → endless targets
	listCut   map[string]ListingCut
	endlessID int
	// throttled: api ("snyk", or "bitbucket.reads" for repository reads)
	// → the Retry-After of the 429 every such request gets.
	throttled map[string]string
}

func (h *hostileKnobs) set(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.names == nil {
		h.names, h.hidden, h.proxied, h.repeat = map[string]TargetNameForm{}, map[string]map[string]bool{}, map[string]bool{}, map[string]int{}
		h.failing, h.endless, h.listCut = map[string]bool{}, map[string]bool{}, map[string]ListingCut{}
		h.throttled = map[string]string{}
	}
	f()
}

func (h *hostileKnobs) get(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f()
}

// SetTargetNames names org's targets and projects in form from now on.
func (s *Server) SetTargetNames(orgID string, form TargetNameForm) {
	s.hostile.set(func() { s.hostile.names[orgID] = form })
}

// HideFromListing leaves repositories (by slug) of workspace out of its
// listing, which stays whole to look at (`size` counts what is served),
// while reading one still answers it: a listing that lost repositories
// that exist.
func (s *Server) HideFromListing(workspace string, slugs ...string) {
	s.hostile.set(func() {
		ws := strings.ToLower(workspace)
		if s.hostile.hidden[ws] == nil {
			s.hostile.hidden[ws] = map[string]bool{}
		}
		for _, slug := range slugs {
			s.hostile.hidden[ws][strings.ToLower(slug)] = true
		}
	})
}

// HTMLNotFoundFromProxy answers every repository read of workspace
// (GET /2.0/repositories/{workspace}/{repo_slug}) with the HTML 404 page of
// a proxy in front of Bitbucket, whatever the repository.
func (s *Server) HTMLNotFoundFromProxy(workspace string) {
	s.hostile.set(func() { s.hostile.proxied[strings.ToLower(workspace)] = true })
}

// RepeatFirstPage serves the first page of org's REST listing ("targets"
// or "projects") again, times times, each under a new cursor, before the
// rest of the listing.
func (s *Server) RepeatFirstPage(orgID, listing string, times int) {
	s.hostile.set(func() { s.hostile.repeat[orgID+" "+listing] = times })
}

// FailImportsOf makes every import of the repository owner/name complete
// with its log entry failed and no project.
func (s *Server) FailImportsOf(owner, name string, fail bool) {
	s.hostile.set(func() { s.hostile.failing[strings.ToLower(owner+"/"+name)] = fail })
}

// EndlessTargets makes org's REST targets listing invent a page of new
// targets, with a new `links.next`, on every request, forever.
func (s *Server) EndlessTargets(orgID string) {
	s.hostile.set(func() { s.hostile.endless[orgID] = true })
}

// SetListingCut cuts workspace's repository listing short (see ListingCut).
func (s *Server) SetListingCut(workspace string, cut ListingCut) {
	s.hostile.set(func() { s.hostile.listCut[strings.ToLower(workspace)] = cut })
}

// ThrottleSnyk answers every Snyk request from now on with 429 and the
// Retry-After retryAfter ("" sends none); ThrottleSnyk(false, "") stops.
func (s *Server) ThrottleSnyk(on bool, retryAfter string) { s.throttle("snyk", on, retryAfter) }

// ThrottleRepositoryReads answers every Bitbucket repository read (GET
// /2.0/repositories/{workspace}/{repo_slug}, sync's confirmations) with
// 429 and the Retry-After retryAfter, while listings go on as usual.
func (s *Server) ThrottleRepositoryReads(on bool, retryAfter string) {
	s.throttle("bitbucket.reads", on, retryAfter)
}

func (s *Server) throttle(what string, on bool, retryAfter string) {
	s.hostile.set(func() {
		if on {
			s.hostile.throttled[what] = retryAfter
		} else {
			delete(s.hostile.throttled, what)
		}
	})
}

// throttles answers 429 when what is throttled, counting it in api's 429s.
func (s *Server) throttles(w http.ResponseWriter, what, api string) bool {
	var retryAfter string
	var on bool
	s.hostile.get(func() { retryAfter, on = s.hostile.throttled[what] })
	if !on {
		return false
	}
	s.add(api+".429", 1)
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"type":"error","error":{"message":"Rate limit for this resource has been exceeded"}}`))
	return true
}

// targetName is the display name (and project name prefix) of a target of
// org named name ("ws/slug") on branch, in the org's form; ok is false for
// no display_name.
func (h *hostileKnobs) targetName(orgID, name, branch string) (display, projectPrefix string, ok bool) {
	var form TargetNameForm
	h.get(func() { form = h.names[orgID] })
	switch form {
	case TargetNamesBranch:
		return name + "(" + branch + ")", name, true
	case TargetNamesNone:
		return "", name + "(" + branch + ")", false
	case TargetNamesJunk:
		return name + " (archived)", name, true
	}
	return name, name, true
}

// projectName is a project's name as org's form shows it.
func (h *hostileKnobs) projectName(orgID, name, branch string) string {
	prefix, file, _ := strings.Cut(name, ":")
	_, p, _ := h.targetName(orgID, prefix, branch)
	return p + ":" + file
}

func (h *hostileKnobs) isHidden(ws, slug string) bool {
	var hidden bool
	h.get(func() { hidden = h.hidden[strings.ToLower(ws)][strings.ToLower(slug)] })
	return hidden
}

func (h *hostileKnobs) anyHidden(ws string) bool {
	var n int
	h.get(func() { n = len(h.hidden[strings.ToLower(ws)]) })
	return n > 0
}

func (h *hostileKnobs) isProxied(ws string) bool {
	var p bool
	h.get(func() { p = h.proxied[strings.ToLower(ws)] })
	return p
}

func (h *hostileKnobs) repeats(orgID, listing string) int {
	var n int
	h.get(func() { n = h.repeat[orgID+" "+listing] })
	return n
}

func (h *hostileKnobs) failsImport(owner, name string) bool {
	var f bool
	h.get(func() { f = h.failing[strings.ToLower(owner+"/"+name)] })
	return f
}

func (h *hostileKnobs) isEndless(orgID string) bool {
	var e bool
	h.get(func() { e = h.endless[orgID] })
	return e
}

func (h *hostileKnobs) cut(ws string) ListingCut {
	var c ListingCut
	h.get(func() { c = h.listCut[strings.ToLower(ws)] })
	return c
}

// proxyNotFound answers as a proxy in front of Bitbucket does: an HTML page.
func proxyNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = fmt.Fprint(w, "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>\n")
}

// visibleRepos is the workspace's listing less the hidden repositories.
func (st *bitbucketState) visibleRepos(ws *WorkspaceSpec) (int, func(int) BitbucketRepo) {
	n, at := st.repos(ws)
	if !st.s.hostile.anyHidden(ws.Slug) {
		return n, at
	}
	var keep []BitbucketRepo
	for i := range n {
		if r := at(i); !st.s.hostile.isHidden(ws.Slug, r.Slug) {
			keep = append(keep, r)
		}
	}
	return len(keep), func(k int) BitbucketRepo { return keep[k] }
}

// endlessTargets serves one invented page of org's targets: limit new ones
// and a next page after them.
func (st *snykState) endlessTargets(w http.ResponseWriter, r *http.Request, orgID string) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		limit = 10
	}
	st.s.hostile.mu.Lock()
	first := st.s.hostile.endlessID
	st.s.hostile.endlessID += limit
	st.s.hostile.mu.Unlock()
	data := make([]any, limit)
	for i := range data {
		n := first + i
		data[i] = map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", n), "type": "target",
			"attributes":    map[string]any{"display_name": fmt.Sprintf("endless/repo-%d", n), "url": nil, "is_private": true},
			"relationships": map[string]any{"organization": map[string]any{"data": map[string]string{"type": "org", "id": orgID}}}}
	}
	st.s.add("snyk.targets_pages", 1)
	st.s.add("snyk.endless_pages", 1)
	next := r.URL.Query()
	next.Set("starting_after", fmt.Sprintf("endless-%d", first+limit))
	w.Header().Set("Content-Type", "application/vnd.api+json")
	snykJSON(w, http.StatusOK, map[string]any{"jsonapi": map[string]string{"version": "1.0"}, "data": data,
		"links": map[string]any{"self": st.restLink(r, r.URL.Query()), "next": st.restLink(r, next)}})
}

// firstPageRepeat reads a request of org's listing: repeat is the repeat
// of the first page it asks for (its sim_repeat; 0 for none), times how
// many repeats RepeatFirstPage asked for.
func (st *snykState) firstPageRepeat(r *http.Request, orgID, listing string) (repeat, times int) {
	times = st.s.hostile.repeats(orgID, listing)
	if v := r.URL.Query().Get("sim_repeat"); v != "" && times > 0 {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			repeat = n
			st.s.add("snyk.repeated_pages", 1)
		}
	}
	return repeat, times
}

// nextLink sets links["next"] of a REST page served for after (-1: the
// first page): a repeat of the first page while RepeatFirstPage asks for
// more, else the page after last when there are more.
func (st *snykState) nextLink(r *http.Request, links map[string]any, prefix string, after, last, repeat, times int, more bool) {
	next := r.URL.Query()
	next.Del("sim_repeat")
	switch {
	case after == -1 && repeat < times:
		next.Set("sim_repeat", strconv.Itoa(repeat+1))
	case more:
		next.Set("starting_after", base64.RawURLEncoding.EncodeToString([]byte(prefix+strconv.Itoa(last))))
	default:
		return
	}
	links["next"] = st.restLink(r, next)
}
