package syncer_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/listing"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/bbimport/bbimport/pkg/syncer"
)

// The workspaces of the simulated estate, one org each: alpha is wide
// enough for three listing pages, tiny is an org of five projects.
var simWorkspaces = []sim.WorkspaceSpec{
	{Slug: "alpha", Repos: 230},
	{Slug: "beta", Repos: 12},
	{Slug: "gamma", Repos: 3},
	{Slug: "tiny", Repos: 5},
}

// simSync is a simulated estate already in Snyk (one project per
// repository), synced through the production clients and HTTP stack.
type simSync struct {
	t   *testing.T
	s   *sim.Server
	sn  *snyk.Client
	bb  *bitbucket.Client
	dir string
	now time.Time
	// orgs are the rows of snyk-created-orgs.json, by workspace.
	orgs map[string]importfiles.CreatedOrg
}

func newSimSync(t *testing.T, snykOpts ...snyk.Option) *simSync {
	t.Helper()
	var orgs []sim.SnykOrg
	rows := map[string]importfiles.CreatedOrg{}
	for _, ws := range simWorkspaces {
		id := "org-" + ws.Slug
		orgs = append(orgs, sim.SnykOrg{ID: id, Name: ws.Slug, Integrations: map[string]string{"bitbucket-cloud-app": "int-" + ws.Slug}})
		rows[ws.Slug] = importfiles.CreatedOrg{OrgID: id, Name: ws.Slug, Workspace: ws.Slug,
			Integrations: map[string]string{"bitbucket-cloud-app": "int-" + ws.Slug}}
	}
	s := sim.New(sim.Config{
		Bitbucket: sim.BitbucketConfig{Workspaces: simWorkspaces},
		Snyk: sim.SnykConfig{ProjectsPerTarget: 1,
			Groups: map[string]sim.SnykGroup{sim.SimSnykGroupID: {Name: sim.SimSnykGroupName, Orgs: orgs}}},
	})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, ws := range simWorkspaces {
		if _, err := s.SeedImported("org-"+ws.Slug, ws.Slug); err != nil {
			t.Fatal(err)
		}
	}
	e := &simSync{t: t, s: s, dir: t.TempDir(), now: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), orgs: rows}
	e.bb = newBitbucketClient(t, s)
	cred, err := credential.Token(credential.SnykAPIToken, "token", sim.SimSnykToken)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := httpx.New(httpx.Options{API: "snyk", Credential: cred, RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.sn, err = snyk.NewClient(append([]snyk.Option{snyk.WithHTTPClient(hc), snyk.WithBaseURL(s.URL + "/v1")}, snykOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newBitbucketClient(t *testing.T, s *sim.Server) *bitbucket.Client {
	t.Helper()
	return newBitbucketClientAt(t, s, s.URL+"/2.0")
}

// newBitbucketClientAt is a client of the simulator's Bitbucket whose API
// is reached at base (a proxy in front of it); tokens come from the
// simulator itself.
func newBitbucketClientAt(t *testing.T, s *sim.Server, base string) *bitbucket.Client {
	t.Helper()
	tokenHTTP, err := httpx.New(httpx.Options{API: "bitbucket-token", RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := credential.ClientCredentials(credential.BitbucketConsumer, credential.Config{ClientID: sim.DefaultBitbucketClientID,
		ClientSecret: sim.DefaultBitbucketClientSecret, TokenURL: s.URL + "/site/oauth2/access_token", HTTPClient: tokenHTTP.StandardClient()})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := httpx.New(httpx.Options{API: "bitbucket", Credential: cred,
		RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sync runs a sync of every org; mod adjusts the options. The guard is
// opened wide (an explicit 100 %) unless mod says otherwise, so that
// whatever is held back is held back by the evidence, not by the guard.
func (e *simSync) sync(mod func(*syncer.Options)) *syncer.Result {
	e.t.Helper()
	var rows []importfiles.CreatedOrg
	for _, ws := range simWorkspaces {
		rows = append(rows, e.orgs[ws.Slug])
	}
	opts := syncer.Options{Snyk: e.sn, Bitbucket: e.bb, Orgs: rows, Source: importer.SourceBitbucketCloudApp, LogPath: e.dir,
		OnDeleted: syncer.OnDeletedDelete, MaxDeactivate: syncer.Limit{N: 100, Percent: true, Explicit: true},
		PollInitial: time.Millisecond, PollMax: 5 * time.Millisecond, Concurrency: 4, Now: func() time.Time { return e.now }}
	if mod != nil {
		mod(&opts)
	}
	res, err := syncer.Sync(e.t.Context(), opts)
	if err != nil {
		e.t.Fatalf("Sync: %v", err)
	}
	return res
}

// first is the first sync, which records the state: it must change nothing.
func (e *simSync) first() {
	e.t.Helper()
	w0 := e.s.SnykWrites()
	if res := e.sync(nil); res.Failed() {
		e.t.Fatalf("first sync failed: %+v", res.Orgs)
	}
	if n := e.s.SnykWrites() - w0; n != 0 {
		e.t.Fatalf("first sync made %d writes to an estate already in Snyk", n)
	}
}

// forget deletes the state of the orgs of workspaces: their next sync is
// their first.
func (e *simSync) forget(workspaces ...string) {
	e.t.Helper()
	for _, ws := range workspaces {
		if err := os.Remove(syncer.StatePath(e.dir, "org-"+ws)); err != nil {
			e.t.Fatal(err)
		}
	}
}

// org is the result for the org of workspace ws.
func (e *simSync) org(res *syncer.Result, ws string) *syncer.OrgResult {
	e.t.Helper()
	for _, o := range res.Orgs {
		if o.OrgID == "org-"+ws {
			return o
		}
	}
	e.t.Fatalf("no result for %s", ws)
	return nil
}

// untouched fails unless every project of ws's org whose repository exists
// is still there and active.
func (e *simSync) untouched(ws string) {
	e.t.Helper()
	exists := map[string]bool{}
	for _, r := range e.s.CurrentRepositories(ws) {
		exists[r.FullName] = true
	}
	n := 0
	for _, p := range e.s.SnykProjects("org-" + ws) {
		name := p.Name[:len(p.Name)-len(":"+p.TargetFile)]
		if exists[name] {
			n++
			if p.Status != "active" {
				e.t.Errorf("%s: project %s of an existing repository is %s", ws, p.Name, p.Status)
			}
		}
	}
	if want := len(e.s.CurrentRepositories(ws)); n < want-want/10 {
		e.t.Errorf("%s: %d projects of existing repositories left, want about %d", ws, n, want)
	}
}

// changeBeta changes beta (a repository deleted, one moved to another
// branch) before the run; after it, check that both changes were applied.
func (e *simSync) changeBeta() func(res *syncer.Result) {
	e.t.Helper()
	repos := e.s.CurrentRepositories("beta")
	var withBranch []sim.BitbucketRepo
	for _, r := range repos {
		if r.MainBranch != "" {
			withBranch = append(withBranch, r)
		}
	}
	gone, moved := withBranch[0].Slug, withBranch[1].Slug
	if err := e.s.ChangeEstate(sim.EstateChange{Workspace: "beta", Delete: []string{gone}, Branch: map[string]string{moved: "develop"}}); err != nil {
		e.t.Fatal(err)
	}
	return func(res *syncer.Result) {
		e.t.Helper()
		o := e.org(res, "beta")
		if o.Failed() || o.ProjectsDeactivated != 1 || o.ProjectsUpdated != 1 {
			e.t.Errorf("beta not synced: %+v", o)
		}
		for _, p := range e.s.SnykProjects("org-beta") {
			switch p.Name {
			case "beta/" + gone + ":" + p.TargetFile:
				if p.Status != "inactive" {
					e.t.Errorf("beta's deleted %s is %s", gone, p.Status)
				}
			case "beta/" + moved + ":" + p.TargetFile:
				if p.Branch != "develop" {
					e.t.Errorf("beta's %s is on %s", moved, p.Branch)
				}
			}
		}
	}
}

// syncBesideBeta runs a sync (mod as for sync) after beta's repository was
// deleted and another moved to a new branch: it fails unless beta's
// deleted project is the only one deactivated or deleted and both changes
// were applied, and returns the result and the counters before the run.
func (e *simSync) syncBesideBeta(mod func(*syncer.Options)) (*syncer.Result, map[string]int64) {
	e.t.Helper()
	check := e.changeBeta()
	c0 := e.s.Counters()
	res := e.sync(mod)
	if n := e.removals(c0); n != 1 {
		e.t.Errorf("%d projects deactivated or deleted, want only beta's deleted one", n)
	}
	check(res)
	return res, c0
}

// removals counts the deactivations and deletions since before.
func (e *simSync) removals(before map[string]int64) int64 {
	return e.s.Count("snyk.projects_deactivated") - before["snyk.projects_deactivated"] +
		e.s.Count("snyk.projects_deleted") - before["snyk.projects_deleted"]
}

func incomplete(err error, reason listing.Reason) bool {
	var ie *listing.IncompleteError
	return errors.As(err, &ie) && (reason == "" || ie.Reason == reason)
}
