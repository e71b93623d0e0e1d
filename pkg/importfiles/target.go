package importfiles

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/bbimport/bbimport/pkg/snyk"
)

// TargetKeys are the target keys the original tool recognises (its
// `targetProps`), in the order its resume key joins them. `id` (GitLab) is
// recognised too but is not part of the key.
var TargetKeys = [...]string{"name", "appId", "functionId", "slugId", "projectKey", "repoSlug", "owner", "branch"}

const (
	targetKeyID  = "id"
	targetIdxID  = len(TargetKeys) // index of "id" in Target.vals
	numTargetIdx = len(TargetKeys) + 1
)

// targetKeyIndex maps a known key to its slot in Target.vals.
func targetKeyIndex(key string) int {
	for i, k := range TargetKeys {
		if k == key {
			return i
		}
	}
	if key == targetKeyID {
		return targetIdxID
	}
	return -1
}

// Target is what an import target names: the known keys of Snyk's import API
// (TargetKeys and `id`), each kept as its JSON text (a string, or a number
// kept exactly as written). Other keys (`fork`, `full_name`, ...) are
// dropped. The zero Target has no keys.
type Target struct {
	vals [numTargetIdx]json.RawMessage // nil = absent
}

// Get returns the value of a known key as the original's resume key spells
// it (a string's text, a number as JavaScript prints it, "" for null), and
// whether the key is present.
func (t Target) Get(key string) (string, bool) {
	i := targetKeyIndex(key)
	if i < 0 || t.vals[i] == nil {
		return "", false
	}
	return jsValueText(t.vals[i]), true
}

// Has reports whether a known key is present.
func (t Target) Has(key string) bool {
	i := targetKeyIndex(key)
	return i >= 0 && t.vals[i] != nil
}

// IsZero reports whether the target has no known key.
func (t Target) IsZero() bool {
	for _, v := range t.vals {
		if v != nil {
			return false
		}
	}
	return true
}

// IsGitLab reports whether the target is GitLab-style (has both `id` and
// `branch`); such a target is sent to Snyk as {id, branch} only.
func (t Target) IsGitLab() bool {
	return t.vals[targetIdxID] != nil && t.Has("branch")
}

// Set sets a known key to a string value.
func (t *Target) Set(key, value string) {
	i := targetKeyIndex(key)
	if i < 0 {
		panic("importer: unknown target key " + key)
	}
	b, _ := json.Marshal(value)
	t.vals[i] = b
}

// MarshalJSON writes the target as the original logs it: the keys of
// TargetKeys that are present, in that order (`id` is not logged).
func (t Target) MarshalJSON() ([]byte, error) {
	return t.logJSON(), nil
}

// requestJSON is the `target` sent to Snyk: {id, branch} for GitLab-style
// targets, else the TargetKeys present (the original's choice).
func (t Target) requestJSON() json.RawMessage {
	if t.IsGitLab() {
		var b []byte
		b = append(b, `{"id":`...)
		b = append(b, t.vals[targetIdxID]...)
		b = append(b, `,"branch":`...)
		b = append(b, t.vals[targetKeyIndex("branch")]...)
		return append(b, '}')
	}
	return t.logJSON()
}

// resumeJSON is the target as imported-targets.log records it: logJSON plus
// `id` last when present (the original's key leaves `id` out, so without it
// two GitLab targets on one branch could not be told apart on resume).
func (t Target) resumeJSON() json.RawMessage {
	b := t.logJSON()
	id := t.vals[targetIdxID]
	if id == nil {
		return b
	}
	b = b[:len(b)-1]
	if len(b) > 1 {
		b = append(b, ',')
	}
	b = append(b, `"id":`...)
	b = append(b, id...)
	return append(b, '}')
}

// logJSON writes the TargetKeys present, in that order.
func (t Target) logJSON() []byte {
	b := []byte{'{'}
	for i, name := range TargetKeys {
		if t.vals[i] == nil {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, name)
		b = append(b, ':')
		b = append(b, t.vals[i]...)
	}
	return append(b, '}')
}

// UnmarshalJSON reads a target object, keeping the known keys.
func (t *Target) UnmarshalJSON(data []byte) error {
	nt, err := parseTarget(data)
	if err != nil {
		return err
	}
	*t = nt
	return nil
}

// parseTarget reads a JSON object into a Target. Values of known keys must
// be strings, numbers, booleans or null; the error names the offending key.
func parseTarget(data []byte) (Target, error) {
	var t Target
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return t, errors.New("want an object")
	}
	for k, v := range m {
		i := targetKeyIndex(k)
		if i < 0 {
			continue
		}
		v = bytes.TrimSpace(v)
		if len(v) == 0 || v[0] == '{' || v[0] == '[' {
			return t, fmt.Errorf("%q: want a string or a number, got %s", k, jsonKind(v))
		}
		t.vals[i] = append(json.RawMessage(nil), v...)
	}
	return t, nil
}

