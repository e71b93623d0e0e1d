package snyk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/apitest"
	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Fuzz tests of Snyk answer decoding (group orgs pages, import kick-off and
// job, REST project pages): the client is driven through its public API by a
// transport that answers every request with the fuzzed status, headers and
// body (no network). The seeds run in plain `go test`; explore with e.g.
//
//	go test -run='^$' -fuzz='^FuzzImportJob$' -fuzztime=30s ./pkg/snyk
//
// Properties: no panic; a non-2xx answer is a typed error with a one-line
// message and never the token; listings end (at most one error, last);
// whatever Location or links.next Snyk sends, the token only goes to the
// configured host.

const (
	fuzzToken   = "fuzz-secret-token-3f9a"
	fuzzHost    = "api.snyk.io"
	maxFuzzReqs = 30
)

type fuzzAPI struct {
	t          *testing.T
	status     int
	location   string
	retryAfter string
	body       []byte
	requests   int
	stop       func() // called once requests exceed maxFuzzReqs
	// rest: every request is a REST listing, which must carry version= (a
	// links.next on the REST host is followed as sent, whatever its path).
	rest bool
}

func (a *fuzzAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	a.requests++
	if a.stop != nil && a.requests > maxFuzzReqs {
		a.stop()
	}
	if req.URL.Scheme != "https" || !strings.EqualFold(req.URL.Host, fuzzHost) {
		a.t.Fatalf("token sent outside the Snyk API: %s", req.URL)
	}
	if a.rest && req.URL.Query().Get("version") == "" {
		a.t.Fatalf("REST listing request without version: %s", req.URL)
	}
	return apitest.Response(req, a.status, map[string]string{"Location": a.location, "Retry-After": a.retryAfter}, a.body), nil
}

func newFuzzClient(t *testing.T, api *fuzzAPI) *snyk.Client {
	hc := &http.Client{Transport: api, CheckRedirect: apitest.NoRedirects}
	cred, err := credential.Token(credential.SnykAPIToken, "token", fuzzToken)
	if err != nil {
		t.Fatal(err)
	}
	c, err := snyk.NewClient(snyk.WithHTTPClient(apitest.Sender{Cred: cred, HC: hc}),
		snyk.WithBaseURL("https://"+fuzzHost+"/v1/"), snyk.WithRedact(redact.New(fuzzToken).String))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// listCtx is cancelled by the transport after maxFuzzReqs requests, so a
// server that invents a new page forever cannot hang the test.
func listCtx(t *testing.T, api *fuzzAPI) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	api.requests, api.stop = 0, cancel
	return ctx
}

func readFixture(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "snyk", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// errorSeeds are error bodies every target gets as seeds.
func errorSeeds(f *testing.F) [][]byte {
	return [][]byte{
		readFixture(f, "error-invalid-param.json"), readFixture(f, "error-not-authorised.json"),
		readFixture(f, "rest-error-unauthorized.json"),
		[]byte(`{"code":500,"message":"` + fuzzToken + `","error":{"x":1}}`),
		[]byte(`{"errors":[{"code":"E1","title":"t","detail":"line1\nline2"}]}`),
		[]byte(`<html>502</html>`), []byte(`not json ` + strings.Repeat("x", 400)),
	}
}

// checkErr: typed for non-2xx, one line, no token.
func checkErr(t *testing.T, status int, err error) {
	t.Helper()
	if errors.Is(err, context.Canceled) {
		return // listCtx ended a listing that would not
	}
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Fatalf("empty error message (%T)", err)
	}
	if strings.Contains(msg, fuzzToken) {
		t.Fatalf("error shows the token: %q", msg)
	}
	if status >= 200 && status < 300 {
		return
	}
	var er *snyk.ErrorResponse
	var rl *snyk.RateLimitError
	switch {
	case status == http.StatusTooManyRequests && !errors.As(err, &rl):
		t.Fatalf("429 gave %T, want *RateLimitError: %v", err, err)
	case status != http.StatusTooManyRequests && !errors.As(err, &er):
		t.Fatalf("%d gave %T, want *ErrorResponse: %v", status, err, err)
	case er != nil && er.StatusCode != status:
		t.Fatalf("ErrorResponse.StatusCode = %d, want %d", er.StatusCode, status)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error message spans lines: %q", msg)
	}
}

func FuzzGroupOrgsPage(f *testing.F) {
	f.Add(uint16(200), "", readFixture(f, "group-orgs.json"))
	f.Add(uint16(201), "", readFixture(f, "create-org.json"))
	for _, b := range errorSeeds(f) {
		f.Add(uint16(401), "", b)
	}
	f.Add(uint16(429), "7", []byte(`{"message":"slow down"}`))
	for _, s := range []string{``, `null`, `[]`, `{}`, `{"orgs":null}`, `{"orgs":[null,{}]}`, `{"orgs":{}}`,
		`{"id":5}`, `{"orgs":[{"id":"a"},{"id":"a"},{"id":"b","group":null}]}`, `{"orgs":[{"id":"a","group":{"id":[]}}]}`} {
		f.Add(uint16(200), "", []byte(s))
	}
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		api := &fuzzAPI{t: t, status: apitest.FuzzStatus(status), retryAfter: retryAfter, body: body}
		c := newFuzzClient(t, api)
		if _, err := c.ListGroupOrgs(t.Context(), "g/../1", 1, 100); err != nil {
			checkErr(t, api.status, err)
		}
		seen := map[string]bool{}
		errs := 0
		for o, err := range c.ListGroupOrgsIter(listCtx(t, api), "g") {
			if errs > 0 {
				t.Fatalf("a value after the error: %+v, %v", o, err)
			}
			if err != nil {
				errs++
				checkErr(t, api.status, err)
				continue
			}
			if seen[o.ID] {
				t.Fatalf("org %q listed twice", o.ID)
			}
			seen[o.ID] = true
		}
		if org, err := c.CreateOrg(t.Context(), snyk.CreateOrgRequest{Name: "n", GroupID: "g"}); err != nil {
			checkErr(t, api.status, err)
		} else if org.ID == "" {
			t.Fatal("CreateOrg returned an org without an id")
		}
		if _, err := c.ListIntegrations(t.Context(), "o"); err != nil {
			checkErr(t, api.status, err)
		}
	})
}

