// Command bbbench runs the real bbimport binary against the simulator (bbsim)
// on loopback, with latency on, and prints one table: Bitbucket requests made
// against the minimum possible, bytes received, Snyk requests per imported
// target, wall time, throughput and peak resident memory. Then it checks the
// targets of docs/benchmarks.md and says which hold.
//
//	make build && go run ./cmd/bbbench            # what `make bench` runs
//	go run ./cmd/bbbench -quick                   # small sizes, a few seconds
//
// Every number comes from the simulator's counters (GET /_sim/counters,
// before and after each measured command) and from the child process's
// rusage (ru_maxrss: peak resident set, KiB on Linux). Only the measured
// command is timed; the setup stages (orgs:create, import:data before an
// import) are not.
//
// Rate limits: BITBUCKET_RATE_LIMIT and SNYK_RATE_LIMIT default to 1,000/h
// and 1,500/min, which would make every run here a measurement of the
// limiter. The runs set both to 1,000,000 except the run that measures the
// Snyk limiter, which sets SNYK_RATE_LIMIT and gives the simulator the same
// limit so that any request over it comes back 429 and is counted.
package main
