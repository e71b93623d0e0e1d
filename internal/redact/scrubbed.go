package redact

import "strings"

// Error is an error whose text had secrets masked. It keeps the cause, so
// that errors.Is and errors.As still see through it: the retry policy must
// tell a certificate error (final) from a dropped connection (retried) even
// when the text of either had to be cleaned.
type Error struct {
	Msg string // the cleaned text
	Err error  // the cause, whose own text may hold the secret
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Literal replaces every occurrence of each non-empty secret in s with
// [Mask]; one shorter than [MinSafeLen] only where it is a whole token, as
// the [Redactor] does. It is for a library that knows its one secret and no
// encodings; the command's [Redactor] knows every form of every secret.
func Literal(s string, secrets ...string) string {
	for _, v := range secrets {
		switch {
		case v == "":
		case len(v) < MinSafeLen:
			s = replaceTokens(s, v)
		default:
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}
