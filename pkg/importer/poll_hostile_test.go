package importer

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/importfiles"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Errors that cannot heal tied a worker up until --pollTimeout (2 h): 15
// workers, 15 targets per 2 hours. Now the job is given up at the first
// such answer and the target logged failed with the cause, through the real
// Snyk client and HTTP stack.
func TestPollGivesUpOnUnhealableAnswers(t *testing.T) {
	t.Parallel()
	const job = "/v1/org/o1/integrations/i1/import/j1"
	tests := []struct {
		name     string
		location string // "" means job on the test server
		body     string
		redirect string // the poll's answer: a redirect there ("self": a loop)
		want     string
	}{
		{name: "poll redirected to another origin", redirect: "https://evil.example.com/v1/org/o1/integrations/i1/import/j1?token=x", want: "a redirect to https://evil.example.com that bbimport does not follow"},
		{name: "poll redirected in a loop", redirect: "self", want: "stopped after 10 redirects"},
		{name: "Location on another host without /v1/", location: "https://evil.example.com/jobs/j1", want: "has no /v1/ path to poll"},
		{name: "Location with a backslash path", location: `/v1\org\o1\integrations\i1\import\j1`, want: "contains a backslash"},
		{name: "Location another host via backslashes", location: `\\evil.example.com\v1\x`, want: "contains a backslash"},
		{name: "body nested too deep", body: `{"id":"j1","status":"pending","logs":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, want: "exceeded max depth"},
		{name: "body with a raw control character", body: "{\"id\":\"j1\",\"status\":\"pend\x01ing\"}", want: "invalid character"},
		{name: "body not JSON", body: `<html>oops</html>`, want: "invalid character '<'"},
		{name: "status of the wrong type", body: `{"id":"j1","status":7}`, want: "cannot unmarshal number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var polls atomic.Int32
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			mux.HandleFunc("POST /v1/org/o1/integrations/i1/import", func(w http.ResponseWriter, r *http.Request) {
				loc := tt.location
				if loc == "" {
					loc = srv.URL + job
				}
				w.Header().Set("Location", loc)
				w.WriteHeader(http.StatusCreated)
			})
			mux.HandleFunc("GET "+job, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.RawQuery == "" {
					polls.Add(1)
				}
				switch tt.redirect {
				case "":
				case "self":
					http.Redirect(w, r, job+"?hop="+fmt.Sprint(polls.Load())+r.URL.RawQuery, http.StatusFound)
					return
				default:
					http.Redirect(w, r, tt.redirect, http.StatusFound)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tt.body)
			})
			hc, err := httpx.New(httpx.Options{API: "snyk", RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			sn, err := snyk.NewClient(snyk.WithBaseURL(srv.URL+"/v1/"), snyk.WithHTTPClient(hc))
			if err != nil {
				t.Fatal(err)
			}
			e := newImpEnv(t, impRow("o1", "i1", "ws", "repo", "main"))
			opts := e.opts()
			opts.Snyk, opts.PollTimeout = sn, DefaultPollTimeout
			start := time.Now()
			res, err := Import(t.Context(), opts)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v; want the worker to move on within seconds", d)
			}
			if res.PollFailures != 1 || res.KickedOff != 1 {
				t.Errorf("kicked off %d, poll failures %d; want 1 and 1", res.KickedOff, res.PollFailures)
			}
			if n := polls.Load(); n > 1 {
				t.Errorf("%d polls; want at most 1", n)
			}
			lines := impReadLog(t, filepath.Join(e.logPath, importfiles.ImportedTargetsLog))
			last := lines[len(lines)-1]
			if last["msg"] != importfiles.MsgTargetFailed || !strings.Contains(fmt.Sprint(last["errorMessage"]), tt.want) {
				t.Errorf("last resume line %v; want %q with a cause containing %q", last, importfiles.MsgTargetFailed, tt.want)
			}
		})
	}
}
