// Package routing serves each Bitbucket workspace of a run with a credential
// that can see it, when a run has several (OAuth consumers, access tokens,
// API tokens), each with its own client and request budget.
//
// Since 2026-05-04 a consumer's token is an app user that reaches the
// workspace owning the consumer, and what GET /2.0/user/workspaces answers
// it is not documented: the owning workspace, nothing, or an error. An
// access token is no user at all. So a credential either has the
// workspaces it serves named by its user (pinned, each verified with one
// request before it becomes an org), or they are discovered by asking
// GET /2.0/user/workspaces once, and every outcome (listed, none, refused)
// is reported as a [Found] for the command to word. A workspace is never
// asked of a credential that neither pinned nor listed it.
//
// A [Router] implements what the stages need of Bitbucket (pkg/importer's
// and pkg/syncer's interfaces), sending each request with the credential
// that serves its workspace; requests of workspaces behind different
// credentials go out in parallel, each paced by its own budget.
package routing
