package importfiles

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/bbimport/bbimport/internal/jsondup"
	"github.com/bbimport/bbimport/internal/safefile"
)

// Messages of imported-targets.log lines. The last line of a target decides
// whether the next `import` skips it.
const (
	MsgTargetRequested = "Target requested for import" // skip: Snyk accepted the import
	MsgTargetExists    = "Target exists in Snyk"       // skip: written by list:imported
	MsgTargetFailed    = "Target import failed"        // retry: the job failed or could not be polled
)

// maxResumeLine is the longest imported-targets.log line considered; longer
// lines are counted as malformed.
var maxResumeLine = 16 << 20

// ResumeKey is the original tool's target key: `<orgId>:<integrationId>:`
// followed by the target's present values among TargetKeys, in that order,
// joined by `:`. `id` is not part of it, so a GitLab target matches the
// project names Snyk returns.
func ResumeKey(orgID, integrationID string, t Target) string {
	var b strings.Builder
	b.WriteString(orgID)
	b.WriteByte(':')
	b.WriteString(integrationID)
	b.WriteByte(':')
	first := true
	for i := range TargetKeys {
		if t.vals[i] == nil {
			continue
		}
		if !first {
			b.WriteByte(':')
		}
		first = false
		b.WriteString(jsValueText(t.vals[i]))
	}
	return b.String()
}

// IdentityKey tells targets apart: the resume key plus `id`, so two GitLab
// targets {id, branch} on the same branch are not the same target (the
// original's key, which leaves `id` out, makes them one).
func IdentityKey(it ImportTarget) string {
	return targetIdentity(it.OrgID, it.IntegrationID, it.Target)
}

func targetIdentity(orgID, integrationID string, t Target) string {
	k := ResumeKey(orgID, integrationID, t)
	if id := t.vals[targetIdxID]; id != nil {
		k += "\x00id=" + jsValueText(id)
	}
	return k
}

// ResumeLog is what imported-targets.log says about targets: for each key,
// whether its last line means "already in Snyk" (skip) or "failed" (retry).
type ResumeLog struct {
	last map[string]bool // key → skip
	// Lines is the number of non-empty lines read; Malformed of those were
	// ignored (not JSON, or without orgId/integrationId/target).
	Lines, Malformed int
}

// Skip reports whether the target's last line in the log was
// MsgTargetRequested or MsgTargetExists (any message other than
// MsgTargetFailed counts as imported, as the original treats every line).
// key is a ResumeKey; for a target with an `id`, use SkipTarget.
func (r *ResumeLog) Skip(key string) bool {
	if r == nil {
		return false
	}
	return r.last[key]
}

// SkipTarget is Skip for an import target. A target with an `id` (GitLab)
// is looked up by its key plus id, as bbimport logs it; only when no line
// of that form names it, a line without id (the original's, whose key left
// `id` out) decides.
func (r *ResumeLog) SkipTarget(it ImportTarget) bool {
	if r == nil {
		return false
	}
	if skip, ok := r.last[IdentityKey(it)]; ok || it.Target.vals[targetIdxID] == nil {
		return skip
	}
	return r.last[it.Key()]
}

// Len is the number of distinct target keys in the log.
func (r *ResumeLog) Len() int {
	if r == nil {
		return 0
	}
	return len(r.last)
}

// LoadResumeLog reads an imported-targets.log, streaming. The key of each
// line is recomputed from its `orgId`, `integrationId` and `target` (the
// stored `targetId` may be stale); the last line of a key wins. A missing
// file means nothing to skip.
func LoadResumeLog(path string) (*ResumeLog, error) {
	rl := &ResumeLog{last: make(map[string]bool)}
	// Read with the checks its writer makes: a FIFO planted there would
	// hang the run before the writer could refuse it.
	f, err := safefile.Open(path, os.O_RDONLY, 0, safefile.Rules{})
	if errors.Is(err, fs.ErrNotExist) {
		return rl, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read resume log: %w", err)
	}
	defer f.Close()
	if err := rl.read(f); err != nil {
		return nil, fmt.Errorf("read resume log %s: %w", path, err)
	}
	return rl, nil
}

func (rl *ResumeLog) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxResumeLine {
			tooLong = true
		} else {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if tooLong {
			rl.Lines++
			rl.Malformed++
		} else if derr := rl.addLine(line); derr != nil {
			return fmt.Errorf("line %d: %w", rl.Lines, derr)
		}
		line, tooLong = line[:0], false
		if err == io.EOF {
			return nil
		}
	}
}

// resumeLine is the part of an imported-targets.log line the key needs.
type resumeLine struct {
	OrgID         *string         `json:"orgId"`
	IntegrationID *string         `json:"integrationId"`
	Target        json.RawMessage `json:"target"`
	Msg           string          `json:"msg"`
}

// addLine records one line. A line that is not a resume record is counted
// as malformed and skipped; one whose keys repeat is an error: which of its
// two "msg" (or targets) counts is a matter of the reader, and the line
// decides whether a target is imported again.
func (rl *ResumeLog) addLine(b []byte) error {
	b = trimSpaceBytes(b)
	if len(b) == 0 {
		return nil
	}
	rl.Lines++
	var l resumeLine
	if err := json.Unmarshal(b, &l); err != nil || l.OrgID == nil || l.IntegrationID == nil || isAbsent(l.Target) {
		rl.Malformed++
		return nil
	}
	if err := jsondup.Check(b, ""); err != nil {
		return err
	}
	t, err := parseTarget(l.Target)
	if err != nil {
		rl.Malformed++
		return nil
	}
	key := targetIdentity(strings.TrimSpace(*l.OrgID), strings.TrimSpace(*l.IntegrationID), t)
	rl.last[key] = l.Msg != MsgTargetFailed
	return nil
}

func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}
