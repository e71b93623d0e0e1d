package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// OrgsCreateOptions configures OrgsCreate (orgs:create).
type OrgsCreateOptions struct {
	// Snyk lists, creates and configures orgs.
	Snyk Snyk
	// File is the orgs data file (required; ours or the original's).
	File string
	// AllowDuplicateNames creates an org even when the group already has
	// one of that exact name (the original's default). By default such an
	// org is reused, which makes a re-run create nothing.
	AllowDuplicateNames bool
	// ExcludeExistingOrgs leaves reused orgs out of the created-orgs file
	// (when asked); by default they are in it.
	ExcludeExistingOrgs bool
	// DryRun only lists the groups' orgs and reports what would be created
	// or reused: nothing is created, no file or log is written.
	DryRun bool
	// LogPath is where snyk-created-orgs.json and the logs go (required).
	LogPath string
	// Concurrency is how many rows are settled at once (0: OrgsAtOnce,
	// sized from the Snyk budget and the latency its answers take).
	Concurrency int
	// Now stamps log lines; time.Now if nil.
	Now func() time.Time
	// Hostname and PID are written in every log line (default: this host
	// and process).
	Hostname string
	PID      int
	// Progress receives "orgs" and "failed" counts; may be nil.
	Progress Progress

	// Redact, if set, scrubs secrets from the error texts written to the
	// failed-to-create-orgs logs.
	Redact func(string) string
	// ErrorText words an error written to those logs (nil: err.Error()),
	// as for [ImportOptions.ErrorText].
	ErrorText func(error) string

	// openFile opens the log files (nil: openNoFollow); tests make it fail
	// like a full disk.
	openFile importfiles.OpenFunc
}

// OrgStatus is what happened to one row of the orgs data file.
type OrgStatus string

// Row statuses.
const (
	// OrgCreated: a new org was created (possibly with warnings).
	OrgCreated OrgStatus = "created"
	// OrgReused: an org of that name already existed in the group.
	OrgReused OrgStatus = "reused"
	// OrgFailed: the org could not be created; Err says why.
	OrgFailed OrgStatus = "failed"
	// OrgWouldCreate and OrgWouldReuse are the dry-run counterparts.
	OrgWouldCreate OrgStatus = "would-create"
	OrgWouldReuse  OrgStatus = "would-reuse"
	// OrgNotAttempted: the run was interrupted before this row.
	OrgNotAttempted OrgStatus = "not-attempted"
)

// OrgOutcome is the outcome of one row.
type OrgOutcome struct {
	Row    OrgRow
	Status OrgStatus
	// Org is the org as written to the created-orgs file; nil when failed,
	// not attempted or would-create.
	Org *CreatedOrg
	// Err is why the row failed.
	Err error
	// Warnings are problems that did not stop the org from being created
	// or reused (notifications left on, integrations not read).
	Warnings []string
}

// OrgsCreateResult is what OrgsCreate did.
type OrgsCreateResult struct {
	// Path is the created-orgs file written; empty on a dry run.
	Path string
	// Orgs has one outcome per row of the input file, in order.
	Orgs []OrgOutcome
	// Written is how many orgs the created-orgs file holds.
	Written int
}

