package syncer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/jsondup"
	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// StateFileSuffix names the per-org state file: <orgId>.sync-state.json.
const StateFileSuffix = ".sync-state.json"

// stateVersion is the state file's format version; version 1 (no target
// links) is read and migrated.
const stateVersion = 2

// maxImportedIDs bounds the project ids kept per repository until a listing
// shows their target: one is enough to find it.
const maxImportedIDs = 10

// State is the evidence earlier runs gathered about an org: every repository
// a complete listing had, by uuid, with the Snyk targets known to be its
// own, and the deletions confirmed. Nothing is ever decided from a name
// alone: a target is a repository's because the state recorded it, because
// bbimport's own import of the repository produced one of its projects, or
// because its name matched one listed repository and nothing else.
type State struct {
	Version int       `json:"version"`
	OrgID   string    `json:"orgId"`
	Updated time.Time `json:"updated"`
	// Repositories by uuid (lower-case, braced).
	Repositories map[string]RepoState `json:"repositories"`
}

// RepoState is one repository as the last sync left it: as listed, except
// that a change not yet carried out keeps the values before it, so the next
// run sees it again.
type RepoState struct {
	Workspace string    `json:"workspace"`
	Slug      string    `json:"slug"`
	Branch    string    `json:"branch,omitempty"`
	UpdatedOn time.Time `json:"updatedOn,omitzero"`
	// Targets are the ids of the Snyk targets that are this repository's.
	Targets []string `json:"targets,omitempty"`
	// Imported are ids of projects bbimport's own imports of it produced,
	// kept until their target is matched to it.
	Imported []string `json:"imported,omitempty"`
	// Gone is set once the repository's deletion was confirmed.
	Gone *Gone `json:"gone,omitempty"`
	// Renamed is set while a rename is half done: the import under the new
	// slug produced these projects, the old ones are still to go.
	Renamed *Renamed `json:"renamed,omitempty"`
}

// Renamed is a rename whose import succeeded and whose old projects are
// not all deactivated yet: the next run only deactivates.
type Renamed struct {
	Slug     string   `json:"slug"`
	Projects []string `json:"projects"`
}

// Gone is a confirmed deletion: when Bitbucket first answered 404 for the
// repository's uuid, and which of its projects sync deactivated for it and
// when (a deletion waits for that time plus DeleteAfter).
type Gone struct {
	Confirmed   time.Time `json:"confirmed"`
	Deactivated time.Time `json:"deactivated,omitzero"`
	Projects    []string  `json:"projects,omitempty"`
}

// StatePath is the state file of org in dir.
func StatePath(dir, orgID string) string { return filepath.Join(dir, orgID+StateFileSuffix) }

// StateError is a state file that cannot be read: sync leaves the org alone
// rather than act without its evidence.
type StateError struct {
	Path string
	Err  error
}

func (e *StateError) Error() string {
	return fmt.Sprintf("sync state %s: %v; move it away to start over (the next sync then matches Snyk targets to repositories by name only, and proves no deletion before a complete listing has been recorded)", e.Path, e.Err)
}

func (e *StateError) Unwrap() error { return e.Err }

// LoadState reads an org's state file; a missing file is a nil State (the
// first sync) and no error. A version 1 file (repositories by uuid, no
// target links) is migrated: its repositories keyed by uuid keep counting as
// listed before, those keyed by name are dropped, and targets get their
// repository from the listing.
func LoadState(dir, orgID string) (*State, error) {
	p := StatePath(dir, orgID)
	b, err := safefile.ReadFile(p, safefile.Rules{})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &StateError{Path: p, Err: err}
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, &StateError{Path: p, Err: fmt.Errorf("not valid JSON (%v)", err)}
	}
	if err := jsondup.Check(b, ""); err != nil {
		return nil, &StateError{Path: p, Err: err}
	}
	switch s.Version {
	case 1:
		s.Version = stateVersion
		for k := range s.Repositories {
			if !strings.HasPrefix(k, "{") {
				delete(s.Repositories, k)
			}
		}
	case stateVersion:
	default:
		return nil, &StateError{Path: p, Err: fmt.Errorf("version %d, this bbimport reads versions 1 and %d", s.Version, stateVersion)}
	}
	if s.Repositories == nil {
		s.Repositories = map[string]RepoState{}
	}
	norm := make(map[string]RepoState, len(s.Repositories))
	for k, rs := range s.Repositories {
		norm[normUUID(k)] = rs
	}
	s.Repositories = norm
	return &s, nil
}

// Save writes the state atomically.
func (s *State) Save(dir string) error {
	return importfiles.WriteFileAtomic(StatePath(dir, s.OrgID), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(s)
	})
}

// get is the state of a repository by uuid; safe on a nil State.
func (s *State) get(uuid string) *RepoState {
	if s == nil {
		return nil
	}
	if rs, ok := s.Repositories[uuid]; ok {
		return &rs
	}
	return nil
}

// normUUID is a repository uuid as the state keys it: lower-case, braced.
func normUUID(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	if u == "" || strings.HasPrefix(u, "{") {
		return u
	}
	return "{" + u + "}"
}

// outcome is what applying a plan achieved, for the next state.
type outcome struct {
	// done says, by step index, that a step succeeded entirely.
	done map[int]bool
	// deactivated and deleted are the projects written, by uuid.
	deactivated, deleted map[string][]string
	// imported are the projects bbimport's imports produced, by uuid;
	// renamed those of the renames' imports.
	imported, renamed map[string][]string
}

