package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/dirlock"
	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/syncer"
	"github.com/urfave/cli/v2"
)

// The TestNewCmd… tests check, per command, that the flags and the
// environment land in the command's options, and that every mistake in
// them (the clients' settings included) is a usage error before the log
// directory is locked: the command's run is replaced by one that records
// its options, so nothing is sent and nothing but the log directory is
// made.

// bound is one command line bound into a command's options.
type bound[O any] struct {
	opts    *O // nil when the run was not reached
	code    int
	stderr  string
	logPath string
}

// locked reports whether the log directory's lock was ever taken.
func (b bound[O]) locked() bool {
	_, err := os.Stat(filepath.Join(b.logPath, dirlock.FileName))
	return err == nil
}

// bindCommand runs `bbimport <command> args…` with env (SNYK_LOG_PATH set
// to a fresh directory unless env sets it) and the command's run replaced.
func bindCommand[O any](t *testing.T, newCmd func(*invocation, func(context.Context, *O) error) *cli.Command, env map[string]string, args ...string) bound[O] {
	t.Helper()
	b := bound[O]{logPath: filepath.Join(t.TempDir(), "logs")}
	vars := map[string]string{"SNYK_LOG_PATH": b.logPath}
	for k, v := range env {
		vars[k] = v
	}
	var stdout, stderr bytes.Buffer
	rt := newInvocation(&stdout, &stderr, func(k string) string { return vars[k] })
	cmd := newCmd(rt, func(_ context.Context, o *O) error { b.opts = o; return nil })
	b.code = rt.run(t.Context(), append([]string{"bbimport", cmd.Name}, args...), cmd)
	b.stderr = stderr.String()
	return b
}

// wantBound fails unless the command line bound (exit 0, run reached).
func wantBound[O any](t *testing.T, b bound[O]) *O {
	t.Helper()
	if b.code != exitOK || b.opts == nil {
		t.Fatalf("exit %d, run reached: %v\n%s", b.code, b.opts != nil, b.stderr)
	}
	return b.opts
}

// wantUsage fails unless the command line was refused (exit 2) with a
// message holding want, before the run and before the lock.
func wantUsage[O any](t *testing.T, b bound[O], want string) {
	t.Helper()
	if b.code != exitUsage || b.opts != nil || !strings.Contains(b.stderr, want) {
		t.Errorf("exit %d, run reached: %v, stderr %q; want exit 2 naming %q", b.code, b.opts != nil, b.stderr, want)
	}
	if b.locked() {
		t.Errorf("a usage error (%q) came after the log directory was locked", want)
	}
}

var (
	consumerEnv  = map[string]string{"BITBUCKET_APP_CLIENT_ID": "key-123", "BITBUCKET_APP_CLIENT_SECRET": "consumer-secret-0123456789"}
	snykTokenEnv = map[string]string{"SNYK_TOKEN": "0123456789abcdef0123456789abcdef"}
)

