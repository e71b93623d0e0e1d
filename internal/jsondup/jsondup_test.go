package jsondup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, where, want string
	}{
		{"none", `{"targets":[{"orgId":"o","target":{"name":"a"}},{"orgId":"p"}]}`, "", ""},
		{"top level", `{"targets":[{"orgId":"o"}],"targets":[]}`, "", `: duplicate key "targets"`},
		{"in a row", `{"targets":[{"orgId":"o"},{"orgId":"o","integrationId":"i","orgId":"p"}]}`, "", `targets[1]: duplicate key "orgId"`},
		{"nested", `{"orgData":[{"integrations":{"bitbucket-cloud":"a","bitbucket-cloud":"b"}}]}`, "", `orgData[0].integrations: duplicate key "bitbucket-cloud"`},
		{"escaped", `{"targets":1,"t\u0061rgets":2}`, "", `: duplicate key "targets"`},
		{"case", `{"orgId":"o","OrgID":"p"}`, "row", `row: duplicate key "orgId" (also written "OrgID")`},
		{"keys inside strings do not count", `{"a":"{\"a\":1,\"a\":2}","b":[1,"a",{"c":null}]}`, "", ""},
		{"same key in two objects", `[{"a":1},{"a":2}]`, "", ""},
		{"scalar", `"x"`, "", ""},
		{"many keys", manyKeys(`"k40":0`), "", ""},
		{"many keys, one twice", manyKeys(`"k7":0`), "", `repositories: duplicate key "k7"`},
		{"many keys, one in another case", manyKeys(`"K39":0`), "", `repositories: duplicate key "k39" (also written "K39")`},
		{"many keys, Kelvin sign", manyKeys(`"\u212a3":0`), "", "repositories: duplicate key \"k3\" (also written \"\u212a3\")"},
		{"many keys, long s", manyKeys(`"\u017f":0,"s":1`), "", "repositories: duplicate key \"\u017f\" (also written \"s\")"},
	}
	for _, tt := range tests {
		if !json.Valid([]byte(tt.doc)) {
			t.Fatalf("%s: not valid JSON", tt.name)
		}
		err := Check([]byte(tt.doc), tt.where)
		var de *Error
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "":
		case !errors.As(err, &de):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		case de.Where+": "+de.Error() != tt.want:
			t.Errorf("%s: %q, want %q", tt.name, de.Where+": "+de.Error(), tt.want)
		}
	}
}

// manyKeys is an object of 40 keys (a sync state's repositories are one
// key each), k0 to k39, then last.
func manyKeys(last string) string {
	var b strings.Builder
	b.WriteString(`{"repositories":{`)
	for i := range 40 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	return b.String() + last + "}}"
}

// fold and bytes.EqualFold agree on every pair of keys, so an object of
// many keys finds the duplicates a small one does.
func FuzzFold(f *testing.F) {
	for _, p := range [][2]string{{"orgId", "OrgID"}, {"k", "\u212a"}, {"s", "\u017f"}, {"\u03a3", "\u03c2"}, {"\xff", "\xfe"}, {"a", "ab"}} {
		a, _ := strconv.Unquote(`"` + p[0] + `"`)
		b, _ := strconv.Unquote(`"` + p[1] + `"`)
		f.Add(a, b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := fold([]byte(a)) == fold([]byte(b)), bytes.EqualFold([]byte(a), []byte(b)); got != want {
			t.Errorf("%q, %q: same fold %v, EqualFold %v", a, b, got, want)
		}
	})
}

func FuzzCheck(f *testing.F) {
	f.Add(`{"a":[1,{"b":"\"","c":{}}],"d":"\\"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		err := Check([]byte(doc), "")
		var m map[string]json.RawMessage
		if err == nil && json.Unmarshal([]byte(doc), &m) == nil && strings.HasPrefix(strings.TrimSpace(doc), "{") {
			// No duplicate: the map holds every key the document has.
			var n int
			dec := json.NewDecoder(strings.NewReader(doc))
			dec.Token()
			for depth := 1; depth > 0; {
				tok, err := dec.Token()
				if err != nil {
					return
				}
				switch tok {
				case json.Delim('{'), json.Delim('['):
					depth++
				case json.Delim('}'), json.Delim(']'):
					depth--
				default:
					if _, isKey := tok.(string); isKey && depth == 1 {
						n++
						var skip json.RawMessage
						dec.Decode(&skip)
					}
				}
			}
			if n != len(m) {
				t.Errorf("%q: %d keys, map of %d, and no duplicate found", doc, n, len(m))
			}
		}
	})
}

// Invalid JSON is the caller's to report, but never a panic.
func TestCheckCutShort(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{`{"a`, `{"a":`, `[{"a":1,"`, `{"\`, `"`, `{`, `[`} {
		_ = Check([]byte(doc), "")
	}
}
