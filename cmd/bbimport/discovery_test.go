package main

// Issue 6: discovery controls through the real CLI against the simulator.
// Every case asserts both what was selected (the targets file) and exactly
// how many Bitbucket requests it cost (the simulator's counters).

import (
	"encoding/json"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/google/go-cmp/cmp"
)

// discoveryEstate: a workspace of several pages with four projects (one of
// them empty), a one-project workspace, a public mirror of forks, an empty
// workspace, and a workspace the consumer cannot list but can read.
func discoveryEstate() []sim.WorkspaceSpec {
	return []sim.WorkspaceSpec{
		{Slug: "big", Name: "Big Estate", Repos: 450, Forks: 45, Empty: 20, Private: 300,
			Projects: []string{"CORE", "WEB", "DATA"}, EmptyProjects: []string{"ARCHIVE"}},
		{Slug: "small", Name: "Small Team", Repos: 30, Forks: 3, Empty: 2, Private: 30, Projects: []string{"MOB"}},
		{Slug: "mirrors", Name: "OSS Mirrors", Repos: 20, Forks: 20},
		{Slug: "sandbox", Name: "Sandbox"},
		{Slug: "hidden", Name: "Hidden", Repos: 5, Unlisted: true},
	}
}

// bbDelta runs f and returns how much each Bitbucket counter moved.
func bbDelta(e *simEnv, f func()) map[string]int64 {
	before := e.Sim.Counters()
	f()
	out := map[string]int64{}
	for k, v := range e.Sim.Counters() {
		if strings.HasPrefix(k, "bitbucket.") && k != "bitbucket.bytes" && k != "bitbucket.max_pagelen" && v != before[k] {
			out[k] = v - before[k]
		}
	}
	return out
}

