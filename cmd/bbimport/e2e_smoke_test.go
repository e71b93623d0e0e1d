package main

import (
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
)

// TestPipelineSmoke: the four stages against the default simulator estate.
func TestPipelineSmoke(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, sim.Config{})
	targets := e.Pipeline()
	e.MustRun(0, "import", "--file="+targets, "--concurrency=20")
	if got := e.Sim.Count("snyk.duplicate_imports"); got != 0 {
		t.Errorf("duplicate imports = %d, want 0", got)
	}
}
