// Package bitbucket is a small client for the parts of the Bitbucket Cloud
// REST API 2.0 that bbimport needs: listing the workspaces a credential can
// see, the repositories of a workspace and the projects of a workspace.
//
// # Authentication
//
// The client never builds its own auth: it wraps the *http.Client it is given
// (see internal/httpx), and this package supplies the RoundTrippers that add
// credentials: an OAuth2 client_credentials token source for an OAuth
// consumer (the bitbucket-cloud-app source), or Basic / Bearer credentials for
// the bitbucket-cloud source.
//
// [NewTokenSource] exchanges the consumer's key and secret (HTTP Basic) at the
// token URL, caches the token for every goroutine, renews it shortly before
// expires_in runs out with one exchange at a time, and [OAuthTransport] renews
// once and retries once when the API answers 401. [CredentialsFromEnv] picks
// the bitbucket-cloud source's credentials with the precedence of
// snyk-api-import, and [Credentials.Transport] sends them. Pass the kind of
// credentials to [WithAuthKind] so errors name the right variables.
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
// Non-2xx responses become *ErrorResponse or *RateLimitError; failed token
// exchanges become *TokenError. They state facts, typed (status, required
// and granted scopes, workspace, [Endpoint], kind of credentials, OAuth
// code), and their Error() text names no flag or variable: what to do is
// the command's to say (cmd/bbimport explain.go). CredentialsRejected
// reports the errors that mean the credentials were refused
// (httpx.CredentialsRejected asks it).
package bitbucket
