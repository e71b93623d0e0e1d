package importfiles

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestResumeKey pins the key against the original's
// `${orgId}:${integrationId}:${Object.values(_.pick(target, targetProps)).join(':')}`
// for every target shape, worked out by hand from the JavaScript semantics.
func TestResumeKey(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   string
	}{
		{"bitbucket-cloud", `{"owner":"ws","name":"repo","branch":"main"}`, "O:I:repo:ws:main"},
		{"bitbucket-cloud key order is fixed", `{"branch":"main","name":"repo","owner":"ws"}`, "O:I:repo:ws:main"},
		{"bitbucket-cloud-app extras ignored", `{"fork":true,"name":"repo","full_name":"ws/repo","owner":"ws","branch":"main"}`, "O:I:repo:ws:main"},
		{"bitbucket-cloud no branch", `{"owner":"ws","name":"repo"}`, "O:I:repo:ws"},
		{"bitbucket-server", `{"projectKey":"PRJ","repoSlug":"my-repo"}`, "O:I:PRJ:my-repo"},
		{"gitlab id and branch: id excluded", `{"id":123,"branch":"main"}`, "O:I:main"},
		{"gitlab name and branch", `{"name":"group/sub/repo","branch":"main"}`, "O:I:group/sub/repo:main"},
		{"gitlab id, name and branch", `{"id":"123","name":"group/repo","branch":"dev"}`, "O:I:group/repo:dev"},
		{"github", `{"owner":"octo","name":"hello","branch":"master"}`, "O:I:hello:octo:master"},
		{"heroku appId number", `{"appId":12345}`, "O:I:12345"},
		{"lambda functionId", `{"functionId":"fn-1"}`, "O:I:fn-1"},
		{"cloud foundry slugId", `{"slugId":"s-1","appId":"a-1"}`, "O:I:a-1:s-1"},
		{"container registry name", `{"name":"library/nginx:latest"}`, "O:I:library/nginx:latest"},
		{"number as JavaScript prints it", `{"name":1.50,"owner":-0,"branch":1e21}`, "O:I:1.5:0:1e+21"},
		{"small number", `{"name":0.0000001}`, "O:I:1e-7"},
		{"big integer", `{"name":12345678901234567890}`, "O:I:12345678901234567000"},
		{"boolean", `{"name":true}`, "O:I:true"},
		{"null is an empty value", `{"name":null,"owner":"ws"}`, "O:I::ws"},
		{"all keys", `{"branch":"b","owner":"o","repoSlug":"r","projectKey":"p","slugId":"s","functionId":"f","appId":"a","name":"n","id":9}`, "O:I:n:a:f:s:p:r:o:b"},
		{"only unknown keys", `{"fork":true}`, "O:I:"},
		{"unicode and colons kept", `{"name":"répo:x","owner":"w"}`, "O:I:répo:x:w"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := parseTarget([]byte(tt.target))
			if err != nil {
				t.Fatal(err)
			}
			if got := ResumeKey("O", "I", tg); got != tt.want {
				t.Errorf("ResumeKey = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTargetJSON(t *testing.T) {
	tests := []struct {
		name, target, logged, request string
	}{
		{"bitbucket-cloud-app extras dropped",
			`{"fork":true,"name":"repo","full_name":"ws/repo","owner":"ws","branch":"main"}`,
			`{"name":"repo","owner":"ws","branch":"main"}`,
			`{"name":"repo","owner":"ws","branch":"main"}`},
		{"gitlab sends id and branch only",
			`{"id":42,"name":"g/r","branch":"main","extra":1}`,
			`{"name":"g/r","branch":"main"}`,
			`{"id":42,"branch":"main"}`},
		{"id without branch is not GitLab-style: id dropped as the original",
			`{"id":42,"name":"g/r"}`,
			`{"name":"g/r"}`,
			`{"name":"g/r"}`},
		{"numbers keep their text",
			`{"appId":1.50,"name":"x"}`,
			`{"name":"x","appId":1.50}`,
			`{"name":"x","appId":1.50}`},
		{"bitbucket-server",
			`{"repoSlug":"r","projectKey":"P"}`,
			`{"projectKey":"P","repoSlug":"r"}`,
			`{"projectKey":"P","repoSlug":"r"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := parseTarget([]byte(tt.target))
			if err != nil {
				t.Fatal(err)
			}
			logged, _ := tg.MarshalJSON()
			if string(logged) != tt.logged {
				t.Errorf("logged target = %s, want %s", logged, tt.logged)
			}
			if got := string(tg.requestJSON()); got != tt.request {
				t.Errorf("request target = %s, want %s", got, tt.request)
			}
		})
	}
}

func TestTargetGet(t *testing.T) {
	tg, err := parseTarget([]byte(`{"name":"repo","appId":7,"fork":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := tg.Get("name"); !ok || v != "repo" {
		t.Errorf(`Get("name") = %q, %v`, v, ok)
	}
	if v, ok := tg.Get("appId"); !ok || v != "7" {
		t.Errorf(`Get("appId") = %q, %v`, v, ok)
	}
	if _, ok := tg.Get("fork"); ok {
		t.Error(`Get("fork") found an unknown key`)
	}
	if tg.Has("branch") || tg.IsGitLab() || tg.IsZero() {
		t.Error("Has/IsGitLab/IsZero wrong")
	}
}

func impCollectTargets(path string) ([]ImportTarget, error) {
	var out []ImportTarget
	for it, err := range ReadTargets(path) {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}

func TestReadTargets(t *testing.T) {
	dir := t.TempDir()
	p := writeImpFile(t, dir, "import-projects.json", `{"other":{"x":[1,2]},"targets":[
 {"orgId":"o1","integrationId":"i1","target":{"fork":true,"name":"r1","full_name":"w/r1","owner":"w","branch":"main"}},
 {"orgId":" o2 ","integrationId":"i2","target":{"id":5,"branch":"dev"},"files":[{"path":"package.json"}],"exclusionGlobs":"fixtures, test"}
]}`)
	got, err := impCollectTargets(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d targets, want 2", len(got))
	}
	if got[0].Index != 0 || got[1].Index != 1 {
		t.Errorf("indexes %d, %d", got[0].Index, got[1].Index)
	}
	if string(got[0].Raw) != `{"fork":true,"name":"r1","full_name":"w/r1","owner":"w","branch":"main"}` {
		t.Errorf("Raw = %s", got[0].Raw)
	}
	if got[1].OrgID != "o2" {
		t.Errorf("orgId not trimmed: %q", got[1].OrgID)
	}
	req := got[1].Request()
	if string(req.Target) != `{"id":5,"branch":"dev"}` || len(req.Files) != 1 || req.Files[0].Path != "package.json" ||
		req.ExclusionGlobs == nil || *req.ExclusionGlobs != "fixtures, test" {
		t.Errorf("request = %+v", req)
	}
}

func TestReadTargetsErrors(t *testing.T) {
	good := `{"orgId":"o","integrationId":"i","target":{"name":"r","owner":"w"}}`
	tests := []struct {
		name, body, want string
	}{
		{"missing integrationId at index 3",
			impTargetsJSON(good, good, good, `{"orgId":"o","target":{"name":"r"}}`),
			`import-projects.json: targets[3]: missing "integrationId"`},
		{"orgId not a string", impTargetsJSON(`{"orgId":5,"integrationId":"i","target":{"name":"r"}}`),
			`import-projects.json: targets[0]: "orgId": want a string, got a number`},
		{"orgId empty", impTargetsJSON(`{"orgId":" ","integrationId":"i","target":{"name":"r"}}`),
			`import-projects.json: targets[0]: "orgId" is empty`},
		{"missing target", impTargetsJSON(`{"orgId":"o","integrationId":"i"}`),
			`import-projects.json: targets[0]: missing "target"`},
		{"target not an object", impTargetsJSON(`{"orgId":"o","integrationId":"i","target":"w/r"}`),
			`import-projects.json: targets[0]: "target": want an object, got a string`},
		{"target without known keys", impTargetsJSON(`{"orgId":"o","integrationId":"i","target":{"fork":true}}`),
			`import-projects.json: targets[0]: "target": has none of the keys`},
		{"target value an object", impTargetsJSON(`{"orgId":"o","integrationId":"i","target":{"name":{"x":1}}}`),
			`import-projects.json: targets[0]: "target": "name": want a string or a number, got an object`},
		{"files wrong", impTargetsJSON(`{"orgId":"o","integrationId":"i","target":{"name":"r"},"files":"package.json"}`),
			`import-projects.json: targets[0]: "files": want an array`},
		{"files without path", impTargetsJSON(`{"orgId":"o","integrationId":"i","target":{"name":"r"},"files":[{}]}`),
			`import-projects.json: targets[0]: "files[0]": missing "path"`},
		{"exclusionGlobs wrong", impTargetsJSON(`{"orgId":"o","integrationId":"i","target":{"name":"r"},"exclusionGlobs":["a"]}`),
			`import-projects.json: targets[0]: "exclusionGlobs": want a comma-separated string, got an array`},
		{"row not an object", impTargetsJSON(good, `[1]`), `import-projects.json: targets[1]: want an object, got an array`},
		{"missing top-level key", `{"orgs":[]}`, `import-projects.json: missing the top-level key "targets"`},
		{"top level an array", `[{"orgId":"o"}]`, `import-projects.json: want a JSON object with the key "targets", got an array`},
		{"targets not an array", `{"targets":{"orgId":"o"}}`, `import-projects.json: targets: want an array of objects, got an object`},
		{"empty file", ``, `import-projects.json: want a JSON object with the key "targets", got an empty file`},
		{"syntax error", "{\"targets\": [\n  {\"orgId\": \"o\",, }\n]}", `import-projects.json:2:`},
		{"truncated", "{\"targets\": [\n  {\"orgId\": \"o\"", `import-projects.json:2:`},
		{"trailing data", `{"targets":[]} {}`, `import-projects.json: unexpected an object after the top-level object`},
		{"two targets keys", `{"targets":[` + good + `],"targets":[` + good + `,` + good + `]}`, `import-projects.json: duplicate key "targets": the file is ambiguous (readers disagree on which one counts); keep one`},
		{"targets key twice, ignoring case", `{"Targets":[],"targets":[` + good + `]}`, `import-projects.json: duplicate key "Targets" (also written "targets")`},
		{"a target key twice", impTargetsJSON(good, `{"orgId":"o","integrationId":"i","target":{"name":"r","owner":"w","name":"s"}}`), `import-projects.json: targets[1].target: duplicate key "name": the file is ambiguous (readers disagree on which one counts); keep one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeImpFile(t, dir, "import-projects.json", tt.body)
			_, err := impCollectTargets(p)
			if err == nil {
				t.Fatal("no error")
			}
			rel := strings.Replace(err.Error(), dir+string(filepath.Separator), "", 1)
			if !strings.HasPrefix(rel, tt.want) {
				t.Errorf("error %q\nwant prefix %q", rel, tt.want)
			}
			var fe *FileFormatError
			if !errors.As(err, &fe) {
				t.Errorf("error is %T, want *FileFormatError", err)
			}
		})
	}
}

// TestReadTargetsCompatInvalid: the original's invalid targets file fails
// with the file name and the line:column of the error (the `}` on line 11
// where `]` is missing).
func TestReadTargetsCompatInvalid(t *testing.T) {
	p := filepath.Join("..", "..", "fixtures", "compat", "import-projects.invalid.json")
	_, err := impCollectTargets(p)
	if err == nil {
		t.Fatal("no error")
	}
	want := p + ":11:1: invalid JSON"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
}

func TestReadTargetsStopsEarly(t *testing.T) {
	dir := t.TempDir()
	p := writeImpFile(t, dir, "t.json", impTargetsJSON(impRow("o", "i", "w", "a", "m"), impRow("o", "i", "w", "b", "m"), "oops"))
	n := 0
	for _, err := range ReadTargets(p) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatalf("n = %d", n)
	}
}

func TestReadTargetsLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`{"targets":[`)
	const n = 5000
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(impRow("o", "i", "w", "repo-"+strings.Repeat("x", i%7), "main"))
	}
	b.WriteString("]}")
	p := writeImpFile(t, dir, "t.json", b.String())
	count := 0
	for _, err := range ReadTargets(p) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if diff := cmp.Diff(n, count); diff != "" {
		t.Error(diff)
	}
}
