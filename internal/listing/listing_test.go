package listing

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	type step struct {
		page  string   // a page fetched ("" = none)
		items []string // its items' ids
	}
	for _, tc := range []struct {
		name               string
		maxPages, maxItems int
		pages              []step
		size               int // -1: none given
		want               Reason
	}{
		{"whole", 0, 0, []step{{"p1", []string{"a", "b"}}, {"p2", []string{"c"}}}, 3, ""},
		{"whole, no size", 0, 0, []step{{"p1", []string{"a"}}}, -1, ""},
		{"items without ids are counted, not compared", 0, 0, []step{{"p1", []string{"", ""}}}, 2, ""},
		{"an item twice", 0, 0, []step{{"p1", []string{"a", "b"}}, {"p2", []string{"a"}}}, -1, RepeatedItem},
		{"a cursor twice", 0, 0, []step{{"p1", []string{"a"}}, {"p1", []string{"b"}}}, -1, RepeatedCursor},
		{"size says more", 0, 0, []step{{"p1", []string{"a"}}}, 2, SizeMismatch},
		{"size says less", 0, 0, []step{{"p1", []string{"a", "b"}}}, 1, SizeMismatch},
		{"page cap", 2, 0, []step{{"p1", nil}, {"p2", nil}, {"p3", nil}}, -1, PageCap},
		{"item cap", 0, 3, []step{{"p1", []string{"a", "b", "c", "d"}}}, -1, ItemCap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := New("Snyk projects of org o", tc.maxPages, tc.maxItems)
			var err error
		pages:
			for _, p := range tc.pages {
				if err = c.Page(p.page); err != nil {
					break
				}
				for _, id := range p.items {
					if err = c.Item(id); err != nil {
						break pages
					}
				}
			}
			if err == nil && tc.size >= 0 {
				err = c.Size(tc.size)
			}
			var ie *IncompleteError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v; want none", err)
			case tc.want != "" && (!errors.As(err, &ie) || ie.Reason != tc.want):
				t.Fatalf("error %v; want %s", err, tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), "Snyk projects of org o"):
				t.Errorf("error %q does not name the listing", err)
			}
		})
	}
}

func TestCheckDefaultItemCap(t *testing.T) {
	t.Parallel()
	c := New("x", 0, 0)
	if c.maxItems != MaxItems {
		t.Fatalf("default item cap %d; want %d", c.maxItems, MaxItems)
	}
}
