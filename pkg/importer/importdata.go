package importer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// DefaultImportDataConcurrency bounds the orgs import:data lists at once.
// A workspace's pages are requested one after another, so on a fresh
// budget the wall time is rounds of workspaces × pages × latency: 100
// workspaces of 250 repositories (301 requests) are 25 rounds of 3 pages at
// 4 workspaces at once, 2 rounds at 50. It stays below the idle connections
// the HTTP stack keeps per host (64), so no listing waits for a new TLS
// handshake; the rate limiter, not this number, keeps a large estate under
// the hourly limit.
const DefaultImportDataConcurrency = 50

// ImportDataOptions configures ImportData (import:data).
type ImportDataOptions struct {
	// Bitbucket lists each org's workspace.
	Bitbucket Bitbucket
	// Snyk, if set, checks each org before its workspace is listed: its
	// group holds it (one listing per group) and it has the integration
	// the targets will name (GET /org/{orgId}/integrations, which then
	// decides the integration id). Nil: the created-orgs file's
	// integrations are used as they are, unchecked.
	Snyk Snyk
	// OrgsData is the created-orgs file (required; ours or the original's).
	OrgsData string
	// Source is SourceBitbucketCloudApp or SourceBitbucketCloud (required);
	// it names the output file and picks the integration types to look for.
	Source string
	// IntegrationType, if set, is the only integration type used.
	IntegrationType string
	// Filter selects the repositories; the zero value keeps every
	// repository with a main branch.
	Filter RepoFilter
	// Workspaces, if set, restricts the run to the orgs of these workspace
	// slugs (matched case-insensitively against each row's "workspace", or
	// its "name" in files written by the original); the other rows are left
	// out without a request. A slug that no row names is reported in
	// UnmatchedWorkspaces; if no row matches at all, ImportData fails.
	Workspaces []string
	// OrgPer, if set, is what the file's orgs must stand for: OrgPerProject
	// requires a "project" on every (selected) row, OrgPerWorkspace forbids
	// one. Empty follows the file: a row with a project lists only that
	// project's repositories, one without lists the whole workspace.
	OrgPer OrgPer
	// LogPath is where <source>-import-targets.json is written (required).
	LogPath string
	// Concurrency bounds the orgs listed at once (default
	// DefaultImportDataConcurrency).
	Concurrency int
	// Shard, if set, lists only its orgs; the others are left out (see
	// LeftOut) for the other jobs.
	Shard Shard
	// Progress receives "orgs", "repositories", "targets", "skipped" and
	// "failed" counts; may be nil. Calls are serialised.
	Progress Progress
}

// ImportDataOrg is what import:data did for one org.
type ImportDataOrg struct {
	OrgID string
	Name  string
	// Workspace is the workspace slug listed; Project the project key, if
	// the org holds one project.
	Workspace     string
	Project       string
	IntegrationID string
	// Repositories listed and Targets written.
	Repositories int
	Targets      int
	// Err is why the org has no targets in the file; nil when it succeeded.
	Err error
}

// ImportDataResult is what ImportData did.
type ImportDataResult struct {
	// Path is the targets file written.
	Path string
	// Orgs has one entry per distinct orgId that was selected (see
	// LeftOut), in file order.
	Orgs []ImportDataOrg
	// DuplicateOrgs counts rows dropped because their orgId came earlier.
	DuplicateOrgs int
	// Repositories listed and Targets written, over all orgs.
	Repositories int
	Targets      int
	// Skipped counts the repositories left out, by reason.
	Skipped map[SkipReason]int
	// LeftOut are the orgs of the file that were not listed at all: not in
	// Workspaces, or an org of a project that Filter.Projects excludes.
	LeftOut []LeftOutOrg
	// UnmatchedWorkspaces are the Workspaces that no row of the file names.
	UnmatchedWorkspaces []string
	// Warnings are sentences for the person running import:data.
	Warnings []string
	// Shard is the part of the estate listed ("2/5"), "" for all of it;
	// OtherShards counts the orgs left to the other parts (also in LeftOut).
	Shard       string
	OtherShards int
}

// LeftOutOrg is an org of the created-orgs file that import:data did not
// list, and why.
type LeftOutOrg struct {
	OrgID, Name, Workspace, Project string
	Reason                          string
}

