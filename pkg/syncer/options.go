package syncer

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// stage names sync in its option errors ([importer.FieldError]).
const stage = "sync"

// DefaultDeleteAfter is how long a deletion waits after its projects were
// deactivated (OnDeletedDelete): a week in which a deletion that was wrong
// can still be undone by reactivating the projects.
const DefaultDeleteAfter = 7 * 24 * time.Hour

// DefaultWriteConcurrency is an org's project writes (and confirmations)
// in flight unless Options.WriteConcurrency says otherwise.
const DefaultWriteConcurrency = 8

const defaultMaxDeactivatePercent = 10

// Limit is how many projects one run may deactivate or delete in an org: a
// number of projects, or a percentage of the org's unique active projects.
type Limit struct {
	N       float64
	Percent bool
	// Explicit says the operator set the limit for this run. Only an
	// explicit limit may let a run deactivate every active project of an
	// org: by default a run never empties an org.
	Explicit bool
}

// DefaultLimit is 10 % of the org's active projects, never all of them.
var DefaultLimit = Limit{N: defaultMaxDeactivatePercent, Percent: true}

// ParseLimit reads an explicit limit: "25" (projects) or "10%". "0" and
// "0%" allow none.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
			return Limit{}, fieldErrorf("MaxDeactivate", "{MaxDeactivate}=%q: want a number of projects (25) or a percentage from 0%% to 100%% (10%%)", s)
		}
		return Limit{N: f, Percent: true, Explicit: true}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Limit{}, fieldErrorf("MaxDeactivate", "{MaxDeactivate}=%q: want a number of projects (25) or a percentage (10%%)", s)
	}
	return Limit{N: float64(n), Explicit: true}, nil
}

// Of is the most projects a run may deactivate or delete in an org of
// active projects. A limit that is not explicit leaves at least one.
func (l Limit) Of(active int) int {
	n := int(l.N)
	if l.Percent {
		n = int(math.Ceil(l.N * float64(active) / 100))
	}
	if !l.Explicit && n >= active {
		n = active - 1
	}
	return max(n, 0)
}

func (l Limit) String() string {
	s := strconv.FormatFloat(l.N, 'f', -1, 64)
	if l.Percent {
		s += "%"
	}
	return s
}

// OnDeleted values (what happens to the projects of a deleted repository).
const (
	OnDeletedDeactivate = "deactivate"
	OnDeletedDelete     = "delete"
	OnDeletedIgnore     = "ignore"
)

// Options configures Sync.
type Options struct {
	Snyk      Snyk
	Bitbucket Bitbucket
	// Orgs to sync: rows of snyk-created-orgs.json, or just {OrgID} (the
	// original's form: its workspaces are then those its targets name).
	Orgs []importfiles.CreatedOrg
	// Source is importer.SourceBitbucketCloudApp or SourceBitbucketCloud;
	// it picks the project origins and the integration.
	Source          string
	IntegrationType string
	LogPath         string
	DryRun          bool
	ImportNew       bool
	// OnDeleted is OnDeletedDeactivate (default), OnDeletedDelete or
	// OnDeletedIgnore. A deletion first deactivates; OnDeletedDelete
	// deletes what an earlier run deactivated for the same confirmed
	// deletion at least DeleteAfter ago (0: DefaultDeleteAfter).
	OnDeleted   string
	DeleteAfter time.Duration
	// MaxDeactivate is the guard (zero: DefaultLimit).
	MaxDeactivate Limit
	// ExclusionGlobs deactivate matching projects and are sent with every
	// import (the original never sent them).
	ExclusionGlobs []string
	// Products are the products synced (ProductOpenSource by default).
	Products []string
	// Filter is import:data's discovery filters, applied client-side to a
	// whole listing.
	Filter importer.RepoFilter
	// Import pool settings (see importer.ImportOptions): one pool of
	// Concurrency slots and one poll schedule for the whole run.
	Concurrency          int
	PollInitial, PollMax time.Duration
	PollTimeout          time.Duration
	PollShare            float64
	SnykRateLimit        int
	OnPollSchedule       func(importer.PollSchedule)
	// OrgConcurrency is the most orgs synced at once (0:
	// importer.OrgsAtOnce, sized from the Snyk budget and latency); fewer
	// run while their repositories fill ReposInFlight.
	OrgConcurrency int
	Now            func() time.Time
	Progress       importer.Progress
	// WriteConcurrency bounds an org's project writes, and its
	// confirmations, in flight (default DefaultWriteConcurrency).
	WriteConcurrency int
	// Shard, if set, syncs only the orgs of Orgs in it; the others are
	// counted in Result.OtherShards and left to the other jobs.
	Shard importer.Shard
	// OnOrg, if set, receives each org's result as soon as the org is done,
	// with its Plan; the Plan is dropped afterwards, so the memory of a run
	// does not grow with the number of orgs.
	OnOrg func(*OrgResult)
	// ErrorText words an error in the results and the plan; nil means
	// err.Error(). The clients' errors state facts only: the command
	// passes its own wording, which says what to fix.
	ErrorText func(error) string
	// Redact, if set, scrubs secrets from every error text sync keeps or
	// writes (results, plan, logs, the imports' logs): a server's answer
	// may echo what it was sent.
	Redact func(string) string
}

