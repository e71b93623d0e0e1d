package syncer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/listing"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/bbimport/bbimport/pkg/syncer"
)

// Issue 18's table, one test per row: against a simulator in the hostile
// mode of the row, with deletions set to delete and the guard opened to
// 100 %, a sync deactivates and deletes no project of a repository that
// exists, reports the org or workspace, and syncs the other orgs (beta's
// deletion and branch change).

// Row 1: Snyk target names not of the form <workspace>/<slug>.
func TestHostileTargetNames(t *testing.T) {
	t.Parallel()
	for _, form := range []sim.TargetNameForm{sim.TargetNamesBranch, sim.TargetNamesNone, sim.TargetNamesJunk} {
		for _, recorded := range []bool{false, true} {
			name := string(form) + "/first sync"
			if recorded {
				name = string(form) + "/after a first sync"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newSimSync(t)
				e.first()
				if !recorded {
					e.forget("gamma", "alpha")
				}
				e.s.SetTargetNames("org-gamma", form)
				e.s.SetTargetNames("org-alpha", form)
				res, c0 := e.syncBesideBeta(nil)
				e.untouched("gamma")
				e.untouched("alpha")
				o := e.org(res, "gamma")
				if reads := e.s.Count("bitbucket.repository_reads") - c0["bitbucket.repository_reads"]; reads != 1 {
					t.Errorf("%d repository reads, want beta's one confirmation", reads)
				}
				if !recorded && o.Planned[syncer.ActionUnmatched] != 3 {
					t.Errorf("gamma's targets: planned %v, want 3 unmatched reported", o.Planned)
				}
				if recorded && o.Planned[syncer.ActionUnmatched] != 0 {
					t.Errorf("gamma's recorded targets: planned %v, want them matched by the state", o.Planned)
				}
			})
		}
	}
}

// Row 1, as the issue met it: a first sync with --onDeletedRepo=delete of
// an org whose target names are no slugs deletes nothing, even after the
// repositories were imported again by --importNew (their targets are then
// bbimport's own import results).
func TestHostileTargetNamesImportNew(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	e.s.SetTargetNames("org-gamma", sim.TargetNamesBranch)
	for range 3 {
		c0 := e.s.Counters()
		e.now = e.now.Add(8 * 24 * time.Hour)
		e.sync(func(o *syncer.Options) { o.ImportNew = true })
		if n := e.removals(c0); n != 0 {
			t.Fatalf("%d projects deactivated or deleted", n)
		}
	}
	e.untouched("gamma")
}

// Row 2: a confirmation answered by a proxy's HTML 404. alpha's listing
// misses three repositories that exist, and every repository read gets
// the proxy's page: nothing is proven, nothing changes, the repositories
// are reported.
func TestHostileProxyNotFound(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	e.first()
	repos := e.s.CurrentRepositories("alpha")
	hidden := []string{repos[0].Slug, repos[1].Slug, repos[2].Slug}
	e.s.HideFromListing("alpha", hidden...)
	e.s.HTMLNotFoundFromProxy("alpha")
	res, c0 := e.syncBesideBeta(nil)
	if n := e.s.Count("bitbucket.proxy_404") - c0["bitbucket.proxy_404"]; n != 3 {
		t.Errorf("%d confirmations answered by the proxy, want 3", n)
	}
	e.untouched("alpha")
	o := e.org(res, "alpha")
	if !o.Failed() || len(o.Failures) != 3 {
		t.Fatalf("alpha: %+v, want the 3 unproven deletions reported", o)
	}
	for i, f := range o.Failures {
		if !strings.Contains(f, "proved nothing") {
			t.Errorf("failure %d: %q", i, f)
		}
	}
}

