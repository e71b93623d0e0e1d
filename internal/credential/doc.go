// Package credential is how bbimport authenticates to both APIs: one value
// per credential (a static token, HTTP Basic, or an OAuth 2.0
// client_credentials source) that the HTTP stack (internal/httpx) attaches
// to each request after the budget wait. API clients never hold one.
//
// A client_credentials [Source] is built on golang.org/x/oauth2's
// clientcredentials with two configurations: Bitbucket's consumer sends its
// key and secret as HTTP Basic, a Snyk service account sends them in the
// form. The token is cached for every goroutine and renewed before it
// expires, one exchange at a time however many callers wait; a request the
// API refused with an older token is re-authorised with a newer one
// ([Credential.Reauthorize]).
//
// Every credential has a stable [Credential.Identity], the key its request
// ledger is counted under: the client id, the Basic user, a JWT's subject,
// or else the token itself (the ledger hashes it).
//
// Errors are typed ([TokenError], [FieldError]) and name no flag or
// variable; the package never logs, and tells its caller of each new token
// through [Config.Minted].
package credential
