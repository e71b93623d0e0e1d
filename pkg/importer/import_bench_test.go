package importer_test

// Benchmark of the import stage (issue 5): the real Snyk client on the httpx
// stack against the simulator over loopback, 50 workers, jobs pending for 2
// polls, first poll after 1 ms. Without latency it measures the CPU cost of
// one target (kick-off, three polls, logs) for client and simulator
// together; ns/target is wall time, so it includes both on this machine.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/snyk"
)

func BenchmarkImportSim(b *testing.B) {
	const targets = 500
	s := sim.New(sim.Config{Snyk: sim.SnykConfig{PendingPolls: 2}})
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	org := s.SeedOrg(sim.SimSnykGroupID, sim.SnykOrg{Name: "Bench Org"})
	integ := org.Integrations["bitbucket-cloud-app"]
	if integ == "" {
		b.Fatalf("seeded org has no bitbucket-cloud-app integration: %v", org.Integrations)
	}
	cred, err := credential.Token(credential.SnykAPIToken, "token", sim.SimSnykToken)
	if err != nil {
		b.Fatal(err)
	}
	hc, err := httpx.New(httpx.Options{API: "snyk", Credential: cred})
	if err != nil {
		b.Fatal(err)
	}
	c, err := snyk.NewClient(snyk.WithHTTPClient(hc), snyk.WithBaseURL(s.URL+"/v1"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		// Fresh names each round so nothing is skipped as already imported.
		b.StopTimer()
		round++
		dir := b.TempDir()
		file := filepath.Join(dir, "targets.json")
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprint(w, "{\n  \"targets\": [\n")
		for i := range targets {
			sep := ","
			if i == targets-1 {
				sep = ""
			}
			fmt.Fprintf(w, "    {\"orgId\":%q,\"integrationId\":%q,\"target\":{\"owner\":\"ws-001\",\"name\":\"r%d-repo-%04d\",\"branch\":\"main\"}}%s\n",
				org.ID, integ, round, i, sep)
		}
		fmt.Fprint(w, "  ]\n}\n")
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.StartTimer()
		res, err := importer.Import(b.Context(), importer.ImportOptions{
			Snyk: c, File: file, LogPath: dir, Concurrency: 50,
			PollInitial: time.Millisecond, PollMax: 10 * time.Millisecond,
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.JobsComplete != targets {
			b.Fatalf("%d jobs complete, want %d", res.JobsComplete, targets)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*targets), "ns/target")
	b.ReportMetric(float64(s.Count("snyk.requests"))/float64(b.N*targets), "requests/target")
	b.ReportMetric(float64(s.Count("snyk.polls"))/float64(b.N*targets), "polls/target")
}
