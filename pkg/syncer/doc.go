// Package syncer keeps a Snyk org matching its Bitbucket Cloud workspaces
// (`bbimport sync`). It is split in two: a pure planner (Build) that turns
// what Snyk and Bitbucket said, the previous run's state and the options into
// a Plan, and an applier that carries a Plan out through small interfaces.
// Nothing here logs or prints; the command layer renders the Plan and the
// Result.
package syncer
