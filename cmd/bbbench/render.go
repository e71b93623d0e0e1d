package main

import (
	"fmt"

	"runtime"
	"strings"
	"time"
)

func cores() int { return runtime.NumCPU() }

// renderTable is the one table (markdown), the targets and the notes.
func renderTable(rep *report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nbbimport against bbsim on loopback — %d cores, %s, %s, load average %s at the start and %s at the end\n\n",
		rep.Cores, runtime.GOOS+"/"+runtime.GOARCH, rep.Started.Format("2006-01-02 15:04 MST"), rep.Load[0], rep.Load[1])
	b.WriteString("| stage | estate | setting | Bitbucket requests | minimum | bytes received | untrimmed (no fields=) | Snyk req/target | polls/target | wall | throughput | peak RSS | CPU bbimport / bbsim |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rep.Rows {
		bb, minimum := "–", "–"
		if r.Stage != "import" {
			bb, minimum = thousands(r.BBRequests), thousands(r.BBMinimum)
		}
		bytes, untrimmed := "–", "–"
		if r.Bytes >= 0 {
			bytes = mib(r.Bytes)
		}
		if r.Untrimmed > 0 {
			untrimmed = fmt.Sprintf("%s (%.1f×)", mib(r.Untrimmed), float64(r.Untrimmed)/float64(r.Bytes))
		}
		per, polls := "–", "–"
		if r.SnykPerTarget >= 0 {
			per = fmt.Sprintf("%.2f", r.SnykPerTarget)
		}
		if r.PollsPerTarget >= 0 {
			polls = fmt.Sprintf("%.2f", r.PollsPerTarget)
		}
		tp := r.Throughput
		if tp == "" {
			tp = "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f MiB | %.2f s / %.2f s |\n",
			r.Stage, r.Estate, r.Setting, bb, minimum, bytes, untrimmed, per, polls, seconds(r.Wall), tp, float64(r.MaxRSSKiB)/1024,
			r.CPU.Seconds(), r.SimCPU.Seconds())
	}
	if len(rep.Budget) > 0 {
		renderBudget(&b, rep.Budget)
	}
	if len(rep.Checks) > 0 {
		b.WriteString("\nTargets:\n\n")
		for _, c := range rep.Checks {
			mark := "MET    "
			if !c.Met {
				mark = "NOT MET"
			}
			fmt.Fprintf(&b, "- %s  %s — %s\n", mark, c.Target, c.Measured)
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	b.WriteString("\nRate limits: BITBUCKET_RATE_LIMIT=1000000 and SNYK_RATE_LIMIT=1000000 for every run but the budget table's (defaults 1000/h and 1500/min would pace everything).\n")
	return b.String()
}

// renderBudget is the budget table: each row's requests (Bitbucket's for
// import:data, Snyk's for the import), wall time against its ideal, and the
// simulator's 429s.
func renderBudget(b *strings.Builder, rows []budgetRow) {
	b.WriteString("\nBudget (the simulator enforces the limit; the import row's ratio is ideal ÷ wall, the others' wall ÷ ideal):\n\n")
	b.WriteString("| run | setting | requests | ideal | wall | ratio | sim 429s | result |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		ideal, ratio := "–", "–"
		if r.Ideal > 0 {
			ideal, ratio = seconds(r.Ideal), fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d | %s |\n",
			r.Run, r.Setting, thousands(r.Requests), ideal, seconds(r.Wall), ratio, r.Sim429, r.Result)
	}
}

func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func mib(n int64) string {
	if n < 1<<20 {
		return kib(n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }

// thousands formats n with comma separators: 100000 → "100,000".
func thousands(n int64) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