// jsValueText renders a scalar JSON value as JavaScript's String() would:
// the original joins target values with `:` to build its resume key.
func jsValueText(raw json.RawMessage) string {
	switch {
	case len(raw) == 0:
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	case string(raw) == "null":
		return "" // Array.prototype.join writes null as ""
	case string(raw) == "true", string(raw) == "false":
		return string(raw)
	default:
		return jsNumberText(string(raw))
	}
}

// jsNumberText formats a JSON number as JavaScript's Number#toString does
// (shortest round-trip digits, exponent form below 1e-6 and from 1e21).
func jsNumberText(s string) string {
	if isPlainInt(s) && len(s) <= 15 {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return s
	}
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		e := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07
		mant, exp, _ := strings.Cut(e, "e")
		n, _ := strconv.Atoi(exp)
		sign := "+"
		if n < 0 {
			sign, n = "-", -n
		}
		return mant + "e" + sign + strconv.Itoa(n)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func isPlainInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NewBitbucketTarget is the import target {owner, name, branch} of a
// Bitbucket Cloud repository (branch left out when empty).
func NewBitbucketTarget(owner, name, branch string) Target {
	var t Target
	t.Set("owner", owner)
	t.Set("name", name)
	if branch != "" {
		t.Set("branch", branch)
	}
	return t
}

// ImportTarget is one row of an import targets file: any target Snyk's
// import API accepts, plus the optional manifest list and exclusion globs.
type ImportTarget struct {
	OrgID          string            `json:"orgId"`
	IntegrationID  string            `json:"integrationId"`
	Target         Target            `json:"target"`
	Files          []snyk.ImportFile `json:"files,omitempty"`
	ExclusionGlobs *string           `json:"exclusionGlobs,omitempty"`

	// Index is the row's position in the targets file (0-based).
	Index int `json:"-"`
	// Raw is the row's target object as written in the file, extra keys
	// included (the original logs it so in failed-imports.log).
	Raw json.RawMessage `json:"-"`
}

// Key is the target's resume key (see ResumeKey).
func (it ImportTarget) Key() string {
	return ResumeKey(it.OrgID, it.IntegrationID, it.Target)
}

// Request is the body of the import POST.
func (it ImportTarget) Request() snyk.ImportRequest {
	return snyk.ImportRequest{
		Target:         it.Target.requestJSON(),
		Files:          it.Files,
		ExclusionGlobs: it.ExclusionGlobs,
	}
}

// ReadTargets streams an import targets file
// (`{"targets":[{orgId, integrationId, target, files?, exclusionGlobs?}]}`)
// one row at a time, so memory does not grow with the file. A bad file
// yields one *FileFormatError that names the file and either the row and
// field (`f.json: targets[3]: missing "integrationId"`) or, for invalid JSON,
// the line and column (`f.json:11:1: invalid JSON: ...`); iteration stops
// there.
func ReadTargets(path string) iter.Seq2[ImportTarget, error] {
	return func(yield func(ImportTarget, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(ImportTarget{}, fmt.Errorf("read targets file: %w", err))
			return
		}
		defer f.Close()
		tr := &targetsReader{path: path, dec: json.NewDecoder(skipBOM(bufio.NewReaderSize(f, 64<<10)))}
		tr.dec.UseNumber()
		err = tr.read(func(it ImportTarget) bool { return yield(it, nil) })
		if err != nil && !errors.Is(err, errStopTargets) {
			yield(ImportTarget{}, err)
		}
	}
}

var errStopTargets = errors.New("stopped")

type targetsReader struct {
	path string
	dec  *json.Decoder
}

func (r *targetsReader) formatErr(where, msg string) error {
	return &FileFormatError{Path: r.path, Where: where, Msg: msg}
}

func (r *targetsReader) read(fn func(ImportTarget) bool) error {
	const wantTop = `want a JSON object with the key "targets"`
	tok, err := r.dec.Token()
	if err == io.EOF {
		return r.formatErr("", wantTop+", got an empty file")
	}
	if err != nil {
		return r.syntaxErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return r.formatErr("", wantTop+", got "+tokenKind(tok))
	}
	found := false
	var rowErr error
	for r.dec.More() {
		tok, err := r.dec.Token()
		if err != nil {
			return r.syntaxErr(err)
		}
		key, _ := tok.(string)
		if key != "targets" || found {
			var skip json.RawMessage
			if err := r.dec.Decode(&skip); err != nil {
				return r.syntaxErr(err)
			}
			continue
		}
		found = true
		if rowErr, err = r.readArray(fn); err != nil {
			return err
		}
	}
	if _, err := r.dec.Token(); err != nil { // closing }
		return r.syntaxErr(err)
	}
	if tok, err := r.dec.Token(); err != io.EOF {
		if err == nil {
			return r.formatErr("", "unexpected "+tokenKind(tok)+" after the top-level object")
		}
		return r.syntaxErr(err)
	}
	if !found {
		return r.formatErr("", `missing the top-level key "targets"`)
	}
	return rowErr
}

// readArray reads the "targets" array. rowErr is the first bad row (the
// rows after it are scanned but not passed to fn); err ends the reading.
func (r *targetsReader) readArray(fn func(ImportTarget) bool) (rowErr, err error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.syntaxErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, r.formatErr("targets", "want an array of objects, got "+tokenKind(tok))
	}
	// After a bad row the rest is still scanned: a file that is not valid
	// JSON is reported as such, with the position, before any row error.
	for i := 0; r.dec.More(); i++ {
		var raw json.RawMessage
		if err := r.dec.Decode(&raw); err != nil {
			return nil, r.syntaxErr(err)
		}
		if rowErr != nil {
			continue
		}
		where := fmt.Sprintf("targets[%d]", i)
		var row targetRow
		if err := json.Unmarshal(raw, &row); err != nil || raw[0] != '{' {
			rowErr = r.formatErr(where, "want an object, got "+jsonKind(raw))
			continue
		}
		it, msg := row.toTarget(i)
		if msg != "" {
			rowErr = r.formatErr(where, msg)
			continue
		}
		if !fn(it) {
			return nil, errStopTargets
		}
	}
	if _, err := r.dec.Token(); err != nil { // closing ]
		return nil, r.syntaxErr(err)
	}
	return rowErr, nil
}

