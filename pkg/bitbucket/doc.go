// Package bitbucket is a small client for the parts of the Bitbucket Cloud
// REST API 2.0 that bbimport needs: listing the workspaces a credential can
// see and the repositories of a workspace.
//
// # Authentication
//
// The client never builds its own auth: it wraps the *http.Client it is given
// (see internal/httpx), and this package supplies the RoundTrippers that add
// credentials: an OAuth2 client_credentials token source for an OAuth
// consumer (the bitbucket-cloud-app source), or Basic / Bearer credentials for
// the bitbucket-cloud source.
//
// # Pagination
//
// Listings are iterators (iter.Seq2) that follow the body's `next` link as
// given, and stop on a missing `next`, an empty page, or a `next` seen before.
//
// # Errors
//
// Non-2xx responses become *ErrorResponse or *RateLimitError; failed token
// exchanges become *TokenError. Their Error() text is written for the person
// running bbimport: it says what is wrong and what to do.
package bitbucket
