package importer

import (
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"strconv"
	"strings"
)

// Shard is part K of N of an estate, cut by Snyk org id: N jobs, each with
// its own credentials and log directory, run shards 1/N to N/N and between
// them cover every org exactly once. The zero value is the whole estate.
//
// The cut is by org, not by target, so that one org's work (its workspace
// listing, its imports, its sync plan) stays in one job, and by a hash of
// the org id alone, so that every stage and every job agrees on an org's
// shard without seeing the others' input: import:data reads the orgs file,
// import a targets file that may be another job's, sync a list from Snyk.
type Shard struct {
	K, N int
}

// ShardOf returns the shard, 1..n, that orgID belongs to: FNV-1a (64 bit) of
// the trimmed, lower-cased id, mod n. The id is normalised so that a UUID
// typed by hand in upper case lands where the files' lower-case one does.
func ShardOf(orgID string, n int) int {
	if n <= 1 {
		return 1
	}
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(orgID))))
	return int(h.Sum64()%uint64(n)) + 1
}

// ParseShard reads "K/N" (K from 1 to N, N from 1 to maxN). The error says
// what is wrong with the value; the caller names where it came from.
func ParseShard(s string, maxN int) (Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("%q is not K/N; give this job's part and the number of parts, such as 2/5", s)
	}
	kn, kerr := strconv.Atoi(strings.TrimSpace(k))
	nn, nerr := strconv.Atoi(strings.TrimSpace(n))
	switch {
	case kerr != nil || nerr != nil:
		return Shard{}, fmt.Errorf("%q is not K/N with whole numbers; give this job's part and the number of parts, such as 2/5", s)
	case nn < 1 || nn > maxN:
		return Shard{}, fmt.Errorf("%q: the number of parts N must be from 1 to %d", s, maxN)
	case kn == 0:
		return Shard{}, fmt.Errorf("%q: K counts from 1, so the parts are 1/%d to %d/%d: %w", s, nn, nn, nn, ErrShardFromZero)
	case kn < 1 || kn > nn:
		return Shard{}, fmt.Errorf("%q: K must be from 1 to N, so the parts are 1/%d to %d/%d", s, nn, nn, nn)
	}
	return Shard{K: kn, N: nn}, nil
}

// ErrShardFromZero is wrapped by the error of a part numbered 0: the
// index of a CI job counts from 0, and needs 1 added.
var ErrShardFromZero = errors.New("add 1 to a 0-based index")

// All reports whether s is the whole estate (no shard, or 1/1).
func (s Shard) All() bool { return s.N <= 1 }

// Keep reports whether orgID is in s.
func (s Shard) Keep(orgID string) bool { return s.All() || ShardOf(orgID, s.N) == s.K }

// String is "K/N", or "" for the whole estate.
func (s Shard) String() string {
	if s.All() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Targets yields the targets of src that are in s; errors pass through.
// others, if not nil, counts the targets of the other shards.
func (s Shard) Targets(src iter.Seq2[ImportTarget, error], others *int) iter.Seq2[ImportTarget, error] {
	if s.All() {
		return src
	}
	return func(yield func(ImportTarget, error) bool) {
		for it, err := range src {
			if err == nil && !s.Keep(it.OrgID) {
				if others != nil {
					*others++
				}
				continue
			}
			if !yield(it, err) {
				return
			}
		}
	}
}