// Count returns how many rows ended with status s.
func (r *OrgsCreateResult) Count(s OrgStatus) int {
	n := 0
	for _, o := range r.Orgs {
		if o.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether any row failed (the command exits 3).
func (r *OrgsCreateResult) Failed() bool { return r.Count(OrgFailed) > 0 }

// Failures returns the failed rows.
func (r *OrgsCreateResult) Failures() []OrgOutcome {
	var out []OrgOutcome
	for _, o := range r.Orgs {
		if o.Status == OrgFailed {
			out = append(out, o)
		}
	}
	return out
}

// OrgsCreate creates the Snyk orgs named in an orgs data file and writes
// <LogPath>/snyk-created-orgs.json. Per group it lists the group's orgs once
// (all pages); unless AllowDuplicateNames, an org whose name matches exactly
// is reused, so a re-run creates nothing. A new org is created (POST /org),
// its integrations read and its notification e-mails switched off; failing
// either of the last two is a warning, not a failure, since the org exists.
// One failed row does not stop the others: the result lists it, and it is
// appended to <groupId>.failed-to-create-orgs.log; created orgs are appended
// to <groupId>.created-orgs.log. If ctx ends mid-run, the file is written
// with what was done and ctx's error is returned with the result. If no
// group's orgs could be listed at all, the first listing error is returned
// with the result and no file is written.
func OrgsCreate(ctx context.Context, opts OrgsCreateOptions) (*OrgsCreateResult, error) {
	switch {
	case opts.Snyk == nil:
		return nil, errors.New("orgs:create: no Snyk client")
	case opts.File == "":
		return nil, fieldErrorf("orgs:create", "File", "an orgs data file is required ({File})")
	case opts.LogPath == "":
		return nil, fieldErrorf("orgs:create", "LogPath", "a log path is required ({LogPath})")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	rows, err := importfiles.ReadOrgsDataFile(opts.File)
	if err != nil {
		return nil, err
	}
	for i, row := range rows {
		if strings.ContainsAny(row.GroupID, `/\`) {
			return nil, &importfiles.FileFormatError{Path: opts.File, Where: fmt.Sprintf("orgs[%d]", i), Msg: fmt.Sprintf("groupId %q: must not contain a slash", row.GroupID)}
		}
	}
	prog := progressOrNop(opts.Progress)
	prog.Start(StageOrgsCreate, len(rows))
	defer prog.Done()

	res := &OrgsCreateResult{Orgs: make([]OrgOutcome, len(rows))}
	for i, row := range rows {
		res.Orgs[i] = OrgOutcome{Row: row, Status: OrgNotAttempted}
	}
	if !opts.DryRun {
		// Write-ahead, as for imports: no org is created whose record
		// could not be kept.
		if err := importfiles.CheckWritableDir(opts.openFile, opts.LogPath); err != nil {
			return nil, fmt.Errorf("the log directory %s cannot be written, so no org was created: %w", opts.LogPath, err)
		}
	}
	logs := &orgsCreateLogs{dir: opts.LogPath, now: opts.Now, off: opts.DryRun, open: opts.openFile, redact: opts.Redact, errText: opts.ErrorText,
		hostname: opts.Hostname, pid: opts.PID}
	if logs.hostname == "" {
		logs.hostname, _ = os.Hostname()
	}
	if logs.pid == 0 {
		logs.pid = os.Getpid()
	}
	defer logs.close()

	var groupOrder []string
	groups := map[string][]int{}
	for i, row := range rows {
		if _, ok := groups[row.GroupID]; !ok {
			groupOrder = append(groupOrder, row.GroupID)
		}
		groups[row.GroupID] = append(groups[row.GroupID], i)
	}

	// A log line that cannot be written must not lose the orgs already
	// created: the file is still written, and the error returned after it.
	// The rows of a group are settled several at once (OrgsAtOnce), those
	// of one name in file order: a later row reuses the org the first
	// created.
	var ctxErr, listErr, logErr error
	var mu sync.Mutex // guards logErr and prog
	listFailures := 0
	for _, gid := range groupOrder {
		if ctxErr = ctx.Err(); ctxErr != nil || logs.stopped() != nil {
			break
		}
		byName, err := listGroupOrgsByName(ctx, opts.Snyk, gid)
		if err != nil {
			if ctxErr = ctx.Err(); ctxErr != nil {
				break
			}
			err = fmt.Errorf("list the orgs of group %s: %w", gid, err)
			listFailures++
			if listErr == nil {
				listErr = err
			}
			for _, i := range groups[gid] {
				res.Orgs[i].Status, res.Orgs[i].Err = OrgFailed, err
				logErr = errors.Join(logErr, logs.failed(res.Orgs[i].Row, err))
				prog.Add(CounterFailed, 1)
				prog.Add(CounterOrgs, 1)
			}
			continue
		}
		names := rowsByName(rows, groups[gid])
		atOnce := func() int { return cmp.Or(opts.Concurrency, OrgsAtOnce(opts.Snyk)) }
		_ = BoundedEach(ctx, len(names), atOnce, func(ctx context.Context, k int) error {
			for _, i := range names[k] {
				if ctx.Err() != nil || logs.stopped() != nil {
					return nil
				}
				out := &res.Orgs[i]
				err := createOrReuseOrg(ctx, &opts, byName, out, logs)
				mu.Lock()
				logErr = errors.Join(logErr, err)
				if out.Status == OrgFailed {
					prog.Add(CounterFailed, 1)
				}
				if out.Status != OrgNotAttempted {
					prog.Add(CounterOrgs, 1)
				}
				mu.Unlock()
			}
			return nil
		})
		ctxErr = ctx.Err()
	}
	if stopErr := logs.stopped(); stopErr != nil {
		// Orgs created before the failure are kept in the file below.
		logErr = fmt.Errorf("stopped creating orgs after a log in %s could not be written (%w); every org Snyk created is recorded, and the next run goes on from there once the directory is writable",
			opts.LogPath, stopErr)
	}
	if listFailures == len(groupOrder) {
		// Nothing could even be listed (a rejected token, most likely): say
		// so as an error, and keep any created-orgs file of an earlier run.
		return res, errors.Join(listErr, logErr)
	}
	if opts.DryRun {
		return res, ctxErr
	}

	var orgs []CreatedOrg
	seen := map[string]bool{}
	for _, o := range res.Orgs {
		if o.Org == nil || seen[o.Org.OrgID] || (o.Status == OrgReused && opts.ExcludeExistingOrgs) {
			continue
		}
		seen[o.Org.OrgID] = true
		orgs = append(orgs, *o.Org)
	}
	res.Path = filepath.Join(opts.LogPath, importfiles.CreatedOrgsFileName)
	if ctxErr != nil || logs.stopped() != nil {
		// An interrupted or stopped run must not forget
		// the orgs an earlier run recorded: keep those not settled now.
		orgs = appendEarlierOrgs(res.Path, orgs, seen)
	}
	res.Written = len(orgs)
	if err := importfiles.WriteCreatedOrgsFile(res.Path, orgs); err != nil {
		return nil, err
	}
	return res, errors.Join(ctxErr, logErr)
}

// appendEarlierOrgs adds the orgs of an existing created-orgs file that are
// not in seen. An unreadable or missing file adds nothing.
func appendEarlierOrgs(path string, orgs []CreatedOrg, seen map[string]bool) []CreatedOrg {
	earlier, err := importfiles.ReadCreatedOrgsFile(path)
	if err != nil {
		return orgs
	}
	for _, o := range earlier {
		if o.OrgID != "" && !seen[o.OrgID] {
			seen[o.OrgID] = true
			orgs = append(orgs, o)
		}
	}
	return orgs
}

// createOrReuseOrg settles one row. Only errors writing the logs are
// returned; the row's own failure is recorded in out.
func createOrReuseOrg(ctx context.Context, opts *OrgsCreateOptions, byName *orgNames, out *OrgOutcome, logs *orgsCreateLogs) error {
	row := out.Row
	if existing := byName.get(row.Name); len(existing) > 0 && !opts.AllowDuplicateNames {
		org := existing[0]
		co := CreatedOrg{
			OrgID: org.ID, Name: org.Name, GroupID: row.GroupID, OrigName: row.Name,
			Workspace: row.Workspace, Project: row.Project,
			ID: org.ID, Created: org.Created, Slug: org.Slug, URL: org.URL,
		}
		if co.Name == "" {
			co.Name = row.Name
		}
		out.Status, out.Org = OrgReused, &co
		if opts.DryRun {
			out.Status = OrgWouldReuse
			return nil
		}
		if !opts.ExcludeExistingOrgs && co.OrgID != "" {
			integ, err := opts.Snyk.ListIntegrations(ctx, co.OrgID)
			if err != nil {
				out.Warnings = append(out.Warnings, fmt.Sprintf("could not read the integrations of org %s (import:data will ask again): %v", co.OrgID, err))
			}
			co.Integrations = integ
		}
		return nil
	}
	if opts.DryRun {
		out.Status = OrgWouldCreate
		// A later row of the same name would reuse this one.
		byName.add(snyk.Org{Name: row.Name})
		return nil
	}

	room, err := logs.reserveCreated(row)
	if err != nil {
		return nil // not sent; logs.stopErr ends the run
	}
	org, err := opts.Snyk.CreateOrg(ctx, snyk.CreateOrgRequest{Name: row.Name, GroupID: row.GroupID, SourceOrgID: row.SourceOrgID})
	if err == nil && (org == nil || org.ID == "") {
		err = errors.New("Snyk answered without an org id")
	}
	if err != nil {
		logs.release(row, room)
	}
	if err != nil && ctx.Err() != nil {
		// Interrupted, not failed: Snyk may or may not have created it, and
		// the next run finds it by name if it did.
		return nil
	}
	if err != nil {
		out.Status, out.Err = OrgFailed, fmt.Errorf("create org %q: %w", row.Name, err)
		return logs.failed(row, err)
	}
	co := CreatedOrg{
		OrgID: org.ID, Name: org.Name, GroupID: row.GroupID, OrigName: row.Name,
		SourceOrgID: row.SourceOrgID, Workspace: row.Workspace, Project: row.Project,
		ID: org.ID, Created: org.Created, Slug: org.Slug, URL: org.URL,
	}
	if co.Name == "" {
		co.Name = row.Name
	}
	out.Status, out.Org = OrgCreated, &co
	byName.add(snyk.Org{ID: org.ID, Name: row.Name, Created: org.Created, Slug: org.Slug, URL: org.URL})

	integ, err := opts.Snyk.ListIntegrations(ctx, org.ID)
	if err != nil {
		out.Warnings = append(out.Warnings, fmt.Sprintf("could not read the integrations of org %s (import:data will ask again): %v", org.ID, err))
	}
	co.Integrations = integ
	if err := opts.Snyk.DisableNotifications(ctx, org.ID); err != nil {
		out.Warnings = append(out.Warnings, fmt.Sprintf("could not switch off the notification e-mails of org %s: %v", org.ID, err))
	}
	return logs.created(row, &co, room)
}

// orgNames are a group's orgs by exact name, each name's in listing
// order, then those this run created. Safe for concurrent use.
type orgNames struct {
	mu sync.Mutex
	m  map[string][]snyk.Org
}

func (n *orgNames) get(name string) []snyk.Org {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[name]
}

func (n *orgNames) add(org snyk.Org) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.m[org.Name] = append(n.m[org.Name], org)
}

// listGroupOrgsByName lists a group's orgs, all pages, by exact name.
func listGroupOrgsByName(ctx context.Context, s Snyk, groupID string) (*orgNames, error) {
	byName := &orgNames{m: map[string][]snyk.Org{}}
	for org, err := range s.ListGroupOrgsIter(ctx, groupID) {
		if err != nil {
			return nil, err
		}
		byName.m[org.Name] = append(byName.m[org.Name], org)
	}
	return byName, nil
}

// rowsByName groups the rows idx (of one group) by name, in the order the
// names first appear, each name's rows in file order.
func rowsByName(rows []OrgRow, idx []int) [][]int {
	at := map[string]int{}
	var out [][]int
	for _, i := range idx {
		k, ok := at[rows[i].Name]
		if !ok {
			k = len(out)
			at[rows[i].Name] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], i)
	}
	return out
}

// orgsCreateLogs appends JSON lines to <groupId>.created-orgs.log and
// <groupId>.failed-to-create-orgs.log, in the original's fields. Files are
// opened on first use, in append mode, and kept open for the run; each line
// is one write.
type orgsCreateLogs struct {
	// hostname and pid are bunyan's envelope, in every line.
	hostname string
	pid      int
	dir      string
	now      func() time.Time
	off      bool
	open     importfiles.OpenFunc
	redact   func(string) string
	// mu guards the fields below: rows are settled several at once.
	mu sync.Mutex
	// failures holds <groupId>.failed-to-create-orgs.log.
	failures *importfiles.LogFiles
	// errText words an error (nil: err.Error()).
	errText func(error) string
	// ahead holds the created-orgs logs, written ahead (see aheadLog).
	ahead map[string]*importfiles.AheadLog
	// stopErr is the first failure to keep a created org's record: no org
	// is created after it.
	stopErr error
}

// createdRoom is the room reserved for a created-orgs line beyond its
// shape without integrations: its creation time and a dozen integrations.
const createdRoom = 1024

func createdLogName(groupID string) string { return groupID + ".created-orgs.log" }

// reserveCreated reserves the room of row's created-orgs line before the
// org is created; a failure stops the run.
func (l *orgsCreateLogs) reserveCreated(row OrgRow) (importfiles.Slot, error) {
	if l.off {
		return importfiles.Slot{}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	name := createdLogName(row.GroupID)
	a := l.ahead[name]
	if a == nil {
		var err error
		if a, err = importfiles.OpenAheadLog(l.open, filepath.Join(l.dir, name)); err != nil {
			l.stopErr = err
			return importfiles.Slot{}, err
		}
		if l.ahead == nil {
			l.ahead = map[string]*importfiles.AheadLog{}
		}
		l.ahead[name] = a
	}
	tmpl, err := l.createdLine(row, &CreatedOrg{})
	if err != nil {
		return importfiles.Slot{}, err
	}
	s, err := a.Reserve(len(tmpl) + createdRoom)
	if err != nil {
		l.stopErr = err
	}
	return s, err
}

func (l *orgsCreateLogs) release(row OrgRow, s importfiles.Slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a := l.ahead[createdLogName(row.GroupID)]; a != nil {
		a.Release(s)
	}
}

func (l *orgsCreateLogs) createdLine(row OrgRow, org *CreatedOrg) ([]byte, error) {
	integ := []string{}
	for _, k := range importfiles.SortedIntegrationKeys(org.Integrations) {
		integ = append(integ, k+":"+org.Integrations[k])
	}
	return importfiles.EncodeLine(createdOrgLine{
		Name: row.Name, Hostname: l.hostname, PID: l.pid, Level: importfiles.LevelInfo,
		ID: org.OrgID, Created: org.Created, Integrations: integ,
		Msg: "Created org", Time: l.now().UTC().Format(logTimeLayout),
	})
}

// createdOrgLine is a line of <groupId>.created-orgs.log: bunyan's
// envelope, whose name the original's record set to the org's.
type createdOrgLine struct {
	Name         string   `json:"name"`
	Hostname     string   `json:"hostname"`
	PID          int      `json:"pid"`
	Level        int      `json:"level"`
	ID           string   `json:"id"`
	Created      string   `json:"created,omitempty"`
	Integrations []string `json:"integrations"`
	Msg          string   `json:"msg"`
	Time         string   `json:"time"`
	V            int      `json:"v"`
}

// failedOrgLine is a line of <groupId>.failed-to-create-orgs.log.
type failedOrgLine struct {
	Name         string `json:"name"`
	Hostname     string `json:"hostname"`
	PID          int    `json:"pid"`
	Level        int    `json:"level"`
	OrigName     string `json:"origName"`
	GroupID      string `json:"groupId"`
	ErrorMessage string `json:"errorMessage"`
	Msg          string `json:"msg"`
	Time         string `json:"time"`
	V            int    `json:"v"`
}

// logTimeLayout is JavaScript's Date.toISOString, as the original wrote.
const logTimeLayout = "2006-01-02T15:04:05.000Z"

// created fills the room reserved for row's line and fsyncs it.
func (l *orgsCreateLogs) created(row OrgRow, org *CreatedOrg, s importfiles.Slot) error {
	if l.off {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	line, err := l.createdLine(row, org)
	if err == nil {
		err = l.ahead[createdLogName(row.GroupID)].Fill(s, line)
	}
	if err != nil && l.stopErr == nil {
		l.stopErr = err
	}
	return err
}

// stopped is the first failure to keep a created org's record, if any.
func (l *orgsCreateLogs) stopped() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopErr
}

func (l *orgsCreateLogs) text(err error) string {
	if l.errText != nil {
		return l.errText(err)
	}
	return err.Error()
}

func (l *orgsCreateLogs) failed(row OrgRow, err error) error {
	return l.append(row.GroupID+".failed-to-create-orgs.log", failedOrgLine{
		Name: "snyk:create-orgs", Hostname: l.hostname, PID: l.pid, Level: importfiles.LevelError,
		OrigName: row.Name, GroupID: row.GroupID, ErrorMessage: l.scrub(l.text(err)),
		Msg: "Failed to create org", Time: l.now().UTC().Format(logTimeLayout),
	})
}

func (l *orgsCreateLogs) append(name string, line any) error {
	if l.off {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := importfiles.EncodeLine(line)
	if err != nil {
		return err
	}
	if l.failures == nil {
		l.failures = importfiles.NewLogFiles(l.dir, "", 0, l.now)
	}
	return l.failures.WriteLine(name, b)
}

func (l *orgsCreateLogs) scrub(s string) string {
	if l.redact == nil {
		return s
	}
	return l.redact(s)
}

func (l *orgsCreateLogs) close() {
	if l.failures != nil {
		_ = l.failures.Close()
	}
	for _, a := range l.ahead {
		_ = a.Close()
	}
}
