package cause

import (
	"errors"
	"net/http"
	"testing"

	"github.com/bbimport/bbimport/pkg/snyk"
)

// One cause is one group however many items it hit; a scope keeps apart
// what must stay apart, and items without an error are left out.
func TestGroupBy(t *testing.T) {
	t.Parallel()
	type item struct {
		name, scope string
		err         error
	}
	rejected := func() error { return &snyk.ErrorResponse{StatusCode: http.StatusUnauthorized} }
	items := []item{
		{"a", "g1", rejected()}, {"b", "g1", rejected()}, {"c", "g2", rejected()},
		{"d", "g1", nil}, {"e", "g1", errors.New("disk full")},
	}
	groups := GroupBy(items, func(it item) (string, error) { return it.scope, it.err })
	var got []string
	for _, g := range groups {
		s := ""
		for _, it := range g.Items {
			s += it.name
		}
		got = append(got, s)
	}
	if len(got) != 3 || got[0] != "ab" || got[1] != "c" || got[2] != "e" {
		t.Errorf("groups %q, want [ab c e]", got)
	}
}
