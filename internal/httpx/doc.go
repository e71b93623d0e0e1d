// Package httpx builds the one HTTP stack that the Bitbucket and Snyk clients
// share. The client returned by New is layered, outermost first:
//
//	retryablehttp    retry policy, backoff honouring Retry-After, final response kept
//	  observer       one Exchange per attempt (debug logs are built from it)
//	    limiter      a Budget (ledger window, 429 gate) or a rate.Limiter, per credential
//	      Options.Auth credentials, asked again on every attempt
//	        meter    pays for sends the limiter did not admit; the Budget reads responses
//	          base   http.Transport: proxy from the environment, per-attempt timeout
//
// Retries sit outside auth so a token that expires during a long Retry-After
// is renewed, and outside the limiter so retries cannot exceed the budget.
// Auth sits below the limiter so a request that waited long for its slot is
// sent with a token fresh at that moment.
// The package never logs: it reports through Observer.
package httpx