// Row 3: the Snyk listing repeats its first page under new cursors.
func TestHostileRepeatedSnykPages(t *testing.T) {
	t.Parallel()
	for _, l := range []string{"projects", "targets"} {
		t.Run(l, func(t *testing.T) {
			t.Parallel()
			e := newSimSync(t)
			e.first()
			// A real deletion in alpha: a repeated page must not make it
			// (or anything else) happen.
			if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "alpha", Delete: []string{e.s.CurrentRepositories("alpha")[0].Slug}}); err != nil {
				t.Fatal(err)
			}
			e.s.RepeatFirstPage("org-alpha", l, 20)
			res, c0 := e.syncBesideBeta(nil)
			o := e.org(res, "alpha")
			if !incomplete(o.Err, listing.RepeatedItem) || !strings.Contains(o.Err.Error(), "org-alpha") {
				t.Errorf("alpha: error %v, want an incomplete listing naming the org", o.Err)
			}
			if n := e.s.Count("snyk.repeated_pages") - c0["snyk.repeated_pages"]; n != 1 {
				t.Errorf("%d repeated pages fetched, want 1 (the listing stops at the first repeat)", n)
			}
		})
	}
}

// Row 4: a Bitbucket listing cut short (an empty middle page; no `next`
// while `size` says more).
func TestHostileCutShortListing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cut  sim.ListingCut
		want listing.Reason
	}{{sim.ListingEmptyPage, listing.EmptyPage}, {sim.ListingNoNext, listing.SizeMismatch}} {
		t.Run(string(tc.cut), func(t *testing.T) {
			t.Parallel()
			e := newSimSync(t)
			e.first()
			e.s.SetListingCut("alpha", tc.cut)
			res, _ := e.syncBesideBeta(nil)
			e.untouched("alpha")
			o := e.org(res, "alpha")
			if len(o.FailedWorkspaces) != 1 || o.FailedWorkspaces[0].Workspace != "alpha" || !incomplete(o.FailedWorkspaces[0].Err, tc.want) {
				t.Fatalf("alpha: failed workspaces %+v, want alpha's listing incomplete (%s)", o.FailedWorkspaces, tc.want)
			}
			if !strings.Contains(o.FailedWorkspaces[0].Error, "workspace alpha") || !o.Failed() {
				t.Errorf("alpha not reported: %+v", o.FailedWorkspaces[0])
			}
		})
	}
}

// Row 5: a renamed repository whose import job completes with its log
// entry failed (no projects): its old projects stay active, the rename is
// a failure and is retried by the next run, which completes it.
func TestHostileRenameImportFails(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	e.first()
	old := e.s.CurrentRepositories("gamma")[0].Slug
	if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", Rename: map[string]string{old: "renamed"}}); err != nil {
		t.Fatal(err)
	}
	e.s.FailImportsOf("gamma", "renamed", true)
	res, _ := e.syncBesideBeta(nil)
	for _, p := range e.s.SnykProjects("org-gamma") {
		if p.Status != "active" {
			t.Errorf("%s is %s", p.Name, p.Status)
		}
	}
	o := e.org(res, "gamma")
	if !o.Failed() || o.Done[syncer.ActionRename] != 0 || len(o.Failures) != 1 || !strings.Contains(o.Failures[0], "renamed") {
		t.Fatalf("gamma: %+v, want the rename failed", o)
	}
	// Snyk imports it the next night: the rename completes.
	e.s.FailImportsOf("gamma", "renamed", false)
	res = e.sync(nil)
	if o := e.org(res, "gamma"); o.Failed() || o.Done[syncer.ActionRename] != 1 || o.ProjectsDeactivated != 1 || o.ProjectsImported != 1 {
		t.Fatalf("second run: %+v, want the rename done once", o)
	}
	for _, p := range e.s.SnykProjects("org-gamma") {
		if strings.HasPrefix(p.Name, "gamma/"+old+":") && p.Status != "inactive" {
			t.Errorf("old project %s is %s", p.Name, p.Status)
		}
	}
}

// Row 6: endless unique `links.next` on the Snyk targets listing. The
// listing stops at the cap, the org is reported, the others are synced.
func TestHostileEndlessTargets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		opt   snyk.Option
		want  listing.Reason
		pages int64
	}{
		{"page cap", snyk.WithListingCaps(40, 0), listing.PageCap, 40},
		{"item cap", snyk.WithListingCaps(0, 1000), listing.ItemCap, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSimSync(t, tc.opt)
			e.first()
			e.s.EndlessTargets("org-alpha")
			res, c0 := e.syncBesideBeta(nil)
			o := e.org(res, "alpha")
			if !incomplete(o.Err, tc.want) || !strings.Contains(o.Err.Error(), "org-alpha") {
				t.Errorf("alpha: error %v, want the %s naming the org", o.Err, tc.want)
			}
			if n := e.s.Count("snyk.endless_pages") - c0["snyk.endless_pages"]; n != tc.pages {
				t.Errorf("%d invented pages fetched, want %d", n, tc.pages)
			}
			e.untouched("alpha")
		})
	}
}

