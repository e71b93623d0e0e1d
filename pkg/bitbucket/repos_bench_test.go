package bitbucket_test

// Benchmark of the client side of a repository listing (issue 5): one
// workspace of 1,000 repositories in pages of 100, trimmed as the simulator
// trims them for bbimport's fields= list, served from memory so only the
// client's cost (HTTP on loopback, the httpx stack, JSON decoding,
// conversion) is measured.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

func BenchmarkListRepositories(b *testing.B) {
	const pages, perPage = 10, 100
	bodies := make([][]byte, pages)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		p = max(p, 1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodies[p-1])
	}))
	defer srv.Close()
	for p := range pages {
		values := make([]map[string]any, perPage)
		for i := range values {
			n := p*perPage + i + 1
			values[i] = map[string]any{
				"slug": fmt.Sprintf("repo-%04d", n), "name": fmt.Sprintf("Repo %04d", n),
				"full_name": fmt.Sprintf("ws-001/repo-%04d", n), "is_private": n%4 != 0,
				"mainbranch": map[string]string{"name": "main"}, "updated_on": "2024-03-07T12:35:02.900024+00:00",
				"project":   map[string]string{"key": "CORE", "name": "Project CORE", "uuid": "{6f4c0000-0000-4000-8000-000000000001}"},
				"workspace": map[string]string{"slug": "ws-001"},
			}
		}
		body := map[string]any{"values": values}
		if p+1 < pages {
			body["next"] = srv.URL + "/2.0/repositories/ws-001?page=" + strconv.Itoa(p+2)
		}
		bodies[p], _ = json.Marshal(body)
	}
	hc, err := httpx.New(httpx.Options{API: "bitbucket"})
	if err != nil {
		b.Fatal(err)
	}
	c, err := bitbucket.NewClient(bitbucket.WithHTTPClient(hc), bitbucket.WithBaseURL(srv.URL+"/2.0"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(bodies[0]) * pages))
	for b.Loop() {
		n := 0
		for _, err := range c.ListRepositoriesIter(b.Context(), "ws-001", nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != pages*perPage {
			b.Fatalf("listed %d repositories, want %d", n, pages*perPage)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages*perPage), "ns/repo")
}