// readTargets returns the targets file as sorted "orgId owner/name@branch".
func readTargets(t *testing.T, file string, withOrg bool) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Targets []struct {
			OrgID         string            `json:"orgId"`
			IntegrationID string            `json:"integrationId"`
			Target        map[string]string `json:"target"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := make([]string, 0, len(f.Targets))
	for _, tg := range f.Targets {
		for k := range tg.Target {
			if k != "owner" && k != "name" && k != "branch" {
				t.Errorf("target has the key %q; Snyk answers 400 to extras", k)
			}
		}
		s := tg.Target["owner"] + "/" + tg.Target["name"] + "@" + tg.Target["branch"]
		if withOrg {
			s = tg.OrgID + " " + s
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// repoPredicate is the independent model of a filter: server says whether
// Bitbucket's q= keeps the repository (nil: no q), client why the CLI drops
// one that Bitbucket sent ("" keeps it).
type repoPredicate struct {
	server func(r sim.BitbucketRepo) bool
	client func(r sim.BitbucketRepo) importer.SkipReason
}

// expectation is what import:data must select from the estate and what it
// must cost: one page per 100 repositories Bitbucket sends (at least one)
// per listed workspace.
type expectation struct {
	targets []string
	listed  int
	skipped map[string]int
	pages   int64
}

func expect(e *simEnv, workspaces []string, p repoPredicate) expectation {
	x := expectation{skipped: map[string]int{}}
	for _, w := range e.Sim.BitbucketWorkspaces() {
		if !slices.Contains(workspaces, w.Slug) {
			continue
		}
		sent := 0
		for r := range w.AllRepos() {
			if p.server != nil && !p.server(r) {
				continue
			}
			sent++
			reason := importer.SkipReason("")
			if p.client != nil {
				reason = p.client(r)
			}
			if reason != "" {
				x.skipped[string(reason)]++
				continue
			}
			x.targets = append(x.targets, w.Slug+"/"+r.Slug+"@"+r.MainBranch)
		}
		x.listed += sent
		x.pages += int64(max(1, (sent+99)/100))
	}
	slices.Sort(x.targets)
	return x
}

// defaultClient is the CLI's default client-side filter: empty repositories
// are skipped.
func defaultClient(r sim.BitbucketRepo) importer.SkipReason {
	if r.MainBranch == "" {
		return importer.SkipEmpty
	}
	return ""
}

func globMatch(glob, ws, slug string) bool {
	subject := ws + "/" + slug
	if !strings.Contains(glob, "/") {
		subject = slug
	}
	ok, _ := path.Match(glob, subject)
	return ok
}

// newDiscoveryEnv runs orgs:data and orgs:create for the app source and
// returns the environment and the created-orgs file.
func newDiscoveryEnv(t *testing.T) (*simEnv, string) {
	t.Helper()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: discoveryEstate()}})
	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--groupId="+group)
	e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	return e, e.File("snyk-created-orgs.json")
}

// TestImportDataFilters: every filter of import:data, alone and combined,
// through the CLI: the targets selected, the skip counts in the summary and
// the exact number of repository pages fetched.
func TestImportDataFilters(t *testing.T) {
	t.Parallel()
	e, orgsFile := newDiscoveryEnv(t)
	listed := []string{"big", "small", "mirrors", "sandbox"} // every listable workspace has an org
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	since2 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	wsFile := filepath.Join(t.TempDir(), "workspaces.txt")
	if err := os.WriteFile(wsFile, []byte("# teams in scope\nsmall\n\n  mirrors  \n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		workspaces []string // listed; nil = all
		p          repoPredicate
		// q is the BBQL filter the CLI must log, "" for none.
		q string
	}{
		{name: "defaults: empty repositories skipped", p: repoPredicate{client: defaultClient}},
		{name: "skipEmptyRepos=false keeps empty repositories", args: []string{"--skipEmptyRepos=false"}, p: repoPredicate{}},
		{name: "skipForks", args: []string{"--skipForks"}, p: repoPredicate{client: func(r sim.BitbucketRepo) importer.SkipReason {
			if r.IsFork {
				return importer.SkipFork
			}
			return defaultClient(r)
		}}},
		{name: "include", args: []string{"--include=big/repo-00*", "--include=repo-0001"}, p: repoPredicate{client: func(r sim.BitbucketRepo) importer.SkipReason {
			if reason := defaultClient(r); reason != "" {
				return reason
			}
			if !globMatch("big/repo-00*", r.Workspace, r.Slug) && !globMatch("repo-0001", r.Workspace, r.Slug) {
				return importer.SkipNotIncluded
			}
			return ""
		}}},
		{name: "exclude wins over include", args: []string{"--include=big/*", "--exclude=*/repo-01*", "--exclude=repo-02??"}, p: repoPredicate{client: func(r sim.BitbucketRepo) importer.SkipReason {
			if reason := defaultClient(r); reason != "" {
				return reason
			}
			if globMatch("*/repo-01*", r.Workspace, r.Slug) || globMatch("repo-02??", r.Workspace, r.Slug) {
				return importer.SkipExcluded
			}
			if !globMatch("big/*", r.Workspace, r.Slug) {
				return importer.SkipNotIncluded
			}
			return ""
		}}},
		{name: "private", args: []string{"--private"}, q: "is_private=true",
			p: repoPredicate{server: func(r sim.BitbucketRepo) bool { return r.IsPrivate }, client: defaultClient}},
		{name: "public", args: []string{"--public"}, q: "is_private=false",
			p: repoPredicate{server: func(r sim.BitbucketRepo) bool { return !r.IsPrivate }, client: defaultClient}},
		{name: "updatedSince", args: []string{"--updatedSince=2025-01-01"}, q: "updated_on>2025-01-01T00:00:00+00:00",
			p: repoPredicate{server: func(r sim.BitbucketRepo) bool { return r.UpdatedOn.After(since) }, client: defaultClient}},
		{name: "one project", args: []string{"--project=CORE"}, q: `project.key="CORE"`,
			p: repoPredicate{server: func(r sim.BitbucketRepo) bool { return r.ProjectKey == "CORE" }, client: defaultClient}},
		{name: "two projects", args: []string{"--project=CORE", "--project=MOB"}, q: `(project.key="CORE" OR project.key="MOB")`,
			p: repoPredicate{server: func(r sim.BitbucketRepo) bool { return r.ProjectKey == "CORE" || r.ProjectKey == "MOB" }, client: defaultClient}},
		{name: "one workspace", args: []string{"--workspace=big"}, workspaces: []string{"big"}, p: repoPredicate{client: defaultClient}},
		{name: "workspaces file", args: []string{"--workspacesFile=" + wsFile}, workspaces: []string{"small", "mirrors"}, p: repoPredicate{client: defaultClient}},
		{name: "everything combined",
			args: []string{"--private", "--skipForks", "--updatedSince=2024-06-01", "--project=WEB", "--project=MOB",
				"--exclude=*/repo-02*", "--include=big/*", "--include=small/*", "--workspace=big", "--workspace=small", "--skipEmptyRepos=false"},
			workspaces: []string{"big", "small"},
			q:          `is_private=true AND updated_on>2024-06-01T00:00:00+00:00 AND (project.key="WEB" OR project.key="MOB")`,
			p: repoPredicate{
				server: func(r sim.BitbucketRepo) bool {
					return r.IsPrivate && r.UpdatedOn.After(since2) && (r.ProjectKey == "WEB" || r.ProjectKey == "MOB")
				},
				client: func(r sim.BitbucketRepo) importer.SkipReason {
					switch {
					case r.IsFork:
						return importer.SkipFork
					case globMatch("*/repo-02*", r.Workspace, r.Slug):
						return importer.SkipExcluded
					}
					return ""
				},
			}},
	}
	var pagesAll, pagesSince, pagesProject int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := tt.workspaces
			if ws == nil {
				ws = listed
			}
			want := expect(e, ws, tt.p)
			var r result
			delta := bbDelta(e, func() {
				r = e.MustRun(0, append([]string{"import:data", "--orgsData=" + orgsFile, "--logFormat=json"}, tt.args...)...)
			})
			got := readTargets(t, e.File("bitbucket-cloud-app-import-targets.json"), false)
			if diff := cmp.Diff(want.targets, got); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			// Requests: exactly one page per 100 repositories Bitbucket
			// sent, per workspace, and nothing else (no token exchange
			// counts: it is not a /2.0 request).
			wantDelta := map[string]int64{
				"bitbucket.requests":              want.pages,
				"bitbucket.requests.repositories": want.pages,
				"bitbucket.repositories_pages":    want.pages,
			}
			for k, v := range delta {
				if strings.HasPrefix(k, "bitbucket.repositories_pages.") || strings.HasPrefix(k, "bitbucket.auth.") || strings.HasPrefix(k, "bitbucket.identity.") || k == "bitbucket.token_exchanges" {
					continue
				}
				if wantDelta[k] != v {
					t.Errorf("counter %s moved by %d, want %d", k, v, wantDelta[k])
				}
			}
			for k, v := range wantDelta {
				if delta[k] != v {
					t.Errorf("counter %s moved by %d, want %d (all: %v)", k, delta[k], v, delta)
				}
			}
			for _, w := range []string{"big", "small", "mirrors", "sandbox", "hidden"} {
				if delta["bitbucket.repositories_pages."+w] > 0 != slices.Contains(ws, w) {
					t.Errorf("workspace %s listed %d times; listed workspaces should be %v", w, delta["bitbucket.repositories_pages."+w], ws)
				}
			}
			// The summary on stdout counts every skipped repository by reason.
			skipped := ""
			if n := sumMap(want.skipped); n > 0 {
				skipped = fmt.Sprintf(", %d skipped: %s", n, countsText(want.skipped))
			}
			line := fmt.Sprintf("Found %s in %s (%s listed%s). Written the data to file: %s\n",
				english.Plural(len(want.targets), "target"), english.Plural(len(ws), "org"), english.Plural(want.listed, "repository"), skipped,
				e.File("bitbucket-cloud-app-import-targets.json"))
			if !strings.Contains(r.Stdout, line) {
				t.Errorf("stdout lacks the summary\n %q\ngot\n%s", line, r.Stdout)
			}
			if tt.q != "" && !strings.Contains(r.Stderr, `"q":`+jsonString(tt.q)) {
				t.Errorf("stderr does not log the q= filter %s:\n%s", tt.q, r.Stderr)
			}
			switch tt.name {
			case "defaults: empty repositories skipped":
				pagesAll = want.pages
			case "updatedSince":
				pagesSince = want.pages
			case "one project":
				pagesProject = want.pages
			}
		})
	}
	t.Logf("repository pages: all %d, --updatedSince=2025-01-01 %d, --project=CORE %d", pagesAll, pagesSince, pagesProject)
	if pagesSince >= pagesAll || pagesProject >= pagesAll {
		t.Errorf("server-side filters must fetch fewer pages: all %d, updatedSince %d, project %d", pagesAll, pagesSince, pagesProject)
	}
}

func sumMap(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// jsonString is s as zerolog writes it (no HTML escaping).
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// Usage errors of the discovery flags: exit 2, a sentence naming the flag,
// no Bitbucket request.
func TestDiscoveryUsageErrors(t *testing.T) {
	t.Parallel()
	e, orgsFile := newDiscoveryEnv(t)
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("# nothing\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import:data", "--orgsData=" + orgsFile, "--private", "--public"}, "contradict"},
		{[]string{"import:data", "--orgsData=" + orgsFile, "--updatedSince=yesterday"}, "--updatedSince"},
		{[]string{"import:data", "--orgsData=" + orgsFile, "--include=big/[a"}, "glob"},
		{[]string{"import:data", "--orgsData=" + orgsFile, "--project= "}, "project"},
		{[]string{"import:data", "--orgsData=" + orgsFile, "--workspacesFile=" + empty}, "names no workspace"},
		{[]string{"import:data", "--orgsData=" + orgsFile, "--workspacesFile=/nonexistent/ws.txt"}, "--workspacesFile"},
		{[]string{"import:data", "--orgsData=" + orgsFile, "--orgPer=repo"}, "--orgPer"},
		{[]string{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--orgPer=repo"}, "--orgPer"},
		{[]string{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--workspacesFile=" + empty}, "names no workspace"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d %s %s", i, tt.args[0], tt.want), func(t *testing.T) {
			var r result
			delta := bbDelta(e, func() { r = e.Run(tt.args...) })
			if r.Code != exitUsage || !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s", r.Code, exitUsage, tt.want, r.Stderr)
			}
			if delta["bitbucket.requests"] != 0 {
				t.Errorf("%d Bitbucket requests for a usage error", delta["bitbucket.requests"])
			}
		})
	}
}

// import:data --workspace with slugs the orgs file does not name: a warning
// for the unknown one, an error when none matches.
func TestImportDataUnknownWorkspace(t *testing.T) {
	t.Parallel()
	e, orgsFile := newDiscoveryEnv(t)
	r := e.MustRun(0, "import:data", "--orgsData="+orgsFile, "--workspace=small", "--workspace=typo", "--logFormat=json")
	if !strings.Contains(r.Stderr, `"workspace":"typo"`) || !strings.Contains(r.Stderr, `"level":"warn"`) {
		t.Errorf("no warning for the unknown workspace:\n%s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "left out 3 orgs of the orgs file without listing: 3 not in --workspace") {
		t.Errorf("no left-out summary:\n%s", r.Stderr)
	}
	var r2 result
	delta := bbDelta(e, func() { r2 = e.Run("import:data", "--orgsData="+orgsFile, "--workspace=typo") })
	if r2.Code != exitFailed || !strings.Contains(r2.Stderr, `no org of`) || !strings.Contains(r2.Stderr, "big, small, mirrors, sandbox") {
		t.Errorf("exit %d, want %d naming the file's workspaces:\n%s", r2.Code, exitFailed, r2.Stderr)
	}
	if delta["bitbucket.requests"] != 0 {
		t.Errorf("%d requests", delta["bitbucket.requests"])
	}
}

// orgRows reads an orgs data file as "name|workspace|project" rows.
func orgRows(t *testing.T, file string) []string {
	t.Helper()
	rows, err := importfiles.ReadOrgsDataFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Name + "|" + r.Workspace + "|" + r.Project
	}
	return out
}

// TestOrgsDataDiscovery: orgs:data's discovery flags, each with its rows and
// its exact request count.
func TestOrgsDataDiscovery(t *testing.T) {
	t.Parallel()
	wsFile := filepath.Join(t.TempDir(), "ws.txt")
	if err := os.WriteFile(wsFile, []byte("hidden\n# not this one: big\nsmall\nhidden\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		rows  []string
		calls map[string]int64
		// stdout must contain this.
		stdout string
	}{
		{name: "list every workspace: one request",
			rows:   []string{"Big Estate|big|", "Small Team|small|", "OSS Mirrors|mirrors|", "Sandbox|sandbox|"},
			calls:  map[string]int64{"bitbucket.requests.user_workspaces": 1, "bitbucket.workspaces_pages": 1},
			stdout: "Found 4 workspaces."},
		{name: "skipEmptyOrgs: one probe per workspace",
			args: []string{"--skipEmptyOrgs"},
			rows: []string{"Big Estate|big|", "Small Team|small|", "OSS Mirrors|mirrors|"},
			calls: map[string]int64{"bitbucket.requests.user_workspaces": 1, "bitbucket.workspaces_pages": 1,
				"bitbucket.requests.repositories": 4, "bitbucket.repositories_pages": 4}},
		{name: "explicit workspaces: no listing, each verified with one request, an unlisted workspace works",
			args:  []string{"--workspace=big", "--workspace=hidden,small"},
			rows:  []string{"big|big|", "hidden|hidden|", "small|small|"},
			calls: map[string]int64{"bitbucket.requests.repositories": 3, "bitbucket.repositories_pages": 3}},
		{name: "workspaces file with skipEmptyOrgs: one probe each, which is the verification",
			args:  []string{"--workspacesFile=" + wsFile, "--skipEmptyOrgs"},
			rows:  []string{"hidden|hidden|", "small|small|"},
			calls: map[string]int64{"bitbucket.requests.repositories": 2, "bitbucket.repositories_pages": 2}},
		{name: "orgPer=project: one projects page per workspace, no repository listed",
			args: []string{"--orgPer=project"},
			rows: []string{"Big Estate / Project ARCHIVE|big|ARCHIVE", "Big Estate / Project CORE|big|CORE", "Big Estate / Project DATA|big|DATA",
				"Big Estate / Project WEB|big|WEB", "Small Team / Project MOB|small|MOB", "OSS Mirrors / Untitled project|mirrors|PROJ"},
			calls: map[string]int64{"bitbucket.requests.user_workspaces": 1, "bitbucket.workspaces_pages": 1,
				"bitbucket.requests.projects": 4, "bitbucket.projects_pages": 4},
			stdout: "Found 6 projects in 4 workspaces (one org per project)."},
		{name: "orgPer=project, skipEmptyOrgs: one probe per project",
			args: []string{"--orgPer=project", "--skipEmptyOrgs", "--source=bitbucket-cloud"},
			rows: []string{"big / Project CORE|big|CORE", "big / Project DATA|big|DATA", "big / Project WEB|big|WEB",
				"small / Project MOB|small|MOB", "mirrors / Untitled project|mirrors|PROJ"},
			calls: map[string]int64{"bitbucket.requests.user_workspaces": 1, "bitbucket.workspaces_pages": 1,
				"bitbucket.requests.projects": 4, "bitbucket.projects_pages": 4,
				"bitbucket.requests.repositories": 6, "bitbucket.repositories_pages": 6}},
		{name: "orgPer=project for given workspaces",
			args: []string{"--orgPer=project", "--workspace=small", "--workspace=hidden"},
			rows: []string{"small / Project MOB|small|MOB", "hidden / Untitled project|hidden|PROJ"},
			calls: map[string]int64{"bitbucket.requests.projects": 2, "bitbucket.projects_pages": 2,
				"bitbucket.requests.repositories": 2, "bitbucket.repositories_pages": 2}},
	}
	// With names in the workspace listing the counts are the minimum; the
	// spec's listing has none, and then the app source reads each listed
	// workspace once for its display name: same rows, 4 more requests.
	for _, names := range []bool{true, false} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/names listed=%v", tt.name, names), func(t *testing.T) {
				e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: discoveryEstate(),
					Users: map[string]string{"ci-bot": "app-password-1"}, WorkspaceAccessNames: names}})
				source := "bitbucket-cloud-app"
				if slices.Contains(tt.args, "--source=bitbucket-cloud") {
					source = "bitbucket-cloud"
					e.Set("BITBUCKET_CLOUD_USERNAME", "ci-bot")
					e.Set("BITBUCKET_CLOUD_PASSWORD", "app-password-1")
				}
				calls := maps.Clone(tt.calls)
				if !names && source == "bitbucket-cloud-app" && calls["bitbucket.requests.user_workspaces"] > 0 {
					calls["bitbucket.requests.workspace"] = 4
				}
				var r result
				delta := bbDelta(e, func() {
					r = e.MustRun(0, append([]string{"orgs:data", "--groupId=" + sim.SimSnykGroupID, "--logFormat=json"}, tt.args...)...)
				})
				if diff := cmp.Diff(tt.rows, orgRows(t, e.File("group-"+sim.SimSnykGroupID+"-"+source+"-orgs.json"))); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
				total := int64(0)
				for k, v := range calls {
					if strings.HasPrefix(k, "bitbucket.requests.") {
						total += v
					}
				}
				want := map[string]int64{"bitbucket.requests": total}
				for k, v := range calls {
					want[k] = v
				}
				got := map[string]int64{}
				for k, v := range delta {
					if strings.Count(k, ".") == 1 || strings.HasPrefix(k, "bitbucket.requests.") {
						if k != "bitbucket.token_exchanges" {
							got[k] = v
						}
					}
				}
				if total == 0 {
					want = map[string]int64{}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Bitbucket requests (-want +got):\n%s", diff)
				}
				if tt.stdout != "" && !strings.Contains(r.Stdout, tt.stdout) {
					t.Errorf("stdout lacks %q:\n%s", tt.stdout, r.Stdout)
				}
			})
		}
	}
}

// Without the project permission, orgPer=project still works: it lists the
// repositories instead, says so once per workspace, and costs what it did
// before ListProjectsIter existed.
func TestOrgsDataPerProjectWithoutProjectScope(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: discoveryEstate(), Scopes: "account repository"}})
	var r result
	delta := bbDelta(e, func() {
		r = e.MustRun(0, "orgs:data", "--groupId="+sim.SimSnykGroupID, "--orgPer=project", "--skipEmptyOrgs", "--logFormat=json")
	})
	want := []string{"Big Estate / Project CORE|big|CORE", "Big Estate / Project DATA|big|DATA", "Big Estate / Project WEB|big|WEB",
		"Small Team / Project MOB|small|MOB", "OSS Mirrors / Untitled project|mirrors|PROJ"}
	if diff := cmp.Diff(want, orgRows(t, e.File("group-"+sim.SimSnykGroupID+"-bitbucket-cloud-app-orgs.json"))); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// 4 refused project listings + every repository page (5+1+1+1), no probes.
	if delta["bitbucket.403"] != 4 || delta["bitbucket.repositories_pages"] != 8 {
		t.Errorf("counters %v: want 4 refused project listings and 8 repository pages", delta)
	}
	if n := strings.Count(r.Stderr, "by listing its"); n != 4 || !strings.Contains(r.Stderr, "Projects: Read") {
		t.Errorf("want 4 warnings naming the missing permission, got %d:\n%s", n, r.Stderr)
	}
}

// The whole per-project pipeline: orgs:data --orgPer=project, orgs:create,
// import:data --orgPer=project. Each project org gets exactly its project's
// repositories, the union is what the per-workspace run selects, and each
// org costs one q=project.key page per 100 of its repositories.
func TestPerProjectPipeline(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: discoveryEstate()}})
	group := sim.SimSnykGroupID
	e.MustRun(0, "orgs:data", "--groupId="+group, "--orgPer=project", "--workspace=big", "--workspace=small")
	r := e.MustRun(0, "orgs:create", "--file="+e.File("group-"+group+"-bitbucket-cloud-app-orgs.json"))
	if !strings.Contains(r.Stdout, "Created 5 out of 5 organizations") {
		t.Errorf("orgs:create stdout:\n%s", r.Stdout)
	}
	orgs, err := importfiles.ReadCreatedOrgsFile(e.File("snyk-created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	orgOf := map[string]string{}
	for _, o := range orgs {
		if o.Project == "" || !strings.HasPrefix(o.Name, o.Workspace+" / ") {
			t.Errorf("created org %+v: want a project and the name <workspace> / <project name>", o)
		}
		orgOf[o.Workspace+"/"+o.Project] = o.OrgID
	}

	var want []string
	var pages int64
	for _, w := range e.Sim.BitbucketWorkspaces() {
		if w.Slug != "big" && w.Slug != "small" {
			continue
		}
		perProject := map[string]int{}
		for r := range w.AllRepos() {
			perProject[r.ProjectKey]++
			if r.MainBranch != "" {
				want = append(want, orgOf[w.Slug+"/"+r.ProjectKey]+" "+w.Slug+"/"+r.Slug+"@"+r.MainBranch)
			}
		}
		for _, k := range w.ProjectKeys() {
			pages += int64(max(1, (perProject[k]+99)/100))
		}
	}
	slices.Sort(want)
	delta := bbDelta(e, func() {
		e.MustRun(0, "import:data", "--orgsData="+e.File("snyk-created-orgs.json"), "--orgPer=project")
	})
	if diff := cmp.Diff(want, readTargets(t, e.File("bitbucket-cloud-app-import-targets.json"), true)); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	// big: CORE/WEB/DATA 150 each → 2 pages each, ARCHIVE 1 empty page; small: MOB 1.
	if pages != 8 || delta["bitbucket.repositories_pages"] != pages || delta["bitbucket.requests"] != pages {
		t.Errorf("repository pages %d (requests %d), want %d = 8", delta["bitbucket.repositories_pages"], delta["bitbucket.requests"], pages)
	}

	// --project narrows per-project orgs without a request for the others.
	delta = bbDelta(e, func() {
		e.MustRun(0, "import:data", "--orgsData="+e.File("snyk-created-orgs.json"), "--project=MOB")
	})
	if delta["bitbucket.repositories_pages"] != 1 || delta["bitbucket.repositories_pages.small"] != 1 {
		t.Errorf("--project=MOB listed %v, want the MOB org's one page", delta)
	}
	got := readTargets(t, e.File("bitbucket-cloud-app-import-targets.json"), true)
	for _, g := range got {
		if !strings.HasPrefix(g, orgOf["small/MOB"]+" small/") {
			t.Errorf("target %s is not of project MOB", g)
		}
	}
	if len(got) != 30-2 {
		t.Errorf("%d targets, want 28", len(got))
	}

	// A per-workspace file refused with --orgPer=project.
	e2, orgsFile := newDiscoveryEnv(t)
	r = e2.Run("import:data", "--orgsData="+orgsFile, "--orgPer=project")
	if r.Code != exitFailed || !strings.Contains(r.Stderr, "--orgPer=project but") {
		t.Errorf("exit %d:\n%s", r.Code, r.Stderr)
	}
}
