package sim

import (
	"fmt"
	"strings"
	"time"
)

// ---- q= : a small BBQL subset ----
//
//	expr       := and { OR and }
//	and        := primary { AND primary }
//	primary    := "(" expr ")" | field op value
//	op         := = != > >= < <= ~ !~
//	value      := "quoted" | true | false | null | bare word (dates, numbers)
//
// Fields: updated_on, created_on (dates: 2024-01-01, RFC 3339 with or without
// fraction/zone); is_private, has_issues, has_wiki (booleans); slug, name,
// full_name, uuid, language, scm, fork_policy, project.key, project.name,
// project.uuid, workspace.slug, mainbranch.name, parent.full_name (strings; ~
// is a case-insensitive "contains"); parent, mainbranch (only = null, != null).

// bbExpr is a compiled q expression.
type bbExpr interface {
	eval(r *BitbucketRepo) bool
}

type bbOr []bbExpr
type bbAnd []bbExpr
type bbCmp func(r *BitbucketRepo) bool

func (e bbOr) eval(r *BitbucketRepo) bool {
	for _, x := range e {
		if x.eval(r) {
			return true
		}
	}
	return false
}

func (e bbAnd) eval(r *BitbucketRepo) bool {
	for _, x := range e {
		if !x.eval(r) {
			return false
		}
	}
	return true
}

func (f bbCmp) eval(r *BitbucketRepo) bool { return f(r) }

type bbToken struct {
	kind byte // '(' ')' 'o' (operator) 's' (quoted string) 'w' (word)
	text string
}

func bbLex(q string) ([]bbToken, error) {
	var toks []bbToken
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, bbToken{kind: c})
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(q) && q[j] != '"'; j++ {
				if q[j] == '\\' && j+1 < len(q) {
					j++
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, fmt.Errorf("unterminated string at offset %d", i)
			}
			toks = append(toks, bbToken{kind: 's', text: b.String()})
			i = j + 1
		case strings.IndexByte("=!<>~", c) >= 0:
			op := string(c)
			if i+1 < len(q) && (q[i+1] == '=' || (c == '!' && q[i+1] == '~')) {
				op = q[i : i+2]
			}
			if op == "!" {
				return nil, fmt.Errorf("unexpected '!' at offset %d", i)
			}
			toks = append(toks, bbToken{kind: 'o', text: op})
			i += len(op)
		default:
			j := i
			for j < len(q) && strings.IndexByte(" \t\n\r()\"=!<>~", q[j]) < 0 {
				j++
			}
			toks = append(toks, bbToken{kind: 'w', text: q[i:j]})
			i = j
		}
	}
	return toks, nil
}

type bbParser struct {
	toks []bbToken
	pos  int
}

// parseBBQL compiles a q= expression.
func parseBBQL(q string) (bbExpr, error) {
	toks, err := bbLex(q)
	if err != nil {
		return nil, err
	}
	p := &bbParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return e, nil
}

