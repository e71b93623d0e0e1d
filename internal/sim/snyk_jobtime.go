package sim

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// JobDurations is how long simulated import jobs run: uniform in [Min, Max],
// drawn per target from the simulator's Seed and the target key, so a
// target takes the same time whatever order the jobs arrive in and a run is
// reproducible. The zero value: jobs end on PendingPolls alone. Scale both
// bounds to scale a benchmark's time.
type JobDurations struct {
	Min, Max time.Duration
}

// ParseJobDurations reads "5s-60s" (or one duration, "30s", for a fixed
// time); "" is the zero value.
func ParseJobDurations(s string) (JobDurations, error) {
	if strings.TrimSpace(s) == "" {
		return JobDurations{}, nil
	}
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		hi = lo
	}
	minD, err1 := time.ParseDuration(strings.TrimSpace(lo))
	maxD, err2 := time.ParseDuration(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || minD < 0 || maxD < minD {
		return JobDurations{}, fmt.Errorf("job durations %q: want MIN-MAX (for example 5s-60s) with 0 <= MIN <= MAX", s)
	}
	return JobDurations{Min: minD, Max: maxD}, nil
}

// draw is the running time of an import of key.
func (d JobDurations) draw(seed uint64, key string) time.Duration {
	if d.Max <= 0 {
		return 0
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s", seed, key)
	// The low bits of FNV-1a mix poorly for similar keys; the top 53 make
	// a fraction in [0, 1).
	frac := float64(h.Sum64()>>11) / float64(uint64(1)<<53)
	return d.Min + time.Duration(frac*float64(d.Max-d.Min))
}

// startClock gives a new job its running time and counts it. Callers hold
// st.mu.
func (st *snykState) startClock(j *snykJobState) {
	j.Duration = st.cfg.JobDurations.draw(st.s.cfg.Seed, j.Key)
	j.due = st.cfg.Now().Add(j.Duration)
	st.s.add("snyk.job_duration_ms", j.Duration.Milliseconds())
}

// running reports whether a job is still running at this poll; the poll
// that first finds it done records how late it came. Callers hold st.mu.
func (st *snykState) running(j *snykJobState) bool {
	if j.Duration <= 0 {
		return false
	}
	now := st.cfg.Now()
	if now.Before(j.due) {
		return true
	}
	if j.Late == 0 {
		j.Late = max(now.Sub(j.due), time.Nanosecond)
		st.s.add("snyk.job_notice_late_ms", j.Late.Milliseconds())
	}
	return false
}
