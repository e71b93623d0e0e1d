// Package sim is bbimport's simulated Bitbucket Cloud and Snyk APIs: one
// http.Handler that serves both on one loopback address, for tests, the demo
// and the benchmarks.
//
// Layout of the one server:
//
//	/site/oauth2/access_token   Bitbucket token endpoint
//	/2.0/...                    Bitbucket REST API 2.0
//	/v1/..., /api/v1/...        Snyk v1 API
//	/rest/...                   Snyk REST API
//
// Every request passes through the fault layer of its API (latency, 429 with
// Retry-After, a fraction of 5xx) before its handler, and is counted.
// Bitbucket's identities are those of 2026 when asked for
// (bitbucket_identities.go): app-user consumers owning one workspace, access
// tokens bound to one with scaled, announced limits, each identity its own
// rolling budget.
package sim
