package syncer

import (
	"cmp"
	"slices"
	"strings"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// picture is one org as this run sees it: its Snyk targets with their
// projects, the complete listings of its workspaces, and which repository
// each target is (identity.go).
type picture struct {
	targets []*target          // sorted by name, then key
	byKey   map[string]*target // by target key
	// projects are every listed project of the source's origins, by id.
	projects map[string]*snyk.Project
	// active is the number of unique active in-scope projects.
	active int
	// listed are the repositories of the complete listings, by uuid and by
	// lower-cased "workspace/slug".
	listed       map[string]*bitbucket.Repository
	listedByName map[string]*bitbucket.Repository
	// complete and failed are the workspaces (lower-cased) listed whole or not.
	complete map[string]bool
	failed   map[string]*Listing
	// names are every target's name, lower-cased: a repository of that name
	// is not new to Snyk even when the target's projects are all inactive.
	names map[string]bool
	// links are, by uuid, the targets this run knows to be the repository's.
	links map[string][]string
}

// target is a Snyk target with the projects that name it.
type target struct {
	// key is the target id, or "name:<name>" for projects naming none.
	key  string
	ref  TargetRef
	name string // the display name, else the projects' name before ":"
	// projects are the target's projects; active those active and in scope.
	projects, active []*snyk.Project
	// uuid is the repository the target is, how says why ("state",
	// "import", "name"); unmatched says why there is none.
	uuid, how, unmatched string
}

func newPicture(in *Input) *picture {
	p := &picture{byKey: map[string]*target{}, projects: map[string]*snyk.Project{}, listed: map[string]*bitbucket.Repository{},
		listedByName: map[string]*bitbucket.Repository{}, complete: map[string]bool{}, failed: map[string]*Listing{},
		names: map[string]bool{}, links: map[string][]string{}}
	inScope := in.InScope
	if inScope == nil {
		inScope = func(pr snyk.Project) bool { return pr.Type != "sast" }
	}
	restTargets := make(map[string]*snyk.Target, len(in.Targets))
	for i := range in.Targets {
		restTargets[in.Targets[i].ID] = &in.Targets[i]
	}
	for i := range in.Projects {
		pr := &in.Projects[i]
		if p.projects[pr.ID] != nil {
			continue // a complete listing has no project twice; stay safe if one did
		}
		p.projects[pr.ID] = pr
		nameOf, _, _ := strings.Cut(pr.Name, ":")
		key := targetKey(pr)
		t := p.byKey[key]
		if t == nil {
			t = &target{key: key, name: nameOf, ref: TargetRef{ID: pr.TargetID, Origin: pr.Origin}}
			if rt := restTargets[pr.TargetID]; rt != nil {
				t.name = cmp.Or(rt.DisplayName, nameOf)
				t.ref.RemoteURL, t.ref.IsPrivate = rt.URL, rt.IsPrivate
			}
			t.ref.DisplayName = t.name
			p.byKey[key] = t
			p.targets = append(p.targets, t)
			p.names[strings.ToLower(t.name)] = true
		}
		t.projects = append(t.projects, pr)
		if pr.Status != "inactive" && inScope(*pr) {
			t.active = append(t.active, pr)
			p.active++
		}
	}
	slices.SortFunc(p.targets, func(a, b *target) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), strings.Compare(a.key, b.key))
	})
	for _, l := range in.Listings {
		ws := strings.ToLower(l.Workspace)
		if l.Err != nil {
			p.failed[ws] = l
			continue
		}
		p.complete[ws] = true
		for i := range l.Repos {
			r := &l.Repos[i]
			if r.Workspace == "" {
				r.Workspace = l.Workspace
			}
			p.listedByName[repoKey(r.Workspace, r.Slug)] = r
			if u := normUUID(r.UUID); u != "" {
				p.listed[u] = r
			}
		}
	}
	return p
}

// targetsOf is the targets of repository u after this run: those matched to
// it now, and those recorded before that Snyk still lists and this run did
// not match elsewhere.
func (p *picture) targetsOf(u string, before []string) []string {
	out := slices.Clone(p.links[u])
	for _, k := range before {
		if t := p.byKey[k]; t != nil && (t.uuid == "" || t.uuid == u) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// pending is the project ids of bbimport's imports of repository u still
// to link their target to it: before's and fresh's, less those of a target
// this run linked to u, at most maxImportedIDs. An id of a project Snyk
// had already (an import re-tests the target it files the name under) is
// kept while its target is not u's: the next run counts it as evidence, so
// a target another repository also claims is matched to neither.
func (p *picture) pending(u string, before, fresh []string) []string {
	var out []string
	for _, id := range append(slices.Clone(before), fresh...) {
		if len(out) == maxImportedIDs {
			break
		}
		if pr := p.projects[id]; pr != nil && p.byKey[targetKey(pr)].uuid == u || slices.Contains(out, id) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// targetKey is the key of a project's target: its id, or its name when the
// project names no target.
func targetKey(pr *snyk.Project) string {
	if pr.TargetID != "" {
		return pr.TargetID
	}
	name, _, _ := strings.Cut(pr.Name, ":")
	return "name:" + strings.ToLower(name)
}

// workspaceOf is the workspace a target's name names, if it is a plausible
// slug: where to look for its repository, never the repository itself.
func workspaceOf(name string) string {
	ws, rest, ok := strings.Cut(name, "/")
	if !ok || rest == "" || ws == "" {
		return ""
	}
	for _, c := range ws {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ""
		}
	}
	return ws
}

func repoKey(ws, slug string) string { return strings.ToLower(ws + "/" + slug) }
