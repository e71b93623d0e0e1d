package syncer

import (
	"cmp"
	"fmt"
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
	// ActionUpdateBranch moves a repository's projects to its main branch
	// (v1 PUT /org/{org}/project/{id}).
	ActionUpdateBranch Action = "update-branch"
	// ActionReimport re-imports a repository that changed since the last
	// sync, so Snyk finds its new manifests (existing projects are
	// re-tested, not duplicated).
	ActionReimport Action = "reimport"
	// ActionImportNew imports a repository Snyk does not have.
	ActionImportNew Action = "import-new"
	// ActionRename imports a repository under its new slug (same uuid) and,
	// once that import produced projects, deactivates the old ones.
	ActionRename Action = "rename"
	// ActionDeactivateDeleted and ActionDeleteDeleted handle a repository
	// whose deletion is proven (see Step.Unconfirmed); a deletion deletes
	// only what an earlier run deactivated at least DeleteAfter ago.
	ActionDeactivateDeleted Action = "deactivate-deleted"
	ActionDeleteDeleted     Action = "delete-deleted"
	// ActionDeactivateExcluded deactivates projects whose file matches the
	// exclusion globs.
	ActionDeactivateExcluded Action = "deactivate-excluded"
	// ActionNewNotImported is a repository Snyk does not have, left alone
	// because new repositories are not imported (reported only).
	ActionNewNotImported Action = "new-not-imported"
	// ActionUnmatched is a target with active projects that is no
	// repository sync can prove (reported only, never changed).
	ActionUnmatched Action = "unmatched"
)

// Actions lists every action in apply order (for counts and printing).
var Actions = []Action{ActionUpdateBranch, ActionReimport, ActionImportNew, ActionRename,
	ActionDeactivateDeleted, ActionDeleteDeleted, ActionDeactivateExcluded, ActionNewNotImported, ActionUnmatched}

// ProjectRef is a Snyk project a Step changes.
type ProjectRef struct {
	ID         string `json:"id"`
	TargetID   string `json:"targetId,omitempty"`
	TargetFile string `json:"targetFile,omitempty"`
	Branch     string `json:"branch,omitempty"`
	Type       string `json:"type,omitempty"`
	// target is the key of the project's target (picture.byKey).
	target string
}

// TargetRef is a Snyk target as the original's logs show it.
type TargetRef struct {
	ID          string `json:"id"`
	Origin      string `json:"origin,omitempty"`
	DisplayName string `json:"displayName"`
	RemoteURL   string `json:"remoteUrl,omitempty"`
	IsPrivate   bool   `json:"-"`
}