// Reasons an org is left out (LeftOutOrg.Reason); the command may word
// the ones its options decide in their terms.
const (
	LeftOutWorkspace = "not among the workspaces asked for"
	LeftOutProject   = "project not among the projects asked for"
	leftOutShard     = "in another shard"
)

// Failed reports whether any org failed (the command exits 3).
func (r *ImportDataResult) Failed() bool { return len(r.Failures()) > 0 }

// Failures returns the orgs that failed, in file order.
func (r *ImportDataResult) Failures() []ImportDataOrg {
	var out []ImportDataOrg
	for _, o := range r.Orgs {
		if o.Err != nil {
			out = append(out, o)
		}
	}
	return out
}

// ImportData reads a created-orgs file and writes <LogPath>/<source>-
// import-targets.json with one {orgId, integrationId, target:{owner, name,
// branch}} per selected repository.
//
// Orgs are deduplicated by orgId (the first row wins), selected by
// Workspaces, OrgPer and Filter.Projects (without a request; see LeftOut),
// and listed several at a time. The file is streamed: each org's targets go to a temp segment file
// as they are listed and segments are appended to the output in the order of
// the created-orgs file, so the output is the same for the same answers from
// Bitbucket (org order as in the input, each org's targets contiguous and in
// Bitbucket's order) while memory stays flat however many repositories there
// are. The file appears by rename only when complete.
//
// An org whose integration id cannot be found or whose workspace cannot be
// listed contributes no targets and is reported in the result (Failures);
// the others go on. Errors returned are about the run itself: options, the
// input file, writing, or ctx ending (no file is written then).
func ImportData(ctx context.Context, opts ImportDataOptions) (*ImportDataResult, error) {
	if err := validateImportDataOptions(&opts); err != nil {
		return nil, err
	}
	rows, err := importfiles.ReadCreatedOrgsFile(opts.OrgsData)
	if err != nil {
		return nil, err
	}
	res := &ImportDataResult{Skipped: map[SkipReason]int{}, Shard: opts.Shard.String()}
	var jobs []*orgListing
	seen := map[string]bool{}
	var unique []CreatedOrg
	for _, row := range rows {
		if seen[row.OrgID] {
			res.DuplicateOrgs++
			continue
		}
		seen[row.OrgID] = true
		unique = append(unique, row)
	}
	selected, err := selectOrgs(unique, &opts, res)
	if err != nil {
		return nil, err
	}
	// Orgs that their group does not hold fail before any Bitbucket
	// request: every import into them would be refused.
	var notInGroup map[string]error
	if opts.Snyk != nil {
		if notInGroup, err = checkGroups(ctx, opts.Snyk, selected); err != nil {
			return nil, err
		}
	}
	for _, row := range selected {
		jobs = append(jobs, &orgListing{org: row, done: make(chan struct{}), skipped: map[SkipReason]int{}, err: notInGroup[row.OrgID]})
	}

	prog := &lockedStageProgress{p: progressOrNop(opts.Progress)}
	prog.Start(StageImportData, len(jobs))
	defer prog.Done()

	res.Path = filepath.Join(opts.LogPath, importfiles.TargetsFileName(opts.Source))
	segPattern := "." + filepath.Base(res.Path) + ".org-*.tmp"

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		for _, j := range jobs {
			if j.seg != "" {
				_ = os.Remove(j.seg)
			}
		}
	}()
	wg.Go(func() {
		// Jobs fail one by one (j.err), never the pool.
		_ = boundedEach(ctx, len(jobs), opts.Concurrency, func(ctx context.Context, i int) error {
			defer close(jobs[i].done)
			jobs[i].run(ctx, &opts, prog, segPattern)
			return nil
		})
	})

	err = importfiles.WriteFileAtomic(res.Path, func(w io.Writer) error {
		tw, err := importfiles.NewTargetsWriter(w)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			select {
			case <-j.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o := ImportDataOrg{
				OrgID: j.org.OrgID, Name: j.org.Name, Workspace: j.org.WorkspaceSlug(), Project: j.org.Project,
				IntegrationID: j.integrationID, Repositories: j.listed, Err: j.err,
			}
			res.Repositories += j.listed
			if j.err == nil {
				if err := tw.AppendSegment(j.seg, j.count); err != nil {
					return err
				}
				o.Targets = j.count
				res.Targets += j.count
				for r, n := range j.skipped {
					res.Skipped[r] += n
				}
			}
			if j.seg != "" {
				_ = os.Remove(j.seg)
				j.seg = ""
			}
			res.Orgs = append(res.Orgs, o)
		}
		if len(res.Orgs) > 0 && len(res.Failures()) == len(res.Orgs) {
			// Nothing could be listed (rejected credentials, most likely):
			// an error, not a partial run, and the previous file stays.
			return &AllOrgsFailedError{Orgs: len(res.Orgs), First: res.Orgs[0].Err}
		}
		return tw.Close()
	})
	if all, ok := errors.AsType[*AllOrgsFailedError](err); ok {
		return res, all
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// AllOrgsFailedError is import:data failing for every org: no targets file
// is written, so the one from an earlier run is kept.
type AllOrgsFailedError struct {
	Orgs  int
	First error
}

func (e *AllOrgsFailedError) Error() string {
	return fmt.Sprintf("none of the %d orgs could be listed, so the targets file was not written (an earlier one is kept); the first failure: %v", e.Orgs, e.First)
}

// Unwrap returns the first org's error, so a rejected credential is seen as such.
func (e *AllOrgsFailedError) Unwrap() error { return e.First }

func validateImportDataOptions(opts *ImportDataOptions) error {
	switch {
	case opts.Bitbucket == nil:
		return errors.New("import:data: no Bitbucket client")
	case opts.OrgsData == "":
		return fieldErrorf("import:data", "OrgsData", "a created-orgs file is required ({OrgsData})")
	case opts.LogPath == "":
		return fieldErrorf("import:data", "LogPath", "a log path is required ({LogPath})")
	case opts.Source != SourceBitbucketCloudApp && opts.Source != SourceBitbucketCloud:
		return fmt.Errorf("import:data: source %q: want %q or %q", opts.Source, SourceBitbucketCloudApp, SourceBitbucketCloud)
	case opts.Concurrency < 0:
		return fmt.Errorf("import:data: concurrency %d: want at least 1", opts.Concurrency)
	case opts.OrgPer != "" && opts.OrgPer != OrgPerWorkspace && opts.OrgPer != OrgPerProject:
		return fmt.Errorf("import:data: orgPer %q: want %q or %q", opts.OrgPer, OrgPerWorkspace, OrgPerProject)
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultImportDataConcurrency
	}
	if err := opts.Filter.Validate(); err != nil {
		return fmt.Errorf("import:data: %w", err)
	}
	return nil
}

// selectOrgs applies Workspaces, OrgPer, Filter.Projects and Shard to the
// deduplicated rows: it returns the orgs to list, records the others in
// res.LeftOut, and warns about a workspace imported twice (once whole, once
// per project; every shard warns, wherever the two orgs fall).
func selectOrgs(rows []CreatedOrg, opts *ImportDataOptions, res *ImportDataResult) ([]CreatedOrg, error) {
	var wanted map[string]bool
	matched := map[string]bool{}
	for _, w := range opts.Workspaces {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			if wanted == nil {
				wanted = map[string]bool{}
			}
			wanted[w] = true
		}
	}
	if len(opts.Workspaces) > 0 && wanted == nil {
		return nil, fieldErrorf("import:data", "Workspaces", "{Workspaces} was given but names no workspace")
	}
	var projects map[string]bool
	if len(opts.Filter.Projects) > 0 {
		projects = map[string]bool{}
		for _, k := range opts.Filter.Projects {
			projects[k] = true
		}
	}
	var out []CreatedOrg
	var wrongShape []string
	for i, row := range rows {
		ws := strings.ToLower(row.WorkspaceSlug())
		leave := func(reason string) {
			res.LeftOut = append(res.LeftOut, LeftOutOrg{OrgID: row.OrgID, Name: row.Name, Workspace: row.WorkspaceSlug(), Project: row.Project, Reason: reason})
		}
		if wanted != nil {
			if !wanted[ws] {
				leave(LeftOutWorkspace)
				continue
			}
			matched[ws] = true
		}
		if (opts.OrgPer == OrgPerProject && row.Project == "") || (opts.OrgPer == OrgPerWorkspace && row.Project != "") {
			wrongShape = append(wrongShape, fmt.Sprintf("org %q (row %d)", row.Name, i))
			continue
		}
		if row.Project != "" && projects != nil && !projects[row.Project] {
			leave(LeftOutProject)
			continue
		}
		out = append(out, row)
	}
	if len(wrongShape) > 0 {
		n := len(wrongShape)
		if n > 3 {
			wrongShape = append(wrongShape[:3], fmt.Sprintf("%d more", n-3))
		}
		if opts.OrgPer == OrgPerProject {
			return nil, fieldErrorf("import:data", "OrgPer", fmt.Sprintf("{OrgPer}=project but %s of %s %s no \"project\": the file was made with one org per workspace; run orgs:data {OrgPer}=project and orgs:create again, or drop {OrgPer}",
				pluralWord(n, "org", "orgs"), opts.OrgsData, haveHas(n)+" ("+strings.Join(wrongShape, ", ")+")"))
		}
		return nil, fieldErrorf("import:data", "OrgPer", fmt.Sprintf("{OrgPer}=workspace but %s of %s %s a \"project\": the file was made with one org per project; drop {OrgPer} or pass {OrgPer}=project",
			pluralWord(n, "org", "orgs"), opts.OrgsData, haveHas(n)+" ("+strings.Join(wrongShape, ", ")+")"))
	}
	if wanted != nil {
		for _, w := range opts.Workspaces {
			if w = strings.TrimSpace(w); w != "" && !matched[strings.ToLower(w)] && !slices.Contains(res.UnmatchedWorkspaces, w) {
				res.UnmatchedWorkspaces = append(res.UnmatchedWorkspaces, w)
			}
		}
		if len(matched) == 0 {
			var have []string
			seen := map[string]bool{}
			for _, row := range rows {
				if ws := row.WorkspaceSlug(); !seen[ws] {
					seen[ws] = true
					have = append(have, ws)
				}
			}
			if len(have) > 10 {
				have = append(have[:10], "…")
			}
			return nil, fieldErrorf("import:data", "Workspaces", fmt.Sprintf("no org of %s is for workspace %s (its workspaces: %s); check the slugs given with {Workspaces}",
				opts.OrgsData, strings.Join(res.UnmatchedWorkspaces, ", "), strings.Join(have, ", ")))
		}
	}
	// A workspace listed whole by one org and per project by others would
	// have its repositories imported twice.
	whole := map[string]string{}
	perProject := map[string]int{}
	var order []string
	for _, row := range out {
		ws := row.WorkspaceSlug()
		if _, ok := whole[ws]; !ok && perProject[ws] == 0 {
			order = append(order, ws)
		}
		if row.Project == "" {
			if _, ok := whole[ws]; !ok {
				whole[ws] = row.Name
			}
		} else {
			perProject[ws]++
		}
	}
	for _, ws := range order {
		if name, ok := whole[ws]; ok && perProject[ws] > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("workspace %q has an org for the whole workspace (%q) and %s for its projects: its repositories are imported into both; remove one or the other from the orgs file",
				ws, name, pluralWord(perProject[ws], "org", "orgs")))
		}
	}
	if opts.Shard.All() {
		return out, nil
	}
	var mine []CreatedOrg
	for _, row := range out {
		if opts.Shard.Keep(row.OrgID) {
			mine = append(mine, row)
			continue
		}
		res.LeftOut = append(res.LeftOut, LeftOutOrg{OrgID: row.OrgID, Name: row.Name, Workspace: row.WorkspaceSlug(), Project: row.Project, Reason: leftOutShard})
		res.OtherShards++
	}
	return mine, nil
}

