// Package apitest holds small helpers the API clients' tests share: canned
// responses for fake transports (fuzz tests drive the real decoding through
// them without a server).
package apitest
