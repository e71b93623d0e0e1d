package doctor

import (
	"context"
	"errors"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/cause"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"net/url"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/routing"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Mark is what a line says of its check.
type Mark int

// The marks of the lines.
const (
	Pass Mark = iota // the check passed
	Fail             // the check failed; Fix says what to do
	Warn             // a problem that does not fail the run
	Info             // a fact that is not a check
	Skip             // not checked: an earlier check failed
)

// Line is one line of the report.
type Line struct {
	Mark  Mark
	Check string
	// Text is what was found, what is wrong, or (Skip) why not checked.
	Text string
	Fix  string
}

// Result is the outcome of the checks.
type Result struct {
	Passed, Failed, Warned int
	// AuthFailed: a credential was rejected.
	AuthFailed bool
	// Group is the Snyk group checked ("" when none), for the next command.
	Group string
}

// Options are what the checks read.
type Options struct {
	// Source is the Bitbucket source (importer.SourceBitbucketCloudApp or
	// importer.SourceBitbucketCloud).
	Source                             string
	GroupID, OrgsData, IntegrationType string
	// Workspaces are checked instead of listing; MaxWorkspaces bounds the
	// repository reads (0: all).
	Workspaces    []string
	MaxWorkspaces int

	Env Env
	// LogDir resolves the log directory.
	LogDir func() (string, error)
	// Network are the lines about the API bases, proxies and CA
	// certificates; CAFailed: the CA bundles cannot be used (every client
	// fails with them, which is not said again).
	Network  []Line
	CAFailed bool
	// Bitbucket and Snyk build the clients, once their variables are set.
	Bitbucket func() (Bitbucket, error)
	Snyk      func() (Snyk, error)
	// Explain words an error: the problem, the fix, and whether a
	// credential was rejected.
	Explain func(error) (problem, fix string, auth bool)
	// ListedNone words a credential whose workspace listing was empty.
	ListedNone func(routing.Found) (problem, fix string)
	Now        func() time.Time
	// Report takes each line as its check ends.
	Report func(Line)
}

// Env is what the environment holds, as the command reads it: the names of
// the variables behind each credential, and whether they are usable.
type Env struct {
	// Getenv reads the environment (names are checked, values never shown).
	Getenv func(string) string
	// LogPathFlag: --logPath was given (so SNYK_LOG_PATH is not needed).
	LogPathFlag bool
	Bitbucket   Credential
	Snyk        Credential
	// Secrets are the variables that hold secrets.
	Secrets []string
}

// Credential is one API's credential as the environment states it.
type Credential struct {
	// Need are variables that must be set; Have are variables of a
	// credential already found usable, listed after the others.
	Need, Have []string
	// Err: the environment states no usable credential, and Fix is what to
	// do (a Snyk service account with one half set, no Bitbucket Cloud
	// credentials).
	Err error
	Fix string
	// Ready: the client can be tried (its variables are set).
	Ready bool
}

// Bitbucket is what doctor reads from Bitbucket: the run's credentials and
// the router between them (pkg/routing).
type Bitbucket interface {
	// Credentials are the run's Bitbucket credentials, in order.
	Credentials() []BitbucketCredential
	// Discover learns what each credential serves; Found says it.
	Discover(ctx context.Context) error
	Found() []routing.Found
	// FirstRepoPage reads one repository of a workspace with the
	// credential that serves it.
	FirstRepoPage(ctx context.Context, workspace string) error
}

// BitbucketCredential is one Bitbucket credential as doctor reports it.
type BitbucketCredential interface {
	// Name is its name in the list; "" for a run's only credential.
	Name() string
	Kind() credential.Kind
	// Describe says what it is, which variables hold it and what it can be.
	Describe() string
	// TokenScopes exchanges a consumer's credentials for a token and says
	// the scopes granted; exchanged is false for a credential without a
	// token exchange, which checks nothing here.
	TokenScopes(ctx context.Context) (scopes []string, exchanged bool, err error)
	// Limit is the limit in force and where it comes from; "" when the
	// credential was not used.
	Limit() string
	// AppPasswordFix is how to replace an app password.
	AppPasswordFix() string
}

// Snyk is what doctor reads from Snyk.
type Snyk interface {
	ListGroupOrgs(ctx context.Context, groupID string, page, perPage int) (*snyk.GroupOrgs, error)
	ListIntegrations(ctx context.Context, orgID string) (map[string]string, error)
	BaseURL() *url.URL
	// Credential is the credential the stack carries (nil when there is
	// none to look at), described for a person, and where its tokens are
	// minted ("" for a static one).
	Credential() (cred *credential.Credential, describe, tokenURL string)
}

// checks are the steps, in order; a step that cannot go on without the
// run ends it (interrupted).
var checks = []func(*run, context.Context){
	(*run).env,
	(*run).network,
	(*run).bitbucket,
	(*run).snyk,
}

// Run runs the checks. Its error is the context's when it was interrupted:
// that is not a failed check.
func Run(ctx context.Context, opts Options) (Result, error) {
	r := &run{opts: opts}
	for _, check := range checks {
		check(r, ctx)
		if err := ctx.Err(); err != nil {
			return r.res, err
		}
	}
	return r.res, nil
}

// run is one run of the checks: its options and its tally.
type run struct {
	opts Options
	res  Result
}

func (r *run) report(l Line) {
	switch l.Mark {
	case Pass:
		r.res.Passed++
	case Fail:
		r.res.Failed++
	case Warn:
		r.res.Warned++
	}
	r.opts.Report(l)
}

func (r *run) ok(check, text string) { r.report(Line{Mark: Pass, Check: check, Text: text}) }
func (r *run) fail(check, problem, fix string) {
	r.report(Line{Mark: Fail, Check: check, Text: problem, Fix: fix})
}
func (r *run) warn(check, problem, fix string) {
	r.report(Line{Mark: Warn, Check: check, Text: problem, Fix: fix})
}
func (r *run) skip(check, why string) { r.report(Line{Mark: Skip, Check: check, Text: why}) }

// explain words err for a line, and notes a rejected credential.
func (r *run) explain(err error) (problem, fix string) {
	problem, fix, auth := r.opts.Explain(err)
	if auth {
		r.res.AuthFailed = true
	}
	return problem, fix
}

// failErr reports a failed check from an error, explained.
func (r *run) failErr(check string, err error, fallbackFix string) {
	problem, fix := r.explain(err)
	if fix == "" {
		fix = fallbackFix
	}
	r.fail(check, problem, fix)
}

// clientFailed reports a client that could not be built; CA bundles
// already reported by the network check are not reported again.
func (r *run) clientFailed(check string, err error) {
	var be *httpx.CABundleError
	if r.opts.CAFailed && errors.As(err, &be) {
		r.skip(check, "the CA certificates above cannot be used")
		return
	}
	r.failErr(check, err, "")
}

func (r *run) network(context.Context) {
	for _, l := range r.opts.Network {
		r.report(l)
	}
}

// env is a variable of the run, trimmed.
func (r *run) getenv(name string) string { return trimmed(r.opts.Env.Getenv(name)) }

// failed is an item a check could not read, and why.
type failed struct {
	name string
	err  error
}

// failByCause reports one failed line per cause among fs, naming the items
// it hit (line words the problem with them), and returns how many causes
// there were.
func (r *run) failByCause(check string, fs []failed, line func(names string, n int, problem string) string) int {
	groups := cause.GroupBy(fs, func(f failed) (string, error) { return "", f.err })
	for _, g := range groups {
		problem, fix := r.explain(g.Err)
		names := make([]string, len(g.Items))
		for i, f := range g.Items {
			names[i] = f.name
		}
		r.fail(check, line(english.FirstFew(names, 5), len(names), problem), fix)
	}
	return len(groups)
}