func withEnv(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestNewCmdOrgsData(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		b := bindCommand(t, newOrgsDataCommand, consumerEnv, "--groupId="+sim.SimSnykGroupID)
		o := wantBound(t, b)
		if o.Source != sourceApp || o.GroupID != sim.SimSnykGroupID || o.OrgPer != importer.OrgPerWorkspace || o.LogPath != b.logPath ||
			o.Workspaces != nil || o.SkipEmptyOrgs || o.Bitbucket == nil || !b.locked() {
			t.Errorf("options %+v, locked %v", o, b.locked())
		}
	})
	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		o := wantBound(t, bindCommand(t, newOrgsDataCommand, map[string]string{"BITBUCKET_CLOUD_API_TOKEN": "api-token-0123456789"},
			"--source=bitbucket-cloud", "--group-id=4A18D42F-0706-4AD0-B127-24078731FBED", "--workspace=a,b", "--workspace=c", "--orgPer=project",
			"--skipEmptyOrgs", "--sourceOrgPublicId=org-template"))
		if o.Source != sourceCloud || o.GroupID != "4A18D42F-0706-4AD0-B127-24078731FBED" || !slices.Equal(o.Workspaces, []string{"a", "b", "c"}) ||
			o.OrgPer != importer.OrgPerProject || !o.SkipEmptyOrgs || o.SourceOrgID != "org-template" {
			t.Errorf("options %+v", o)
		}
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no group", consumerEnv, nil, "--groupId is required"},
		{"unknown source", consumerEnv, []string{"--groupId=" + sim.SimSnykGroupID, "--source=gitlab"}, `--source "gitlab" is not supported`},
		{"bad orgPer", consumerEnv, []string{"--groupId=" + sim.SimSnykGroupID, "--orgPer=team"}, `--orgPer="team"`},
		{"no consumer", nil, []string{"--groupId=" + sim.SimSnykGroupID}, "BITBUCKET_APP_CLIENT_ID"},
		{"bad base", consumerEnv, []string{"--groupId=" + sim.SimSnykGroupID, "--sourceUrl=ftp://example.test"}, "--sourceUrl"},
		{"bad rate limit", withEnv(consumerEnv, map[string]string{"BITBUCKET_RATE_LIMIT": "lots"}), []string{"--groupId=" + sim.SimSnykGroupID}, "BITBUCKET_RATE_LIMIT"},
		{"bad CA bundle", withEnv(consumerEnv, map[string]string{"BBIMPORT_EXTRA_CA_CERTS": "/nonexistent/ca.pem"}), []string{"--groupId=" + sim.SimSnykGroupID}, "BBIMPORT_EXTRA_CA_CERTS"},
		{"token with a newline", map[string]string{"BITBUCKET_CLOUD_OAUTH_TOKEN": "a\nb"}, []string{"--groupId=" + sim.SimSnykGroupID, "--source=bitbucket-cloud"}, "BITBUCKET_CLOUD_OAUTH_TOKEN contains control characters"},
		{"stray argument", consumerEnv, []string{"--groupId=" + sim.SimSnykGroupID, "extra"}, `unexpected argument "extra"`},
		{"bad wait", consumerEnv, []string{"--groupId=" + sim.SimSnykGroupID, "--rateLimitWait=forever"}, "--rateLimitWait"},
		{"a list of credentials holding a secret", map[string]string{"BITBUCKET_CREDENTIALS": "labs access-token token=ATCTT3xFf-secret"},
			[]string{"--groupId=" + sim.SimSnykGroupID}, "BITBUCKET_CREDENTIALS line 1 (credential \"labs\"): token= must name an environment variable"},
		{"a list naming an unset variable", map[string]string{"BITBUCKET_CREDENTIALS": "labs access-token token=BB_LABS_TOKEN"},
			[]string{"--groupId=" + sim.SimSnykGroupID}, "token= names the variable BB_LABS_TOKEN, which is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantUsage(t, bindCommand(t, newOrgsDataCommand, tc.env, tc.args...), tc.want)
		})
	}
	t.Run("a list of credentials", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"BB_LABS_TOKEN": "labs-token-0123456789", "BITBUCKET_CREDENTIALS": "labs access-token token=BB_LABS_TOKEN workspaces=labs"}
		if o := wantBound(t, bindCommand(t, newOrgsDataCommand, env, "--groupId="+sim.SimSnykGroupID)); o.Bitbucket == nil {
			t.Errorf("options %+v", o)
		}
	})
}

