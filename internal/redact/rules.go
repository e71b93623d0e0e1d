package redact

import (
	"regexp"
	"strings"
)

// keys are field names whose values are credentials whatever they look like.
const keys = `access_token|accesstoken|refresh_token|refreshtoken|id_token|client_secret|clientsecret|token|password|passwd|api_key|apikey`

// keyHints are lower-case words one of which every key contains.
var keyHints = []string{"token", "secret", "passw", "key"}

// rules are tried in order; hints are lower-case words without which a rule
// cannot match, checked first to keep most log lines away from the regexps.
var rules = []struct {
	re    *regexp.Regexp
	repl  string
	hints []string
}{
	// Authorization and Proxy-Authorization in header dumps ("Authorization:
	// Bearer x"), JSON ("authorization":"token x"), http.Header as JSON or
	// %v (["Basic x"], map[Authorization:[Basic x]]) and key=value logs. The
	// scheme stays visible; the value ends at a quote, backslash (escaped
	// quote), bracket or line end, so JSON around it stays valid.
	{regexp.MustCompile(`(?i)(authorization\\?"?\s*[:=]\s*\[?\s*(?:\\?")?\s*)((?:bearer|basic|token|digest|negotiate)\s+)?[^\s"\\\]\}]([^\r\n"\\\]\}]*[^\s"\\\]\}])?`),
		"${1}${2}" + Mask, []string{"authorization"}},
	// JSON fields: "access_token": "…", with escaped quotes inside the value.
	{regexp.MustCompile(`(?i)("(?:` + keys + `)"\s*:\s*")(?:[^"\\]|\\.)*"`), "${1}" + Mask + `"`, keyHints},
	// The same inside a JSON string (a logged body): \"access_token\":\"…\".
	// A backslash inside the value escapes the next character; \" ends it.
	{regexp.MustCompile(`(?i)(\\"(?:` + keys + `)\\"\s*:\s*\\")(?:[^"\\]|\\[^"])*`), "${1}" + Mask, keyHints},
	// Forms, query strings and key=value logs: access_token=…&.
	{regexp.MustCompile(`(?i)((?:^|[?&;,\s{(\[])(?:` + keys + `)=)[^&\s"'\\#;]+`), "${1}" + Mask, keyHints},
	// Quoted key=value: password="…". (Not `token: …`: that is how people
	// write prose such as "Snyk token: not checked"; literal values and
	// the field forms above cover real secrets.)
	{regexp.MustCompile(`(?i)((?:^|[\s{(\[,;])(?:` + keys + `)\s*=\s*")[^"\r\n]*`), "${1}" + Mask, keyHints},
	// Passwords in URLs: https://user:secret@host.
	{regexp.MustCompile(`(://[^/\s:@"]+:)[^/\s@"]+@`), "${1}" + Mask + "@", []string{"@"}},
}

func scrubFields(s string) string {
	for _, r := range rules {
		if containsAny(s, r.hints) {
			s = r.re.ReplaceAllString(s, r.repl)
		}
	}
	return s
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if containsFold(s, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring case, without allocating a lowered copy of s.
func containsFold(s, sub string) bool {
	first, upper := sub[0], sub[0]
	if 'a' <= first && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if (s[i] == first || s[i] == upper) && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
