// Package syncer keeps a Snyk org matching its Bitbucket Cloud workspaces
// (`bbimport sync`), acting only on proof. A repository is its uuid; a Snyk
// target is a repository's only by evidence (the state file, bbimport's own
// import results, or a name that matches exactly one repository); a
// deletion needs an earlier complete listing, this run's complete listing
// and Bitbucket's own 404 for the uuid. It is split in three: a pure planner
// (Build) that turns what Snyk and Bitbucket said, the state and the
// options into a Plan, the proof of its deletions (one request each), and
// an applier that carries a Plan out through small interfaces. Nothing here
// logs or prints, or names a flag; the command layer renders the Plan and
// the Result and words the errors.
package syncer
