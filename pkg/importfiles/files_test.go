package importfiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadOrgsDataFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string // the error text after "<dir>/orgs-data.json"
	}{
		{"missing key", `{"org":[]}`, `: missing the top-level key "orgs"`},
		{"not an object", `[{"name":"a","groupId":"g"}]`, `: want a JSON object with the key "orgs", got array`},
		{"null", `null`, `: want a JSON object with the key "orgs", got null`},
		{"key not array", `{"orgs":{"name":"a"}}`, `: orgs: want an array of objects, got an object`},
		{"empty", `{"orgs":[]}`, `: "orgs" is empty: nothing to do`},
		{"missing groupId row 3", `{"orgs":[{"name":"a","groupId":"g"},{"name":"b","groupId":"g"},{"name":"c","groupId":"g"},{"name":"d"}]}`, `: orgs[3]: missing "groupId"`},
		{"missing name", `{"orgs":[{"groupId":"g"}]}`, `: orgs[0]: missing "name"`},
		{"null name", `{"orgs":[{"name":null,"groupId":"g"}]}`, `: orgs[0]: missing "name"`},
		{"empty name", `{"orgs":[{"name":" ","groupId":"g"}]}`, `: orgs[0]: "name" is empty`},
		{"name a number", `{"orgs":[{"name":5,"groupId":"g"}]}`, `: orgs[0]: "name": want a string, got a number`},
		{"row not object", `{"orgs":["a"]}`, `: orgs[0]: want an object, got a string`},
		{"optional wrong type", `{"orgs":[{"name":"a","groupId":"g","sourceOrgId":7}]}`, `: orgs[0]: "sourceOrgId": want a string, got number`},
		{"invalid JSON", "{\n  \"orgs\": [\n    {\"name\": \"a\" \"groupId\": \"g\"}\n  ]\n}\n", `:3:18: invalid JSON: invalid character '"' after object key:value pair`},
		{"truncated", "{\"orgs\": [", `:1:11: invalid JSON: unexpected end of JSON input`},
		{"two orgs keys", `{"orgs":[{"name":"a","groupId":"g"}],"orgs":[{"name":"b","groupId":"g"}]}`, `: duplicate key "orgs": the file is ambiguous (readers disagree on which one counts); keep one`},
		{"a row with two names", `{"orgs":[{"name":"a","groupId":"g"},{"name":"a","groupId":"g","Name":"b"}]}`, `: orgs[1]: duplicate key "name" (also written "Name"): the file is ambiguous (readers disagree on which one counts); keep one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeImpFile(t, dir, "orgs-data.json", tt.content)
			_, err := ReadOrgsDataFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := err.Error(), path+tt.want; got != want {
				t.Errorf("error\n got %s\nwant %s", got, want)
			}
			var fe *FileFormatError
			if !errors.As(err, &fe) {
				t.Errorf("error is %T, want *FileFormatError", err)
			}
		})
	}
}

func TestReadOrgsDataFileMissingFile(t *testing.T) {
	_, err := ReadOrgsDataFile(filepath.Join(t.TempDir(), "nope.json"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("err = %v, want a not-exist error naming the file", err)
	}
}

func TestReadCreatedOrgsFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"missing key", `{"orgs":[]}`, `: missing the top-level key "orgData"`},
		{"missing orgId", `{"orgData":[{"name":"a","orgId":"o"},{"name":"b"}]}`, `: orgData[1]: missing "orgId"`},
		{"neither workspace nor name", `{"orgData":[{"orgId":"o"}]}`, `: orgData[0]: missing "workspace" or "name"`},
		{"integrations not a map", `{"orgData":[{"orgId":"o","name":"a","integrations":["x"]}]}`, `: orgData[0]: "integrations": want an object, got array`},
		{"integration id not a string", `{"orgData":[{"orgId":"o","name":"a","integrations":{"bitbucket-cloud":1}}]}`, `: orgData[0]: "integrations.bitbucket-cloud": want a string, got number`},
		{"an integration twice", `{"orgData":[{"orgId":"o","name":"a","integrations":{"bitbucket-cloud":"i1","bitbucket-cloud":"i2"}}]}`, `: orgData[0].integrations: duplicate key "bitbucket-cloud": the file is ambiguous (readers disagree on which one counts); keep one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeImpFile(t, t.TempDir(), "created.json", tt.content)
			_, err := ReadCreatedOrgsFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := err.Error(), path+tt.want; got != want {
				t.Errorf("error\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestReadCompatFiles(t *testing.T) {
	rows, err := ReadOrgsDataFile(compatPath("orgs-data.1-org.json"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]OrgRow{{Name: "snyk-api-import-hello", GroupID: "d64abc45-b39a-48a2-9636-a4f62adbf09a"}}, rows); diff != "" {
		t.Errorf("orgs (-want +got):\n%s", diff)
	}
	orgs, err := ReadCreatedOrgsFile(compatPath("bitbucket-cloud.created-orgs.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []CreatedOrg{{
		OrgID: "<snyk_org_id>", Name: "snyktestscmgroup",
		Integrations: map[string]string{"bitbucket-cloud": "<snyk_org_integration_id>"},
	}}
	if diff := cmp.Diff(want, orgs); diff != "" {
		t.Errorf("orgData (-want +got):\n%s", diff)
	}
	if got := orgs[0].WorkspaceSlug(); got != "snyktestscmgroup" {
		t.Errorf("WorkspaceSlug() = %q, want the name", got)
	}
}

// The targets file of the original that is not JSON: the message names the
// file and the line:column of the stray brace, whichever way it is decoded.
func TestJSONErrorPositionCompat(t *testing.T) {
	path := compatPath("import-projects.invalid.json")
	data := readFile(t, path)
	want := path + ":11:1: invalid JSON: invalid character '}' after array element"

	t.Run("Unmarshal", func(t *testing.T) {
		var v any
		err := jsonErrorPosition(path, bytes.NewReader(data), json.Unmarshal(data, &v))
		if err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	})
	t.Run("Decoder.Token", func(t *testing.T) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dec := json.NewDecoder(f)
		var decErr error
		for i := 0; i < 3 && decErr == nil; i++ { // {, "targets", [
			_, decErr = dec.Token()
		}
		for decErr == nil && dec.More() {
			var v any
			decErr = dec.Decode(&v)
		}
		if decErr == nil {
			_, decErr = dec.Token()
		}
		src, err := os.Open(path) // reopened: the helper reads up to the error only
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		got := jsonErrorPosition(path, src, decErr)
		if got == nil || got.Error() != want {
			t.Errorf("got %v\nwant %s", got, want)
		}
	})
}

func TestJSONErrorPosition(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		err  func(doc string) error
		want string
	}{
		{"first byte", `x`, unmarshalErr, "f:1:1: invalid JSON: invalid character 'x' looking for beginning of value"},
		{"second line", "{\n  \"a\": tru }", unmarshalErr, "f:2:11: invalid JSON: invalid character ' ' in literal true (expecting 'e')"},
		{"newline in string", "{\"a\": \"x\ny\"}", unmarshalErr, "f:1:9: invalid JSON: invalid character '\\n' in string literal"},
		{"decoder EOF", "{\n\"a\": [1,", func(doc string) error {
			var v any
			return json.NewDecoder(strings.NewReader(doc)).Decode(&v)
		}, "f:2:9: invalid JSON: unexpected end of JSON input"},
		{"truncated after newline", "{\n", unmarshalErr, "f:2:1: invalid JSON: unexpected end of JSON input"},
		{"quote", `{"a" "b"}`, unmarshalErr, "f:1:6: invalid JSON: invalid character '\"' after object key"},
		{"token offset", "[1,\n}", func(doc string) error {
			dec := json.NewDecoder(strings.NewReader(doc))
			var err error
			for err == nil {
				_, err = dec.Token()
			}
			return err
		}, "f:2:1: invalid JSON: invalid character '}' looking for beginning of value"},
		{"no position", "", func(string) error { return errors.New("boom") }, "f: invalid JSON: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := jsonErrorPosition("f", strings.NewReader(tt.doc), tt.err(tt.doc))
			if got == nil || got.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", got, tt.want)
			}
		})
	}
	if jsonErrorPosition("f", nil, nil) != nil {
		t.Error("nil error should stay nil")
	}
}

