package syncer

import (
	"fmt"
	"strings"
)

// ambiguous marks a name or id that two repositories claim.
const ambiguous = "!"

// identify finds the repository (uuid) each target is, from the evidence in
// this order:
//
//  1. the state recorded the target as the repository's ("state");
//  2. one of its projects came out of bbimport's own import of the
//     repository ("import");
//  3. its name is "<workspace>/<slug>" of exactly one repository of this
//     run's complete listings, or, for a repository no longer listed, of
//     exactly one recorded repository ("name").
//
// Evidence that disagrees (a target recorded for two repositories, or
// recorded for one while its name now belongs to another) matches nothing.
// A target with active projects that matches nothing is unmatched: listed in
// the plan, never changed. A target with no active project only keeps a
// recorded match.
func (p *picture) identify(st *State) {
	byTarget := map[string]string{}
	byProject := map[string]string{}
	byName := map[string]string{}
	claim := func(m map[string]string, k, u string) {
		if was, ok := m[k]; ok && was != u {
			u = ambiguous
		}
		m[k] = u
	}
	if st != nil {
		for u, rs := range st.Repositories {
			for _, k := range rs.Targets {
				claim(byTarget, k, u)
			}
			for _, id := range rs.Imported {
				claim(byProject, id, u)
			}
			claim(byName, repoKey(rs.Workspace, rs.Slug), u)
		}
	}
	for _, t := range p.targets {
		recorded := map[string]string{} // uuid → how
		if u, ok := byTarget[t.key]; ok {
			recorded[u] = "state"
		}
		for _, pr := range t.projects {
			if u, ok := byProject[pr.ID]; ok && recorded[u] == "" {
				recorded[u] = "import"
			}
		}
		if len(t.active) == 0 {
			if len(recorded) == 1 {
				for u, how := range recorded {
					if u != ambiguous {
						t.uuid, t.how = u, how
					}
				}
			}
		} else {
			t.uuid, t.how, t.unmatched = p.match(t, recorded, byName)
		}
		if t.uuid != "" {
			p.links[t.uuid] = append(p.links[t.uuid], t.key)
		}
	}
}

// match decides the repository of a target with active projects.
func (p *picture) match(t *target, recorded map[string]string, byName map[string]string) (uuid, how, unmatched string) {
	name := strings.ToLower(t.name)
	var listedAs string
	if r := p.listedByName[name]; r != nil {
		listedAs = normUUID(r.UUID)
	}
	if len(recorded) > 1 || recorded[ambiguous] != "" {
		return "", "", "recorded for more than one repository"
	}
	for u, how := range recorded {
		if listedAs != "" && listedAs != u {
			return "", "", fmt.Sprintf("recorded as repository %s, but %q now names repository %s", u, t.name, listedAs)
		}
		return u, how, ""
	}
	was := byName[name]
	switch {
	case listedAs != "" && was != "" && was != listedAs:
		return "", "", fmt.Sprintf("%q named repository %s before and names repository %s now", t.name, was, listedAs)
	case listedAs != "":
		return listedAs, "name", ""
	case was == ambiguous:
		return "", "", fmt.Sprintf("%q named more than one repository before", t.name)
	case was != "":
		return was, "name", ""
	}
	return "", "", fmt.Sprintf("%q is the name of no repository listed now or before", t.name)
}
