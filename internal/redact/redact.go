// Package redact scrubs secrets from text before it reaches a log: the
// literal values of known secrets, wherever and however encoded they appear,
// and the values of credential-shaped fields (Authorization headers, OAuth
// token fields, passwords) whatever their value.
package redact

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every secret.
const Mask = "[REDACTED]"

// minSecretLen is the shortest value treated as a secret: masking "abc"
// everywhere would shred ordinary text and protect nothing.
const minSecretLen = 4

// Redactor scrubs text. The zero value knows no literal secrets but still
// masks credential fields. It is safe for concurrent use.
type Redactor struct {
	mu      sync.Mutex // serialises Add
	secrets []string   // every form of every secret, guarded by mu
	lits    atomic.Pointer[strings.Replacer]
}

// New returns a Redactor that knows the given secret values. Empty values
// and values shorter than 4 characters are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.add(secrets...)
	return r
}

// Add teaches r one more secret value, such as a token obtained at run time.
// Empty values and values shorter than 4 characters are ignored.
func (r *Redactor) Add(secret string) { r.add(secret) }

func (r *Redactor) add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.secrets)
	for _, s := range secrets {
		if len(strings.TrimSpace(s)) < minSecretLen {
			continue
		}
		for _, f := range forms(s) {
			if !slices.Contains(r.secrets, f) {
				r.secrets = append(r.secrets, f)
			}
		}
	}
	if len(r.secrets) == n {
		return
	}
	// strings.Replacer tries its patterns in argument order, so the longest
	// go first: a secret that contains another is masked whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Mask)
	}
	r.lits.Store(strings.NewReplacer(pairs...))
}

// forms lists how a secret can appear in text we log: as is, trimmed (env
// values pasted with a newline), percent-encoded in URLs and forms (either
// hex case), and escaped inside JSON strings (with and without HTML escaping).
func forms(s string) []string {
	out := []string{s}
	if t := strings.TrimSpace(s); t != s {
		out = append(out, t)
		s = t
	}
	for _, e := range []string{url.QueryEscape(s), url.PathEscape(s)} {
		out = append(out, e, lowerHex(e))
	}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(s) == nil {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:])
		}
	}
	return slices.Compact(out)
}

// lowerHex rewrites %2F as %2f: decoders accept both.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = toLower(b[i+1])
			b[i+2] = toLower(b[i+2])
		}
	}
	return string(b)
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// String returns s with every secret replaced by Mask.
func (r *Redactor) String(s string) string {
	// Field rules first: they keep the field name and scheme ("Bearer
	// [REDACTED]"), and a literal mask in the middle of a value could
	// otherwise end a rule's match early and leave the rest of the value.
	s = scrubFields(s)
	if lits := r.lits.Load(); lits != nil {
		s = lits.Replace(s)
	}
	return s
}

// Writer returns a writer that scrubs each Write before passing it to w. A
// secret split across two Writes is not recognised; zerolog writes one whole
// event per Write. It holds no state, so concurrent Writes are as safe as w's.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &writer{r: r, w: w}
}

type writer struct {
	r *Redactor
	w io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.String(string(p))); err != nil {
		return 0, err
	}
	// Report the caller's length: the scrubbed text differs in size, and a
	// short count would look like a failed write.
	return len(p), nil
}
