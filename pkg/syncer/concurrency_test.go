package syncer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// canceller ends the run at the first call it is told of (Ctrl-C while
// that request is on its way), and records the calls made after the end.
type canceller struct {
	cancel context.CancelFunc
	once   sync.Once
	mu     sync.Mutex
	late   []string
}

func (c *canceller) call(ctx context.Context, what string) {
	if ctx.Err() != nil {
		c.mu.Lock()
		c.late = append(c.late, what)
		c.mu.Unlock()
		return
	}
	// The first call takes long enough that the others queue behind the
	// org's bound before the run ends.
	c.once.Do(func() {
		time.Sleep(50 * time.Millisecond)
		c.cancel()
	})
}

type cancellingSnyk struct {
	*fakeSnyk
	c  *canceller
	on string // "branch" or "deactivate"
}

func (s *cancellingSnyk) UpdateProjectBranch(ctx context.Context, org, id, branch string) error {
	if s.on == "branch" {
		s.c.call(ctx, "branch:"+id)
	}
	return s.fakeSnyk.UpdateProjectBranch(ctx, org, id, branch)
}

func (s *cancellingSnyk) DeactivateProject(ctx context.Context, org, id string) error {
	if s.on == "deactivate" {
		s.c.call(ctx, "deactivate:"+id)
	}
	return s.fakeSnyk.DeactivateProject(ctx, org, id)
}

type cancellingBitbucket struct {
	*fakeBitbucket
	c *canceller
}

func (b *cancellingBitbucket) GetRepository(ctx context.Context, ws, uuid string) (bitbucket.Repository, error) {
	b.c.call(ctx, "get:"+uuid)
	return b.fakeBitbucket.GetRepository(ctx, ws, uuid)
}

// TestSyncCancelledStartsNothing: a run cancelled (Ctrl-C, SIGTERM) while
// an org's confirmations or writes are in flight lets those finish and
// starts no other, although the org's steps and confirmations queue side
// by side for its bound; the state it saves claims only what was written.
func TestSyncCancelledStartsNothing(t *testing.T) {
	t.Parallel()
	const n = 12
	for _, tc := range []struct {
		name string
		// on is the call that ends the run: "get", "deactivate" or "branch".
		on string
	}{
		{"during the confirmations", "get"},
		{"during the deactivations", "deactivate"},
		{"during the branch updates", "branch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var recordedRepos, listed []bitbucket.Repository
			var projects []snyk.Project
			for i := range n {
				slug := fmt.Sprintf("r%02d", i)
				recordedRepos = append(recordedRepos, repo(slug, "main", t0))
				projects = append(projects, proj("p"+slug, slug, "package.json", "main"))
				if tc.on == "branch" {
					listed = append(listed, repo(slug, "dev", t0))
				}
			}
			recorded(t, dir, recordedRepos...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			c := &canceller{cancel: cancel}
			sn := &cancellingSnyk{fakeSnyk: &fakeSnyk{projects: projects}, c: c, on: tc.on}
			var bb Bitbucket = &fakeBitbucket{repos: listed}
			if tc.on == "get" {
				bb = &cancellingBitbucket{fakeBitbucket: &fakeBitbucket{repos: listed}, c: c}
			}
			res, _ := Sync(ctx, Options{Snyk: sn, Bitbucket: bb, Orgs: []importfiles.CreatedOrg{{OrgID: "org", Workspace: "ws",
				Integrations: map[string]string{"bitbucket-cloud-app": "int-1"}}},
				Source: importer.SourceBitbucketCloudApp, LogPath: dir, PollInitial: 1, PollMax: 1, WriteConcurrency: 2,
				MaxDeactivate: Limit{N: 100, Percent: true, Explicit: true}})
			if res == nil || !res.Interrupted {
				t.Fatalf("result %+v, want interrupted", res)
			}
			if len(c.late) > 0 {
				t.Errorf("after the run was cancelled sync still made %v", c.late)
			}
			switch tc.on {
			case "get":
				if len(sn.writes) != 0 {
					t.Errorf("wrote %v, want nothing once cancelled during the confirmations", sn.writes)
				}
			default:
				if len(sn.writes) > 2 {
					t.Errorf("wrote %v, want at most the 2 in flight", sn.writes)
				}
			}
			st, err := LoadState(dir, "org")
			if err != nil || st == nil {
				t.Fatalf("state %v, %v", st, err)
			}
			for u, rs := range st.Repositories {
				id := "p" + rs.Slug
				if rs.Gone != nil && slices.Contains(rs.Gone.Projects, id) && !slices.Contains(sn.writes, "deactivate:"+id) {
					t.Errorf("state records %s (%s) deactivated, not written", id, u)
				}
				if rs.Branch == "dev" && !slices.Contains(sn.writes, "branch:"+id) {
					t.Errorf("state records %s (%s) on dev, its project not moved", rs.Slug, u)
				}
			}
		})
	}
}

// TestSyncConfirmationsOutOfOrder: the confirmations go side by side and
// their answers arrive in any order; each proves or disproves only its own
// uuid's deletion (answers here arrive last-asked first).
func TestSyncConfirmationsOutOfOrder(t *testing.T) {
	t.Parallel()
	const n = 24
	dir := t.TempDir()
	var recordedRepos []bitbucket.Repository
	var projects []snyk.Project
	bb := &fakeBitbucket{get: map[string]func() (bitbucket.Repository, error){}}
	var want []string
	for i := range n {
		slug := fmt.Sprintf("r%02d", i)
		recordedRepos = append(recordedRepos, repo(slug, "main", t0))
		projects = append(projects, proj("p"+slug, slug, "package.json", "main"))
		delay := time.Duration(n-i) * time.Millisecond
		switch i % 3 {
		case 0: // gone: Bitbucket's own 404
			bb.get[uuidOf(slug)] = func() (bitbucket.Repository, error) { time.Sleep(delay); return bitbucket.Repository{}, errGone }
			want = append(want, "deactivate:p"+slug)
		case 1: // still there under its slug: no proof
			bb.get[uuidOf(slug)] = func() (bitbucket.Repository, error) { time.Sleep(delay); return repo(slug, "main", t0), nil }
		case 2: // renamed: imported under the new slug, then the old project goes
			bb.get[uuidOf(slug)] = func() (bitbucket.Repository, error) {
				time.Sleep(delay)
				return bitbucket.Repository{Workspace: "ws", Slug: slug + "-new", UUID: uuidOf(slug), MainBranch: "main", UpdatedOn: t0}, nil
			}
			want = append(want, "import:ws/"+slug+"-new", "deactivate:p"+slug)
		}
	}
	recorded(t, dir, recordedRepos...)
	sn := &fakeSnyk{projects: projects}
	o := runSync(t, sn, bb, dir, nil)
	slices.Sort(want)
	slices.Sort(sn.writes)
	if !slices.Equal(sn.writes, want) {
		t.Errorf("writes %v\nwant %v", sn.writes, want)
	}
	if o.Confirmations != n || len(o.Failures) != n/3 || o.Done[ActionDeactivateDeleted] != n/3 || o.Done[ActionRename] != n/3 {
		t.Errorf("confirmations %d, failures %d, done %v", o.Confirmations, len(o.Failures), o.Done)
	}
	for _, f := range o.Failures {
		if !strings.Contains(f, "listing did not have it") {
			t.Errorf("failure %q, want only the repositories still there", f)
		}
	}
}
