// Package httpx builds the one HTTP stack that the Bitbucket and Snyk clients
// share. The client returned by New is layered, outermost first:
//
//	retryablehttp    retry policy, backoff honouring Retry-After, final response kept
//	  observer       one Exchange per attempt (debug logs are built from it)
//	    Options.Auth credentials, asked again on every attempt
//	      limiter    one rate.Limiter per credential, paid by every attempt
//	        base     http.Transport: proxy from the environment, per-attempt timeout
//
// Retries sit outside auth so a token that expires during a long Retry-After
// is renewed, and outside the limiter so retries cannot exceed the budget.
// The package never logs: it reports through Observer.
package httpx
