package routing

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// fake is one credential's Bitbucket: the workspaces its listing answers
// (or listErr), and which workspaces it reaches (others answer 403).
type fake struct {
	name    string
	lists   []string
	listErr error
	reaches []string

	mu    sync.Mutex
	calls []string // "list", "repos:<ws>", "repos1:<ws>" (pagelen 1), "projects:<ws>", "repo:<ws>", "ws:<ws>"
}

func (f *fake) record(c string) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func (f *fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func status(code int) error {
	return &bitbucket.ErrorResponse{Response: &http.Response{StatusCode: code}}
}

func (f *fake) reach(ws string) error {
	if slices.Contains(f.reaches, ws) {
		return nil
	}
	return status(http.StatusForbidden)
}

func (f *fake) ListWorkspacesIter(context.Context) iter.Seq2[bitbucket.Workspace, error] {
	f.record("list")
	return func(yield func(bitbucket.Workspace, error) bool) {
		if f.listErr != nil {
			yield(bitbucket.Workspace{}, f.listErr)
			return
		}
		for _, s := range f.lists {
			if !yield(bitbucket.Workspace{Slug: s}, nil) {
				return
			}
		}
	}
}

func (f *fake) ListRepositoriesIter(_ context.Context, ws string, opts *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	if opts != nil && opts.PageLen == 1 {
		f.record("repos1:" + ws)
	} else {
		f.record("repos:" + ws)
	}
	return func(yield func(bitbucket.Repository, error) bool) {
		if err := f.reach(ws); err != nil {
			yield(bitbucket.Repository{}, err)
			return
		}
		yield(bitbucket.Repository{Slug: "r", Workspace: ws}, nil)
	}
}

func (f *fake) ListProjectsIter(_ context.Context, ws string) iter.Seq2[bitbucket.Project, error] {
	f.record("projects:" + ws)
	return func(yield func(bitbucket.Project, error) bool) {
		if err := f.reach(ws); err != nil {
			yield(bitbucket.Project{}, err)
		}
	}
}

func (f *fake) GetRepository(_ context.Context, ws, slug string) (bitbucket.Repository, error) {
	f.record("repo:" + ws)
	return bitbucket.Repository{Slug: slug, Workspace: ws}, f.reach(ws)
}

func (f *fake) GetWorkspace(_ context.Context, ws string) (bitbucket.Workspace, error) {
	f.record("ws:" + ws)
	return bitbucket.Workspace{Slug: ws, Name: strings.ToUpper(ws)}, f.reach(ws)
}

// consumer is an app user owning its workspaces and listing them.
func consumer(name string, owns ...string) *fake {
	return &fake{name: name, lists: owns, reaches: owns}
}

type spec struct {
	f    *fake
	kind credential.Kind
	pins []string
}

func newRouter(t *testing.T, only []string, specs ...spec) *Router {
	t.Helper()
	var ms []Member
	for _, s := range specs {
		k := s.kind
		if k == credential.Unknown {
			k = credential.BitbucketConsumer
		}
		ms = append(ms, Member{Name: s.f.name, Kind: k, Workspaces: s.pins, Open: func() (Client, error) { return s.f, nil }})
	}
	r, err := New(ms, only)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func slugs(ws []bitbucket.Workspace) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Slug
	}
	return out
}

func wantCalls(t *testing.T, f *fake, want ...string) {
	t.Helper()
	got := f.Calls()
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: calls %v, want %v", f.name, got, want)
	}
}

// Four consumers each owning one workspace: each lists its own, and each
// workspace's requests go with its own consumer only (no 403).
func TestRouterFourConsumers(t *testing.T) {
	fs := []*fake{consumer("a", "wa"), consumer("b", "wb"), consumer("c", "wc"), consumer("d", "wd")}
	r := newRouter(t, nil, spec{f: fs[0]}, spec{f: fs[1]}, spec{f: fs[2]}, spec{f: fs[3]})
	ws, err := r.Workspaces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := slugs(ws); !slices.Equal(got, []string{"wa", "wb", "wc", "wd"}) {
		t.Errorf("workspaces %v", got)
	}
	for _, w := range []string{"wa", "wb", "wc", "wd"} {
		for _, err := range r.ListRepositoriesIter(t.Context(), w, nil) {
			if err != nil {
				t.Errorf("%s: %v", w, err)
			}
		}
		if _, err := r.GetRepository(t.Context(), w, "r"); err != nil {
			t.Errorf("%s: %v", w, err)
		}
	}
	for i, f := range fs {
		w := "w" + string(rune('a'+i))
		wantCalls(t, f, "list", "repos:"+w, "repo:"+w)
	}
	for _, f := range r.Found() {
		if f.Case != Listed || len(f.Workspaces) != 1 {
			t.Errorf("found %+v", f)
		}
	}
}

