// Package doctor checks a bbimport set-up one step at a time: the
// environment, the log directory, the network, the Bitbucket credential,
// workspaces and repositories, the Snyk credential, group and orgs. Each
// check reports Lines (what was found, or what is wrong and the fix); the
// command renders them and decides the exit code from the Result. It reads
// the APIs through two small interfaces and never sees a secret: only
// variable names, URLs, counts, slugs and scopes.
package doctor
