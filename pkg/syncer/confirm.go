package syncer

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// confirm proves or drops every deletion candidate of the plan with one
// request per repository, by its identity: GET
// /2.0/repositories/{workspace}/{uuid}. A deletion is proven by three
// pieces of evidence: an earlier complete listing had the uuid (the state),
// this run's complete listing does not, and Bitbucket itself answers 404
// for the uuid (bitbucket.IsRepositoryGone: its JSON error, not a proxy's
// page). The same uuid under another slug is the repository renamed. Any
// other answer proves nothing: the steps are dropped and reported, and the
// next run asks again.
func (s *orgSync) confirm(ctx context.Context, orgID string, plan *Plan, pic *picture, prev *State, o *OrgResult) {
	type candidate struct {
		steps []int
		repo  bitbucket.Repository
		err   error
	}
	byUUID := map[string]*candidate{}
	var order []string
	for i := range plan.Steps {
		if st := &plan.Steps[i]; st.Unconfirmed {
			if byUUID[st.UUID] == nil {
				byUUID[st.UUID] = &candidate{}
				order = append(order, st.UUID)
			}
			byUUID[st.UUID].steps = append(byUUID[st.UUID].steps, i)
		}
	}
	// The reads go side by side (they only ask); what each answer proves
	// is decided below in the plan's order.
	asked := make([]bool, len(order))
	sem := make(chan struct{}, s.opts.WriteConcurrency)
	var wg sync.WaitGroup
	for j, u := range order {
		if !acquire(ctx, sem) {
			break
		}
		c := byUUID[u]
		asked[j] = true
		wg.Go(func() {
			defer func() { <-sem }()
			c.repo, c.err = s.opts.Bitbucket.GetRepository(ctx, plan.Steps[c.steps[0]].Workspace, u)
		})
	}
	wg.Wait()
	drop := map[int]bool{}
	for j, u := range order {
		c := byUUID[u]
		first := &plan.Steps[c.steps[0]]
		if !asked[j] {
			for _, i := range c.steps {
				drop[i] = true
			}
			continue
		}
		o.Confirmations++
		what := fmt.Sprintf("%s/%s (%s)", first.Workspace, first.Slug, u)
		var failure string
		switch r := c.repo; {
		case bitbucket.IsRepositoryGone(c.err):
			for _, i := range c.steps {
				st := &plan.Steps[i]
				st.Unconfirmed = false
				st.Reason += "; Bitbucket answers 404 for its uuid"
			}
			continue
		case c.err != nil:
			failure = fmt.Sprintf("%s is gone from the listing, but asking Bitbucket for its uuid proved nothing: %s", what, s.opts.errText(c.err))
		case normUUID(r.UUID) != u:
			failure = fmt.Sprintf("%s is gone from the listing, and Bitbucket answered for its uuid with repository %s %s/%s: not proof", what, r.UUID, r.Workspace, r.Slug)
		case !strings.EqualFold(r.Workspace, first.Workspace):
			failure = fmt.Sprintf("%s moved to workspace %s: left alone", what, r.Workspace)
		case !strings.EqualFold(r.Slug, first.Slug) && r.MainBranch != "":
			// Renamed, found by its uuid: import under the new slug first.
			var active []*snyk.Project
			for _, i := range c.steps {
				if st := &plan.Steps[i]; st.Action == ActionDeactivateDeleted {
					for _, pr := range st.Projects {
						active = append(active, pic.projects[pr.ID])
					}
				}
				drop[i] = true
			}
			if len(active) == 0 {
				failure = fmt.Sprintf("%s is %s/%s now, and none of its projects is active: left alone", what, r.Workspace, r.Slug)
				break
			}
			was := prev.get(u)
			if was == nil {
				was = &RepoState{Workspace: first.Workspace, Slug: first.Slug}
			}
			rename := renameStep(was, &r, u, first.Target, active, pic)
			rename.Reason = "renamed (Bitbucket answers its uuid with a new slug)"
			plan.Steps = append(plan.Steps, rename)
			continue
		case strings.EqualFold(r.Slug, first.Slug):
			failure = fmt.Sprintf("%s is in Bitbucket although the complete listing did not have it: left alone", what)
		default:
			failure = fmt.Sprintf("%s was renamed to %s, an empty repository: left alone", what, r.Slug)
		}
		for _, i := range c.steps {
			drop[i] = true
		}
		o.Failures = append(o.Failures, failure)
		s.targetFailed(orgID, first.Target, first.Workspace+"/"+first.Slug, failure)
	}
	kept := plan.Steps[:0]
	for i, st := range plan.Steps {
		if !drop[i] {
			kept = append(kept, st)
		}
	}
	plan.Steps = kept
	plan.sortSteps()
	plan.countRemovals()
}