func FuzzImportJob(f *testing.F) {
	loc := "https://api.snyk.io/v1/org/o/integrations/i/import/j"
	f.Add(uint16(201), loc, readFixture(f, "import-job-complete.json"))
	f.Add(uint16(200), loc, readFixture(f, "import-job-pending.json"))
	for _, b := range errorSeeds(f) {
		f.Add(uint16(500), "", b)
	}
	for _, l := range []string{"", " ", "https://app.snyk.io/api/v1/org/o/integrations/i/import/j",
		"https://evil.example/v1/org/o/import/j", "https://evil.example/x", "/api/v1/org/o/integrations/i/import/j?x=1",
		"org/o/integrations/i/import/j", "//evil.example/v1/x", "http://api.snyk.io/v1/x", "https://api.snyk.io:444/v1/x",
		"https://u:p@api.snyk.io/v1/x#f", "%zz", "/v1/", "https://api.snyk.io/v1/../../rest/x", "\x00"} {
		f.Add(uint16(201), l, []byte(`{"id":"j","status":"complete","logs":[]}`))
	}
	for _, s := range []string{``, `{}`, `{"status":""}`, `{"status":5}`, `{"status":"pending","logs":null}`,
		`{"status":"complete","logs":[null,{"projects":null},{"projects":[null,{"success":"yes"}]}]}`,
		`{"status":"failed","logs":{}}`} {
		f.Add(uint16(200), loc, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status uint16, location string, body []byte) {
		api := &fuzzAPI{t: t, status: apitest.FuzzStatus(status), location: location, body: body}
		if strings.ContainsAny(location, "\r\n") {
			api.location = strings.NewReplacer("\r", "", "\n", "").Replace(location) // not a header value
		}
		c := newFuzzClient(t, api)
		got, err := c.ImportTarget(t.Context(), "o", "i", snyk.ImportRequest{Target: json.RawMessage(`{"owner":"w","name":"r"}`)})
		if err != nil {
			checkErr(t, api.status, err)
			if api.status >= 200 && api.status < 300 && strings.TrimSpace(api.location) != "" {
				t.Fatalf("a 2xx with Location %q is an error: %v", api.location, err)
			}
		} else if got == "" {
			t.Fatal("ImportTarget returned no Location")
		}

		// The job, polled at the Location Snyk sent (the transport fails the
		// test if the token would leave api.snyk.io).
		for _, l := range []string{api.location, loc} {
			before := api.requests
			job, err := c.GetImportJob(t.Context(), l)
			if err != nil && api.requests == before {
				continue // refused before sending: a Location that cannot be polled
			}
			if err != nil {
				checkErr(t, api.status, err)
				continue
			}
			if job.Status == "" {
				t.Fatal("a job without a status was accepted")
			}
		}
		if api.status/100 == 2 {
			if u, err := snyk.ResolveLocation(c.BaseURL(), api.location); err == nil && (!strings.EqualFold(u.Host, fuzzHost) || u.Scheme != "https" || u.User != nil) {
				t.Fatalf("Location %q resolved to %s", api.location, u)
			}
		}
	})
}

