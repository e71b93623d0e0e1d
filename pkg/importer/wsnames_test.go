package importer

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/google/go-cmp/cmp"
)

// namingBB is stagesBB with GET /2.0/workspaces/{workspace}.
type namingBB struct {
	*stagesBB
	names map[string]string
	fail  map[string]error
	mu    sync.Mutex
	calls []string
}

func (b *namingBB) GetWorkspace(_ context.Context, slug string) (bitbucket.Workspace, error) {
	b.mu.Lock()
	b.calls = append(b.calls, slug)
	b.mu.Unlock()
	if err := b.fail[slug]; err != nil {
		return bitbucket.Workspace{}, err
	}
	return bitbucket.Workspace{Slug: slug, Name: b.names[slug]}, nil
}

// TestOrgsDataWorkspaceNames: the app source names orgs after display names
// whether or not GET /2.0/user/workspaces carries them; without them it
// reads each workspace once (GET /2.0/workspaces/{slug}), and a workspace
// that cannot be read is named by its slug with a warning.
func TestOrgsDataWorkspaceNames(t *testing.T) {
	rows := func(t *testing.T, bb Bitbucket, opts OrgsDataOptions) ([]string, *OrgsDataResult) {
		t.Helper()
		opts.Bitbucket, opts.LogPath, opts.GroupID = bb, t.TempDir(), "g-1"
		res, err := OrgsData(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res.Orgs {
			out = append(out, r.Name+"|"+r.Workspace)
		}
		return out, res
	}
	want, _ := rows(t, stagesEstate(), OrgsDataOptions{})

	nameless := func() *namingBB {
		b := &namingBB{stagesBB: stagesEstate(), names: map[string]string{}}
		for i := range b.workspaces {
			b.names[b.workspaces[i].Slug] = b.workspaces[i].Name
			b.workspaces[i].Name = ""
		}
		return b
	}

	b := nameless()
	got, res := rows(t, b, OrgsDataOptions{Concurrency: 2})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows without names listed (-with +without):\n%s", diff)
	}
	if len(b.calls) != 4 || len(res.Warnings) != 0 {
		t.Errorf("GetWorkspace calls %q (want one per distinct workspace, 4), warnings %q", b.calls, res.Warnings)
	}

	b = nameless()
	b.fail = map[string]error{"rnd": &stagesHTTPError{status: 410, msg: "CHANGE-2770"}}
	got, res = rows(t, b, OrgsDataOptions{})
	if !strings.Contains(strings.Join(got, ","), "rnd|rnd") || len(res.Warnings) != 1 ||
		!strings.Contains(res.Warnings[0], `workspace "rnd"`) || !strings.Contains(res.Warnings[0], "CHANGE-2770") {
		t.Errorf("rows %q, warnings %q: want rnd named by its slug with one warning", got, res.Warnings)
	}

	// A Bitbucket without GetWorkspace: slugs, with a warning each.
	plain := nameless().stagesBB
	got, res = rows(t, plain, OrgsDataOptions{})
	if got[0] != "acme|acme" || len(res.Warnings) != 4 {
		t.Errorf("rows %q, warnings %q", got, res.Warnings)
	}

	// The cloud source names orgs by slug: nothing to read.
	b = nameless()
	rows(t, b, OrgsDataOptions{Source: SourceBitbucketCloud})
	if len(b.calls) != 0 {
		t.Errorf("cloud source read %q", b.calls)
	}
}
