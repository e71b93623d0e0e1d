// Package dirlock gives one process at a time a directory: every bbimport
// command that writes into a log directory holds its lock, so two runs can
// never import the same targets or create the same orgs twice.
//
// The lock is an advisory lock on a file in the directory (flock on unix,
// LockFileEx on Windows), which the system releases when the holder exits,
// however it exits: a run killed with SIGKILL leaves no stuck lock. The same
// file holds who has it (pid, host, command, start time), so the refusal of
// a second run names the holder. Readers (doctor, dry runs) do not take it.
package dirlock
