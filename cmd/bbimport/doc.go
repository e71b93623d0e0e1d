// Command bbimport mirrors Bitbucket Cloud workspaces and repositories into
// Snyk organisations and imports them. See README.md.
package main
