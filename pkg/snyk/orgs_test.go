package snyk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testGroupID = "4a18d42f-0706-4ad0-b127-24078731fbed"

// groupOrgsHandler serves n generated orgs perPage at a time and counts
// requests.
func groupOrgsHandler(t *testing.T, n int, calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		testMethod(t, r, http.MethodGet)
		if got := r.PathValue("groupId"); got != testGroupID {
			t.Errorf("group id = %q; want %q", got, testGroupID)
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		perPage, _ := strconv.Atoi(r.URL.Query().Get("perPage"))
		if perPage != 100 {
			t.Errorf("perPage = %d; want 100", perPage)
		}
		out := GroupOrgs{Group: Group{ID: testGroupID, Name: "ACME Inc."}, Orgs: []Org{}}
		for i := (page - 1) * perPage; i < min(page*perPage, n); i++ {
			out.Orgs = append(out.Orgs, Org{ID: fmt.Sprintf("org-%03d", i), Name: fmt.Sprintf("Org %d", i)})
		}
		b, _ := json.Marshal(out)
		writeJSON(w, http.StatusOK, b)
	}
}

func TestClient_ListGroupOrgs_pagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		orgs, wantRequests int
	}{
		{orgs: 0, wantRequests: 1},
		{orgs: 1, wantRequests: 1},
		{orgs: 99, wantRequests: 1},
		{orgs: 100, wantRequests: 2}, // a full page: the original asks for the next one
		{orgs: 101, wantRequests: 2},
		{orgs: 200, wantRequests: 3},
		{orgs: 250, wantRequests: 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d orgs", tt.orgs), func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var calls atomic.Int32
			mux.HandleFunc("GET /group/{groupId}/orgs", groupOrgsHandler(t, tt.orgs, &calls))
			var got []string
			for org, err := range c.ListGroupOrgsIter(t.Context(), testGroupID) {
				if err != nil {
					t.Fatalf("ListGroupOrgsIter: %v", err)
				}
				got = append(got, org.ID)
			}
			if len(got) != tt.orgs {
				t.Errorf("got %d orgs; want %d", len(got), tt.orgs)
			}
			for i, id := range got {
				if want := fmt.Sprintf("org-%03d", i); id != want {
					t.Fatalf("org %d = %s; want %s (in page order)", i, id, want)
				}
			}
			if n := int(calls.Load()); n != tt.wantRequests {
				t.Errorf("requests = %d; want %d", n, tt.wantRequests)
			}
		})
	}
}

func TestClient_ListGroupOrgs_fixture(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /group/{groupId}/orgs", func(w http.ResponseWriter, r *http.Request) {
		testFormValues(t, r, url.Values{"perPage": {"100"}, "page": {"1"}})
		testHeader(t, r, "Authorization", "token "+testToken)
		writeJSON(w, http.StatusOK, fixture(t, "group-orgs.json"))
	})
	var got []Org
	for org, err := range c.ListGroupOrgsIter(t.Context(), testGroupID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, org)
	}
	want := []Org{
		{ID: "689ce7f9-7943-4a71-b704-2ba575f01089", Name: "ACME Platform", Slug: "acme-platform", URL: "https://app.snyk.io/org/acme-platform", Created: "2021-06-07T00:00:00.000Z"},
		{ID: "a04d9cbd-ae6e-44af-b573-0556b0ad4bd2", Name: "acme-mobile", Slug: "acme-mobile", URL: "https://app.snyk.io/org/acme-mobile", Created: "2022-01-11T10:12:41.210Z"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListGroupOrgsIter mismatch (-want +got):\n%s", diff)
	}
}

func TestClient_ListGroupOrgsPage(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /group/{groupId}/orgs", func(w http.ResponseWriter, r *http.Request) {
		testFormValues(t, r, url.Values{"perPage": {"1"}, "page": {"3"}})
		writeJSON(w, http.StatusOK, fixture(t, "group-orgs.json"))
	})
	got, err := c.ListGroupOrgs(t.Context(), testGroupID, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != testGroupID || got.Name != "ACME Inc." || len(got.Orgs) != 2 {
		t.Errorf("ListGroupOrgs = %+v; want group %s ACME Inc. with 2 orgs", got, testGroupID)
	}
	if _, err := c.ListGroupOrgs(t.Context(), testGroupID, 0, 100); err == nil {
		t.Error("ListGroupOrgs(page 0) succeeded; want an error")
	}
}