// tokenKind names a json.Token's JSON type for error messages.
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return "a number"
	}
}

// syntaxErr turns a decoder error into one naming the file and line:column
// (re-reading the file, streaming, as far as the error).
func (r *targetsReader) syntaxErr(err error) error {
	f, ferr := os.Open(r.path)
	if ferr != nil {
		return jsonErrorPosition(r.path, nil, err)
	}
	defer f.Close()
	return jsonErrorPosition(r.path, skipBOM(bufio.NewReader(f)), err)
}

// OrgIDError is an org id that cannot be one file name inside the log
// directory.
type OrgIDError struct{ OrgID string }

func (e *OrgIDError) Error() string {
	return fmt.Sprintf(`"orgId" %q is not a Snyk org id (no slashes or "..")`, e.OrgID)
}

// CheckOrgID refuses an org id that would not stay one file name inside the
// log directory, which org ids name (<orgId>.failed-imports.log,
// <orgId>.sync-state.json): empty, or with a slash or "..".
func CheckOrgID(id string) error {
	if strings.TrimSpace(id) == "" || strings.ContainsAny(id, `/\`) || strings.Contains(id, "..") {
		return &OrgIDError{OrgID: id}
	}
	return nil
}

// targetRow is one raw row of a targets file.
type targetRow struct {
	OrgID          json.RawMessage `json:"orgId"`
	IntegrationID  json.RawMessage `json:"integrationId"`
	Target         json.RawMessage `json:"target"`
	Files          json.RawMessage `json:"files"`
	ExclusionGlobs json.RawMessage `json:"exclusionGlobs"`
}

// toTarget checks a row; a non-empty msg says what is wrong with it.
func (row targetRow) toTarget(index int) (it ImportTarget, msg string) {
	it.Index = index
	if it.OrgID, msg = requiredString(row.OrgID, "orgId"); msg != "" {
		return it, msg
	}
	if err := CheckOrgID(it.OrgID); err != nil {
		return it, err.Error()
	}
	if it.IntegrationID, msg = requiredString(row.IntegrationID, "integrationId"); msg != "" {
		return it, msg
	}
	if isAbsent(row.Target) {
		return it, `missing "target"`
	}
	if row.Target[0] != '{' {
		return it, `"target": want an object, got ` + jsonKind(row.Target)
	}
	t, err := parseTarget(row.Target)
	if err != nil {
		return it, `"target": ` + err.Error()
	}
	if t.IsZero() {
		return it, `"target": has none of the keys "` + strings.Join(TargetKeys[:], `", "`) + `", "id"`
	}
	it.Target, it.Raw = t, row.Target
	if !isAbsent(row.Files) {
		if err := json.Unmarshal(row.Files, &it.Files); err != nil {
			return it, `"files": want an array of {"path": "..."}, got ` + jsonKind(row.Files)
		}
		for j, f := range it.Files {
			if f.Path == "" {
				return it, fmt.Sprintf(`"files[%d]": missing "path"`, j)
			}
		}
	}
	if !isAbsent(row.ExclusionGlobs) {
		var s string
		if err := json.Unmarshal(row.ExclusionGlobs, &s); err != nil {
			return it, `"exclusionGlobs": want a comma-separated string, got ` + jsonKind(row.ExclusionGlobs)
		}
		it.ExclusionGlobs = &s
	}
	return it, ""
}

func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func requiredString(raw json.RawMessage, field string) (string, string) {
	if isAbsent(raw) {
		return "", fmt.Sprintf("missing %q", field)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Sprintf("%q: want a string, got %s", field, jsonKind(raw))
	}
	if strings.TrimSpace(s) == "" {
		return "", fmt.Sprintf("%q is empty", field)
	}
	return strings.TrimSpace(s), ""
}
