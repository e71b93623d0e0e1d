package credential

import (
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestTokenTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		extra map[string]any
		want  time.Duration
	}{
		{map[string]any{"expires_in": float64(7200)}, 2 * time.Hour},
		{map[string]any{"expires_in": int64(60)}, time.Minute},
		{map[string]any{"expires_in": "3600"}, time.Hour},
		{map[string]any{"expires_in": json.Number("1.5")}, 1500 * time.Millisecond},
		{map[string]any{"expires_in": "soon"}, 50 * time.Minute},
		{map[string]any{"expires_in": float64(0)}, 50 * time.Minute},
		{map[string]any{}, 50 * time.Minute},
		{map[string]any{"expires_in": float64(9.3e9)}, 24 * time.Hour},
		{map[string]any{"expires_in": "1e300"}, 24 * time.Hour},
		{map[string]any{"expires_in": "+Inf"}, 24 * time.Hour},
		{map[string]any{"expires_in": "NaN"}, 50 * time.Minute},
		{map[string]any{"expires_in": float64(-5)}, 50 * time.Minute},
	}
	for _, tt := range tests {
		tok := (&oauth2.Token{AccessToken: "x"}).WithExtra(tt.extra)
		if got := tokenTTL(tok); got != tt.want {
			t.Errorf("tokenTTL(%v) = %v; want %v", tt.extra, got, tt.want)
		}
	}
}
