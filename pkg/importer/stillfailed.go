package importer

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bbimport/bbimport/internal/safefile"
	"github.com/bbimport/bbimport/pkg/importfiles"
)

// StillFailed is what the log directory says is not in Snyk yet for a
// targets file, over every run so far, this one included: a resume that
// fails nothing new does not make the earlier failures go away.
type StillFailed struct {
	// Targets are not in Snyk: their last imported-targets.log line says
	// the import failed, or they have none (refused, or never started).
	// The next run sends them.
	Targets int `json:"targets"`
	// Projects failed inside jobs that completed, in any run, once per job
	// (the <orgId>.failed-projects.log lines of the file's orgs). A
	// re-import would not fix them, so no run retries them.
	Projects int `json:"projects"`
}

// stillFailed counts what is still failed for opts' targets after a run,
// from the resume log as the run left it and the orgs' failed-projects
// logs.
func stillFailed(opts *ImportOptions) (*StillFailed, error) {
	resume, err := importfiles.LoadResumeLog(filepath.Join(opts.LogPath, importfiles.ImportedTargetsLog))
	if err != nil {
		return nil, err
	}
	sf := &StillFailed{}
	orgs := map[string]bool{}
	seen := map[string]struct{}{}
	for it, err := range opts.targets(nil) {
		if err != nil {
			return nil, err
		}
		orgs[it.OrgID] = true
		id := importfiles.IdentityKey(it)
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		if !resume.SkipTarget(it) {
			sf.Targets++
		}
	}
	for org := range orgs {
		n, err := failedProjectJobs(filepath.Join(opts.LogPath, org+importfiles.FailedProjectsLogSuffix))
		if err != nil {
			return nil, err
		}
		sf.Projects += n
	}
	return sf, nil
}

// failedProjectJobs counts the distinct (job, file) pairs of a
// failed-projects log; a missing log counts none.
func failedProjectJobs(path string) (int, error) {
	f, err := safefile.Open(path, os.O_RDONLY, 0, safefile.Rules{})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	seen := map[[2]string]struct{}{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			LocationURL string `json:"locationUrl"`
			TargetFile  string `json:"targetFile"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue // blank space or a line of another writer
		}
		seen[[2]string{l.LocationURL, l.TargetFile}] = struct{}{}
	}
	return len(seen), sc.Err()
}
