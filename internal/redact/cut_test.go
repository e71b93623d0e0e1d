package redact

import (
	"strings"
	"testing"
)

func TestCut(t *testing.T) {
	t.Parallel()
	const secret = "cs-LEAK-8f3b2a91d7e6"
	for _, tt := range []struct {
		s    string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"refused: " + secret + " more", 15, "refused: …"},
		{"refused: " + secret + " more", 9, "refused: …"},
		{"refused: " + secret + " more", 30, "refused: " + secret + " …"},
		{`{"m":"` + secret + `"}`, 10, `{"m":"…`},
		{"Basic c2VjcmV0OnZhbHVl==", 23, "Basic …"},
		{"über " + secret, 3, "…"},
		{secret, 5, "…"},
	} {
		if got := Cut(tt.s, tt.max); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
	}
	if got := CutRunes(strings.Repeat("é", 5)+" "+secret, 8); got != strings.Repeat("é", 5)+" …" {
		t.Errorf("CutRunes: %q", got)
	}
	if got := CutRunes("ééé", 3); got != "ééé" {
		t.Errorf("CutRunes at the length: %q", got)
	}
}
