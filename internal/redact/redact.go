package redact

import (
	"bytes"
	"encoding/base64"
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

// MinSafeLen is the shortest secret masked wherever it appears. A shorter
// one (a test consumer's "a", a 6-letter password) is masked only where it
// stands as a whole token: masked inside words, "a" turned invalid_client
// into "inv[REDACTED]lid_client", mangling the hint and showing where the
// secret was missing. Such a secret cannot be kept out of every log
// (inside a longer token it stays), which doctor says.
const MinSafeLen = 8

// Redactor scrubs text. The zero value knows no literal secrets but still
// masks credential fields. It is safe for concurrent use.
type Redactor struct {
	mu      sync.Mutex // serialises Add
	secrets []string   // every form of every secret, guarded by mu
	short   []string   // forms shorter than MinSafeLen, guarded by mu
	lits    atomic.Pointer[strings.Replacer]
	tokens  atomic.Pointer[[]string] // short, longest first
}

// New returns a Redactor that knows the given secret values. Empty and
// all-space values are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.add(secrets...)
	return r
}

// Add teaches r one more secret value, such as a token obtained at run time.
// Empty and all-space values are ignored.
func (r *Redactor) Add(secret string) { r.add(secret) }

// AddBasic teaches r the HTTP Basic credentials of user and password as
// they go on the wire: base64 of "user:password", and base64 of the
// URL-encoded pair, which is what golang.org/x/oauth2 sends to a token
// endpoint (AuthStyleInHeader escapes both with url.QueryEscape first).
func (r *Redactor) AddBasic(user, password string) {
	if password == "" {
		return
	}
	r.add(
		base64.StdEncoding.EncodeToString([]byte(user+":"+password)),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user)+":"+url.QueryEscape(password))),
	)
}

func (r *Redactor) add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ns := len(r.secrets), len(r.short)
	for _, s := range secrets {
		if strings.TrimSpace(s) == "" {
			continue
		}
		short := len(strings.TrimSpace(s)) < MinSafeLen
		for _, f := range forms(s, short) {
			switch {
			case short || len(f) < MinSafeLen:
				// Every form of a short secret is a whole-token match: its
				// base64 ("YQ==") would otherwise be cut out of longer text.
				if !slices.Contains(r.short, f) {
					r.short = append(r.short, f)
				}
			case !slices.Contains(r.secrets, f):
				r.secrets = append(r.secrets, f)
			}
		}
	}
	if len(r.short) != ns {
		slices.SortFunc(r.short, func(a, b string) int { return len(b) - len(a) })
		short := slices.Clone(r.short)
		r.tokens.Store(&short)
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
// hex case), escaped inside JSON strings up to four times over (a JSON body logged
// as a string inside a JSON log line, and so on; with and without HTML
// escaping), and
// base64 (standard and URL alphabets, padded or not; only padded for a
// short secret, whose unpadded base64 of 2 to 4 characters says too little).
func forms(s string, short bool) []string {
	out := []string{s}
	if t := strings.TrimSpace(s); t != s {
		out = append(out, t)
		s = t
	}
	for _, e := range []string{url.QueryEscape(s), url.PathEscape(s)} {
		out = append(out, e, lowerHex(e))
	}
	for _, html := range []bool{true, false} {
		// Up to four levels: a server's JSON body (1) quoting a JSON
		// document (2), logged as a string in a JSON line (3), inside the
		// body of a trace line (4).
		e := s
		for range maxJSONDepth {
			e = jsonEscape(e, html)
			out = append(out, e)
		}
	}
	encodings := []*base64.Encoding{base64.StdEncoding, base64.URLEncoding}
	if !short {
		encodings = append(encodings, base64.RawStdEncoding, base64.RawURLEncoding)
	}
	for _, enc := range encodings {
		out = append(out, enc.EncodeToString([]byte(s)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// maxJSONDepth is how many times over a secret may be JSON-escaped.
const maxJSONDepth = 4

// jsonEscape is s as it appears inside a JSON string, quotes left off.
func jsonEscape(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if enc.Encode(s) != nil {
		return s
	}
	return strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
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
	if tokens := r.tokens.Load(); tokens != nil {
		for _, t := range *tokens {
			s = replaceTokens(s, t)
		}
	}
	return s
}

// replaceTokens masks the occurrences of t in s that are whole tokens: not
// preceded or followed by a character that could continue a word, an
// identifier or a token (letters, digits, "-", "_", ".", "~", "+", "/").
// So a secret "a" is masked in `"secret":"a"`, `client_secret=a&` and
// "Basic a", never inside "bad" or "a.example.com".
func replaceTokens(s, t string) string {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, t)
		if i < 0 {
			break
		}
		end := i + len(t)
		before := len(s) - len(rest) + i
		if (before == 0 || !tokenByte(s[before-1])) && (end == len(rest) || !tokenByte(rest[end])) {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(rest[:i])
			b.WriteString(Mask)
		} else {
			b.WriteString(rest[:end])
		}
		rest = rest[end:]
	}
	if b.Len() == 0 && rest == s {
		return s
	}
	b.WriteString(rest)
	return b.String()
}

func tokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("-_.~+/", c) >= 0
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
