package syncer_test

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/syncer"
)

// What is proof and what is not, beyond issue 18's table (review of
// issue 18): answers and states that looked like evidence of a deleted
// repository while the repository, or one holding its name, exists.

// A path-rewriting proxy in front of Bitbucket: every repository read of
// alpha reaches Bitbucket under a path it does not serve, and Bitbucket
// answers with its own JSON 404 — "Resource not found", about the URL, not
// the repository. alpha's listing misses three repositories that exist:
// nothing is proven, nothing changes, the three are reported.
func TestProofRoutingNotFoundIsNoProof(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	target, err := url.Parse(e.s.URL)
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`^/2\.0/repositories/alpha/[^/]+$`)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // Bitbucket's links name the host asked
		if read.MatchString(pr.In.URL.Path) {
			pr.Out.URL.Path += "/x"
			pr.Out.URL.RawPath = ""
		}
	}})
	t.Cleanup(proxy.Close)
	e.bb = newBitbucketClientAt(t, e.s, proxy.URL+"/2.0")
	e.first()
	repos := e.s.CurrentRepositories("alpha")
	e.s.HideFromListing("alpha", repos[0].Slug, repos[1].Slug, repos[2].Slug)
	res, _ := e.syncBesideBeta(nil)
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

// A repository deleted and another renamed to its name ("replace a with
// b"): Snyk knows targets by name, so the deleted repository's target is
// the renamed one's now. Whatever the form of the target names, the
// deleted repository's projects stay active and its target is reported;
// the rename moves the renamed repository's old projects only.
func TestProofNameTakenByAnotherRepository(t *testing.T) {
	t.Parallel()
	for _, form := range []sim.TargetNameForm{sim.TargetNamesPlain, sim.TargetNamesBranch, sim.TargetNamesJunk} {
		t.Run("names "+string(form), func(t *testing.T) {
			t.Parallel()
			e := newSimSync(t)
			e.first() // records each target as its repository's
			e.s.SetTargetNames("org-gamma", form)
			var slugs []string
			for _, r := range e.s.CurrentRepositories("gamma") {
				if r.MainBranch != "" {
					slugs = append(slugs, r.Slug)
				}
			}
			gone, renamed := slugs[0], slugs[1]
			if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", Delete: []string{gone},
				Rename: map[string]string{renamed: gone}}); err != nil {
				t.Fatal(err)
			}
			c0 := e.s.Counters()
			res := e.sync(nil)
			e.untouched("gamma")
			if n := e.removals(c0); n != 1 {
				t.Errorf("%d projects deactivated or deleted, want the renamed repository's old one", n)
			}
			for _, p := range e.s.SnykProjects("org-gamma") {
				if strings.HasPrefix(p.Name, "gamma/"+renamed+":") && p.Status != "inactive" {
					t.Errorf("the renamed repository's old project %s is %s", p.Name, p.Status)
				}
			}
			if o := e.org(res, "gamma"); o.Done[syncer.ActionRename] != 1 || o.Planned[syncer.ActionDeactivateDeleted] != 0 ||
				o.Planned[syncer.ActionUnmatched] != 1 {
				t.Errorf("gamma: planned %v, done %v; want the rename done, no deletion, the deleted one's target unmatched", o.Planned, o.Done)
			}
		})
	}
}

// The clock of one run is set back (a restored VM, NTP broken for days):
// the deactivation it records must not make the deletion due earlier than
// --deleteAfter after the deactivation really happened.
func TestProofDeleteAfterSurvivesAClockSetBack(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	e.first()
	start := e.now
	gone := e.s.CurrentRepositories("gamma")[0]
	if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", Delete: []string{gone.Slug}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		clock                time.Time
		deactivated, deleted int
	}{
		{start.Add(-30 * 24 * time.Hour), 1, 0}, // an hour after the first sync, by a clock a month behind
		{start.Add(-29 * 24 * time.Hour), 0, 0}, // the next night, still behind
		{start.Add(2 * 24 * time.Hour), 0, 0},   // clock fixed, two days later
		{start.Add(7 * 24 * time.Hour), 0, 1},   // a week after the deactivation
	} {
		e.now = tc.clock
		o := e.org(e.sync(nil), "gamma")
		if o.ProjectsDeactivated != tc.deactivated || o.ProjectsDeleted != tc.deleted || o.Failed() {
			t.Errorf("clock %s: deactivated %d, deleted %d (%+v); want %d, %d", tc.clock.Format(time.DateOnly),
				o.ProjectsDeactivated, o.ProjectsDeleted, o, tc.deactivated, tc.deleted)
		}
	}
}

