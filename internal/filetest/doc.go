// Package filetest holds the file checks several packages' tests share:
// golden files compared byte for byte (rewritten with
// `go test ./pkg/... -run Golden -update`), and no temp file left behind.
package filetest
