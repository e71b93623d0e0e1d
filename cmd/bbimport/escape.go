package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Text from servers (error bodies, userMessage, names) and from input files
// reaches people through three doors: stdout, text-format log lines and the
// final "bbimport:" line. Each escapes it here, so a hostile or broken
// server cannot drive the terminal (OSC 52 writing the clipboard, ESC[2J
// clearing the screen, CR overwriting a line, BEL). JSON output needs none
// of this: JSON escapes control characters itself, and stays exact.

// termSafe shows every character a terminal would act on in visible form:
// C0 controls as \r, \a, \x1b, …; DEL; C1 controls and the bidirectional
// overrides as \u009b, \u202e; invalid UTF-8 bytes as \xff. keepLines
// keeps \n (and \t) for multi-line output; a log line escapes those too.
func termSafe(s string, keepLines bool) string {
	i := firstUnsafe(s, keepLines)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r, keepLines):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func firstUnsafe(s string, keepLines bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if unsafeRune(rune(c), keepLines) {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r, keepLines) {
			return i
		}
		i += size
	}
	return -1
}

func unsafeRune(r rune, keepLines bool) bool {
	switch {
	case r == '\n' || r == '\t':
		return !keepLines
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true // bidi embeddings, overrides and isolates reorder what is shown
	}
	return false
}

func escapeRune(r rune) string {
	switch r {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	if r < 0x80 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// safeWriter escapes everything written to w except line breaks: stdout
// carries only our own words and the server or file text inside them.
// Callers write whole strings (fmt.Fprintf), so a rune is never split
// across two writes.
type safeWriter struct{ w io.Writer }

func (s safeWriter) Write(p []byte) (int, error) {
	str := string(p)
	if firstUnsafe(str, true) < 0 {
		return s.w.Write(p)
	}
	if _, err := io.WriteString(s.w, termSafe(str, true)); err != nil {
		return 0, err
	}
	return len(p), nil
}