// errText is err as the results show it.
func (o *Options) errText(err error) string {
	text := err.Error()
	if o.ErrorText != nil {
		text = o.ErrorText(err)
	}
	return o.redact(text)
}

func (o *Options) redact(s string) string {
	if o.Redact != nil {
		return o.Redact(s)
	}
	return s
}

func fieldErrorf(field, format string, a ...any) *importer.FieldError {
	return &importer.FieldError{Stage: stage, Field: field, Msg: fmt.Sprintf(format, a...)}
}

func (o *Options) validate() error {
	switch {
	case o.Snyk == nil || o.Bitbucket == nil:
		return errors.New("syncer: Snyk and Bitbucket clients are required")
	case o.LogPath == "":
		return fieldErrorf("LogPath", "a log path is required ({LogPath})")
	case len(o.Orgs) == 0:
		return fieldErrorf("Orgs", "no org to sync ({Orgs})")
	case o.Source != importer.SourceBitbucketCloudApp && o.Source != importer.SourceBitbucketCloud:
		return fieldErrorf("Source", "{Source}=%q: want %q or %q", o.Source, importer.SourceBitbucketCloudApp, importer.SourceBitbucketCloud)
	}
	o.OnDeleted = cmp.Or(o.OnDeleted, OnDeletedDeactivate)
	if err := CheckOnDeleted(o.OnDeleted); err != nil {
		return err
	}
	if o.DeleteAfter < 0 {
		return fieldErrorf("DeleteAfter", "{DeleteAfter}=%s: want a positive duration", o.DeleteAfter)
	}
	o.DeleteAfter = cmp.Or(o.DeleteAfter, DefaultDeleteAfter)
	if o.MaxDeactivate == (Limit{}) {
		o.MaxDeactivate = DefaultLimit
	}
	if err := ValidateGlobs(o.ExclusionGlobs); err != nil {
		return err
	}
	if err := o.Filter.Validate(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if len(o.Products) == 0 {
		o.Products = []string{ProductOpenSource}
	}
	for _, p := range o.Products {
		if err := CheckProduct(p); err != nil {
			return err
		}
	}
	o.Concurrency = cmp.Or(o.Concurrency, importer.DefaultConcurrency)
	o.WriteConcurrency = cmp.Or(o.WriteConcurrency, DefaultWriteConcurrency)
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// origins are the project origins of the source: the app's projects are
// listed as either bitbucket-cloud-app or bitbucket-connect-app.
func (o *Options) origins() []string {
	return importer.IntegrationCandidates(o.Source, "")
}

// Product of a Snyk project type, for Options.Products.
const (
	ProductOpenSource = "open-source"
	ProductContainer  = "container"
	ProductIaC        = "iac"
)

// CheckOnDeleted refuses an OnDeleted value sync does not know.
func CheckOnDeleted(v string) error {
	switch v {
	case OnDeletedDeactivate, OnDeletedDelete, OnDeletedIgnore:
		return nil
	}
	return fieldErrorf("OnDeleted", "{OnDeleted}=%q: want deactivate, delete or ignore", v)
}

// CheckProduct refuses a product sync does not know.
func CheckProduct(p string) error {
	if p != ProductOpenSource && p != ProductContainer && p != ProductIaC {
		return fieldErrorf("Products", "{Products}=%q: want open-source, container or iac", p)
	}
	return nil
}

var iacTypes = map[string]bool{"terraformconfig": true, "cloudformationconfig": true, "k8sconfig": true,
	"helmconfig": true, "armconfig": true, "customconfig": true}

// ProductOf is the product a project type belongs to ("" for sast, which
// sync never touches: Snyk Code projects have no manifest).
func ProductOf(projectType string) string {
	switch {
	case projectType == "sast":
		return ""
	case projectType == "dockerfile":
		return ProductContainer
	case iacTypes[projectType]:
		return ProductIaC
	default:
		return ProductOpenSource
	}
}

// ExclusionMatcher turns the exclusion globs into a matcher of project
// files. Empty entries are ignored (the original's "a," excluded every
// file). A glob without "/" matches any one path segment ("test" excludes
// "test/package.json" and "a/test/pom.xml", not "acme-test/go.mod"); a glob
// with "/" matches the whole path, or with a leading "**/" any tail of it.
// nil when no glob is given.
func ExclusionMatcher(globs []string) func(file string) bool {
	clean := splitGlobs(globs)
	if len(clean) == 0 {
		return nil
	}
	return func(file string) bool {
		segs := strings.Split(strings.Trim(file, "/"), "/")
		for _, g := range clean {
			if tail, ok := strings.CutPrefix(g, "**/"); ok {
				for i := range segs {
					if m, _ := path.Match(tail, strings.Join(segs[i:], "/")); m {
						return true
					}
				}
				continue
			}
			if strings.Contains(g, "/") {
				if m, _ := path.Match(strings.Trim(g, "/"), strings.Join(segs, "/")); m {
					return true
				}
				continue
			}
			for _, s := range segs {
				if m, _ := path.Match(g, s); m {
					return true
				}
			}
		}
		return false
	}
}

// splitGlobs is the non-empty entries of comma-separated globs.
func splitGlobs(globs []string) []string {
	var out []string
	for _, g := range globs {
		for _, part := range strings.Split(g, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// Snyk's limits on an import's exclusionGlobs (the import answers 400
// beyond them).
const (
	maxExclusionGlobs   = 10
	maxExclusionGlobLen = 100
)

// ValidateGlobs checks the syntax of the exclusion globs and Snyk's limits
// (at most 10 entries of at most 100 characters).
func ValidateGlobs(globs []string) error {
	clean := splitGlobs(globs)
	for _, g := range clean {
		if len(g) > maxExclusionGlobLen {
			return fieldErrorf("ExclusionGlobs", "{ExclusionGlobs}: %q is longer than the %d characters Snyk accepts", g, maxExclusionGlobLen)
		}
		if _, err := path.Match(strings.TrimPrefix(g, "**/"), ""); err != nil {
			return fieldErrorf("ExclusionGlobs", "{ExclusionGlobs}: %q: %v", g, err)
		}
	}
	if len(clean) > maxExclusionGlobs {
		return fieldErrorf("ExclusionGlobs", "{ExclusionGlobs}: %d globs; Snyk accepts at most %d", len(clean), maxExclusionGlobs)
	}
	return nil
}