func unmarshalErr(doc string) error {
	var v any
	return json.Unmarshal([]byte(doc), &v)
}

func TestGoldenOrgsDataFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orgs.json")
	rows := []OrgRow{
		{Name: "Acme Platform", GroupID: "g-1", Workspace: "acme"},
		{Name: "R&D <lab>", GroupID: "g-1", SourceOrgID: "tmpl-1", Workspace: "rnd"},
		{Name: "acme / Payments", GroupID: "g-1", Workspace: "acme", Project: "PAY"},
		{Name: "legacy", GroupID: "g-2"},
	}
	if err := WriteOrgsDataFile(path, rows); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	assertGolden(t, "testdata/orgsdata/orgs.golden.json", got)
	back, err := ReadOrgsDataFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rows, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestGoldenCreatedOrgsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "created.json")
	orgs := []CreatedOrg{
		{
			OrgID: "org-1", Name: "Acme Platform", GroupID: "g-1", OrigName: "Acme Platform",
			Integrations: map[string]string{"bitbucket-cloud-app": "i-app", "bitbucket-cloud": "i-cloud", "github": "i-gh"},
			SourceOrgID:  "tmpl-1", Workspace: "acme",
			ID: "org-1", Created: "2025-01-02T03:04:05.678Z", Slug: "acme-platform", URL: "https://app.snyk.io/org/acme-platform",
		},
		{OrgID: "org-2", Name: "legacy", GroupID: "g-1", OrigName: "legacy"}, // nil integrations → {}
		{OrgID: "org-3", Name: "acme / Payments", GroupID: "g-1", OrigName: "acme / Payments", Workspace: "acme", Project: "PAY",
			Integrations: map[string]string{}},
	}
	if err := WriteCreatedOrgsFile(path, orgs); err != nil {
		t.Fatal(err)
	}
	assertGolden(t, "testdata/orgscreate/created-orgs.golden.json", readFile(t, path))
	back, err := ReadCreatedOrgsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	orgs[1].Integrations = map[string]string{}
	if diff := cmp.Diff(orgs, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestGoldenTargetsFile(t *testing.T) {
	targets := []TargetEntry{
		{OrgID: "org-1", IntegrationID: "i-1", Target: BitbucketTarget{Owner: "acme", Name: "api", Branch: "main"}},
		{OrgID: "org-1", IntegrationID: "i-1", Target: BitbucketTarget{Owner: "acme", Name: "web", Branch: "release/2.x"}},
		{OrgID: "org-2", IntegrationID: "i-2", Target: BitbucketTarget{Owner: "r&d", Name: "empty"}},
	}
	for _, tt := range []struct {
		name    string
		targets []TargetEntry
		golden  string
	}{
		{"three", targets, "testdata/importdata/targets.golden.json"},
		{"none", nil, "testdata/importdata/targets-empty.golden.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "targets.json")
			err := writeTargetsFile(path, func(yield func(TargetEntry) error) error {
				for _, tg := range tt.targets {
					if err := yield(tg); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got := readFile(t, path)
			assertGolden(t, tt.golden, got)
			var back struct {
				Targets []TargetEntry `json:"targets"`
			}
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if diff := cmp.Diff(tt.targets, back.Targets, cmpEmptyEqual()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func cmpEmptyEqual() cmp.Option {
	return cmp.FilterValues(func(a, b []TargetEntry) bool { return len(a) == 0 && len(b) == 0 }, cmp.Comparer(func(a, b []TargetEntry) bool { return true }))
}

// A writer that fails mid-way leaves neither the file nor a temp file.
func TestWriteTargetsFileErrorLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "targets.json")
	boom := errors.New("boom")
	err := writeTargetsFile(path, func(yield func(TargetEntry) error) error {
		for range 10000 {
			if err := yield(TargetEntry{OrgID: "o", IntegrationID: "i", Target: BitbucketTarget{Owner: "w", Name: "r", Branch: "main"}}); err != nil {
				return err
			}
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file exists after a failed write: %v", err)
	}
	assertNoTempFiles(t, dir)
}

// An existing file is replaced only when the new one is complete.
func TestWriteOrgsDataFileKeepsOldOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orgs.json")
	if err := WriteOrgsDataFile(path, []OrgRow{{Name: "a", GroupID: "g"}}); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	err := WriteFileAtomic(path, func(w io.Writer) error {
		_, _ = w.Write([]byte(`{"orgs":[`))
		return errors.New("interrupted")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Error("old file changed")
	}
	assertNoTempFiles(t, dir)
}

// writeTargetsFile writes a targets file atomically from a sequence of
// targets, as import:data does, streaming: each target is encoded as it
// comes and only a buffer's worth is held in memory. The file appears (by
// rename) only when every target has been written; on an error from the
// sequence nothing appears.
func writeTargetsFile(path string, targets func(yield func(TargetEntry) error) error) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		tw, err := NewTargetsWriter(w)
		if err != nil {
			return err
		}
		if err := targets(func(t TargetEntry) error { return tw.Write(&t) }); err != nil {
			return err
		}
		return tw.Close()
	})
}
