package importfiles

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/bbimport/bbimport/internal/jsondup"
)

// File formats.
//
// The three data files of the first stages are read and written here:
//
//	orgs data file     {"orgs":[{"name","groupId","sourceOrgId"?,"workspace"?,"project"?}]}
//	created-orgs file  {"orgData":[{"orgId","name","groupId","origName","integrations":{type:id},
//	                    "sourceOrgId"?,"workspace"?,"project"?,"id"?,"created"?,"slug"?,"url"?}]}
//	targets file       {"targets":[{"orgId","integrationId","target":{"owner","name","branch"}}]}
//
// Field order is the order of the struct fields below and never changes
// (golden files pin the bytes); integrations are written with their keys
// sorted. The original wrote compact one-line JSON; we write for humans:
// the orgs and created-orgs files are indented by two spaces, the targets
// file holds one target per line (so grep finds a whole target and diffs stay
// small) inside an indented array. Every file ends with a newline, HTML
// characters are not escaped (an org may be called "R&D"), and every file is
// written atomically. Any valid JSON is accepted on input, so files written
// by the original, compact or not, read the same.

// File names written into the log path.
const (
	// CreatedOrgsFileName is the file orgs:create writes.
	CreatedOrgsFileName = "snyk-created-orgs.json"
)

// OrgsDataFileName is the name orgs:data writes for a group and source:
// group-<groupId>-<source>-orgs.json.
func OrgsDataFileName(groupID, source string) string {
	return "group-" + groupID + "-" + source + "-orgs.json"
}

// TargetsFileName is the name import:data writes for a source:
// <source>-import-targets.json.
func TargetsFileName(source string) string {
	return source + "-import-targets.json"
}

// OrgRow is one row of the orgs data file: an org to create.
type OrgRow struct {
	// Name is the org name: the workspace display name (bitbucket-cloud-app),
	// the slug (bitbucket-cloud), or "<workspace> / <project name>".
	Name    string `json:"name"`
	GroupID string `json:"groupId"`
	// SourceOrgID is the org whose settings a new org copies.
	SourceOrgID string `json:"sourceOrgId,omitempty"`
	// Workspace is the Bitbucket workspace slug (our addition; files written
	// by the original lack it, and Name is then the workspace).
	Workspace string `json:"workspace,omitempty"`
	// Project is a Bitbucket project key, for one org per project.
	Project string `json:"project,omitempty"`
}

// OrgsDataFile is the orgs data file: orgs:data writes it, orgs:create reads it.
type OrgsDataFile struct {
	Orgs []OrgRow `json:"orgs"`
}

// CreatedOrg is one row of the created-orgs file: an org that exists in Snyk.
type CreatedOrg struct {
	OrgID   string `json:"orgId"`
	Name    string `json:"name"`
	GroupID string `json:"groupId,omitempty"`
	// OrigName is the name requested in the orgs data file.
	OrigName string `json:"origName,omitempty"`
	// Integrations maps integration type to integration id.
	Integrations map[string]string `json:"integrations"`
	SourceOrgID  string            `json:"sourceOrgId,omitempty"`
	// Workspace is the Bitbucket workspace slug; empty in files written by
	// the original, where Name is the workspace.
	Workspace string `json:"workspace,omitempty"`
	// Project is a Bitbucket project key when the org holds one project.
	Project string `json:"project,omitempty"`
	// ID, Created, Slug and URL are what Snyk said about the org, when known
	// (the original spread Snyk's answer into the row; tools may read `id`).
	ID      string `json:"id,omitempty"`
	Created string `json:"created,omitempty"`
	Slug    string `json:"slug,omitempty"`
	URL     string `json:"url,omitempty"`
}

// WorkspaceSlug is the workspace to list for this org: Workspace, else Name
// (files written by the original carry only the name).
func (o CreatedOrg) WorkspaceSlug() string {
	if o.Workspace != "" {
		return o.Workspace
	}
	return o.Name
}

// CreatedOrgsFile is the created-orgs file: orgs:create writes it,
// import:data reads it.
type CreatedOrgsFile struct {
	OrgData []CreatedOrg `json:"orgData"`
}

// BitbucketTarget is a Bitbucket Cloud import target as Snyk's import API
// takes it; no other keys (Snyk answers 400 to extras such as `fork`).
type BitbucketTarget struct {
	// Owner is the workspace slug.
	Owner string `json:"owner"`
	// Name is the repository slug.
	Name string `json:"name"`
	// Branch is the main branch; empty (and left out) only for an empty
	// repository kept on purpose.
	Branch string `json:"branch,omitempty"`
}

