package sim

import (
	"fmt"
	"strings"
)

// Shortcuts for benchmarks of `bbimport sync`, which need an estate already
// in Snyk and a share of it changed, without paying for the imports.

// SeedImported adds to org (id or name) the projects an import of every
// repository of workspace with a main branch would make (the manifests a
// simulated import finds, origin bitbucket-cloud-app, on the main branch),
// and returns how many repositories it seeded.
func (s *Server) SeedImported(org, workspace string) (int, error) {
	repos := s.CurrentRepositories(workspace)
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	o := st.orgByIDOrName(org)
	if o == nil {
		return 0, fmt.Errorf("sim: no Snyk org %q", org)
	}
	n := 0
	for _, r := range repos {
		if r.MainBranch == "" {
			continue
		}
		n++
		key := SnykTargetKey(o.ID, r.Workspace, r.Slug, r.MainBranch)
		for _, file := range st.manifests(key, nil) {
			name := r.FullName + ":" + file
			if o.byName[name+"\x00"+r.MainBranch] == nil {
				st.addProject(o, SnykProject{Name: name, Origin: "bitbucket-cloud-app", Branch: r.MainBranch, TargetFile: file})
			}
		}
	}
	return n, nil
}

// ChangeCounts says how many repositories PlanChange changes of each kind.
type ChangeCounts struct {
	Rename, Delete, Branch, Manifest, New int
}

// PlanChange picks, in listing order, distinct repositories of workspace
// with a main branch for each kind of change and returns the EstateChange
// (renamed to "<slug>-renamed", branch "develop", manifest
// "services/new/package.json").
func (s *Server) PlanChange(workspace string, c ChangeCounts) (EstateChange, error) {
	var pool []string
	for _, r := range s.CurrentRepositories(workspace) {
		if r.MainBranch != "" {
			pool = append(pool, r.Slug)
		}
	}
	if need := c.Rename + c.Delete + c.Branch + c.Manifest; need > len(pool) {
		return EstateChange{}, fmt.Errorf("sim: workspace %s has %d repositories with a branch, %d changes asked", workspace, len(pool), need)
	}
	ch := EstateChange{Workspace: workspace, Rename: map[string]string{}, Branch: map[string]string{},
		AddManifest: map[string][]string{}, New: c.New}
	take := func(n int) []string {
		out := pool[:n]
		pool = pool[n:]
		return out
	}
	for _, slug := range take(c.Rename) {
		ch.Rename[slug] = strings.TrimSuffix(slug, "-renamed") + "-renamed"
	}
	ch.Delete = take(c.Delete)
	for _, slug := range take(c.Branch) {
		ch.Branch[slug] = "develop"
	}
	for _, slug := range take(c.Manifest) {
		ch.AddManifest[slug] = []string{"services/new/package.json"}
	}
	return ch, nil
}

// FinishPendingJobs ends every import job still pending, as Snyk does on
// its own: the simulator otherwise finishes a job only when it is polled,
// and a client killed mid-run never polls its last jobs again.
func (s *Server) FinishPendingJobs() int {
	st := s.snyk
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, j := range st.jobOrder {
		if !j.done {
			st.finish(j)
			n++
		}
	}
	return n
}