func (p *bbParser) keyword(k string) bool {
	if p.pos < len(p.toks) && p.toks[p.pos].kind == 'w' && strings.EqualFold(p.toks[p.pos].text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *bbParser) or() (bbExpr, error) {
	var list bbOr
	for {
		e, err := p.and()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.keyword("OR") {
			break
		}
	}
	if len(list) == 1 {
		return list[0], nil
	}
	return list, nil
}

func (p *bbParser) and() (bbExpr, error) {
	var list bbAnd
	for {
		e, err := p.primary()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.keyword("AND") {
			break
		}
	}
	if len(list) == 1 {
		return list[0], nil
	}
	return list, nil
}

func (p *bbParser) next() (bbToken, bool) {
	if p.pos >= len(p.toks) {
		return bbToken{}, false
	}
	p.pos++
	return p.toks[p.pos-1], true
}

func (p *bbParser) primary() (bbExpr, error) {
	t, ok := p.next()
	if !ok {
		return nil, fmt.Errorf("unexpected end of query")
	}
	if t.kind == '(' {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if c, ok := p.next(); !ok || c.kind != ')' {
			return nil, fmt.Errorf("missing ')'")
		}
		return e, nil
	}
	if t.kind != 'w' {
		return nil, fmt.Errorf("expected a field name, got %q", t.text)
	}
	op, ok := p.next()
	if !ok || op.kind != 'o' {
		return nil, fmt.Errorf("expected an operator after %q", t.text)
	}
	v, ok := p.next()
	if !ok || (v.kind != 'w' && v.kind != 's') {
		return nil, fmt.Errorf("expected a value after %s%s", t.text, op.text)
	}
	return bbCompare(t.text, op.text, v)
}

// bbCompare compiles one comparison.
func bbCompare(field, op string, v bbToken) (bbExpr, error) {
	bad := func() (bbExpr, error) {
		return nil, fmt.Errorf("invalid comparison %s %s %s", field, op, v.text)
	}
	isNull := v.kind == 'w' && v.text == "null"
	switch field {
	case "updated_on", "created_on":
		t, err := bbParseTime(v.text)
		if err != nil {
			return nil, fmt.Errorf("invalid date %q for %s", v.text, field)
		}
		get := func(r *BitbucketRepo) time.Time { return r.UpdatedOn }
		if field == "created_on" {
			get = func(r *BitbucketRepo) time.Time { return r.CreatedOn }
		}
		var f func(c int) bool
		switch op {
		case "=":
			f = func(c int) bool { return c == 0 }
		case "!=":
			f = func(c int) bool { return c != 0 }
		case ">":
			f = func(c int) bool { return c > 0 }
		case ">=":
			f = func(c int) bool { return c >= 0 }
		case "<":
			f = func(c int) bool { return c < 0 }
		case "<=":
			f = func(c int) bool { return c <= 0 }
		default:
			return bad()
		}
		return bbCmp(func(r *BitbucketRepo) bool { return f(get(r).Compare(t)) }), nil
	case "is_private", "has_issues", "has_wiki":
		if v.kind != 'w' || (v.text != "true" && v.text != "false") || (op != "=" && op != "!=") {
			return bad()
		}
		want := (v.text == "true") == (op == "=")
		return bbCmp(func(r *BitbucketRepo) bool {
			got := false
			if field == "is_private" {
				got = r.IsPrivate
			}
			return got == want
		}), nil
	case "parent", "mainbranch":
		if !isNull || (op != "=" && op != "!=") {
			return bad()
		}
		return bbCmp(func(r *BitbucketRepo) bool {
			null := r.Parent == ""
			if field == "mainbranch" {
				null = r.MainBranch == ""
			}
			return null == (op == "=")
		}), nil
	}
	get, ok := bbStringFields[field]
	if !ok {
		return nil, fmt.Errorf("invalid field name %q", field)
	}
	want := v.text
	if isNull {
		want = ""
	}
	switch op {
	case "=", "!=":
		return bbCmp(func(r *BitbucketRepo) bool { return (get(r) == want) == (op == "=") }), nil
	case "~", "!~":
		lw := strings.ToLower(want)
		return bbCmp(func(r *BitbucketRepo) bool {
			return strings.Contains(strings.ToLower(get(r)), lw) == (op == "~")
		}), nil
	}
	return bad()
}

var bbStringFields = map[string]func(r *BitbucketRepo) string{
	"slug":             func(r *BitbucketRepo) string { return r.Slug },
	"name":             func(r *BitbucketRepo) string { return r.Name },
	"full_name":        func(r *BitbucketRepo) string { return r.FullName },
	"uuid":             func(r *BitbucketRepo) string { return r.UUID },
	"language":         func(r *BitbucketRepo) string { return r.Language },
	"scm":              func(r *BitbucketRepo) string { return "git" },
	"fork_policy":      func(r *BitbucketRepo) string { return bbForkPolicy(r) },
	"project.key":      func(r *BitbucketRepo) string { return r.ProjectKey },
	"project.name":     func(r *BitbucketRepo) string { return r.ProjectName },
	"project.uuid":     func(r *BitbucketRepo) string { return r.ProjectUUID },
	"workspace.slug":   func(r *BitbucketRepo) string { return r.Workspace },
	"mainbranch.name":  func(r *BitbucketRepo) string { return r.MainBranch },
	"parent.full_name": func(r *BitbucketRepo) string { return r.Parent },
	"owner.username":   func(r *BitbucketRepo) string { return r.Workspace },
}

func bbForkPolicy(r *BitbucketRepo) string {
	if r.IsPrivate {
		return "no_public_forks"
	}
	return "allow_forks"
}

// bbParseTime accepts the date forms BBQL does.
func bbParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// ---- fields= : partial responses ----

// bbFields is a parsed fields= list: a tree of selected paths plus removals.
type bbFields struct {
	sel    *bbFieldNode // nil = everything
	remove [][]string
}

type bbFieldNode struct {
	all  bool
	kids map[string]*bbFieldNode
}

// parseFields parses "next,values.slug,-values.links,+values.owner". Plain
// entries select (only they are returned); "+x" adds to the selection (a
// no-op without plain entries, since everything is returned); "-x" removes;
// "*" matches any key at its level.
func parseFields(s string) *bbFields {
	f := &bbFields{}
	var selects [][]string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case strings.HasPrefix(e, "-"):
			if p := e[1:]; p != "" {
				f.remove = append(f.remove, strings.Split(p, "."))
			}
		case strings.HasPrefix(e, "+"):
			if p := e[1:]; p != "" {
				selects = append(selects, strings.Split(p, "."))
			}
		default:
			selects = append(selects, strings.Split(e, "."))
			if f.sel == nil {
				f.sel = &bbFieldNode{}
			}
		}
	}
	if f.sel != nil {
		for _, p := range selects {
			f.sel.add(p)
		}
	}
	return f
}

