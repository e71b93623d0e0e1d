// Package httpx builds the one HTTP stack that the Bitbucket and Snyk clients
// share. A request sent with a Client passes, outermost first:
//
//	retryablehttp.Client  the retry loop: RetryMax, CheckRetry (policy.go),
//	                      Backoff (503 Retry-After honoured), final answer kept
//	  http.Client         follows redirects within the first request's origin
//	    sendTransport     per send: the Budget's wait, the credential as it is
//	                      now, the Exchange report, the Budget reading the answer;
//	                      a 429 waited out and a 401 re-authorised are sent again here
//	      wireTransport   marks the send as on the wire, per-send timeout, bodies capped
//	        base          http.Transport: proxy from the environment, trusted roots
//
// One decision, one owner: retryablehttp counts retries of failures; the
// Budget alone decides 429 pauses and how long a refused request is held;
// the credential (internal/credential) decides what to send after a 401.
// The credential is attached below the budget wait, so a request that
// queued leaves with a token fresh at that moment.
// The package never logs: it reports through Observer.
package httpx
