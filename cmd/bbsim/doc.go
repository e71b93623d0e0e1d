// Command bbsim runs bbimport's simulated Bitbucket Cloud and Snyk APIs on a
// loopback address, for the demo, the benchmarks and manual runs. Every
// credential it prints is fake.
//
//	bbsim -addr 127.0.0.1:0 -url-file sim.url -env-file sim.env &
//	. ./sim.env && bbimport orgs:data --source=bitbucket-cloud-app --groupId=$SNYK_GROUP_ID
//
// It prints the base URL and the environment to use on stdout. SIGINT or
// SIGTERM stops it, prints every counter as JSON (to stdout or
// -counters-file) and exits 0. SIGUSR1 writes the counters without stopping;
// GET /_sim/counters answers them too.
package main
