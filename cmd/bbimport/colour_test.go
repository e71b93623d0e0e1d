package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// Doctor's marks and the closing error are coloured on a terminal, and not
// when NO_COLOR is set or the output is not a terminal.
func TestColour_marksAndFinalError(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	e.Set("SNYK_TOKEN", "not-the-token") // one ✗ besides the ✓s

	doctorOnTTY := func() string {
		tty, output := openPTY(t)
		var stderr bytes.Buffer
		rt := newInvocation(tty, &stderr, e.getenv)
		if !rt.StdoutTTY {
			t.Fatal("stdout pseudo-terminal not detected")
		}
		rt.Tuning = e.Tuning
		if code := rt.run(t.Context(), []string{"bbimport", "doctor", "--groupId=" + sim.SimSnykGroupID}); code != exitAuth {
			t.Fatalf("doctor exit %d\n%s", code, output())
		}
		return output()
	}
	out := doctorOnTTY()
	wantContains(t, out, colourGreen+"✓"+colourReset+" environment:", colourRed+"✗"+colourReset+" Snyk token:")
	r, term := e.runOnTTY(t, "orgs:create", "--file="+orgsFile(t, e, 1, sim.SimSnykGroupID))
	if r.Code != exitAuth {
		t.Fatalf("exit %d", r.Code)
	}
	wantContains(t, term, colourRed+"bbimport: ")

	e.Set("NO_COLOR", "1")
	if out := doctorOnTTY(); strings.Contains(out, "\x1b[") {
		t.Errorf("colour despite NO_COLOR:\n%q", out)
	}
	if _, term := e.runOnTTY(t, "orgs:create", "--file="+orgsFile(t, e, 1, sim.SimSnykGroupID)); strings.Contains(term, "\x1b[31m") {
		t.Errorf("red despite NO_COLOR:\n%q", term)
	}
	e.Set("NO_COLOR", "")
	if r := e.Run("doctor", "--groupId="+sim.SimSnykGroupID); strings.Contains(r.Stdout+r.Stderr, "\x1b[") {
		t.Errorf("colour without a terminal:\n%q", r.Stdout+r.Stderr)
	}
}