// Two renames in one night that pass a name on ("service" becomes
// "service-legacy", "service-v2" becomes "service"): Snyk knows targets by
// name, so the import of the new "service" re-tests the old "service"
// target's projects, which are the renamed-on repository's now. No rename
// may deactivate them: every project of a repository that exists under
// that name stays active.
func TestProofRenamesPassingANameOn(t *testing.T) {
	t.Parallel()
	for _, form := range []sim.TargetNameForm{sim.TargetNamesPlain, sim.TargetNamesBranch} {
		t.Run("names "+string(form), func(t *testing.T) {
			t.Parallel()
			e := newSimSync(t)
			e.first()
			e.s.SetTargetNames("org-gamma", form)
			var slugs []string
			for _, r := range e.s.CurrentRepositories("gamma") {
				if r.MainBranch != "" {
					slugs = append(slugs, r.Slug)
				}
			}
			service, v2 := slugs[0], slugs[1]
			if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", Rename: map[string]string{service: "service-legacy"}}); err != nil {
				t.Fatal(err)
			}
			if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", Rename: map[string]string{v2: service}}); err != nil {
				t.Fatal(err)
			}
			res := e.sync(func(o *syncer.Options) { o.ImportNew = true })
			e.untouched("gamma")
			if o := e.org(res, "gamma"); o.Err != nil {
				t.Fatalf("gamma: %v", o.Err)
			}
			// The next night "service-legacy" is deleted: its projects go,
			// the old "service" target (the new "service"'s) stays.
			if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", Delete: []string{"service-legacy"}}); err != nil {
				t.Fatal(err)
			}
			e.now = e.now.Add(24 * time.Hour)
			e.sync(func(o *syncer.Options) { o.ImportNew = true })
			e.untouched("gamma")
			for _, p := range e.s.SnykProjects("org-gamma") {
				if strings.HasPrefix(p.Name, "gamma/service-legacy:") && p.Status != "inactive" {
					t.Errorf("deleted service-legacy's project %s is %s", p.Name, p.Status)
				}
			}
		})
	}
}

// An org of the orgs file mirrors its own workspace. A target of another
// workspace in it (one repository of tiny imported into gamma's org by
// hand) makes sync list tiny for that target, but --importNew imports no
// repository of tiny into gamma's org: tiny has its own.
func TestProofImportNewOnlyFromTheOrgsWorkspace(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	stray := e.s.CurrentRepositories("tiny")[0]
	if _, err := e.s.SeedProject("org-gamma", sim.SnykProject{Name: stray.FullName + ":package.json", Origin: "bitbucket-cloud-app",
		Branch: stray.MainBranch, TargetFile: "package.json"}); err != nil {
		t.Fatal(err)
	}
	e.first()
	if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "tiny", New: 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "gamma", New: 1}); err != nil {
		t.Fatal(err)
	}
	res := e.sync(func(o *syncer.Options) { o.ImportNew = true })
	var fromTiny []string
	for _, p := range e.s.SnykProjects("org-gamma") {
		if strings.HasPrefix(p.Name, "tiny/") && p.Name != stray.FullName+":package.json" {
			fromTiny = append(fromTiny, p.Name)
		}
	}
	if len(fromTiny) != 0 {
		t.Errorf("gamma's org got tiny's repositories: %v", fromTiny)
	}
	if o := e.org(res, "gamma"); o.Done[syncer.ActionImportNew] != 1 {
		t.Errorf("gamma: done %v, want its own new repository imported", o.Done)
	}
	if o := e.org(res, "tiny"); o.Done[syncer.ActionImportNew] != 2 {
		t.Errorf("tiny: done %v, want its 2 new repositories imported", o.Done)
	}
}