// TargetEntry is one row of the targets file import:data writes.
type TargetEntry struct {
	OrgID         string          `json:"orgId"`
	IntegrationID string          `json:"integrationId"`
	Target        BitbucketTarget `json:"target"`
}

// FileFormatError is an input file that cannot be used: not JSON, the wrong
// shape, or a row without a required field. Its text names the file and
// either the line:column of a syntax error or the row and the field, e.g.
// `orgs-data.json: orgs[3]: missing "groupId"` or
// `import-projects.json:11:1: invalid JSON: invalid character '}' after array element`.
type FileFormatError struct {
	// Path is the file as the user named it.
	Path string
	// Line and Column (1-based) locate a syntax error; zero otherwise.
	Line, Column int
	// Where names the place in the document, e.g. `orgs[3]`; may be empty.
	Where string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying decoding error, if any.
	Err error
}

// Error says which file, where, and what is wrong.
func (e *FileFormatError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Where != "" {
		b.WriteString(": ")
		b.WriteString(e.Where)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying decoding error, if any.
func (e *FileFormatError) Unwrap() error { return e.Err }

// jsonErrorPosition turns an error from encoding/json (json.Unmarshal or a
// json.Decoder, Token or Decode) into a *FileFormatError naming the file and
// the line:column of the error: "<path>:<line>:<col>: invalid JSON: <err>".
// src is the document from its start, as bytes.NewReader(data) or the
// reopened file; it is read only as far as the error (to the end for an
// unexpected EOF), never held in memory. Errors that carry no position are
// wrapped as "<path>: invalid JSON: <err>"; a nil err returns nil. The import
// stage reuses this for its streamed targets reader.
func jsonErrorPosition(path string, src io.Reader, err error) error {
	if err == nil {
		return nil
	}
	var (
		offset int64 = -2 // -2: no position, -1: end of input
		bad          = -1 // the offending byte, when the message names it
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
		if strings.HasPrefix(syn.Error(), "unexpected end of JSON input") {
			offset = -1
		} else {
			bad = badChar(syn.Error())
		}
	case errors.As(err, &typ):
		offset = typ.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		offset = -1
	}
	fe := &FileFormatError{Path: path, Msg: "invalid JSON: " + jsonErrorText(err), Err: err}
	if offset == -2 || src == nil {
		return fe
	}
	if line, col, ok := lineColumn(src, offset, bad); ok {
		fe.Line, fe.Column = line, col
	}
	return fe
}

func jsonErrorText(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// badChar returns the byte an "invalid character 'x' …" message names, or -1.
func badChar(msg string) int {
	rest, ok := strings.CutPrefix(msg, "invalid character ")
	if !ok {
		return -1
	}
	for k := 3; k <= 8 && k <= len(rest); k++ { // 'x' … '\u2028'
		if s, err := strconv.Unquote(rest[:k]); err == nil {
			if len(s) == 1 {
				return int(s[0])
			}
			return -1
		}
	}
	return -1
}

// lineColumn finds the 1-based line and column (in bytes) an error offset
// points at. encoding/json means "after reading offset bytes" from its
// scanner (the bad byte is at offset-1) but the offset of the bad byte itself
// from Decoder.Token, so when the message names the bad byte (bad >= 0) the
// one of the two that matches is taken; otherwise offset-1. offset -1 means
// the end of input: the position just after the last byte.
func lineColumn(src io.Reader, offset int64, bad int) (line, col int, ok bool) {
	r := bufio.NewReader(src)
	type at struct {
		line, col int
		c         byte
	}
	var prev, cur at // the bytes at index pos-2 and pos-1
	line, col = 1, 0
	for pos := int64(0); offset < 0 || pos <= offset; pos++ {
		c, err := r.ReadByte()
		if err != nil {
			if offset >= 0 && pos < offset {
				return 0, 0, false // the file is shorter than the offset
			}
			break
		}
		if pos > 0 && cur.c == '\n' {
			line, col = line+1, 0
		}
		col++
		prev, cur = cur, at{line, col, c}
		if offset >= 0 && pos == offset {
			// cur is the byte at offset, prev the one before.
			if offset > 0 && (bad < 0 || int(prev.c) == bad) {
				return prev.line, prev.col, true
			}
			return cur.line, cur.col, true
		}
	}
	switch {
	case cur.line == 0: // empty input
		return 1, 1, true
	case offset < 0 && cur.c == '\n':
		return cur.line + 1, 1, true
	case offset < 0:
		return cur.line, cur.col + 1, true
	default: // offset is the length of the input: the last byte
		return cur.line, cur.col, true
	}
}

// readJSONRows reads a whole (small) data file and returns the rows of its
// top-level array key. Errors are *FileFormatError.
func readJSONRows(path, key string) ([]json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, &FileFormatError{Path: path, Msg: fmt.Sprintf("want a JSON object with the key %q, got %s", key, typ.Value), Err: err}
		}
		return nil, jsonErrorPosition(path, bytes.NewReader(data), err)
	}
	if top == nil {
		return nil, &FileFormatError{Path: path, Msg: fmt.Sprintf("want a JSON object with the key %q, got null", key)}
	}
	if err := duplicateKey(path, data, ""); err != nil {
		return nil, err
	}
	raw, ok := top[key]
	if !ok {
		return nil, &FileFormatError{Path: path, Msg: fmt.Sprintf("missing the top-level key %q", key)}
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil || rows == nil {
		return nil, &FileFormatError{Path: path, Where: key, Msg: "want an array of objects, got " + jsonKind(raw), Err: err}
	}
	if len(rows) == 0 {
		return nil, &FileFormatError{Path: path, Msg: fmt.Sprintf("%q is empty: nothing to do", key)}
	}
	return rows, nil
}

// duplicateKey is a *FileFormatError naming the first key written twice in
// one object of data (valid JSON, at where in the file), or nil.
func duplicateKey(path string, data []byte, where string) error {
	var de *jsondup.Error
	if err := jsondup.Check(data, where); errors.As(err, &de) {
		return &FileFormatError{Path: path, Where: de.Where, Msg: de.Error() + ": the file is ambiguous (readers disagree on which one counts); keep one", Err: err}
	}
	return nil
}

// decodeRow decodes one row into dst after checking that each required
// field is present and a non-empty string. anyOf, if given, needs at least
// one of its fields (e.g. "workspace" or "name").
func decodeRow(path, key string, i int, raw json.RawMessage, dst any, required []string, anyOf []string) error {
	where := fmt.Sprintf("%s[%d]", key, i)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return &FileFormatError{Path: path, Where: where, Msg: "want an object, got " + jsonKind(raw), Err: err}
	}
	stringField := func(name string) (present bool, err error) {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return false, nil
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return true, &FileFormatError{Path: path, Where: where, Msg: fmt.Sprintf("%q: want a string, got %s", name, jsonKind(v))}
		}
		if strings.TrimSpace(s) == "" {
			return true, &FileFormatError{Path: path, Where: where, Msg: fmt.Sprintf("%q is empty", name)}
		}
		return true, nil
	}
	for _, name := range required {
		present, err := stringField(name)
		if err != nil {
			return err
		}
		if !present {
			return &FileFormatError{Path: path, Where: where, Msg: fmt.Sprintf("missing %q", name)}
		}
	}
	if len(anyOf) > 0 {
		found := false
		for _, name := range anyOf {
			present, err := stringField(name)
			if err != nil {
				return err
			}
			found = found || present
		}
		if !found {
			return &FileFormatError{Path: path, Where: where, Msg: "missing " + quoteJoin(anyOf, " or ")}
		}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			field := typ.Field
			// A bad value inside an object field (integrations): name its key.
			var members map[string]json.RawMessage
			if json.Unmarshal(fields[field], &members) == nil {
				for _, k := range slices.Sorted(maps.Keys(members)) {
					if strings.TrimPrefix(jsonKind(members[k]), "a ") == typ.Value {
						field += "." + k
						break
					}
				}
			}
			return &FileFormatError{Path: path, Where: where, Msg: fmt.Sprintf("%q: want %s, got %s", field, jsonGoKind(typ.Type.Kind().String()), typ.Value), Err: err}
		}
		return &FileFormatError{Path: path, Where: where, Msg: err.Error(), Err: err}
	}
	return nil
}

