package redact

import (
	"errors"
	"io/fs"
	"testing"
)

func TestLiteralAndError(t *testing.T) {
	t.Parallel()
	if got, want := Literal("token s3cret and s3cret", "s3cret", ""), "token "+Mask+" and "+Mask; got != want {
		t.Errorf("Literal = %q; want %q", got, want)
	}
	if got := Literal("nothing to hide", ""); got != "nothing to hide" {
		t.Errorf("Literal with no secret = %q", got)
	}
	var err error = &Error{Msg: "open " + Mask, Err: fs.ErrNotExist}
	if err.Error() != "open "+Mask || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Error = %q, Is(ErrNotExist) = %v; want the cleaned text and the cause kept", err, errors.Is(err, fs.ErrNotExist))
	}
}
