package main

import (
	"context"
	"fmt"
	"github.com/bbimport/bbimport/cmd/bbimport/internal/english"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

func newImportCommand(rt *invocation, run func(context.Context, *importOptions) error) *cli.Command {
	return &cli.Command{
		Name:    "import",
		Aliases: []string{"i"},
		Usage:   "kick off a Snyk import for every target of the targets file, poll the jobs, log every result (the default command)",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "file", Usage: "import targets file, or a directory holding import-projects.json (else SNYK_IMPORT_PATH)"},
			&cli.BoolFlag{Name: "dryRun", Usage: "print what would be imported; call nothing on Snyk"},
			// A string, so that intSetting answers `--concurrency=abc` with the range.
			&cli.StringFlag{Name: "concurrency", Usage: "import workers, 1 to 50 (else CONCURRENT_IMPORTS, default 15)"},
			&cli.DurationFlag{Name: "pollTimeout", Value: importer.DefaultPollTimeout, Usage: "how long one import job may take before it is logged as failed"},
			&cli.DurationFlag{Name: "pollInterval", Value: importer.DefaultPollInitial, Usage: pollIntervalUsage},
			pollShareFlag(),
			shardFlag(),
			waitFlag(),
		}, commonFlags()...)),
		Action: stageAction(rt, "import", bindImport, run),
	}
}

func bindImport(b *binding) (*importOptions, error) {
	c := b.c
	dryRun := c.Bool("dryRun")
	if dryRun {
		b.readOnly(false)
	}
	file, err := b.importFile()
	if err != nil {
		return nil, err
	}
	conc, err := b.intSetting("concurrency", "CONCURRENT_IMPORTS", importer.DefaultConcurrency)
	if err != nil {
		return nil, err
	}
	shard, err := b.shardSetting()
	if err != nil {
		return nil, err
	}
	// --pollTimeout and --pollInterval are range-checked (valueRules)
	// before the action runs.
	opts := &importOptions{IO: b.io, NetHint: b.clients.net.netHint, Import: importer.ImportOptions{
		File: file, LogPath: b.logPath, Concurrency: conc,
		PollTimeout: c.Duration("pollTimeout"), DryRun: dryRun,
		PollInitial: b.pollInterval(), PollMax: b.tuning.PollMax,
		Redact: b.clients.out.redactor.String, Shard: shard,
	}}
	if err := b.pollBudget(&opts.Import); err != nil {
		return nil, err
	}
	// A dry run calls nothing on Snyk: it needs no Snyk settings.
	if !dryRun {
		sn, err := b.snyk()
		if err != nil {
			return nil, err
		}
		opts.Snyk = func() (importer.Snyk, error) { return sn() }
	}
	return opts, nil
}

// importOptions are import's checked flags and its dependencies, so that
// runImport can be called with a fake Snyk.
type importOptions struct {
	// Import holds the checked flags; runImport fills in the client, the
	// clock, the progress and the error wording.
	Import importer.ImportOptions

	// Snyk builds the client from checked settings; called after the log
	// directory is locked, and not at all by a dry run.
	Snyk func() (importer.Snyk, error)
	// NetHint adds what to check when failures look like the network
	// (proxy, CA, base URL); nil adds nothing.
	NetHint func(api string, groups []importer.FailureGroup) string
	IO      *commandIO
}

func runImport(ctx context.Context, opts *importOptions) error {
	imp := opts.Import
	imp.Now, imp.ErrorText = opts.IO.Now, opts.IO.ErrText
	if !imp.DryRun {
		sn, err := opts.Snyk()
		if err != nil {
			return err
		}
		imp.Snyk = sn
	}
	p := opts.IO.progress()
	defer p.Done()
	imp.Progress = p
	res, err := importer.Import(ctx, imp)
	p.Done()
	if res != nil {
		st := opts.IO.Stage
		st.started, st.failures = res.Started, res.Failures
		st.detail = importSummary{ImportResult: res, Failed: res.Failed()}
		printImport(opts.IO.Out, res)
	}
	if err != nil {
		return err
	}
	if res.Failed() {
		hint := ""
		if opts.NetHint != nil {
			hint = opts.NetHint("Snyk API", res.Failures)
		}
		return &partialError{importFailureMessage(res, imp.LogPath) + hint}
	}
	return nil
}

// importFile resolves --file / SNYK_IMPORT_PATH as the original did: a file,
// or a directory holding import-projects.json.
func (b *binding) importFile() (string, error) {
	v, from := strings.TrimSpace(b.c.String("file")), "--file"
	if v == "" {
		v, from = b.getenv("SNYK_IMPORT_PATH"), "SNYK_IMPORT_PATH"
	}
	if v == "" {
		return "", usagef("no targets file: pass --file=<import targets file> (written by import:data) or set SNYK_IMPORT_PATH")
	}
	v, err := b.inputPath(from, v)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(v)
	switch {
	case err == nil && st.IsDir():
		p := filepath.Join(v, "import-projects.json")
		if _, err := os.Stat(p); err != nil {
			return "", usagef("%s=%s is a directory without import-projects.json; pass the targets file itself", from, v)
		}
		return p, nil
	case err == nil:
		return v, nil
	default:
		return "", usagef("%s=%s: no such file; pass the targets file written by import:data", from, v)
	}
}

