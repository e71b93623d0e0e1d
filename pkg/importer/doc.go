// Package importer runs the stages of the original snyk-api-import's
// Bitbucket Cloud flow as plain functions, each taking an Options struct and
// returning a Result: OrgsData (workspaces → orgs data file), OrgsCreate
// (orgs data file → Snyk orgs, created-orgs file), ImportData (created orgs
// → targets file), Import (targets → Snyk import jobs, polled to an end,
// with a resume log) and ListImported (what Snyk already has → resume log).
//
// The files those stages read and write are defined in pkg/importfiles. The
// stages talk to Bitbucket and Snyk through the small interfaces of deps.go
// and report progress through [Progress]; they never log or print, and the
// summaries they return (ImportResult, StageSummary) are rendered by the
// command layer.
package importer
