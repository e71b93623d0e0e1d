// Package importfiles reads and writes the files of the original
// snyk-api-import, byte-compatible with it: the orgs data file, the
// created-orgs file, the import targets file, and the JSON-lines logs
// (bunyan envelope) including imported-targets.log, the resume log.
//
// It also holds how bbimport writes them safely: atomically (temp file,
// fsync, rename; [WriteFileAtomic]), never through a symbolic link
// ([OpenNoFollow]), and, for the logs whose loss would repeat work in Snyk,
// written ahead ([AheadLog]: room reserved and fsynced before the request
// it records is sent). The stages that produce and consume these files are
// in pkg/importer.
package importfiles
