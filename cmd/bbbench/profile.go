package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The CPU profile of import:data at the largest estate: bbimport writes it
// (BBIMPORT_TESTING_CPUPROFILE, a testing hook) and `go tool pprof` says
// what share of the samples have the request ledger on their stack.

// ledgerFocus selects the samples spent in the request ledger (the file,
// its lock, its encoding) or in the budget that asks it.
const ledgerFocus = `internal/ledger\.`

// profileRun is one profiled run's figures.
type profileRun struct {
	CPU      time.Duration `json:"cpuNs"`
	Requests int64         `json:"requests"`
	// PerRequest is CPU ÷ requests (Bitbucket and Snyk).
	PerRequest time.Duration `json:"perRequestNs"`
	// LedgerShare is the fraction of the profile's samples with a frame of
	// internal/ledger on the stack; -1 when pprof could not say.
	LedgerShare float64 `json:"ledgerShare"`
	Profile     string  `json:"profile"`
	Estate      string  `json:"estate"`
}

// percent writes a fraction as a percentage ("–" when unknown).
func percent(f float64) string {
	if f < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*f)
}

// profileImportData runs args (an import:data) once more with a CPU profile
// and reads the ledger's share from it.
func (b *bench) profileImportData(ctx context.Context, s *sim, dir string, env map[string]string, args ...string) (*profileRun, error) {
	path := filepath.Join(dir, "import-data.cpu.pprof")
	penv := map[string]string{}
	for k, v := range env {
		penv[k] = v
	}
	penv["BBIMPORT_TESTING_CPUPROFILE"] = path
	r, err := measure(ctx, s, b.cfg.bin, dir, "import-data-profile", penv, args...)
	if err != nil {
		return nil, err
	}
	if r.ExitCode != 0 {
		return nil, fmt.Errorf("profiled import:data exited %d; see %s", r.ExitCode, r.Stderr)
	}
	reqs := r.Moved["bitbucket.requests"] + r.Moved["snyk.requests"]
	p := &profileRun{CPU: r.CPU, Requests: reqs, LedgerShare: -1, Profile: path}
	if reqs > 0 {
		p.PerRequest = r.CPU / time.Duration(reqs)
	}
	p.LedgerShare, err = focusShare(ctx, filepath.Join(b.cfg.bin, "bbimport"), path, ledgerFocus)
	if err != nil {
		b.note("pprof could not read %s: %v", path, err)
		p.LedgerShare = -1
	}
	return p, nil
}

// focusShare is the fraction of the profile's samples with a frame
// matching focus anywhere on their stack, from `go tool pprof -traces`
// (every sample's value and stack).
func focusShare(ctx context.Context, binary, profile, focus string) (float64, error) {
	re, err := regexp.Compile(focus)
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-traces", binary, profile)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v: %s", err, bytes.TrimSpace(errOut.Bytes()))
	}
	var total, matched time.Duration
	var value time.Duration
	hit := false
	flush := func() {
		total += value
		if hit {
			matched += value
		}
		value, hit = 0, false
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "-----------+") {
			flush()
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if value == 0 && len(fields) >= 2 {
			if d, err := time.ParseDuration(fields[0]); err == nil {
				value = d
			}
		}
		if re.MatchString(line) {
			hit = true
		}
	}
	flush()
	if total == 0 {
		return 0, fmt.Errorf("no samples in %s", profile)
	}
	return float64(matched) / float64(total), nil
}
