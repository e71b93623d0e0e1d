package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"github.com/bbimport/bbimport/internal/redact"
	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// env checks that the variables are set (names only) and that the log
// directory is writable, and says whether a previous run's resume log is
// there (in CI: whether the artifact was restored).
func (r *run) env(context.Context) {
	e := r.opts.Env
	need := append([]string(nil), e.Bitbucket.Need...)
	switch {
	case e.Snyk.Err != nil:
		r.fail("Snyk credential", e.Snyk.Err.Error(), e.Snyk.Fix)
	default:
		need = append(need, e.Snyk.Need...)
	}
	if !e.LogPathFlag {
		need = append(need, "SNYK_LOG_PATH")
	}
	var missing, set []string
	for _, v := range need {
		if r.getenv(v) == "" {
			missing = append(missing, v)
		} else {
			set = append(set, v)
		}
	}
	if e.Bitbucket.Err != nil {
		r.fail("Bitbucket credentials", e.Bitbucket.Err.Error(), e.Bitbucket.Fix)
	} else {
		set = append(set, e.Bitbucket.Have...)
	}
	switch {
	case len(missing) > 0:
		r.fail("environment", "not set: "+strings.Join(missing, ", "),
			"export each of them, from your CI's secret store for secrets (README → Environment variables)")
	case e.Bitbucket.Err == nil:
		r.ok("environment", strings.Join(set, ", ")+" set")
	}
	for _, name := range e.Secrets {
		if v := r.getenv(name); v != "" && len(v) < redact.MinSafeLen {
			r.warn("secrets", fmt.Sprintf("%s is %s long: bbimport masks secrets this short only where they stand alone, so logs may still show it inside longer text", name, english.Plural(len(v), "character")),
				"use the real secret (OAuth consumer secrets have 32 characters, Snyk tokens 36)")
		}
	}
	r.logDir()
}

func (r *run) logDir() {
	dir, err := r.opts.LogDir()
	if err != nil {
		if r.getenv("SNYK_LOG_PATH") != "" || r.opts.Env.LogPathFlag {
			r.fail("log directory", err.Error(), "")
		}
		return
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		r.fail("log directory", fmt.Sprintf("%s is not writable: %v", dir, err), "point SNYK_LOG_PATH at a directory this user can write")
		return
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	resume := filepath.Join(dir, importfiles.ImportedTargetsLog)
	n, err := resumeTargets(resume)
	var refused *safefile.Error
	switch {
	case errors.As(err, &refused):
		_, fix := r.explain(err)
		r.fail("log directory", err.Error()+" (import would refuse it too)", fix)
	case err == nil:
		r.ok("log directory", fmt.Sprintf("%s is writable; %s records %s from earlier runs, import will skip those in Snyk", dir, importfiles.ImportedTargetsLog, english.Plural(n, "target")))
	default:
		r.ok("log directory", fmt.Sprintf("%s is writable; no %s yet (first run; in CI, restore the directory from the previous run so import resumes)", dir, importfiles.ImportedTargetsLog))
	}
}

// resumeTargets is how many targets imported-targets.log records: its
// records, as import reads them (room reserved ahead by a running import
// is blank and not a line).
func resumeTargets(path string) (int, error) {
	f, err := safefile.Open(path, os.O_RDONLY, 0, safefile.Rules{})
	if err != nil {
		return 0, err // missing, or refused as import would refuse it
	}
	_ = f.Close()
	rl, err := importfiles.LoadResumeLog(path)
	if err != nil {
		return 0, err
	}
	return rl.Len(), nil
}

func trimmed(s string) string { return strings.TrimSpace(s) }
