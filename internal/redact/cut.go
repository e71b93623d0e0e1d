package redact

import "unicode/utf8"

// Cut returns s cut to at most max bytes plus "…", for server text that
// must fit a line. The cut never falls inside a token (a run of letters,
// digits, non-ASCII and -_.~+/=%\, what a secret and its encoded forms
// are made of): it moves back to the token's start. Cut in half, a secret
// echoed by a server would leave its head in the line, which no redactor
// recognises; whole, or gone, it does not. A token that fills all of max is
// dropped whole.
func Cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && cutByte(s[i-1]) && cutByte(s[i]) {
		i--
	}
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// CutRunes is Cut at max runes.
func CutRunes(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return Cut(s, i)
		}
		n++
	}
	return s
}

func cutByte(c byte) bool { return tokenByte(c) || c == '=' || c == '%' || c == '\\' }