// The discovery cases, and what each gives orgs:data (Workspaces) and the
// stages (routing a workspace).
func TestRouterDiscoveryCases(t *testing.T) {
	forbidden := status(http.StatusForbidden)
	cases := []struct {
		name     string
		specs    func() []spec
		only     []string
		want     []string // Workspaces
		wantErr  string   // Workspaces' error
		wantCase []Case
		route    string // a workspace then routed
		routeErr string
	}{{
		name:     "one credential lists many",
		specs:    func() []spec { return []spec{{f: consumer("", "a", "b")}} },
		want:     []string{"a", "b"},
		wantCase: []Case{Listed},
	}, {
		name:     "one credential lists none",
		specs:    func() []spec { return []spec{{f: &fake{}}} },
		want:     nil,
		wantCase: []Case{ListedNone},
	}, {
		name:     "one credential refused: an error naming it",
		specs:    func() []spec { return []spec{{f: &fake{listErr: forbidden}}} },
		wantErr:  "the credential cannot list its workspaces",
		wantCase: []Case{Refused},
	}, {
		name:     "one credential refused, its workspace named: verified with one request, never listed",
		specs:    func() []spec { return []spec{{f: &fake{listErr: forbidden, reaches: []string{"own"}}}} },
		only:     []string{"own"},
		want:     []string{"own"},
		wantCase: []Case{Pinned},
	}, {
		name:     "a named workspace the credential cannot see fails",
		specs:    func() []spec { return []spec{{f: &fake{reaches: []string{"own"}}}} },
		only:     []string{"other"},
		wantErr:  `check workspace "other"`,
		wantCase: []Case{Pinned},
	}, {
		name: "consumer: a 401 on the listing is a refusal",
		specs: func() []spec {
			return []spec{{f: &fake{name: "app", listErr: status(401)}}, {f: consumer("c", "x")}}
		},
		wantErr:  `credential "app"`,
		wantCase: []Case{Refused, Listed},
		route:    "x",
	}, {
		name: "access token: a 403 on the listing is a refusal, a 401 the token rejected",
		specs: func() []spec {
			return []spec{{f: &fake{name: "tok", listErr: status(403)}, kind: credential.BitbucketAccessToken},
				{f: &fake{name: "bad", listErr: status(401)}, kind: credential.BitbucketAccessToken}}
		},
		wantErr:  `credential "bad": Bitbucket rejected`,
		wantCase: []Case{Unasked, Unasked},
	}, {
		name:     "API token: a 401 on the listing is the credential rejected",
		specs:    func() []spec { return []spec{{f: &fake{listErr: status(401)}, kind: credential.BitbucketAPIToken}} },
		wantErr:  "401",
		wantCase: []Case{Unasked},
	}, {
		name: "a rejected token exchange is no refusal",
		specs: func() []spec {
			return []spec{{f: &fake{name: "c", listErr: &credential.TokenError{Kind: credential.BitbucketConsumer, Code: "invalid_client", StatusCode: 400}}}, {f: consumer("d", "x")}}
		},
		wantErr:  `credential "c": Bitbucket rejected the OAuth consumer key`,
		wantCase: []Case{Unasked, Unasked},
	}, {
		name: "a 5xx is no refusal either",
		specs: func() []spec {
			return []spec{{f: &fake{listErr: status(503)}}}
		},
		wantErr:  "Bitbucket failed",
		wantCase: []Case{Unasked},
	}, {
		name: "a refusing credential with a selection served by the others",
		specs: func() []spec {
			return []spec{{f: &fake{name: "r", listErr: forbidden}}, {f: consumer("c", "x", "y")}}
		},
		only:     []string{"y"},
		want:     []string{"y"},
		wantCase: []Case{Refused, Listed},
		route:    "z",
		routeErr: `no Bitbucket credential of the run serves workspace "z" (credential "r" could not list its workspaces)`,
	}, {
		name: "a selected workspace nobody serves",
		specs: func() []spec {
			return []spec{{f: consumer("a", "x")}, {f: consumer("b", "y")}}
		},
		only:     []string{"x", "nope"},
		wantErr:  `no Bitbucket credential of the run serves workspace "nope"`,
		wantCase: []Case{Listed, Listed},
	}, {
		name: "pinned and listed together; the pinned is never listed",
		specs: func() []spec {
			return []spec{{f: &fake{name: "tok", reaches: []string{"p"}}, kind: credential.BitbucketAccessToken, pins: []string{"p"}}, {f: consumer("c", "x")}}
		},
		want:     []string{"p", "x"},
		wantCase: []Case{Pinned, Listed},
		route:    "p",
	}, {
		name: "a listed-none credential beside one that lists",
		specs: func() []spec {
			return []spec{{f: &fake{name: "none"}}, {f: consumer("c", "x")}}
		},
		want:     []string{"x"},
		wantCase: []Case{ListedNone, Listed},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRouter(t, tc.only, tc.specs()...)
			ws, err := r.Workspaces(t.Context())
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr == "" && !slices.Equal(slugs(ws), tc.want):
				t.Errorf("workspaces %v, want %v", slugs(ws), tc.want)
			}
			var cases []Case
			for _, f := range r.Found() {
				cases = append(cases, f.Case)
			}
			if !slices.Equal(cases, tc.wantCase) {
				t.Errorf("cases %v, want %v", cases, tc.wantCase)
			}
			if tc.route == "" {
				return
			}
			_, _, err = r.Client(t.Context(), tc.route)
			if tc.routeErr == "" && err != nil || tc.routeErr != "" && (err == nil || err.Error() != tc.routeErr) {
				t.Errorf("route %s: %v, want %q", tc.route, err, tc.routeErr)
			}
		})
	}
}