func TestNewCmdOrgsCreate(t *testing.T) {
	t.Parallel()
	t.Run("file in the log directory", func(t *testing.T) {
		t.Parallel()
		logPath := t.TempDir()
		if err := os.WriteFile(filepath.Join(logPath, "orgs.json"), []byte(`{"orgs":[]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		b := bindCommand(t, newOrgsCreateCommand, withEnv(snykTokenEnv, map[string]string{"SNYK_LOG_PATH": logPath}),
			"--file=orgs.json", "--includeExistingOrgsInOutput=false", "--allowDuplicateNames")
		o := wantBound(t, b)
		if o.File != filepath.Join(logPath, "orgs.json") || !o.ExcludeExistingOrgs || !o.AllowDuplicateNames || o.DryRun || o.Snyk == nil || o.IO.Stage.dryRun {
			t.Errorf("options %+v", o)
		}
	})
	t.Run("dry run reads only", func(t *testing.T) {
		t.Parallel()
		f := filepath.Join(t.TempDir(), "orgs.json")
		b := bindCommand(t, newOrgsCreateCommand, snykTokenEnv, "--file="+f, "--dryRun")
		if o := wantBound(t, b); !o.DryRun || !o.IO.Stage.dryRun || b.locked() {
			t.Errorf("options %+v, locked %v; want a dry run without lock or summary", o, b.locked())
		}
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no file", snykTokenEnv, nil, "--file is required"},
		{"missing file", snykTokenEnv, []string{"--file=nowhere.json"}, "--file=nowhere.json: no such file"},
		{"contradiction", snykTokenEnv, []string{"--file=/x.json", "--noDuplicateNames", "--allowDuplicateNames"}, "contradict"},
		{"no Snyk credential", nil, []string{"--file=/x.json"}, "no Snyk credential: set SNYK_CLIENT_ID and SNYK_CLIENT_SECRET"},
		{"half a service account", map[string]string{"SNYK_CLIENT_ID": "sa-1"}, []string{"--file=/x.json"}, "SNYK_CLIENT_SECRET is not"},
		{"bad REST version", withEnv(snykTokenEnv, map[string]string{"SNYK_REST_VERSION": "latest"}), []string{"--file=/x.json"}, "SNYK_REST_VERSION"},
		{"bad Snyk base", withEnv(snykTokenEnv, map[string]string{"SNYK_API": "not a url"}), []string{"--file=/x.json"}, "SNYK_API"},
		{"bad rate limit", withEnv(snykTokenEnv, map[string]string{"SNYK_RATE_LIMIT": "0"}), []string{"--file=/x.json"}, "SNYK_RATE_LIMIT=0 is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantUsage(t, bindCommand(t, newOrgsCreateCommand, tc.env, tc.args...), tc.want)
		})
	}
}

func TestNewCmdImportData(t *testing.T) {
	t.Parallel()
	orgs := writeCreatedOrgs(t, t.TempDir())
	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		o := wantBound(t, bindCommand(t, newImportDataCommand, withEnv(consumerEnv, map[string]string{"BBIMPORT_SHARD": "2/3"}),
			"--orgsData="+orgs, "--skipForks", "--skipEmptyRepos=false", "--include=north/*", "--exclude=north/old-*",
			"--private", "--updatedSince=2024-01-31", "--project=CORE", "--workspace=north", "--orgPer=workspace", "--concurrency=7",
			"--integrationType=bitbucket-cloud"))
		d := o.Data
		want := importer.RepoFilter{SkipForks: true, IncludeEmptyRepos: true, Include: []string{"north/*"}, Exclude: []string{"north/old-*"},
			Projects: []string{"CORE"}, Visibility: importer.VisibilityPrivate, UpdatedSince: time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)}
		if d.OrgsData != orgs || d.Source != sourceApp || d.Concurrency != 7 || d.OrgPer != importer.OrgPerWorkspace ||
			!slices.Equal(d.Workspaces, []string{"north"}) || d.Shard.String() != "2/3" || d.IntegrationType != "bitbucket-cloud" ||
			d.Filter.SkipForks != want.SkipForks || d.Filter.IncludeEmptyRepos != want.IncludeEmptyRepos || !slices.Equal(d.Filter.Include, want.Include) ||
			!slices.Equal(d.Filter.Exclude, want.Exclude) || !slices.Equal(d.Filter.Projects, want.Projects) ||
			d.Filter.Visibility != want.Visibility || !d.Filter.UpdatedSince.Equal(want.UpdatedSince) {
			t.Errorf("options %+v", d)
		}
		if o.Bitbucket == nil || o.Snyk != nil || o.IO.Stage.shard != "2/3" {
			t.Errorf("without a Snyk credential, import:data needs no Snyk client; got Snyk %v, stage shard %q", o.Snyk != nil, o.IO.Stage.shard)
		}
	})
	t.Run("with Snyk", func(t *testing.T) {
		t.Parallel()
		o := wantBound(t, bindCommand(t, newImportDataCommand, withEnv(consumerEnv, snykTokenEnv), "--orgsData="+orgs))
		if o.Snyk == nil || o.Data.Concurrency != importer.DefaultImportDataConcurrency || o.Data.Filter.IncludeEmptyRepos {
			t.Errorf("options %+v, Snyk %v", o.Data, o.Snyk != nil)
		}
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no orgs data", consumerEnv, nil, "--orgsData is required"},
		{"both visibilities", consumerEnv, []string{"--orgsData=" + orgs, "--private", "--public"}, "--private and --public contradict"},
		{"bad date", consumerEnv, []string{"--orgsData=" + orgs, "--updatedSince=yesterday"}, `--updatedSince="yesterday" is not a date`},
		{"bad shard", withEnv(consumerEnv, map[string]string{"BBIMPORT_SHARD": "0/3"}), []string{"--orgsData=" + orgs}, "BBIMPORT_SHARD"},
		{"bad Snyk settings", withEnv(consumerEnv, snykTokenEnv, map[string]string{"SNYK_API": "ftp://snyk.test"}), []string{"--orgsData=" + orgs}, "SNYK_API"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantUsage(t, bindCommand(t, newImportDataCommand, tc.env, tc.args...), tc.want)
		})
	}
}

func TestNewCmdImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	targets := filepath.Join(dir, "import-projects.json")
	if err := os.WriteFile(targets, []byte(`{"targets":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("environment", func(t *testing.T) {
		t.Parallel()
		o := wantBound(t, bindCommand(t, newImportCommand, withEnv(snykTokenEnv, map[string]string{
			"SNYK_IMPORT_PATH": dir, "CONCURRENT_IMPORTS": "7", "SNYK_RATE_LIMIT": "600", "BBIMPORT_SHARD": "1/2"})))
		i := o.Import
		// SNYK_RATE_LIMIT is the budget's; the polls have no cap of their own.
		if i.File != targets || i.Concurrency != 7 || i.SnykRateLimit != 0 || i.PollShare != 0 ||
			i.PollTimeout != importer.DefaultPollTimeout || i.PollInitial != importer.DefaultPollInitial || i.Shard.String() != "1/2" || i.DryRun || o.Snyk == nil {
			t.Errorf("options %+v", i)
		}
	})
	t.Run("flags win", func(t *testing.T) {
		t.Parallel()
		o := wantBound(t, bindCommand(t, newImportCommand, withEnv(snykTokenEnv, map[string]string{"CONCURRENT_IMPORTS": "7"}),
			"--file="+targets, "--concurrency=3", "--pollTimeout=2m", "--pollInterval=3s", "--pollShare=20", "--shard=2/2"))
		i := o.Import
		if i.Concurrency != 3 || i.PollTimeout != 2*time.Minute || i.PollInitial != 3*time.Second || i.PollShare != 0.2 || i.SnykRateLimit != 1500 || i.Shard.String() != "2/2" {
			t.Errorf("options %+v", i)
		}
	})
	t.Run("dry run needs no Snyk", func(t *testing.T) {
		t.Parallel()
		b := bindCommand(t, newImportCommand, nil, "--file="+targets, "--dryRun")
		if o := wantBound(t, b); !o.Import.DryRun || o.Snyk != nil || b.locked() {
			t.Errorf("options %+v, Snyk %v, locked %v", o.Import, o.Snyk != nil, b.locked())
		}
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no file", snykTokenEnv, nil, "no targets file"},
		{"directory without targets", snykTokenEnv, []string{"--file=" + t.TempDir()}, "without import-projects.json"},
		{"bad concurrency", withEnv(snykTokenEnv, map[string]string{"CONCURRENT_IMPORTS": "500"}), []string{"--file=" + targets}, "CONCURRENT_IMPORTS=500 is out of range"},
		{"bad poll timeout", snykTokenEnv, []string{"--file=" + targets, "--pollTimeout=1ns"}, "--pollTimeout"},
		{"no Snyk credential", nil, []string{"--file=" + targets}, "no Snyk credential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantUsage(t, bindCommand(t, newImportCommand, tc.env, tc.args...), tc.want)
		})
	}
}

func TestNewCmdListImported(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		args         []string
		group, org   string
		integrations []string
	}{
		{"group", []string{"--groupId=" + sim.SimSnykGroupID}, sim.SimSnykGroupID, "", []string{sourceApp, sourceCloud}},
		{"org, one type", []string{"--orgId=o1", "--integrationType=bitbucket-cloud"}, "", "o1", []string{sourceCloud}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := bindCommand(t, newListImportedCommand, snykTokenEnv, tc.args...)
			o := wantBound(t, b)
			if o.GroupID != tc.group || o.OrgID != tc.org || !slices.Equal(o.IntegrationTypes, tc.integrations) || o.LogPath != b.logPath || o.Snyk == nil {
				t.Errorf("options %+v", o)
			}
		})
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"neither", nil, "pass exactly one of --groupId or --orgId"},
		{"both", []string{"--groupId=" + sim.SimSnykGroupID, "--orgId=o"}, "were both given"},
		{"unknown type", []string{"--groupId=" + sim.SimSnykGroupID, "--integrationType=bitbucket-clod"}, `--integrationType="bitbucket-clod"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantUsage(t, bindCommand(t, newListImportedCommand, snykTokenEnv, tc.args...), tc.want)
		})
	}
}

func TestNewCmdSync(t *testing.T) {
	t.Parallel()
	env := withEnv(consumerEnv, snykTokenEnv)
	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		b := bindCommand(t, newSyncCommand, withEnv(env, map[string]string{"CONCURRENT_IMPORTS": "4"}),
			"--orgPublicId=org-1", "--groupId="+sim.SimSnykGroupID, "--importNew", "--onDeletedRepo=delete", "--deleteAfter=2d",
			"--maxDeactivate=5", "--snykProduct=container,iac", "--exclusionGlobs=test/**", "--skipForks", "--integrationType=bitbucket-cloud-app")
		o := wantBound(t, b)
		s := o.Sync
		if o.OrgID != "org-1" || o.GroupID != sim.SimSnykGroupID || o.OrgsData != "" || !s.ImportNew || s.OnDeleted != syncer.OnDeletedDelete ||
			s.DeleteAfter != 48*time.Hour || s.MaxDeactivate.String() != "5" || !slices.Equal(s.Products, []string{"container", "iac"}) ||
			!slices.Equal(s.ExclusionGlobs, []string{"test/**"}) || !s.Filter.SkipForks || s.Concurrency != 4 || s.LogPath != b.logPath ||
			s.IntegrationType != sourceApp || s.DryRun || !b.locked() || o.Bitbucket == nil || o.Snyk == nil {
			t.Errorf("options %+v, locked %v", o, b.locked())
		}
	})
	t.Run("dry run writes its summary but takes no lock", func(t *testing.T) {
		t.Parallel()
		b := bindCommand(t, newSyncCommand, env, "--groupId="+sim.SimSnykGroupID, "--dryRun")
		if o := wantBound(t, b); !o.Sync.DryRun || o.IO.Stage.dryRun || b.locked() || o.Sync.MaxDeactivate != syncer.DefaultLimit {
			t.Errorf("options %+v, stage dry run %v, locked %v", o.Sync, o.IO.Stage.dryRun, b.locked())
		}
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"detect tree", env, []string{"--groupId=" + sim.SimSnykGroupID, "--detect=tree"}, "--detect=tree"},
		{"bad onDeletedRepo", env, []string{"--groupId=" + sim.SimSnykGroupID, "--onDeletedRepo=archive"}, "--onDeletedRepo"},
		{"bad deleteAfter", env, []string{"--groupId=" + sim.SimSnykGroupID, "--deleteAfter=-1d"}, "--deleteAfter"},
		{"bad product", env, []string{"--groupId=" + sim.SimSnykGroupID, "--snykProduct=sast"}, "--snykProduct"},
		{"bad maxDeactivate", env, []string{"--groupId=" + sim.SimSnykGroupID, "--maxDeactivate=lots"}, "--maxDeactivate"},
		{"no Bitbucket credential", snykTokenEnv, []string{"--groupId=" + sim.SimSnykGroupID}, "BITBUCKET_APP_CLIENT_ID"},
		{"no Snyk credential", consumerEnv, []string{"--groupId=" + sim.SimSnykGroupID}, "no Snyk credential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantUsage(t, bindCommand(t, newSyncCommand, tc.env, tc.args...), tc.want)
		})
	}
}

func TestNewCmdDoctor(t *testing.T) {
	t.Parallel()
	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		b := bindCommand(t, newDoctorCommand, withEnv(consumerEnv, snykTokenEnv),
			"--groupId="+sim.SimSnykGroupID, "--orgsData=/x.json", "--workspace=north", "--maxWorkspaces=3", "--integrationType=bitbucket-cloud")
		c := wantBound(t, b).Checks
		if c.Source != sourceApp || c.GroupID != sim.SimSnykGroupID || c.OrgsData != "/x.json" || !slices.Equal(c.Workspaces, []string{"north"}) ||
			c.MaxWorkspaces != 3 || c.IntegrationType != sourceCloud || b.locked() {
			t.Errorf("options %+v, locked %v", c, b.locked())
		}
		if e := c.Env; !e.Bitbucket.Ready || !e.Snyk.Ready || !slices.Equal(e.Snyk.Need, []string{"SNYK_TOKEN"}) || e.LogPathFlag {
			t.Errorf("environment %+v", e)
		}
	})
	t.Run("nothing set is for the checks to say", func(t *testing.T) {
		t.Parallel()
		b := bindCommand(t, newDoctorCommand, map[string]string{"SNYK_LOG_PATH": ""}, "--logPath="+t.TempDir())
		c := wantBound(t, b).Checks
		if c.MaxWorkspaces != doctorMaxWorkspaces || c.Env.Bitbucket.Ready || c.Env.Snyk.Ready || !c.Env.LogPathFlag {
			t.Errorf("options %+v", c)
		}
	})
	wantUsage(t, bindCommand(t, newDoctorCommand, nil, "--source=gitlab"), `--source "gitlab"`)
}