func haveHas(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

// orgListing is one org's work: its fields are written by its goroutine and
// read by the writer only after done is closed.
type orgListing struct {
	org  CreatedOrg
	done chan struct{}

	integrationID string
	seg           string // temp segment file: ",\n    {target}" per target
	count, listed int
	skipped       map[SkipReason]int
	err           error
}

func (j *orgListing) run(ctx context.Context, opts *ImportDataOptions, prog Progress, segPattern string) {
	defer func() {
		if j.err != nil {
			prog.Add(CounterFailed, 1)
		}
		prog.Add(CounterOrgs, 1)
	}()
	if j.err != nil {
		return
	}
	j.integrationID, j.err = resolveIntegrationID(ctx, opts.Snyk, j.org, opts.Source, opts.IntegrationType)
	if j.err != nil {
		return
	}
	f, err := os.CreateTemp(opts.LogPath, segPattern)
	if err != nil {
		j.err = err
		return
	}
	j.seg = f.Name()
	bw := bufio.NewWriterSize(f, 32<<10)
	if err := j.list(ctx, opts, prog, bw); err != nil {
		j.err = err
	} else if err := bw.Flush(); err != nil {
		j.err = err
	}
	if err := f.Close(); err != nil && j.err == nil {
		j.err = err
	}
}

func (j *orgListing) list(ctx context.Context, opts *ImportDataOptions, prog Progress, w *bufio.Writer) error {
	ws := j.org.WorkspaceSlug()
	m := newRepoMatcher(opts.Filter, j.org.Project)
	enc := importfiles.NewTargetLineEncoder()
	entry := TargetEntry{OrgID: j.org.OrgID, IntegrationID: j.integrationID}
	listOpts := &bitbucket.RepositoryListOptions{Query: opts.Filter.Query(j.org.Project)}
	done := ctx.Done()
	for repo, err := range opts.Bitbucket.ListRepositoriesIter(ctx, ws, listOpts) {
		if err != nil {
			if j.org.Workspace == "" {
				// A file written by the original: its name may be a display name.
				return fmt.Errorf("list repositories of workspace %q (the org's name: the created-orgs file has no \"workspace\" field; if the name is not the workspace slug, add \"workspace\" or re-run orgs:data and orgs:create with bbimport): %w", ws, err)
			}
			return fmt.Errorf("list repositories of workspace %q: %w", ws, err)
		}
		select {
		case <-done: // stop at once, not at the next page
			return context.Cause(ctx)
		default:
		}
		j.listed++
		prog.Add(CounterRepositories, 1)
		owner := ws
		if repo.Workspace != "" {
			owner = repo.Workspace
		}
		if reason, skip := m.skip(owner, &repo); skip {
			j.skipped[reason]++
			prog.Add(CounterSkipped, 1)
			continue
		}
		entry.Target = BitbucketTarget{Owner: owner, Name: repo.Slug, Branch: repo.MainBranch}
		line, err := enc.Line(&entry)
		if err != nil {
			return err
		}
		if _, err := w.WriteString("," + importfiles.TargetsLinePrefix); err != nil {
			return err
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		j.count++
		prog.Add(CounterTargets, 1)
	}
	return nil
}

// IntegrationCandidates are the integration types import:data looks for,
// in order: integrationType alone if given, else bitbucket-cloud-app then
// bitbucket-connect-app for the app source, or bitbucket-cloud.
func IntegrationCandidates(source, integrationType string) []string {
	if integrationType != "" {
		return []string{integrationType}
	}
	s, ok := LookupSource(source)
	if !ok {
		s, _ = LookupSource(SourceBitbucketCloud)
	}
	return slices.Clone(s.Integrations)
}

// resolveIntegrationID finds the org's integration id. With a Snyk client
// it is the first candidate present in GET /org/{orgId}/integrations, so
// that what the targets file names is what Snyk has now (the created-orgs
// file may be older than the org's integrations); without one, the first
// present in the created-orgs file. None: an error listing the keys it has.
func resolveIntegrationID(ctx context.Context, s Snyk, org CreatedOrg, source, integrationType string) (string, error) {
	cands := IntegrationCandidates(source, integrationType)
	have := org.Integrations
	if s != nil {
		var err error
		if have, err = s.ListIntegrations(ctx, org.OrgID); err != nil {
			return "", fmt.Errorf("org %q (%s): read its integrations from Snyk: %w", org.Name, org.OrgID, err)
		}
	}
	for _, c := range cands {
		if id := have[c]; id != "" {
			return id, nil
		}
	}
	sorted := importfiles.SortedIntegrationKeys(have)
	keys := "none"
	if len(sorted) > 0 {
		keys = strings.Join(sorted, ", ")
	}
	hint := "connect Bitbucket Cloud to this org in Snyk"
	if slices.ContainsFunc(sorted, func(k string) bool { return !slices.Contains(cands, k) }) {
		hint += ", or choose one of its integrations with {IntegrationType}"
	}
	return "", &FieldError{Field: "IntegrationType",
		Msg: fmt.Sprintf("org %q (%s) has no %s integration (it has: %s); %s", org.Name, org.OrgID, strings.Join(cands, " or "), keys, hint)}
}