// One credential naming no workspace serves them all without being asked
// which (as a run of one credential always did): no listing request.
func TestRouterSoloAsksNothing(t *testing.T) {
	f := &fake{reaches: []string{"a", "b"}}
	r := newRouter(t, nil, spec{f: f})
	for _, w := range []string{"a", "b"} {
		if _, err := r.GetWorkspace(t.Context(), w); err != nil {
			t.Fatal(err)
		}
	}
	wantCalls(t, f, "ws:a", "ws:b")
}

// Among the credentials that list a workspace, the one listing the fewest
// serves it: the consumer of the workspace, not the token that sees all.
func TestRouterPrefersTheNarrowestCredential(t *testing.T) {
	admin := consumer("admin", "a", "b", "c")
	own := consumer("own-b", "b")
	r := newRouter(t, nil, spec{f: admin, kind: credential.BitbucketAPIToken}, spec{f: own})
	for _, w := range []string{"a", "b", "c"} {
		name, _, err := r.Client(t.Context(), w)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"a": "admin", "b": "own-b", "c": "admin"}[w]; name != want {
			t.Errorf("%s served by %q, want %q", w, name, want)
		}
	}
}

// Concurrent stages share one discovery: each credential is listed once.
func TestRouterDiscoversOnce(t *testing.T) {
	fs := []*fake{consumer("a", "wa"), consumer("b", "wb")}
	r := newRouter(t, nil, spec{f: fs[0]}, spec{f: fs[1]})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, _, err := r.Client(context.Background(), fmt.Sprintf("w%c", 'a'+i%2)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, f := range fs {
		if n := slices.Index(f.Calls(), "list"); n < 0 || len(f.Calls()) != 1 {
			t.Errorf("%s: calls %v, want one list", f.name, f.Calls())
		}
	}
}

func TestRouterNewRefuses(t *testing.T) {
	open := func() (Client, error) { return &fake{}, nil }
	if _, err := New(nil, nil); err == nil {
		t.Error("no members accepted")
	}
	_, err := New([]Member{{Name: "a", Workspaces: []string{"X"}, Open: open}, {Name: "b", Workspaces: []string{"x"}, Open: open}}, nil)
	if err == nil || !strings.Contains(err.Error(), `pinned to both "a" and "b"`) {
		t.Errorf("pinned twice: %v", err)
	}
}

func TestDiscoveryErrorIsNoRejection(t *testing.T) {
	e := &DiscoveryError{Refused: []Found{{Name: "x", Case: Refused, Err: status(401)}}}
	var rej interface{ CredentialsRejected() bool }
	if !errors.As(e, &rej) || rej.CredentialsRejected() {
		t.Error("a refused listing reads as rejected credentials")
	}
	if !strings.Contains(e.Error(), `credential "x"`) {
		t.Error(e.Error())
	}
}

// A pinned workspace is verified with one request before it becomes an
// org, and orgs:data's probe for an empty workspace (the same question)
// is answered from it: still one request per workspace.
func TestRouterPinnedVerifiedOnce(t *testing.T) {
	f := &fake{reaches: []string{"a", "b"}}
	r := newRouter(t, []string{"a", "b"}, spec{f: f})
	if _, err := r.Workspaces(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"a", "b"} {
		n := 0
		for _, err := range r.ListRepositoriesIter(t.Context(), w, &bitbucket.RepositoryListOptions{PageLen: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 1 {
			t.Errorf("%s: %d repositories from the kept answer, want 1", w, n)
		}
	}
	for range r.ListRepositoriesIter(t.Context(), "a", &bitbucket.RepositoryListOptions{PageLen: 1}) {
	}
	wantCalls(t, f, "repos1:a", "repos1:b", "repos1:a")
}

// A credential the run needs nothing of (its workspaces are in another
// shard) is never opened and says so.
func TestRouterUnusedCredentialIsNotOpened(t *testing.T) {
	opened := 0
	open := func(f *fake) func() (Client, error) {
		return func() (Client, error) { opened++; return f, nil }
	}
	r, err := New([]Member{
		{Name: "a", Workspaces: []string{"wa"}, Open: open(&fake{reaches: []string{"wa"}})},
		{Name: "b", Workspaces: []string{"wb"}, Open: open(&fake{reaches: []string{"wb"}})},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetRepository(t.Context(), "wa", "r"); err != nil {
		t.Fatal(err)
	}
	found := r.Found()
	if opened != 1 || !found[0].Used || found[1].Used {
		t.Errorf("opened %d; used %v, %v", opened, found[0].Used, found[1].Used)
	}
}
