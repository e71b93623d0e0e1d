package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/rhysd/actionlint"
)

// TestCIExamplesActionlint: every GitHub Actions example passes actionlint
// (its expression, action-input, runner-label and cron checks; shellcheck
// and pyflakes only where installed), the linter operators run on their
// workflows, so an example copied into .github/workflows is clean as given.
func TestCIExamplesActionlint(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "ci", "github-actions*.yml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("docs/ci: %v, %v", files, err)
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found, err := l.LintFiles(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("actionlint found %d problem(s):\n%s", len(found), out.String())
	}
}