func quoteJoin(names []string, sep string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, sep)
}

func jsonGoKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	default:
		return "a number"
	}
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// ReadOrgsDataFile reads an orgs data file (ours or the original's). Every
// row needs "name" and "groupId". Errors are *FileFormatError or I/O errors.
func ReadOrgsDataFile(path string) ([]OrgRow, error) {
	rows, err := readJSONRows(path, "orgs")
	if err != nil {
		return nil, err
	}
	out := make([]OrgRow, len(rows))
	for i, raw := range rows {
		if err := decodeRow(path, "orgs", i, raw, &out[i], []string{"name", "groupId"}, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadCreatedOrgsFile reads a created-orgs file (ours or the original's).
// Every row needs "orgId" and a "workspace" or a "name"; "integrations" may be
// missing (import:data then asks Snyk). Errors are *FileFormatError or I/O
// errors.
func ReadCreatedOrgsFile(path string) ([]CreatedOrg, error) {
	rows, err := readJSONRows(path, "orgData")
	if err != nil {
		return nil, err
	}
	out := make([]CreatedOrg, len(rows))
	for i, raw := range rows {
		if err := decodeRow(path, "orgData", i, raw, &out[i], []string{"orgId"}, []string{"workspace", "name"}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// newJSONEncoder returns the encoder every generated file uses: no HTML
// escaping, indent as given.
func newJSONEncoder(w io.Writer, prefix, indent string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent(prefix, indent)
	}
	return enc
}

// WriteOrgsDataFile writes an orgs data file atomically, indented.
func WriteOrgsDataFile(path string, rows []OrgRow) error {
	if rows == nil {
		rows = []OrgRow{}
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		return newJSONEncoder(w, "", "  ").Encode(OrgsDataFile{Orgs: rows})
	})
}

// WriteCreatedOrgsFile writes a created-orgs file atomically, indented;
// a nil integrations map is written as {}.
func WriteCreatedOrgsFile(path string, orgs []CreatedOrg) error {
	rows := make([]CreatedOrg, len(orgs))
	for i, o := range orgs {
		if o.Integrations == nil {
			o.Integrations = map[string]string{}
		}
		rows[i] = o
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		return newJSONEncoder(w, "", "  ").Encode(CreatedOrgsFile{OrgData: rows})
	})
}

// EncodeLine is v as one line of compact JSON, HTML characters unescaped,
// newline included: a line of a JSON-lines log.
func EncodeLine(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := newJSONEncoder(&b, "", "").Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Layout of the targets file: one target per line inside an indented array.
const (
	targetsHeader      = "{\n  \"targets\": ["
	targetsFooter      = "\n  ]\n}\n"
	targetsEmptyFooter = "]\n}\n"
	TargetsLinePrefix  = "\n    "
)

// TargetLineEncoder encodes targets as single lines (no trailing newline),
// reusing one buffer: it is the hot path of a large estate.
type TargetLineEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// NewTargetLineEncoder is an encoder of one target per line.
func NewTargetLineEncoder() *TargetLineEncoder {
	e := &TargetLineEncoder{}
	e.enc = newJSONEncoder(&e.buf, "", "")
	return e
}

// Line returns the encoding of t, valid until the next call.
func (e *TargetLineEncoder) Line(t *TargetEntry) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(t); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), nil
}

// TargetsWriter streams a targets file: header, one line per target,
// footer. Memory does not grow with the number of targets.
type TargetsWriter struct {
	w     *bufio.Writer
	enc   *TargetLineEncoder
	count int
}

// NewTargetsWriter writes the header to w and returns the writer of the
// rest.
func NewTargetsWriter(w io.Writer) (*TargetsWriter, error) {
	tw := &TargetsWriter{w: bufio.NewWriterSize(w, 64<<10), enc: NewTargetLineEncoder()}
	_, err := tw.w.WriteString(targetsHeader)
	return tw, err
}

// Write appends one target.
func (tw *TargetsWriter) Write(t *TargetEntry) error {
	line, err := tw.enc.Line(t)
	if err != nil {
		return err
	}
	return tw.WriteLine(line)
}

// WriteLine appends one already encoded target line.
func (tw *TargetsWriter) WriteLine(line []byte) error {
	sep := TargetsLinePrefix
	if tw.count > 0 {
		sep = "," + TargetsLinePrefix
	}
	tw.count++
	if _, err := tw.w.WriteString(sep); err != nil {
		return err
	}
	_, err := tw.w.Write(line)
	return err
}

// AppendSegment copies a file of count encoded targets, each
// preceded by "," + TargetsLinePrefix (as import:data's listing workers
// write them), into the file, dropping the very first comma.
func (tw *TargetsWriter) AppendSegment(path string, count int) error {
	if count == 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	if tw.count == 0 {
		if _, err := r.Discard(1); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	if _, err := tw.w.ReadFrom(r); err != nil {
		return err
	}
	tw.count += count
	return nil
}

// Close writes the footer and flushes; it does not close the underlying writer.
func (tw *TargetsWriter) Close() error {
	footer := targetsFooter
	if tw.count == 0 {
		footer = targetsEmptyFooter
	}
	if _, err := tw.w.WriteString(footer); err != nil {
		return err
	}
	return tw.w.Flush()
}

// SortedIntegrationKeys returns an integrations map's keys in order.
func SortedIntegrationKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// utf8BOM is the byte order mark some Windows editors put at the start of a
// UTF-8 file; JSON does not allow it, so it is dropped before decoding (it
// was refused as "invalid character 'ï'").
var utf8BOM = []byte("\xef\xbb\xbf")

// skipBOM drops a leading UTF-8 byte order mark from r.
func skipBOM(r *bufio.Reader) *bufio.Reader {
	if b, err := r.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = r.Discard(len(utf8BOM))
	}
	return r
}