// Step is one action on one repository (or, unmatched, one target).
type Step struct {
	Action    Action `json:"action"`
	Workspace string `json:"workspace"`
	// Slug is the repository's slug now (the new one for a rename).
	Slug string `json:"slug"`
	// OldSlug is the slug the repository had, for a rename.
	OldSlug string `json:"oldSlug,omitempty"`
	UUID    string `json:"uuid,omitempty"`
	// Target is the repository's main Snyk target (none for import-new).
	Target *TargetRef `json:"target,omitempty"`
	// From and To are the branch change of update-branch; To is the branch
	// imported for the import actions.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Projects are the projects changed: moved to To, or deactivated /
	// deleted (for a rename: the old ones, after the import).
	Projects []ProjectRef `json:"projects,omitempty"`
	// Imported says an earlier run's import of the new slug of a rename
	// produced projects that are active: only the old ones are left.
	Imported bool `json:"imported,omitempty"`
	// UpdatedOn is the repository's updated_on in the listing.
	UpdatedOn time.Time `json:"updatedOn,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	// Unconfirmed marks a deletion not yet proven by Bitbucket's own 404
	// for the repository's uuid (see confirm).
	Unconfirmed bool `json:"-"`
}

// Key is the repository the step is about, "workspace/slug" lower-cased.
func (s *Step) Key() string { return repoKey(s.Workspace, s.Slug) }

// Removes reports whether the step deactivates or deletes projects (what
// the guard counts).
func (s *Step) Removes() bool {
	switch s.Action {
	case ActionRename, ActionDeactivateDeleted, ActionDeleteDeleted, ActionDeactivateExcluded:
		return true
	}
	return false
}

// WorkspaceIssue is a workspace whose listing failed or was not whole:
// nothing of it is changed this run.
type WorkspaceIssue struct {
	Workspace string `json:"workspace"`
	Error     string `json:"error"`
	// Targets are the Snyk targets of the workspace left alone.
	Targets int `json:"targets"`
	// Err is the listing's error.
	Err error `json:"-"`
}

// PendingDelete is a confirmed deletion whose deactivated projects wait
// for DeleteAfter.
type PendingDelete struct {
	Workspace string    `json:"workspace"`
	Slug      string    `json:"slug"`
	UUID      string    `json:"uuid"`
	Projects  int       `json:"projects"`
	Due       time.Time `json:"due"`
}

// Plan is what a sync of one org will do.
type Plan struct {
	OrgID string `json:"orgId"`
	Steps []Step `json:"steps"`
	// FailedWorkspaces could not be listed completely.
	FailedWorkspaces []WorkspaceIssue `json:"failedWorkspaces,omitempty"`
	// ActiveProjects is the number of unique active in-scope projects (the
	// base of a percentage limit).
	ActiveProjects int `json:"activeProjects"`
	// Removals is the number of unique projects the plan deactivates or
	// deletes; MaxRemovals the guard's limit; HeldBack, when set, is why
	// nothing is applied.
	Removals    int       `json:"removals"`
	MaxRemovals int       `json:"maxRemovals"`
	HeldBack    *HeldBack `json:"heldBack,omitempty"`
	// DeleteAfter is how long a deletion waits after the deactivation, when
	// deletions delete; PendingDeletes are the deletions waiting.
	DeleteAfter    string          `json:"deleteAfter,omitempty"`
	PendingDeletes []PendingDelete `json:"pendingDeletes,omitempty"`
	// targets are the org's targets by key, for the log lines.
	targets map[string]*target
	// deleting are the inactive projects the plan deletes: the guard counts
	// them with the active ones.
	deleting int
}

// GuardBase is what a percentage limit is of: the active projects, and the
// inactive ones the plan deletes.
func (p *Plan) GuardBase() int { return p.ActiveProjects + p.deleting }

// Counts is the number of steps per action.
func (p *Plan) Counts() map[Action]int {
	out := map[Action]int{}
	for _, s := range p.Steps {
		out[s.Action]++
	}
	return out
}

// Listing is one workspace's repositories as listed this run. Err is set
// when the listing failed or was not whole (Repos is then not used).
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
	// Now is the run's time (deletions wait DeleteAfter from a deactivation).
	Now time.Time
	// ImportNew imports repositories Snyk does not have.
	ImportNew bool
	// NewFrom, if set, reports the workspaces whose repositories are the
	// org's to import (its own, not those only its targets or the state
	// name): a repository of another is neither imported nor reported new.
	// nil: every workspace listed.
	NewFrom func(workspace string) bool
	// OnDeleted is OnDeletedDeactivate (default), OnDeletedDelete or
	// OnDeletedIgnore; DeleteAfter as in Options (0: DefaultDeleteAfter).
	OnDeleted   string
	DeleteAfter time.Duration
	// Excluded reports a project file matching the exclusion globs (nil: none).
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

// Build makes the plan. It is pure: no I/O, the same input gives the same
// plan (steps sorted by action order, then repository).
func Build(in Input) *Plan {
	pic := newPicture(&in)
	pic.identify(in.State)
	return build(&in, pic)
}

// build plans from a picture whose targets are identified.
func build(in *Input, pic *picture) *Plan {
	p := &Plan{OrgID: in.OrgID, ActiveProjects: pic.active, targets: pic.byKey}
	onDeleted := cmp.Or(in.OnDeleted, OnDeletedDeactivate)
	deleteAfter := cmp.Or(in.DeleteAfter, DefaultDeleteAfter)
	if onDeleted == OnDeletedDelete {
		p.DeleteAfter = FormatDays(deleteAfter)
	}
	issues := map[string]*WorkspaceIssue{}
	issue := func(ws string) *WorkspaceIssue {
		k := strings.ToLower(ws)
		if i := issues[k]; i != nil {
			return i
		}
		l := pic.failed[k]
		msg := l.Err.Error()
		if in.ErrorText != nil {
			msg = in.ErrorText(l.Err) // the caller's wording, redacted
		}
		i := &WorkspaceIssue{Workspace: l.Workspace, Error: msg, Err: l.Err}
		issues[k] = i
		return i
	}
	for k := range pic.failed {
		issue(k)
	}

	// Repositories with targets, by uuid.
	byUUID := map[string][]*target{}
	var uuids []string
	for _, t := range pic.targets {
		switch {
		case t.uuid != "":
			if byUUID[t.uuid] == nil {
				uuids = append(uuids, t.uuid)
			}
			byUUID[t.uuid] = append(byUUID[t.uuid], t)
		case t.unmatched != "":
			ws := workspaceOf(t.name)
			switch k := strings.ToLower(ws); {
			case pic.failed[k] != nil:
				issue(ws).Targets++
				continue
			case ws != "" && !pic.complete[k]:
				continue // not a workspace of this sync
			}
			p.Steps = append(p.Steps, Step{Action: ActionUnmatched, Workspace: ws, Slug: strings.TrimPrefix(t.name, ws+"/"),
				Target: &t.ref, Reason: fmt.Sprintf("%s; its %s left alone", t.unmatched, plural(len(t.active), "active project"))})
		}
	}
	// Deletions waiting are found by the state, whatever their targets.
	if in.State != nil && onDeleted == OnDeletedDelete {
		for u, rs := range in.State.Repositories {
			if rs.Gone != nil && byUUID[u] == nil && pic.complete[strings.ToLower(rs.Workspace)] && pic.listed[u] == nil {
				uuids = append(uuids, u)
			}
		}
	}
	slices.Sort(uuids)
	for _, u := range uuids {
		p.Steps = append(p.Steps, planRepo(in, pic, p, u, byUUID[u], onDeleted, deleteAfter, issue)...)
	}

	// Repositories Snyk does not have.
	for _, l := range in.Listings {
		if l.Err != nil || in.NewFrom != nil && !in.NewFrom(l.Workspace) {
			continue
		}
		for i := range l.Repos {
			r := &l.Repos[i]
			if pic.links[normUUID(r.UUID)] != nil || pic.names[repoKey(r.Workspace, r.Slug)] || r.MainBranch == "" ||
				(in.Skip != nil && in.Skip(l.Workspace, r)) {
				continue
			}
			if !in.ImportNew {
				p.Steps = append(p.Steps, Step{Action: ActionNewNotImported, Workspace: r.Workspace, Slug: r.Slug,
					UUID: normUUID(r.UUID), To: r.MainBranch, UpdatedOn: r.UpdatedOn, Reason: "not in Snyk"})
				continue
			}
			// Requested before and unchanged since: the import found nothing
			// (or is still running); asking again would change nothing.
			if in.AlreadyRequested != nil && in.AlreadyRequested(r.Workspace, r.Slug, r.MainBranch) {
				if prev := in.State.get(normUUID(r.UUID)); prev == nil || !r.UpdatedOn.After(prev.UpdatedOn) {
					continue
				}
			}
			p.Steps = append(p.Steps, Step{Action: ActionImportNew, Workspace: r.Workspace, Slug: r.Slug, UUID: normUUID(r.UUID),
				To: r.MainBranch, UpdatedOn: r.UpdatedOn, Reason: "not in Snyk"})
		}
	}

	for _, i := range issues {
		p.FailedWorkspaces = append(p.FailedWorkspaces, *i)
	}
	slices.SortFunc(p.FailedWorkspaces, func(a, b WorkspaceIssue) int { return strings.Compare(a.Workspace, b.Workspace) })
	slices.SortFunc(p.PendingDeletes, func(a, b PendingDelete) int { return strings.Compare(a.UUID, b.UUID) })
	p.sortSteps()
	p.countRemovals()
	return p
}

func (p *Plan) sortSteps() {
	order := map[Action]int{}
	for i, a := range Actions {
		order[a] = i
	}
	slices.SortStableFunc(p.Steps, func(a, b Step) int {
		return cmp.Or(cmp.Compare(order[a.Action], order[b.Action]), strings.Compare(a.Key(), b.Key()), strings.Compare(a.UUID, b.UUID))
	})
}

// countRemovals sets Removals: the unique projects the steps deactivate or
// delete.
func (p *Plan) countRemovals() {
	seen := map[string]bool{}
	p.deleting = 0
	for i := range p.Steps {
		if !p.Steps[i].Removes() {
			continue
		}
		for _, pr := range p.Steps[i].Projects {
			if !seen[pr.ID] && p.Steps[i].Action == ActionDeleteDeleted {
				p.deleting++
			}
			seen[pr.ID] = true
		}
	}
	p.Removals = len(seen)
}

// planRepo decides for one repository with targets (or a deletion waiting).
func planRepo(in *Input, pic *picture, p *Plan, u string, targets []*target, onDeleted string, deleteAfter time.Duration,
	issue func(string) *WorkspaceIssue) []Step {
	prev := in.State.get(u)
	listed := pic.listed[u]
	var ws string
	switch {
	case listed != nil:
		ws = listed.Workspace
	case prev != nil:
		ws = prev.Workspace
	default:
		return nil
	}
	if pic.failed[strings.ToLower(ws)] != nil {
		issue(ws).Targets += len(targets)
		return nil
	}
	if !pic.complete[strings.ToLower(ws)] {
		return nil // not a workspace of this sync
	}
	var active []*snyk.Project
	for _, t := range targets {
		active = append(active, t.active...)
	}
	var main *TargetRef
	if len(targets) > 0 {
		main = &targets[0].ref
		for _, t := range targets {
			if listed != nil && strings.EqualFold(t.name, listed.Workspace+"/"+listed.Slug) {
				main = &t.ref
			}
		}
	}
	if listed != nil {
		if in.Skip != nil && in.Skip(listed.Workspace, listed) {
			return nil // left out by the discovery filters: left alone
		}
		if prev != nil && !strings.EqualFold(prev.Slug, listed.Slug) {
			if len(active) == 0 || listed.MainBranch == "" {
				return nil
			}
			return []Step{renameStep(prev, listed, u, main, active, pic)}
		}
		return planListed(in, listed, u, main, active, prev)
	}
	if prev == nil || onDeleted == OnDeletedIgnore {
		return nil
	}
	// Its recorded name belongs to another repository now (or to one listed
	// without a uuid): Snyk knows targets by name, so its targets may be that
	// repository's. The evidence disagrees, as for a target named like
	// another repository (identify): nothing is proven, nothing is changed.
	if other := pic.listedByName[repoKey(ws, prev.Slug)]; other != nil {
		var steps []Step
		for _, t := range targets {
			if len(t.active) > 0 {
				steps = append(steps, Step{Action: ActionUnmatched, Workspace: ws, Slug: prev.Slug, Target: &t.ref,
					Reason: fmt.Sprintf("recorded as repository %s, gone from the listing, but %s/%s now names repository %s; its %s left alone",
						u, ws, prev.Slug, cmp.Or(normUUID(other.UUID), "(no uuid)"), plural(len(t.active), "active project"))})
			}
		}
		return steps
	}
	// Gone from this run's complete listing, which an earlier complete
	// listing had: a deletion candidate, proven or dropped by confirm.
	var steps []Step
	if len(active) > 0 {
		reason := "gone from the listing of " + ws
		if onDeleted == OnDeletedDelete {
			reason += "; deleted " + FormatDays(deleteAfter) + " after this deactivation"
		}
		steps = append(steps, Step{Action: ActionDeactivateDeleted, Workspace: ws, Slug: prev.Slug, UUID: u, Target: main,
			Projects: refs(active), Unconfirmed: true, Reason: reason})
	}
	if g := prev.Gone; onDeleted == OnDeletedDelete && g != nil && !g.Deactivated.IsZero() {
		var waiting []*snyk.Project
		for _, id := range g.Projects {
			if pr := pic.projects[id]; pr != nil && pr.Status == "inactive" {
				waiting = append(waiting, pr)
			}
		}
		due := g.Deactivated.Add(deleteAfter)
		switch {
		case len(waiting) == 0:
		case in.Now.Before(due):
			p.PendingDeletes = append(p.PendingDeletes, PendingDelete{Workspace: ws, Slug: prev.Slug, UUID: u, Projects: len(waiting), Due: due})
		default:
			steps = append(steps, Step{Action: ActionDeleteDeleted, Workspace: ws, Slug: prev.Slug, UUID: u, Target: main,
				Projects: refs(waiting), Unconfirmed: true,
				Reason: "deactivated for this deletion on " + g.Deactivated.UTC().Format(time.DateOnly) + ", " + FormatDays(deleteAfter) + " ago or more"})
		}
	}
	return steps
}

// planListed decides for a listed repository that kept its slug.
func planListed(in *Input, repo *bitbucket.Repository, u string, main *TargetRef, active []*snyk.Project, prev *RepoState) []Step {
	var steps []Step
	var excluded, rest []*snyk.Project
	for _, pr := range active {
		if in.Excluded != nil && in.Excluded(pr.TargetFile) {
			excluded = append(excluded, pr)
		} else {
			rest = append(rest, pr)
		}
	}
	if len(excluded) > 0 {
		steps = append(steps, Step{Action: ActionDeactivateExcluded, Workspace: repo.Workspace, Slug: repo.Slug, UUID: u,
			Target: main, Projects: refs(excluded), Reason: "file matches the exclusion globs"})
	}
	if repo.MainBranch == "" {
		return steps
	}
	var moved []*snyk.Project
	from := ""
	for _, pr := range rest {
		// An empty target_reference is Snyk not saying: left alone.
		if pr.Branch != "" && pr.Branch != repo.MainBranch {
			moved = append(moved, pr)
			from = cmp.Or(from, pr.Branch)
		}
	}
	if len(moved) > 0 {
		steps = append(steps, Step{Action: ActionUpdateBranch, Workspace: repo.Workspace, Slug: repo.Slug, UUID: u,
			Target: main, From: from, To: repo.MainBranch, Projects: refs(moved), Reason: "default branch changed"})
	}
	if len(rest) > 0 && changedSince(prev, repo, rest) {
		steps = append(steps, Step{Action: ActionReimport, Workspace: repo.Workspace, Slug: repo.Slug, UUID: u,
			Target: main, To: repo.MainBranch, UpdatedOn: repo.UpdatedOn, Reason: "updated since the last sync"})
	}
	return steps
}

// changedSince reports a repository updated since the last sync: since the
// state's updated_on, or, for a repository the state does not know (first
// sync of an org imported by `import`), since its newest project was made.
// updated_on is a hint ("may have changed"): Atlassian does not document
// what moves it, and a push does.
func changedSince(prev *RepoState, repo *bitbucket.Repository, projects []*snyk.Project) bool {
	if repo.UpdatedOn.IsZero() {
		return false
	}
	if prev != nil {
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

// renameStep imports a renamed repository under its new slug; its old
// projects go once that import produced projects. An earlier run's import
// under the same slug whose projects are active already counts (Imported),
// as does a target of the new name with active projects.
func renameStep(prev *RepoState, repo *bitbucket.Repository, u string, main *TargetRef, active []*snyk.Project, pic *picture) Step {
	s := Step{Action: ActionRename, Workspace: repo.Workspace, Slug: repo.Slug, OldSlug: prev.Slug, UUID: u,
		Target: main, To: repo.MainBranch, UpdatedOn: repo.UpdatedOn, Reason: "renamed (same uuid, new slug)"}
	var produced []string
	if r := prev.Renamed; r != nil && strings.EqualFold(r.Slug, repo.Slug) {
		produced = r.Projects
	}
	kept := keptTargets(pic, produced, repo.Workspace, repo.Slug)
	for _, pr := range active {
		if kept[targetKey(pr)] {
			s.Imported = true
			continue
		}
		s.Projects = append(s.Projects, ref(pr))
	}
	return s
}

// keptTargets are the targets (by key) that an import of repo under its new
// slug filled, whose projects a rename keeps: those holding an active
// project of ids (the import's results), and those named by the new slug.
func keptTargets(pic *picture, ids []string, ws, slug string) map[string]bool {
	kept := map[string]bool{}
	for _, id := range ids {
		if pr := pic.projects[id]; pr != nil && pr.Status != "inactive" {
			kept[targetKey(pr)] = true
		}
	}
	for _, t := range pic.targets {
		if strings.EqualFold(t.name, ws+"/"+slug) && len(t.active) > 0 {
			kept[t.key] = true
		}
	}
	return kept
}

func refs(ps []*snyk.Project) []ProjectRef {
	out := make([]ProjectRef, len(ps))
	for i, p := range ps {
		out[i] = ref(p)
	}
	return out
}

func ref(p *snyk.Project) ProjectRef {
	return ProjectRef{ID: p.ID, TargetID: p.TargetID, TargetFile: p.TargetFile, Branch: p.Branch, Type: p.Type, target: targetKey(p)}
}

// FormatDays writes a duration as the plan says it: "7d", "36h", "90m".
func FormatDays(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
