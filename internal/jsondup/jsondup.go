// Package jsondup finds duplicate keys in JSON documents. encoding/json
// takes the last of two equal keys, and matches struct fields ignoring
// case, while jq, Node and most readers take the first or keep both: a file
// with two "targets" keys imported one list for bbimport and showed another
// to the person who checked it with jq. Every input file is checked, and a
// duplicate is an error naming the key.
package jsondup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a key that appears twice in one object (ignoring case, as
// encoding/json matches struct fields).
type Error struct {
	// Where is the object's place in the document, e.g. `targets[3].target`;
	// "" for the top-level object.
	Where string
	// Key is the key as first written; Again as written the second time.
	Key, Again string
}

func (e *Error) Error() string {
	if e.Again != e.Key {
		return fmt.Sprintf("duplicate key %q (also written %q)", e.Key, e.Again)
	}
	return fmt.Sprintf("duplicate key %q", e.Key)
}

// Check returns an *Error for the first object of data that holds a key
// twice, nil when there is none. data must be valid JSON (decode it first):
// Check does not report syntax errors. where prefixes every Where (the
// place of data in a larger document; "" for a whole document). It
// allocates only for keys written with escapes and for the error: every
// line of a resume log goes through it.
func Check(data []byte, where string) error {
	var buf [8]step
	s := scanner{data: data, where: where, path: buf[:0]}
	return s.value()
}

type scanner struct {
	data  []byte
	i     int
	where string
	// path is the place of the value being read: a key, or an index
	// (key nil), per level; spelled out only for an error.
	path []step
}

type step struct {
	key   []byte
	index int
}

func (s *scanner) skipSpace() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value() error {
	s.skipSpace()
	if s.i >= len(s.data) {
		return nil
	}
	switch s.data[s.i] {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		s.str()
	default:
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return nil
			}
			s.i++
		}
	}
	return nil
}

func (s *scanner) object() error {
	s.i++ // {
	var small [scanKeys][]byte
	keys := small[:0]
	var byFold map[string][]byte // past scanKeys keys: first spelling by fold
	for {
		s.skipSpace()
		if s.i >= len(s.data) || s.data[s.i] == '}' {
			s.i++
			return nil
		}
		if s.data[s.i] == ',' {
			s.i++
			continue
		}
		key := s.key()
		if byFold == nil {
			for _, k := range keys {
				if bytes.EqualFold(k, key) {
					return &Error{Where: s.place(), Key: string(k), Again: string(key)}
				}
			}
			keys = append(keys, key)
			if len(keys) == scanKeys {
				byFold = make(map[string][]byte, 2*len(keys))
				for _, k := range keys {
					byFold[fold(k)] = k
				}
			}
		} else {
			f := fold(key)
			if k, ok := byFold[f]; ok {
				return &Error{Where: s.place(), Key: string(k), Again: string(key)}
			}
			byFold[f] = key
		}
		s.skipSpace()
		s.i++ // :
		s.path = append(s.path, step{key: key})
		err := s.value()
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return err
		}
	}
}

// scanKeys is how many keys of an object are compared one by one; past
// that they are looked up by their fold, as a sync state's object of one
// key per repository would otherwise cost a comparison per pair of keys.
const scanKeys = 16

// fold spells key so that two keys fold to the same string exactly when
// bytes.EqualFold holds for them: each rune (an invalid byte decoding to
// utf8.RuneError, as EqualFold decodes it) as the smallest rune of its
// simple-folding orbit.
func fold(key []byte) string {
	b := make([]byte, 0, len(key))
	for len(key) > 0 {
		r, n := utf8.DecodeRune(key)
		key = key[n:]
		switch {
		case 'a' <= r && r <= 'z':
			r -= 'a' - 'A'
		case r >= utf8.RuneSelf:
			least := r
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				least = min(least, f)
			}
			r = least
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

func (s *scanner) array() error {
	s.i++ // [
	for n := 0; ; n++ {
		s.skipSpace()
		if s.i >= len(s.data) || s.data[s.i] == ']' {
			s.i++
			return nil
		}
		if s.data[s.i] == ',' {
			s.i++
		}
		s.path = append(s.path, step{index: n})
		err := s.value()
		s.path = s.path[:len(s.path)-1]
		if err != nil {
			return err
		}
	}
}

// place spells out the path: `targets[3].target`.
func (s *scanner) place() string {
	var b strings.Builder
	b.WriteString(s.where)
	for _, st := range s.path {
		if st.key == nil {
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(st.key)
	}
	return b.String()
}

// str skips a string and returns its raw text, quotes included.
func (s *scanner) str() []byte {
	start := s.i
	s.i++ // "
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return s.data[start:s.i]
		default:
			s.i++
		}
	}
	return s.data[start:]
}

// key reads an object key, unescaped ("t\u0061rgets" is "targets").
func (s *scanner) key() []byte {
	raw := s.str()
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return raw // cut short: not valid JSON, which is the caller's to say
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	var k string
	if json.Unmarshal(raw, &k) != nil {
		return raw
	}
	return []byte(k)
}
