// Package snyk is a client for the Snyk v1 API calls bbimport makes (group
// orgs, org creation, integrations, notification settings, import jobs) and
// the one REST listing it needs (an org's projects).
//
// The client wraps the *http.Client it is given (see internal/httpx) and adds
// `Authorization: token <SNYK_TOKEN>`. Non-2xx responses become *ErrorResponse
// or *RateLimitError. The import POST is never retried after Snyk answered
// with a 5xx, so a target is never imported twice by a retry.
package snyk
