package english

import (
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ got, want string }{
		{Plural(1, "workspace"), "1 workspace"},
		{Plural(3, "workspace"), "3 workspaces"},
		{Plural(0, "repository"), "0 repositories"},
		{FirstFew([]string{"a", "b"}, 3), "a, b"},
		{FirstFew([]string{"a", "b", "c", "d"}, 2), "a, b, … 2 more"},
		{Duration(time.Minute), "1m"},
		{Duration(168 * time.Hour), "168h"},
		{Duration(90 * time.Second), "1m30s"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if q := Quoted([]string{"a b"}); len(q) != 1 || q[0] != `"a b"` {
		t.Errorf("Quoted: %q", q)
	}
}