func newOutcome() *outcome {
	return &outcome{done: map[int]bool{}, deactivated: map[string][]string{}, deleted: map[string][]string{},
		imported: map[string][]string{}, renamed: map[string][]string{}}
}

// nextState is the evidence after a run: every repository of a complete
// listing as listed, with the targets now known to be its own, except that a
// repository with a step not carried out keeps the values before it (the
// next run sees the same change again); a repository gone from a complete
// listing keeps its entry (and a confirmed deletion its record) while Snyk
// still holds anything of it; a workspace not listed completely keeps what
// it had.
func nextState(prev *State, now time.Time, pic *picture, plan *Plan, out *outcome) *State {
	// The state's time never goes back: a clock set back (a restored VM,
	// NTP broken for days) must not date a deactivation before the runs
	// already recorded, which would make its deletion due early.
	now = now.UTC()
	if prev != nil && prev.Updated.After(now) {
		now = prev.Updated.UTC()
	}
	next := &State{Version: stateVersion, OrgID: plan.OrgID, Updated: now, Repositories: map[string]RepoState{}}
	unfinished := map[string]bool{} // uuids with a step that did not succeed
	confirmed := map[string]bool{}  // uuids whose deletion was confirmed this run
	renamed := map[string]*Step{}   // uuids renamed this run, by the step
	for i := range plan.Steps {
		s := &plan.Steps[i]
		if s.UUID == "" || s.Action == ActionNewNotImported || s.Action == ActionUnmatched {
			continue
		}
		if !out.done[i] {
			unfinished[s.UUID] = true
		}
		switch s.Action {
		case ActionDeactivateDeleted, ActionDeleteDeleted:
			confirmed[s.UUID] = true
		case ActionRename:
			renamed[s.UUID] = s
		}
	}
	if prev != nil {
		for u, rs := range prev.Repositories {
			if !pic.complete[strings.ToLower(rs.Workspace)] {
				next.Repositories[u] = rs
				continue
			}
			if pic.listed[u] != nil {
				continue // below, as listed
			}
			if s := renamed[u]; s != nil && !unfinished[u] {
				// Found renamed by the confirmation: as the listing would show it.
				rs.Slug, rs.Branch, rs.UpdatedOn, rs.Renamed = s.Slug, s.To, s.UpdatedOn, nil
			} else if s != nil {
				rs.Renamed = renamedAfter(rs.Renamed, s.Slug, out.renamed[u])
			}
			rs.Targets = pic.targetsOf(u, rs.Targets)
			rs.Imported = pic.pending(u, rs.Imported, out.imported[u])
			if confirmed[u] {
				rs.Gone = goneAfter(rs.Gone, now, out.deactivated[u], out.deleted[u])
			}
			if rs.Gone != nil {
				rs.Gone.Projects = slices.DeleteFunc(rs.Gone.Projects, func(id string) bool { return pic.projects[id] == nil })
			}
			if len(rs.Targets) == 0 && (rs.Gone == nil || len(rs.Gone.Projects) == 0) {
				continue // nothing of it is left in Snyk
			}
			next.Repositories[u] = rs
		}
	}
	for u, r := range pic.listed {
		rs := RepoState{Workspace: r.Workspace, Slug: r.Slug, Branch: r.MainBranch, UpdatedOn: r.UpdatedOn}
		var was *RepoState
		if prev != nil {
			if p, ok := prev.Repositories[u]; ok {
				was = &p
			}
		}
		if unfinished[u] {
			if was == nil {
				continue // not in Snyk yet, or not known before: nothing to remember
			}
			rs.Slug, rs.Branch, rs.UpdatedOn = was.Slug, was.Branch, was.UpdatedOn
			if s := renamed[u]; s != nil {
				rs.Renamed = renamedAfter(was.Renamed, s.Slug, out.renamed[u])
			}
		}
		var before, imported []string
		if was != nil {
			before, imported = was.Targets, was.Imported
		}
		rs.Targets = pic.targetsOf(u, before)
		rs.Imported = pic.pending(u, imported, out.imported[u])
		next.Repositories[u] = rs
	}
	return next
}

// renamedAfter is a half-done rename's record after this run: the import
// this run made (produced), else the one before, for the same new slug.
func renamedAfter(was *Renamed, slug string, produced []string) *Renamed {
	if len(produced) > 0 {
		return &Renamed{Slug: slug, Projects: produced[:min(len(produced), maxImportedIDs)]}
	}
	if was != nil && strings.EqualFold(was.Slug, slug) {
		return was
	}
	return nil
}

// goneAfter is a deletion's record after this run wrote deactivated and
// deleted of its projects.
func goneAfter(g *Gone, now time.Time, deactivated, deleted []string) *Gone {
	if g == nil {
		g = &Gone{Confirmed: now.UTC()}
	} else {
		c := *g
		c.Projects = slices.Clone(g.Projects)
		g = &c
	}
	for _, id := range deactivated {
		if !slices.Contains(g.Projects, id) {
			g.Projects = append(g.Projects, id)
		}
		g.Deactivated = now.UTC()
	}
	g.Projects = slices.DeleteFunc(g.Projects, func(id string) bool { return slices.Contains(deleted, id) })
	slices.Sort(g.Projects)
	return g
}
