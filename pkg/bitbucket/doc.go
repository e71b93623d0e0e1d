// Package bitbucket is a small client for the parts of the Bitbucket Cloud
// REST API 2.0 that bbimport needs: listing the workspaces a credential can
// see, the repositories of a workspace and the projects of a workspace.
//
// # Authentication
//
// The client holds no credential and builds no auth of its own: it sends
// through the [Doer] it is given (internal/httpx), which attaches the
// credential of internal/credential to each request (an OAuth consumer's
// client_credentials token minted at [DefaultTokenURL] with HTTP Basic, or
// Basic / Bearer credentials for the bitbucket-cloud source). Errors read
// which kind of credential the API answered from the response itself.
//
// # Pagination
//
// Listings are named as go-github names them: a one-page method
// (ListWorkspaces, ListRepositories) that returns [Response.NextURL], and an
// iterator (ListWorkspacesIter, ListRepositoriesIter, ListProjectsIter;
// iter.Seq2) that follows the body's `next` link as given, and stops on a
// missing `next`, an empty page, or a `next` seen before. A `next` on
// another host than the base URL is refused, so credentials are never sent
// elsewhere.
//
// # Rate limits
//
// The client does not pace or retry: the *http.Client it is given does (see
// internal/httpx). A 429 that survives the retries becomes *RateLimitError
// with the time the budget resets.
//
// # Errors
//
// Non-2xx responses become *ErrorResponse or *RateLimitError; a failed token
// exchange is the credential's *credential.TokenError. They state facts, typed (status, required
// and granted scopes, workspace, [Endpoint], kind of credentials, OAuth
// code), and their Error() text names no flag or variable: what to do is
// the command's to say (cmd/bbimport explain.go). CredentialsRejected
// reports the errors that mean the credentials were refused
// (httpx.CredentialsRejected asks it).
package bitbucket
