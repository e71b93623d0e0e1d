package syncer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/jsondup"
	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// StateFileSuffix names the per-org state file: <orgId>.sync-state.json.
const StateFileSuffix = ".sync-state.json"

// stateVersion is the state file's format version.
const stateVersion = 1

// State is what the last sync of an org saw of each repository: enough to
// tell a rename (same uuid, new slug) and a change (a later updated_on)
// without any extra request.
type State struct {
	Version int       `json:"version"`
	OrgID   string    `json:"orgId"`
	Updated time.Time `json:"updated"`
	// Repositories by uuid (or "workspace/slug" when Bitbucket sent none).
	Repositories map[string]RepoState `json:"repositories"`
}

// RepoState is one repository as the last sync saw it.
type RepoState struct {
	Workspace string    `json:"workspace"`
	Slug      string    `json:"slug"`
	Branch    string    `json:"branch,omitempty"`
	UpdatedOn time.Time `json:"updatedOn,omitzero"`
}

// stateKey is the repository's key in State.Repositories.
func stateKey(r *bitbucket.Repository) string {
	if r.UUID != "" {
		return strings.ToLower(r.UUID)
	}
	return repoKey(r.Workspace, r.Slug)
}

// get is the state of a listed repository; safe on a nil State.
func (s *State) get(r *bitbucket.Repository) (RepoState, bool) {
	if s == nil {
		return RepoState{}, false
	}
	rs, ok := s.Repositories[stateKey(r)]
	return rs, ok
}

// uuidOf is the uuid the state recorded for workspace/slug ("" if none).
func (s *State) uuidOf(ws, slug string) string {
	if s == nil {
		return ""
	}
	for k, rs := range s.Repositories {
		if strings.EqualFold(rs.Workspace, ws) && strings.EqualFold(rs.Slug, slug) && strings.HasPrefix(k, "{") {
			return k
		}
	}
	return ""
}

// StatePath is the state file of org in dir.
func StatePath(dir, orgID string) string { return filepath.Join(dir, orgID+StateFileSuffix) }

// LoadState reads an org's state file; a missing file is a nil State (the
// first sync) and no error.
func LoadState(dir, orgID string) (*State, error) {
	p := StatePath(dir, orgID)
	b, err := safefile.ReadFile(p, safefile.Rules{})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sync state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("sync state %s is not valid JSON (%v); move it away to start over (the next sync then re-detects changes from Snyk's project dates)", p, err)
	}
	if err := jsondup.Check(b, ""); err != nil {
		return nil, fmt.Errorf("sync state %s: %v; move it away to start over", p, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("sync state %s has version %d, this bbimport reads version %d; move it away to start over", p, s.Version, stateVersion)
	}
	if s.Repositories == nil {
		s.Repositories = map[string]RepoState{}
	}
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

// nextState is the state after applying plan: every repository of a
// complete listing as listed, except that a repository whose step did not
// succeed keeps its previous entry (so the next run sees the same change
// again), and a repository gone from a complete listing is dropped once
// nothing is left to do for it. Workspaces whose listing failed keep their
// previous entries.
func nextState(prev *State, orgID string, now time.Time, listings []*Listing, plan *Plan, done map[int]bool) *State {
	next := &State{Version: stateVersion, OrgID: orgID, Updated: now.UTC(), Repositories: map[string]RepoState{}}
	complete := map[string]bool{}
	for _, l := range listings {
		if l.Err == nil {
			complete[strings.ToLower(l.Workspace)] = true
		}
	}
	pending := map[string]bool{} // repository keys (current and old slugs) with an unfinished step
	for i := range plan.Steps {
		s := &plan.Steps[i]
		if s.Action == ActionNewNotImported || done[i] {
			continue
		}
		pending[s.Key()] = true
		if s.OldSlug != "" {
			pending[repoKey(s.Workspace, s.OldSlug)] = true
		}
	}
	if prev != nil {
		for k, rs := range prev.Repositories {
			if !complete[strings.ToLower(rs.Workspace)] || pending[repoKey(rs.Workspace, rs.Slug)] {
				next.Repositories[k] = rs
			}
		}
	}
	for _, l := range listings {
		if l.Err != nil {
			continue
		}
		for i := range l.Repos {
			r := &l.Repos[i]
			k := stateKey(r)
			if _, kept := next.Repositories[k]; kept {
				continue // an unfinished step: keep what the last run saw
			}
			if pending[repoKey(l.Workspace, r.Slug)] {
				continue // not imported yet: nothing to remember
			}
			next.Repositories[k] = RepoState{Workspace: l.Workspace, Slug: r.Slug, Branch: r.MainBranch, UpdatedOn: r.UpdatedOn}
		}
	}
	return next
}