// A server that ignores `page` would loop the original forever.
func TestClient_ListGroupOrgs_pageIgnored(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("GET /group/{groupId}/orgs", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		out := GroupOrgs{Group: Group{ID: testGroupID}}
		for i := range 150 {
			out.Orgs = append(out.Orgs, Org{ID: fmt.Sprint(i)})
		}
		b, _ := json.Marshal(out)
		writeJSON(w, http.StatusOK, b)
	})
	n := 0
	for _, err := range c.ListGroupOrgsIter(t.Context(), testGroupID) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 150 || calls.Load() != 2 {
		t.Errorf("got %d orgs in %d requests; want 150 in 2", n, calls.Load())
	}
}

func TestClient_ListGroupOrgs_errorMidway(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var calls atomic.Int32
	ok := groupOrgsHandler(t, 250, &calls)
	mux.HandleFunc("GET /group/{groupId}/orgs", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			w.Header().Set("X-Error-Reference", "ref-42")
			writeJSON(w, http.StatusInternalServerError, []byte(`{"code":500,"message":"Internal server error"}`))
			return
		}
		ok(w, r)
	})
	n, errs := 0, 0
	var last error
	for _, err := range c.ListGroupOrgsIter(t.Context(), testGroupID) {
		if err != nil {
			errs++
			last = err
			continue
		}
		n++
	}
	if n != 100 || errs != 1 {
		t.Fatalf("got %d orgs and %d errors; want 100 and 1", n, errs)
	}
	var er *ErrorResponse
	if !errors.As(last, &er) || er.StatusCode != 500 || er.GroupID != testGroupID || er.ErrorRef != "ref-42" {
		t.Errorf("error = %#v; want a 500 *ErrorResponse about group %s with ref-42", last, testGroupID)
	}
}

func TestClient_ListGroupOrgs_stopsWhenCallerBreaks(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("GET /group/{groupId}/orgs", groupOrgsHandler(t, 250, &calls))
	for range c.ListGroupOrgsIter(t.Context(), testGroupID) {
		break
	}
	if calls.Load() != 1 {
		t.Errorf("requests = %d; want 1", calls.Load())
	}
}

func TestClient_ListGroupOrgs_unauthorized(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /group/{groupId}/orgs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, fixture(t, "error-not-authorised.json"))
	})
	var err error
	for _, e := range c.ListGroupOrgsIter(t.Context(), testGroupID) {
		err = e
	}
	if !IsAuthError(err) {
		t.Fatalf("IsAuthError(%v) = false; want true", err)
	}
	msg := err.Error()
	for _, want := range []string{"Snyk rejected the token (401)", `group "` + testGroupID + `"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, testToken) {
		t.Errorf("error contains the token: %s", msg)
	}
}

func TestClient_CreateOrg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    []byte
		wantErr string
	}{
		{name: "201 created", status: http.StatusCreated, body: fixture(t, "create-org.json")},
		{name: "200 accepted too", status: http.StatusOK, body: fixture(t, "create-org.json")},
		{name: "no id in answer", status: http.StatusCreated, body: []byte(`{"name":"ACME Data"}`), wantErr: "without an org id"},
		{name: "403", status: http.StatusForbidden, body: []byte(`{"code":403,"message":"Forbidden"}`), wantErr: `Snyk refused the request (403) for group "` + testGroupID + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("POST /org", func(w http.ResponseWriter, r *http.Request) {
				testHeader(t, r, "Content-Type", "application/json")
				testJSONBody(t, r, `{"name":"ACME Data","groupId":"`+testGroupID+`","sourceOrgId":"689ce7f9-7943-4a71-b704-2ba575f01089"}`)
				writeJSON(w, tt.status, tt.body)
			})
			got, err := c.CreateOrg(t.Context(), CreateOrgRequest{Name: "ACME Data", GroupID: testGroupID, SourceOrgID: "689ce7f9-7943-4a71-b704-2ba575f01089"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("CreateOrg() error = %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := &Org{
				ID: "0a14e3a4-7c4e-4a36-9d4f-cbbc3e7a0bd6", Name: "ACME Data", Slug: "acme-data",
				URL: "https://app.snyk.io/org/acme-data", Created: "2024-11-05T09:41:27.112Z",
				Group: &Group{ID: testGroupID, Name: "ACME Inc."},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CreateOrg mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
