// Package filetest holds the file checks several packages' tests share:
// golden files compared byte for byte (rewritten with
// `go test ./pkg/... -run Golden -update`), no temp file left behind, and
// files written or read or the test fails.
package filetest
