// Package snyk is a client for the Snyk v1 API calls bbimport makes (group
// orgs, org creation, integrations, notification settings, import jobs) and
// the one REST listing it needs (an org's projects).
//
// The client sends through the [Doer] it is given (see internal/httpx).
// Non-2xx responses become *ErrorResponse or *RateLimitError. The import
// POST is never retried after Snyk answered with a 5xx, so a target is never
// imported twice by a retry.
//
// # Authentication
//
// The client holds no credential: the stack it is given attaches one to
// every request (internal/credential: an API token as `Authorization: token
// <t>`, an OAuth token or a service account's minted token as Bearer).
// Errors name which kind of credential Snyk refused, read from the answer,
// and never contain a token: messages Snyk or a proxy echo back are
// scrubbed by the caller's redactor ([WithRedact]).
//
// # Base URLs
//
// [WithBaseURL] takes the v1 base (default [DefaultBaseURL]; regional hosts
// such as https://api.eu.snyk.io/v1 and https://api.us.snyk.io/v1, and Snyk
// for Government's https://api.snykgov.io/v1, work; [NormalizeBaseURL]
// accepts the forms people copy). The REST base is the same scheme and host
// with the path /rest/. Endpoint paths are relative to these bases, so a
// base with a path prefix keeps it. A response that announces its end
// (`Sunset`, `Deprecation`) is reported through [WithDeprecationFunc].
//
// # Pagination
//
// [Client.ListGroupOrgsIter] pages with perPage=100&page=N and stops at the first
// short page, as snyk-api-import does; [Client.ListGroupOrgs] fetches one
// page. [Client.ListProjectsIter] follows JSON:API `links.next` until it is absent,
// repeats, or a page is empty. Both are iter.Seq2 iterators that yield one
// error and stop.
//
// # Import jobs
//
// [Client.ImportTarget] returns the job's Location as Snyk sent it;
// [Client.GetImportJob] polls it, resolved by [ResolveLocation] so the token is
// only ever sent to the configured host.
//
// # Rate limits and retries
//
// The client itself neither waits nor retries: the stack given with
// [WithHTTPClient] does (internal/httpx: a budget per credential that waits
// out 429s, retries of 5xx and connection errors, the last answer passed
// through). The import POST (and POST /org, as Snyk accepts two orgs of one
// name) carries httpx.WithoutServerErrorRetry, so that
// stack retries it only on 429, on 503 (Snyk refused to handle it, so no job
// was created) and on failures before the request reached Snyk; never on
// 500, 502 or 504, which may come after Snyk created the job. A 429 left after the retries becomes a *[RateLimitError].
//
// # Errors
//
// [CheckResponse] turns a non-2xx answer into a *[RateLimitError] (429) or an
// *[ErrorResponse] carrying Snyk's message, error name and x-error-reference,
// plus the group, org, integration or job the request was about. Its Error
// text states what failed and for which org or group, naming no flag or
// variable: what to check is the command's to say (cmd/bbimport
// explain.go). [IsAuthError] (401 or 403) and [IsNotFound] classify errors,
// CredentialsRejected (401) feeds httpx.CredentialsRejected; errors are
// returned unwrapped so errors.As works.
package snyk