// importFailureMessage is the closing paragraph of an import with failures:
// what failed, by cause, and what the next run will and will not do.
func importFailureMessage(res *importer.ImportResult, logPath string) string {
	var parts []string
	for _, g := range res.Failures {
		parts = append(parts, fmt.Sprintf("%d× %s: %s", g.Count, g.Stage, g.Cause))
		if len(parts) == 4 {
			break
		}
	}
	msg := "finished with failures (" + strings.Join(parts, "; ") + ")"
	if res.KickOffFailures+res.JobsFailed+res.PollFailures > 0 {
		msg += "; the failed targets are retried by the next run"
	}
	if res.ProjectsFailed > 0 {
		msg += "; failed projects are listed in " + filepath.Join(logPath, "<orgId>.failed-projects.log") +
			" and not retried (re-importing the repository would not fix a manifest Snyk cannot parse)"
	}
	return msg + " — details in " + filepath.Join(logPath, "import-summary.json")
}

func printImport(out io.Writer, res *importer.ImportResult) {
	printShard(out, res.Shard, res.Targets, res.OtherShards, "target")
	if res.DryRun {
		fmt.Fprintf(out, "Dry run: would import %d of %s (%d already imported, %d duplicates); nothing was sent to Snyk.\n",
			res.WouldImport, english.Plural(res.Targets, "target"), res.Skipped, res.Duplicates)
		for _, t := range res.Sample {
			owner, _ := t.Target.Get("owner")
			name, _ := t.Target.Get("name")
			branch, _ := t.Target.Get("branch")
			fmt.Fprintf(out, "  %-36s %s/%s@%s\n", t.OrgID, owner, name, branch)
		}
		if res.WouldImport > len(res.Sample) {
			fmt.Fprintf(out, "  … and %d more\n", res.WouldImport-len(res.Sample))
		}
		fmt.Fprintf(out, "The whole plan, as a targets file: %s\n", res.Plan)
		return
	}
	if res.KickedOff+res.KickOffFailures == 0 && res.NotStarted == 0 && !res.Interrupted {
		// A resume with nothing left, not a failure.
		msg := fmt.Sprintf("Nothing to do: all %s already imported", english.Plural(res.Targets, "target"))
		if res.Duplicates > 0 {
			msg += fmt.Sprintf(" (%d of them duplicates in the targets file)", res.Duplicates)
		}
		if res.Targets == 0 {
			msg = "Nothing to do: the targets file has no targets"
		}
		fmt.Fprintf(out, "%s. Took %s.\n", msg, humanDuration(res.Duration))
		fmt.Fprintf(out, "Processed 0 out of a total of %d targets (%d were skipped as they have been previously imported).\n", res.Targets, res.Skipped)
		printStillFailed(out, res)
		return
	}
	if res.ProjectsImported == 0 {
		fmt.Fprintln(out, "⚠ No projects imported!")
	} else {
		fmt.Fprintf(out, "Imported %s.\n", english.Plural(res.ProjectsImported, "project"))
	}
	fmt.Fprintf(out, "Processed %d out of a total of %d targets (%d were skipped as they have been previously imported).\n",
		res.KickedOff+res.KickOffFailures, res.Targets, res.Skipped)
	fmt.Fprintf(out, "Jobs: %d complete, %d failed, %d not polled to the end; projects failed: %d; kick-offs refused: %d. Took %s.\n",
		res.JobsComplete, res.JobsFailed, res.PollFailures+res.JobsUnfinished, res.ProjectsFailed, res.KickOffFailures, humanDuration(res.Duration))
	for _, g := range res.Failures {
		fmt.Fprintf(out, "  failed %-8s %5d × %s\n", g.Stage, g.Count, g.Cause)
	}
	if res.Interrupted {
		if res.JobsUnfinished > 0 {
			fmt.Fprintf(out, "%s accepted by Snyk were still running: Snyk finishes them on its own and the next run skips their targets.\n",
				english.Plural(res.JobsUnfinished, "job"))
		}
		fmt.Fprintf(out, "Interrupted: %d targets not started; run the same command again to resume.\n", res.NotStarted)
	}
	printStillFailed(out, res)
	fmt.Fprintf(out, "Check the logs for any failures located at: %s/*\n", res.LogPath)
}

// printStillFailed says what is still failed across runs, this one
// included (import-summary.json's stillFailed).
func printStillFailed(out io.Writer, res *importer.ImportResult) {
	sf := res.StillFailed
	if sf == nil || sf.Targets+sf.Projects == 0 {
		return
	}
	var parts []string
	if sf.Targets > 0 {
		parts = append(parts, english.Plural(sf.Targets, "target")+" not in Snyk (the next run sends them)")
	}
	if sf.Projects > 0 {
		parts = append(parts, english.Plural(sf.Projects, "project")+" failed in completed jobs (<orgId>.failed-projects.log; not retried)")
	}
	fmt.Fprintf(out, "Still failed, over every run so far: %s.\n", strings.Join(parts, "; "))
}
