package importer_test

// Benchmarks of import:data (issue 5). BenchmarkImportDataFake measures the
// importer alone (matching, encoding, segment files, the ordered merge) with
// an in-memory Bitbucket; BenchmarkImportDataSim the whole stack in one
// process: the real Bitbucket client on the httpx stack against the
// simulator over loopback. `make bench` runs both with a short benchtime;
// profile with
//
//	go test ./pkg/importer -run '^$' -bench ImportDataSim -cpuprofile cpu.out

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
)

// benchBB is an in-memory Bitbucket: every workspace has n generated
// repositories, yielded without I/O.
type benchBB struct{ repos int }

func (b benchBB) ListWorkspacesIter(context.Context) iter.Seq2[bitbucket.Workspace, error] {
	return func(func(bitbucket.Workspace, error) bool) {}
}

func (b benchBB) ListProjectsIter(context.Context, string) iter.Seq2[bitbucket.Project, error] {
	return func(func(bitbucket.Project, error) bool) {}
}

func (b benchBB) ListRepositoriesIter(_ context.Context, ws string, _ *bitbucket.RepositoryListOptions) iter.Seq2[bitbucket.Repository, error] {
	return func(yield func(bitbucket.Repository, error) bool) {
		for i := range b.repos {
			slug := fmt.Sprintf("repo-%04d", i+1)
			r := bitbucket.Repository{
				Slug: slug, Name: slug, FullName: ws + "/" + slug, Workspace: ws, IsPrivate: i%4 != 0,
				MainBranch: "main", UpdatedOn: time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC),
				Project: bitbucket.Project{Key: "CORE", Name: "Core"},
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// writeBenchOrgs writes a created-orgs file of n orgs ws-001… with an
// integration each (so no Snyk call is needed).
func writeBenchOrgs(b *testing.B, dir string, n int) string {
	b.Helper()
	type org struct {
		OrgID        string            `json:"orgId"`
		Name         string            `json:"name"`
		Integrations map[string]string `json:"integrations"`
		Workspace    string            `json:"workspace"`
	}
	var f struct {
		OrgData []org `json:"orgData"`
	}
	for i := range n {
		f.OrgData = append(f.OrgData, org{
			OrgID: fmt.Sprintf("org-%03d", i+1), Name: fmt.Sprintf("Workspace %03d", i+1),
			Integrations: map[string]string{"bitbucket-cloud-app": fmt.Sprintf("int-%03d", i+1)},
			Workspace:    fmt.Sprintf("ws-%03d", i+1),
		})
	}
	js, err := json.Marshal(f)
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(dir, "created-orgs.json")
	if err := os.WriteFile(p, js, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

func runImportData(b *testing.B, bb importer.Bitbucket, orgs, reposEach, conc int) {
	dir := b.TempDir()
	file := writeBenchOrgs(b, dir, orgs)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := importer.ImportData(b.Context(), importer.ImportDataOptions{
			Bitbucket: bb, OrgsData: file, Source: importer.SourceBitbucketCloudApp, LogPath: dir, Concurrency: conc,
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.Repositories != orgs*reposEach {
			b.Fatalf("listed %d repositories, want %d", res.Repositories, orgs*reposEach)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*orgs*reposEach), "ns/repo")
}

// BenchmarkImportDataFake: 50 orgs × 250 repositories, no I/O but files.
func BenchmarkImportDataFake(b *testing.B) {
	runImportData(b, benchBB{repos: 250}, 50, 250, 4)
}

// newBenchSimClient is the production Bitbucket stack (OAuth consumer
// credential, httpx retries, no limit) against s.
func newBenchSimClient(b *testing.B, s *sim.Server) *bitbucket.Client {
	b.Helper()
	tokenHTTP, err := httpx.New(httpx.Options{API: "bitbucket-token", RetryMax: 3})
	if err != nil {
		b.Fatal(err)
	}
	cred, err := credential.ClientCredentials(credential.BitbucketConsumer, credential.Config{
		ClientID: sim.DefaultBitbucketClientID, ClientSecret: sim.DefaultBitbucketClientSecret,
		TokenURL: s.URL + "/site/oauth2/access_token", HTTPClient: tokenHTTP.StandardClient(),
	})
	if err != nil {
		b.Fatal(err)
	}
	hc, err := httpx.New(httpx.Options{API: "bitbucket", Credential: cred})
	if err != nil {
		b.Fatal(err)
	}
	c, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(s.URL+"/2.0"))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkImportDataSim: 20 workspaces × 250 repositories from the
// simulator over loopback, without latency (CPU of client and simulator)
// and with 20 ms (the latency-bound case of the 50,000-repository target).
func BenchmarkImportDataSim(b *testing.B) {
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		for _, conc := range []int{4, 16} {
			b.Run(fmt.Sprintf("latency=%s/concurrency=%d", lat, conc), func(b *testing.B) {
				s := sim.New(sim.Config{Bitbucket: sim.BitbucketConfig{
					Workspaces: sim.Estate(20, 250), Faults: sim.Faults{Latency: lat},
				}})
				if err := s.Start("127.0.0.1:0"); err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				runImportData(b, newBenchSimClient(b, s), 20, 250, conc)
				b.ReportMetric(float64(s.Count("bitbucket.requests"))/float64(b.N), "requests/op")
			})
		}
	}
}