// Row 7: an org of 5 projects whose repositories all disappear is never
// emptied without an explicit limit; an explicit one empties it.
func TestHostileSmallOrgNeverEmptied(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	e.first()
	var all []string
	for _, r := range e.s.CurrentRepositories("tiny") {
		all = append(all, r.Slug)
	}
	if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "tiny", Delete: all}); err != nil {
		t.Fatal(err)
	}
	res, c0 := e.syncBesideBeta(func(o *syncer.Options) { o.MaxDeactivate = syncer.Limit{} })
	o := e.org(res, "tiny")
	if o.HeldBack == nil || !o.HeldBack.Empties || o.HeldBack.Active != 5 || !o.Failed() {
		t.Fatalf("tiny: held back %+v, want the guard to refuse emptying 5 projects", o.HeldBack)
	}
	if reads := e.s.Count("bitbucket.repository_reads") - c0["bitbucket.repository_reads"]; reads != 1 {
		t.Errorf("%d repository reads, want only beta's (a held-back org costs no confirmation)", reads)
	}
	res = e.sync(nil) // explicit 100 %
	if o := e.org(res, "tiny"); o.HeldBack != nil || o.ProjectsDeactivated != 5 {
		t.Errorf("explicit 100%%: %+v", o)
	}
}

// Row 8: --maxDeactivate=0 means none.
func TestHostileMaxDeactivateZero(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	e.first()
	e.changeBeta()
	c0 := e.s.Counters()
	res := e.sync(func(o *syncer.Options) { o.MaxDeactivate, _ = syncer.ParseLimit("0%") })
	if n := e.removals(c0); n != 0 {
		t.Errorf("%d projects deactivated or deleted under --maxDeactivate=0%%", n)
	}
	if o := e.org(res, "beta"); o.HeldBack == nil || o.ProjectsUpdated != 0 {
		t.Errorf("beta: %+v, want held back whole", o)
	}
}

// A deletion deletes only --deleteAfter after the deactivation, proven
// again; the clock is the run's, no test sleeps.
func TestDeleteOnlyAfterDeleteAfter(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	e.first()
	gone := e.s.CurrentRepositories("gamma")[0]
	if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", Delete: []string{gone.Slug}}); err != nil {
		t.Fatal(err)
	}
	start := e.now
	for _, tc := range []struct {
		after                    time.Duration
		deactivated, deleted     int
		reads                    int64
		projectsLeft, activeLeft int
	}{
		{0, 1, 0, 1, 3, 2},
		{24 * time.Hour, 0, 0, 0, 3, 2},
		{7*24*time.Hour - time.Minute, 0, 0, 0, 3, 2},
		{7 * 24 * time.Hour, 0, 1, 1, 2, 2},
		{8 * 24 * time.Hour, 0, 0, 0, 2, 2},
	} {
		e.now = start.Add(tc.after)
		c0 := e.s.Counters()
		o := e.org(e.sync(nil), "gamma")
		reads := e.s.Count("bitbucket.repository_reads") - c0["bitbucket.repository_reads"]
		if o.ProjectsDeactivated != tc.deactivated || o.ProjectsDeleted != tc.deleted || reads != tc.reads || o.Failed() {
			t.Errorf("after %s: deactivated %d, deleted %d, %d reads (%+v); want %d, %d, %d", tc.after, o.ProjectsDeactivated,
				o.ProjectsDeleted, reads, o, tc.deactivated, tc.deleted, tc.reads)
		}
		ps := e.s.SnykProjects("org-gamma")
		active := 0
		for _, p := range ps {
			if p.Status == "active" {
				active++
			}
		}
		if len(ps) != tc.projectsLeft || active != tc.activeLeft {
			t.Errorf("after %s: %d projects (%d active), want %d (%d)", tc.after, len(ps), active, tc.projectsLeft, tc.activeLeft)
		}
	}
}
