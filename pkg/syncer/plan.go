package syncer

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Action is what a Step does. The values are stable words (plan JSON,
// summaries).
type Action string

// Actions, in the order the applier carries them out.
const (
	// ActionUpdateBranch moves a target's projects to the repository's
	// main branch (v1 PUT /org/{org}/project/{id}).
	ActionUpdateBranch Action = "update-branch"
	// ActionReimport re-imports a repository that changed since the last
	// sync, so Snyk finds its new manifests (existing projects are
	// re-tested, not duplicated).
	ActionReimport Action = "reimport"
	// ActionImportNew imports a repository Snyk does not have (--importNew).
	ActionImportNew Action = "import-new"
	// ActionRename imports a renamed repository under its new slug and,
	// once that import succeeded, deactivates the old target's projects.
	ActionRename Action = "rename"
	// ActionDeactivateDeleted and ActionDeleteDeleted handle a repository
	// gone from a complete listing and confirmed gone by a 404.
	ActionDeactivateDeleted Action = "deactivate-deleted"
	ActionDeleteDeleted     Action = "delete-deleted"
	// ActionDeactivateExcluded deactivates projects whose file matches
	// --exclusionGlobs.
	ActionDeactivateExcluded Action = "deactivate-excluded"
	// ActionNewNotImported is a repository Snyk does not have, left alone
	// because --importNew was not given (reported only).
	ActionNewNotImported Action = "new-not-imported"
)

// Actions lists every action in apply order (for counts and printing).
var Actions = []Action{ActionUpdateBranch, ActionReimport, ActionImportNew, ActionRename,
	ActionDeactivateDeleted, ActionDeleteDeleted, ActionDeactivateExcluded, ActionNewNotImported}

// OnDeleted values (--onDeletedRepo).
const (
	OnDeletedDeactivate = "deactivate"
	OnDeletedDelete     = "delete"
	OnDeletedIgnore     = "ignore"
)

// ProjectRef is a Snyk project a Step changes.
type ProjectRef struct {
	ID         string `json:"id"`
	TargetFile string `json:"targetFile,omitempty"`
	Branch     string `json:"branch,omitempty"`
	Type       string `json:"type,omitempty"`
}

// TargetRef is the Snyk target of a Step, as the original logs it.
type TargetRef struct {
	ID          string `json:"id"`
	Origin      string `json:"origin,omitempty"`
	DisplayName string `json:"displayName"`
	RemoteURL   string `json:"remoteUrl,omitempty"`
}

// Step is one action on one repository.
type Step struct {
	Action    Action `json:"action"`
	Workspace string `json:"workspace"`
	// Slug is the repository's slug now (the new one for a rename).
	Slug string `json:"slug"`
	// OldSlug is the slug Snyk knows, for a rename.
	OldSlug string `json:"oldSlug,omitempty"`
	UUID    string `json:"uuid,omitempty"`
	// Target is the existing Snyk target (none for import-new).
	Target *TargetRef `json:"target,omitempty"`
	// From and To are the branch change of update-branch; To is the branch
	// imported for the import actions.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Projects are the projects changed: moved to To, or deactivated /
	// deleted (for a rename: the old target's, after the import).
	Projects []ProjectRef `json:"projects,omitempty"`
	// Imported says the new slug of a rename is in Snyk already (an earlier
	// run imported it): only the old projects are left to deactivate.
	Imported bool `json:"imported,omitempty"`
	// UpdatedOn is the repository's updated_on in the listing.
	UpdatedOn time.Time `json:"updatedOn,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	// Unconfirmed marks a deletion not yet confirmed by a 404 (see Confirm).
	Unconfirmed bool `json:"-"`
}

// Key is the repository the step is about, "workspace/slug" lower-cased.
func (s *Step) Key() string { return repoKey(s.Workspace, s.Slug) }

// Removes reports whether the step deactivates or deletes projects (what
// the --maxDeactivate guard counts).
func (s *Step) Removes() bool {
	switch s.Action {
	case ActionRename, ActionDeactivateDeleted, ActionDeleteDeleted, ActionDeactivateExcluded:
		return true
	}
	return false
}

// WorkspaceIssue is a workspace whose listing failed or was cut short:
// nothing of it is changed this run.
type WorkspaceIssue struct {
	Workspace string `json:"workspace"`
	Error     string `json:"error"`
	// Targets are the Snyk targets of the workspace left alone.
	Targets int `json:"targets"`
}

// Plan is what a sync of one org will do.
type Plan struct {
	OrgID string `json:"orgId"`
	Steps []Step `json:"steps"`
	// FailedWorkspaces could not be listed completely.
	FailedWorkspaces []WorkspaceIssue `json:"failedWorkspaces,omitempty"`
	// ActiveProjects is the number of active in-scope projects (the base of
	// a percentage --maxDeactivate).
	ActiveProjects int `json:"activeProjects"`
	// Removals is the number of projects the plan deactivates or deletes;
	// MaxRemovals the guard's limit; HeldBack says why nothing is applied.
	Removals    int    `json:"removals"`
	MaxRemovals int    `json:"maxRemovals"`
	HeldBack    string `json:"heldBack,omitempty"`
}

// Counts is the number of steps per action.
func (p *Plan) Counts() map[Action]int {
	out := map[Action]int{}
	for _, s := range p.Steps {
		out[s.Action]++
	}
	return out
}

// Listing is one workspace's repositories as listed this run. Err is set
// when the listing failed or was cut short (then Repos is partial and
// nothing is deactivated in the workspace).
type Listing struct {
	Workspace string
	Repos     []bitbucket.Repository
	Err       error
}

// Input is everything the planner looks at.
type Input struct {
	OrgID string
	// Targets and Projects are the org's, complete (the caller does not
	// plan on a partial Snyk listing). Projects are of the source's origins.
	Targets  []snyk.Target
	Projects []snyk.Project
	// Listings by workspace slug (any case).
	Listings []*Listing
	// State is the previous run's (nil: first run).
	State *State
	// ImportNew imports repositories Snyk does not have.
	ImportNew bool
	// OnDeleted is OnDeletedDeactivate (default), OnDeletedDelete or
	// OnDeletedIgnore.
	OnDeleted string
	// Excluded reports a project file matching --exclusionGlobs (nil: none).
	Excluded func(targetFile string) bool
	// InScope reports a project of the products synced (nil: all but sast).
	InScope func(p snyk.Project) bool
	// Skip reports a repository the discovery filters leave out: it is not
	// imported, and its projects are left alone (nil: none).
	Skip func(workspace string, r *bitbucket.Repository) bool
	// AlreadyRequested reports an import of {owner, name, branch} that the
	// resume log records as accepted by Snyk (nil: none).
	AlreadyRequested func(owner, name, branch string) bool
	// ErrorText words a listing's error for the plan (nil: err.Error()).
	ErrorText func(error) string
}

// target is a Snyk target with its projects, grouped by repository.
type target struct {
	ref       TargetRef
	workspace string
	slug      string
	projects  []snyk.Project
}

// Build makes the plan. It is pure: no I/O, the same input gives the same
// plan (steps sorted by action order, then repository).
func Build(in Input) *Plan {
	p := &Plan{OrgID: in.OrgID}
	inScope := in.InScope
	if inScope == nil {
		inScope = func(pr snyk.Project) bool { return pr.Type != "sast" }
	}
	onDeleted := cmp.Or(in.OnDeleted, OnDeletedDeactivate)

	listings := map[string]*Listing{}
	for _, l := range in.Listings {
		listings[strings.ToLower(l.Workspace)] = l
	}
	// Complete listings, indexed by slug and uuid.
	bySlug := map[string]*bitbucket.Repository{}
	byUUID := map[string]*bitbucket.Repository{}
	for _, l := range in.Listings {
		if l.Err != nil {
			continue
		}
		for i := range l.Repos {
			r := &l.Repos[i]
			bySlug[repoKey(l.Workspace, r.Slug)] = r
			if r.UUID != "" {
				byUUID[strings.ToLower(r.UUID)] = r
			}
		}
	}

	targets := groupTargets(in.Targets, in.Projects)
	known := map[string]*target{} // repository key → target
	for _, t := range targets {
		known[repoKey(t.workspace, t.slug)] = t
	}
	issues := map[string]*WorkspaceIssue{}
	for _, l := range in.Listings {
		if l.Err != nil {
			msg := l.Err.Error()
			if in.ErrorText != nil {
				msg = in.ErrorText(l.Err)
			}
			issues[strings.ToLower(l.Workspace)] = &WorkspaceIssue{Workspace: l.Workspace, Error: msg}
		}
	}
	renamed := map[string]bool{} // repository keys imported by a rename step

	for _, t := range targets {
		var active []snyk.Project
		for _, pr := range t.projects {
			if pr.Status != "inactive" && inScope(pr) {
				active = append(active, pr)
			}
		}
		p.ActiveProjects += len(active)
		l := listings[strings.ToLower(t.workspace)]
		if l == nil {
			continue // not a workspace of this sync
		}
		if l.Err != nil {
			issues[strings.ToLower(l.Workspace)].Targets++
			continue
		}
		key := repoKey(t.workspace, t.slug)
		if repo := bySlug[key]; repo != nil {
			p.Steps = append(p.Steps, planListed(in, t, repo, active)...)
			continue
		}
		if len(active) == 0 {
			continue // nothing left to deactivate
		}
		// Gone under this slug: renamed (the state knows its uuid, now
		// listed under another slug), else a deletion candidate.
		if uuid := in.State.uuidOf(t.workspace, t.slug); uuid != "" {
			if repo := byUUID[strings.ToLower(uuid)]; repo != nil && !strings.EqualFold(repo.Slug, t.slug) {
				p.Steps = append(p.Steps, renameStep(t, repo, active, known))
				renamed[repoKey(repo.Workspace, repo.Slug)] = true
				continue
			}
		}
		action := ActionDeactivateDeleted
		switch onDeleted {
		case OnDeletedIgnore:
			continue
		case OnDeletedDelete:
			action = ActionDeleteDeleted
		}
		p.Steps = append(p.Steps, Step{Action: action, Workspace: t.workspace, Slug: t.slug, Target: &t.ref,
			Projects: refs(active), Unconfirmed: true, Reason: "not in the workspace's listing"})
	}

	// Repositories Snyk does not have.
	for _, l := range in.Listings {
		if l.Err != nil {
			continue
		}
		for i := range l.Repos {
			r := &l.Repos[i]
			key := repoKey(l.Workspace, r.Slug)
			if known[key] != nil || renamed[key] || r.MainBranch == "" || (in.Skip != nil && in.Skip(l.Workspace, r)) {
				continue
			}
			if !in.ImportNew {
				p.Steps = append(p.Steps, Step{Action: ActionNewNotImported, Workspace: l.Workspace, Slug: r.Slug,
					UUID: r.UUID, To: r.MainBranch, UpdatedOn: r.UpdatedOn, Reason: "not in Snyk; --importNew imports it"})
				continue
			}
			// Requested before and unchanged since: the import found nothing
			// (or is still running); asking again would change nothing.
			if in.AlreadyRequested != nil && in.AlreadyRequested(l.Workspace, r.Slug, r.MainBranch) {
				if prev, ok := in.State.get(r); !ok || !r.UpdatedOn.After(prev.UpdatedOn) {
					continue
				}
			}
			p.Steps = append(p.Steps, Step{Action: ActionImportNew, Workspace: l.Workspace, Slug: r.Slug, UUID: r.UUID,
				To: r.MainBranch, UpdatedOn: r.UpdatedOn, Reason: "not in Snyk"})
		}
	}

	for _, i := range issues {
		p.FailedWorkspaces = append(p.FailedWorkspaces, *i)
	}
	slices.SortFunc(p.FailedWorkspaces, func(a, b WorkspaceIssue) int { return strings.Compare(a.Workspace, b.Workspace) })
	order := map[Action]int{}
	for i, a := range Actions {
		order[a] = i
	}
	slices.SortStableFunc(p.Steps, func(a, b Step) int {
		return cmp.Or(cmp.Compare(order[a.Action], order[b.Action]), strings.Compare(a.Key(), b.Key()))
	})
	p.countRemovals()
	return p
}

// countRemovals sets Removals from the steps.
func (p *Plan) countRemovals() {
	p.Removals = 0
	for i := range p.Steps {
		if p.Steps[i].Removes() {
			p.Removals += len(p.Steps[i].Projects)
		}
	}
}

// planListed decides for a target whose repository is listed.
func planListed(in Input, t *target, repo *bitbucket.Repository, active []snyk.Project) []Step {
	if in.Skip != nil && in.Skip(t.workspace, repo) {
		return nil // left out by the discovery filters: left alone
	}
	var steps []Step
	var excluded, rest []snyk.Project
	for _, pr := range active {
		if in.Excluded != nil && in.Excluded(pr.TargetFile) {
			excluded = append(excluded, pr)
		} else {
			rest = append(rest, pr)
		}
	}
	if len(excluded) > 0 {
		steps = append(steps, Step{Action: ActionDeactivateExcluded, Workspace: t.workspace, Slug: repo.Slug, UUID: repo.UUID,
			Target: &t.ref, Projects: refs(excluded), Reason: "file matches --exclusionGlobs"})
	}
	if repo.MainBranch == "" {
		return steps
	}
	var moved []snyk.Project
	from := ""
	for _, pr := range rest {
		// An empty target_reference is Snyk not saying: left alone.
		if pr.Branch != "" && pr.Branch != repo.MainBranch {
			moved = append(moved, pr)
			from = cmp.Or(from, pr.Branch)
		}
	}
	if len(moved) > 0 {
		steps = append(steps, Step{Action: ActionUpdateBranch, Workspace: t.workspace, Slug: repo.Slug, UUID: repo.UUID,
			Target: &t.ref, From: from, To: repo.MainBranch, Projects: refs(moved), Reason: "default branch changed"})
	}
	if len(rest) > 0 && changedSince(in.State, repo, rest) {
		steps = append(steps, Step{Action: ActionReimport, Workspace: t.workspace, Slug: repo.Slug, UUID: repo.UUID,
			Target: &t.ref, To: repo.MainBranch, UpdatedOn: repo.UpdatedOn, Reason: "updated since the last sync"})
	}
	return steps
}

// changedSince reports a repository updated since the last sync: since the
// state's updated_on, or, for a repository the state does not know (first
// sync of an org imported by `import`), since its newest project was made.
// updated_on is a hint ("may have changed"): Atlassian does not document
// what moves it, and a push does.
func changedSince(st *State, repo *bitbucket.Repository, projects []snyk.Project) bool {
	if repo.UpdatedOn.IsZero() {
		return false
	}
	if prev, ok := st.get(repo); ok {
		return repo.UpdatedOn.After(prev.UpdatedOn)
	}
	var newest time.Time
	for _, pr := range projects {
		if t, err := time.Parse(time.RFC3339, pr.Created); err == nil && t.After(newest) {
			newest = t
		}
	}
	return !newest.IsZero() && repo.UpdatedOn.After(newest)
}

func renameStep(t *target, repo *bitbucket.Repository, active []snyk.Project, known map[string]*target) Step {
	s := Step{Action: ActionRename, Workspace: t.workspace, Slug: repo.Slug, OldSlug: t.slug, UUID: repo.UUID,
		Target: &t.ref, To: repo.MainBranch, Projects: refs(active), UpdatedOn: repo.UpdatedOn,
		Reason: "renamed (same uuid, new slug)"}
	if nt := known[repoKey(repo.Workspace, repo.Slug)]; nt != nil {
		for _, pr := range nt.projects {
			if pr.Status != "inactive" {
				s.Imported = true
				break
			}
		}
	}
	return s
}

// groupTargets groups projects by repository ("workspace/slug" of the
// target's display name, else of the project name before ":"), sorted.
func groupTargets(targets []snyk.Target, projects []snyk.Project) []*target {
	names := map[string]snyk.Target{}
	for _, t := range targets {
		names[t.ID] = t
	}
	byRepo := map[string]*target{}
	var out []*target
	for _, pr := range projects {
		display := ""
		ref := TargetRef{ID: pr.TargetID, Origin: pr.Origin}
		if t, ok := names[pr.TargetID]; ok {
			display, ref.RemoteURL = t.DisplayName, t.URL
		}
		if display == "" {
			display, _, _ = strings.Cut(pr.Name, ":")
		}
		ws, slug, ok := strings.Cut(display, "/")
		if !ok || ws == "" || slug == "" {
			continue // not a Bitbucket Cloud name
		}
		ref.DisplayName = display
		key := repoKey(ws, slug)
		t := byRepo[key]
		if t == nil {
			t = &target{ref: ref, workspace: ws, slug: slug}
			byRepo[key] = t
			out = append(out, t)
		}
		t.projects = append(t.projects, pr)
	}
	slices.SortFunc(out, func(a, b *target) int {
		return strings.Compare(repoKey(a.workspace, a.slug), repoKey(b.workspace, b.slug))
	})
	return out
}

func refs(ps []snyk.Project) []ProjectRef {
	out := make([]ProjectRef, len(ps))
	for i, p := range ps {
		out[i] = ProjectRef{ID: p.ID, TargetFile: p.TargetFile, Branch: p.Branch, Type: p.Type}
	}
	return out
}

func repoKey(ws, slug string) string { return strings.ToLower(ws + "/" + slug) }

// ExclusionMatcher turns --exclusionGlobs into a matcher of project files.
// Empty entries are ignored (the original's "a," excluded every file). A
// glob without "/" matches any one path segment ("test" excludes
// "test/package.json" and "a/test/pom.xml", not "acme-test/go.mod"); a glob
// with "/" matches the whole path, or with a leading "**/" any tail of it.
// nil when no glob is given.
func ExclusionMatcher(globs []string) func(file string) bool {
	var clean []string
	for _, g := range globs {
		for _, part := range strings.Split(g, ",") {
			if part = strings.TrimSpace(part); part != "" {
				clean = append(clean, part)
			}
		}
	}
	if len(clean) == 0 {
		return nil
	}
	return func(file string) bool {
		segs := strings.Split(strings.Trim(file, "/"), "/")
		for _, g := range clean {
			if tail, ok := strings.CutPrefix(g, "**/"); ok {
				for i := range segs {
					if m, _ := path.Match(tail, strings.Join(segs[i:], "/")); m {
						return true
					}
				}
				continue
			}
			if strings.Contains(g, "/") {
				if m, _ := path.Match(strings.Trim(g, "/"), strings.Join(segs, "/")); m {
					return true
				}
				continue
			}
			for _, s := range segs {
				if m, _ := path.Match(g, s); m {
					return true
				}
			}
		}
		return false
	}
}

// Snyk's limits on an import's exclusionGlobs (the import answers 400
// beyond them).
const (
	maxExclusionGlobs   = 10
	maxExclusionGlobLen = 100
)

// ValidateGlobs checks the syntax of --exclusionGlobs and Snyk's limits
// (at most 10 entries of at most 100 characters).
func ValidateGlobs(globs []string) error {
	n := 0
	for _, g := range globs {
		for _, part := range strings.Split(g, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n++
			if len(part) > maxExclusionGlobLen {
				return &GlobError{Glob: part, Err: fmt.Errorf("longer than the %d characters Snyk accepts", maxExclusionGlobLen)}
			}
			if _, err := path.Match(strings.TrimPrefix(part, "**/"), ""); err != nil {
				return &GlobError{Glob: part, Err: err}
			}
		}
	}
	if n > maxExclusionGlobs {
		return &GlobError{Glob: strings.Join(globs, ","), Err: fmt.Errorf("%d globs; Snyk accepts at most %d", n, maxExclusionGlobs)}
	}
	return nil
}

// GlobError is a malformed --exclusionGlobs entry.
type GlobError struct {
	Glob string
	Err  error
}

func (e *GlobError) Error() string {
	return "--exclusionGlobs: " + `"` + e.Glob + `": ` + e.Err.Error()
}

// Product of a Snyk project type, for --snykProduct.
const (
	ProductOpenSource = "open-source"
	ProductContainer  = "container"
	ProductIaC        = "iac"
)

var iacTypes = map[string]bool{"terraformconfig": true, "cloudformationconfig": true, "k8sconfig": true,
	"helmconfig": true, "armconfig": true, "customconfig": true}

// ProductOf is the product a project type belongs to ("" for sast, which
// sync never touches: Snyk Code projects have no manifest).
func ProductOf(projectType string) string {
	switch {
	case projectType == "sast":
		return ""
	case projectType == "dockerfile":
		return ProductContainer
	case iacTypes[projectType]:
		return ProductIaC
	default:
		return ProductOpenSource
	}
}
