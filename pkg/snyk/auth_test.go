package snyk

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestTransport: the credential is a RoundTripper; the request handed to
// it is not changed; a client wraps its HTTP client with it, or relies on
// the stack it was given to send it.
func TestTransport(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Values("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"orgs":[]}`))
	}))
	t.Cleanup(srv.Close)

	req := httptest.NewRequest(http.MethodGet, srv.URL, nil)
	req.RequestURI = ""
	resp, err := Transport("t0k", false, nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v, _ := got.Load().([]string); len(v) != 1 || v[0] != "token t0k" {
		t.Errorf("Authorization = %q; want [token t0k]", v)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("the caller's request was changed")
	}

	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"client adds it", []Option{WithHTTPClient(srv.Client()), WithOAuthToken("oa")}, "Bearer oa"},
		{"stack sends it", []Option{WithHTTPClient(&http.Client{Transport: Transport("oa", true, nil)}), WithTransportCredential("oa", true)}, "Bearer oa"},
	} {
		c, err := NewClient(append(tc.opts, WithBaseURL(srv.URL+"/v1"))...)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range c.ListGroupOrgsIter(t.Context(), "g") {
			if err != nil {
				t.Fatal(err)
			}
		}
		if v, _ := got.Load().([]string); len(v) != 1 || v[0] != tc.want {
			t.Errorf("%s: Authorization = %q; want [%s]", tc.name, v, tc.want)
		}
	}
}
