package syncer_test

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// What is proof and what is not, beyond issue 18's table (review of
// issue 18): answers and states that looked like evidence of a deleted
// repository while the repository, or one holding its name, exists.

// A path-rewriting proxy in front of Bitbucket: every repository read of
// alpha reaches Bitbucket under a path it does not serve, and Bitbucket
// answers with its own JSON 404 — "Resource not found", about the URL, not
// the repository. alpha's listing misses three repositories that exist:
// nothing is proven, nothing changes, the three are reported.
func TestProofRoutingNotFoundIsNoProof(t *testing.T) {
	t.Parallel()
	e := newSimSync(t)
	target, err := url.Parse(e.s.URL)
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`^/2\.0/repositories/alpha/[^/]+$`)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // Bitbucket's links name the host asked
		if read.MatchString(pr.In.URL.Path) {
			pr.Out.URL.Path += "/x"
			pr.Out.URL.RawPath = ""
		}
	}})
	t.Cleanup(proxy.Close)
	e.bb = newBitbucketClientAt(t, e.s, proxy.URL+"/2.0")
	e.first()
	repos := e.s.CurrentRepositories("alpha")
	e.s.HideFromListing("alpha", repos[0].Slug, repos[1].Slug, repos[2].Slug)
	res, _ := e.syncBesideBeta(nil)
	e.untouched("alpha")
	o := e.org(res, "alpha")
	if !o.Failed() || len(o.Failures) != 3 {
		t.Fatalf("alpha: %+v, want the 3 unproven deletions reported", o)
	}
	for i, f := range o.Failures {
		if !strings.Contains(f, "proved nothing") {
			t.Errorf("failure %d: %q", i, f)
		}
	}
}
