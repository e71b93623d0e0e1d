package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/httpx"
)

// lines renders the report as "mark check: text" for comparison.
func lines(t *testing.T, opts Options) ([]string, Result, error) {
	t.Helper()
	var out []string
	opts.Report = func(l Line) { out = append(out, fmt.Sprintf("%d %s: %s", l.Mark, l.Check, l.Text)) }
	if opts.Explain == nil {
		opts.Explain = func(err error) (string, string, bool) { return err.Error(), "", false }
	}
	if opts.LogDir == nil {
		opts.LogDir = func() (string, error) { return "", errors.New("SNYK_LOG_PATH is not set") }
	}
	opts.Now = func() time.Time { return time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) }
	res, err := Run(context.Background(), opts)
	return out, res, err
}

// The checks as data: each environment gives its lines and tally, without
// a client being built where the variables are missing.
func TestRun(t *testing.T) {
	t.Parallel()
	app := Credential{Need: []string{"BITBUCKET_APP_CLIENT_ID", "BITBUCKET_APP_CLIENT_SECRET"}}
	noClient := func() (Bitbucket, error) { t.Error("Bitbucket client built"); return nil, nil }
	caErr := &httpx.CABundleError{CABundle: httpx.CABundle{Setting: "BBIMPORT_EXTRA_CA_CERTS", Path: "/x.pem"}, Err: errors.New("no such file")}
	for _, tc := range []struct {
		name   string
		opts   Options
		want   []string
		failed int
	}{
		{
			name: "nothing set",
			opts: Options{Env: Env{Bitbucket: app, Snyk: Credential{Need: []string{"SNYK_TOKEN"}}}, Bitbucket: noClient},
			want: []string{
				"1 environment: not set: BITBUCKET_APP_CLIENT_ID, BITBUCKET_APP_CLIENT_SECRET, SNYK_TOKEN, SNYK_LOG_PATH",
				"4 Bitbucket token: BITBUCKET_APP_CLIENT_ID and BITBUCKET_APP_CLIENT_SECRET are needed",
				"4 workspaces: no Bitbucket credentials", "4 repositories: no Bitbucket credentials",
				"4 Snyk token: no Snyk credential is set (SNYK_CLIENT_ID + SNYK_CLIENT_SECRET, or SNYK_TOKEN)",
			},
			failed: 1,
		},
		{
			name: "half a service account, CA bundle unusable",
			opts: Options{
				Env:       Env{Bitbucket: Credential{Ready: true}, Snyk: Credential{Err: errors.New("SNYK_CLIENT_ID is set but SNYK_CLIENT_SECRET is not")}},
				Network:   []Line{{Mark: Info, Check: "proxy", Text: "direct"}, {Mark: Fail, Check: "CA certificates", Text: caErr.Error()}},
				CAFailed:  true,
				Bitbucket: func() (Bitbucket, error) { return nil, caErr },
			},
			want: []string{
				"1 Snyk credential: SNYK_CLIENT_ID is set but SNYK_CLIENT_SECRET is not",
				"1 environment: not set: SNYK_LOG_PATH",
				"3 proxy: direct", "1 CA certificates: " + caErr.Error(),
				"4 Bitbucket client: the CA certificates above cannot be used",
				"4 workspaces: no Bitbucket client", "4 repositories: no Bitbucket client",
				"4 Snyk token: no Snyk credential is set (SNYK_CLIENT_ID + SNYK_CLIENT_SECRET, or SNYK_TOKEN)",
			},
			failed: 3,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Env.Getenv = func(string) string { return "" }
			got, res, err := lines(t, tc.opts)
			if err != nil || !slices.Equal(got, tc.want) || res.Failed != tc.failed {
				t.Errorf("lines (err %v, %d failed):\n%q\nwant (%d failed):\n%q", err, res.Failed, got, tc.failed, tc.want)
			}
		})
	}
}

// An interrupted run stops between checks with the context's error.
func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	_, err := Run(ctx, Options{Env: Env{Getenv: func(string) string { return "" }}, Report: func(Line) { n++ },
		LogDir: func() (string, error) { return "", errors.New("unset") }})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("err %v after %d lines; want context.Canceled after the environment check", err, n)
	}
}