func FuzzProjectsPage(f *testing.F) {
	f.Add(uint16(200), readFixture(f, "rest-projects-page-1.json"))
	f.Add(uint16(200), readFixture(f, "rest-projects-page-2.json"))
	for _, b := range errorSeeds(f) {
		f.Add(uint16(401), b)
	}
	for _, s := range []string{``, `{}`, `{"data":null}`, `{"data":[null]}`, `{"data":{}}`,
		`{"data":[{"id":"p"}],"links":{"next":"/rest/orgs/o/projects?starting_after=x"}}`,
		`{"data":[{"id":"p"}],"links":{"next":"/orgs/o/projects?version=2024-10-15&starting_after=y"}}`,
		`{"data":[{"id":"p"}],"links":{"next":"https://evil.example/rest/orgs/o/projects"}}`,
		`{"data":[{"id":"p"}],"links":{"next":"//evil.example/x"}}`,
		`{"data":[{"id":"p"}],"links":{"next":"x/"}}`, `{"data":[{"id":"p"}],"links":{"next":"%zz"}}`,
		`{"data":[{"id":"p"}],"links":{"next":"https://api.snyk.io/rest/orgs/o/projects?version="}}`,
		`{"data":[{"id":"p","attributes":{"name":5}}],"links":null}`,
		`{"data":[{"id":"p","attributes":{"target_reference":"","targetReference":"dev","origin":"bitbucket-cloud"}}]}`} {
		f.Add(uint16(200), []byte(s))
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		api := &fuzzAPI{t: t, status: apitest.FuzzStatus(status), body: body, rest: true}
		c := newFuzzClient(t, api)
		for _, opts := range []*snyk.ProjectListOptions{nil, {Origins: []string{"bitbucket-cloud"}}, {Origins: []string{"a", "b"}}} {
			errs := 0
			for p, err := range c.ListProjectsIter(listCtx(t, api), "o", opts) {
				if errs > 0 {
					t.Fatalf("a value after the error: %+v, %v", p, err)
				}
				if err != nil {
					errs++
					checkErr(t, api.status, err)
					continue
				}
				if opts != nil && len(opts.Origins) > 0 && !strings.Contains(strings.Join(opts.Origins, "\x00")+"\x00", p.Origin+"\x00") {
					t.Fatalf("project of origin %q listed for origins %v", p.Origin, opts.Origins)
				}
			}
		}
	})
}