func (n *bbFieldNode) add(path []string) {
	for _, seg := range path {
		if n.all {
			return
		}
		if n.kids == nil {
			n.kids = map[string]*bbFieldNode{}
		}
		c := n.kids[seg]
		if c == nil {
			c = &bbFieldNode{}
			n.kids[seg] = c
		}
		n = c
	}
	n.all, n.kids = true, nil
}

// pick returns the part of v the node selects.
func (n *bbFieldNode) pick(v any) any {
	if n.all {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range v {
			c := n.kids[k]
			if c == nil {
				c = n.kids["*"]
			}
			if c != nil {
				out[k] = c.pick(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = n.pick(e)
		}
		return out
	case map[string]string:
		out := map[string]any{}
		for k, val := range v {
			if n.kids[k] != nil || n.kids["*"] != nil {
				out[k] = val
			}
		}
		return out
	}
	return v
}

// valueKeys says which top-level keys of each item in `values` the
// selection needs (nil = all of them). Safe on a nil *bbFields.
func (f *bbFields) valueKeys() func(string) bool {
	if f == nil || f.sel == nil {
		return nil
	}
	v := f.sel.kids["values"]
	if v == nil {
		v = f.sel.kids["*"]
	}
	switch {
	case v == nil:
		return func(string) bool { return false }
	case v.all:
		return nil
	}
	return func(k string) bool { return v.kids[k] != nil || v.kids["*"] != nil }
}

// apply trims a response body.
func (f *bbFields) apply(body map[string]any) any {
	var out any = body
	if f.sel != nil {
		out = f.sel.pick(body)
	}
	for _, p := range f.remove {
		bbRemove(out, p)
	}
	return out
}

// bbRemove deletes path from v (through arrays). The body is built per
// request, so deleting in place is safe.
func bbRemove(v any, path []string) {
	if len(path) == 0 {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			if path[0] == "*" {
				clear(v)
			} else {
				delete(v, path[0])
			}
			return
		}
		for k, val := range v {
			if k == path[0] || path[0] == "*" {
				bbRemove(val, path[1:])
			}
		}
	case []any:
		for _, e := range v {
			bbRemove(e, path)
		}
	case map[string]string:
		if len(path) == 1 {
			delete(v, path[0])
		}
	}
}
