package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/snyk"
	"github.com/urfave/cli/v2"
)

// doctor checks the set-up one step at a time, each on its own line with ✓
// or ✗ and the fix, so a 401/403 is fixed in minutes. It never prints a
// secret: only variable names, counts, slugs and scopes.
type doctor struct {
	out    io.Writer
	failed int
}

func (d *doctor) ok(format string, a ...any) { fmt.Fprintf(d.out, "✓ "+format+"\n", a...) }

func (d *doctor) fail(fix string, format string, a ...any) {
	d.failed++
	fmt.Fprintf(d.out, "✗ "+format+"\n", a...)
	if fix != "" {
		fmt.Fprintf(d.out, "    fix: %s\n", fix)
	}
}

func (d *doctor) warn(format string, a ...any) { fmt.Fprintf(d.out, "! "+format+"\n", a...) }

func (d *doctor) skip(format string, a ...any) { fmt.Fprintf(d.out, "- "+format+"\n", a...) }

func newDoctorCommand(rt *runtime) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the set-up: variables, Bitbucket token and scopes, workspaces, Snyk token, group, org integrations",
		Flags: withKebab(append([]cli.Flag{
			&cli.StringFlag{Name: "source", Value: sourceApp, Usage: "bitbucket-cloud-app (OAuth consumer) or bitbucket-cloud"},
			&cli.StringFlag{Name: "sourceUrl", Usage: "Bitbucket API base (else BITBUCKET_APP_API_BASE)"},
			&cli.StringFlag{Name: "groupId", Usage: "Snyk group to check access to"},
			&cli.StringFlag{Name: "orgsData", Usage: "snyk-created-orgs.json: check each org has a Bitbucket integration"},
			&cli.StringSliceFlag{Name: "workspace", Usage: "check these workspace slugs instead of listing (repeatable)"},
			&cli.StringFlag{Name: "integrationType", Usage: "the integration key import:data will use (default by source)"},
		}, commonFlags()...)),
		Action: func(c *cli.Context) error {
			rt.actionStarted = true
			if err := rt.setupLogging(c); err != nil {
				return err
			}
			source, err := checkSource(c.String("source"))
			if err != nil {
				return err
			}
			d := &doctor{out: rt.Stdout}
			rt.doctorEnv(d, source)
			rt.doctorBitbucket(c, d, source)
			rt.doctorSnyk(c, d, source)
			if d.failed > 0 {
				fmt.Fprintf(rt.Stdout, "\n%s failed.\n", plural(d.failed, "check"))
				return errSilent
			}
			fmt.Fprintln(rt.Stdout, "\nAll checks passed.")
			return nil
		},
	}
}

func (rt *runtime) doctorEnv(d *doctor, source string) {
	need := []string{"SNYK_TOKEN", "SNYK_LOG_PATH"}
	if source == sourceApp {
		need = append([]string{"BITBUCKET_APP_CLIENT_ID", "BITBUCKET_APP_CLIENT_SECRET"}, need...)
	}
	var missing []string
	for _, v := range need {
		if rt.env(v) == "" {
			missing = append(missing, v)
		}
	}
	if source == sourceCloud {
		if _, err := bitbucket.CredentialsFromEnv(rt.Getenv); err != nil {
			d.fail("set BITBUCKET_CLOUD_USERNAME + BITBUCKET_CLOUD_PASSWORD, or BITBUCKET_CLOUD_API_TOKEN, or BITBUCKET_CLOUD_OAUTH_TOKEN", "Bitbucket credentials: %v", err)
		}
	}
	if len(missing) > 0 {
		d.fail("export each of them (see README \"Environment variables\")", "environment: not set: %s", strings.Join(missing, ", "))
		return
	}
	d.ok("environment: %s set", strings.Join(need, ", "))
}

func (rt *runtime) doctorBitbucket(c *cli.Context, d *doctor, source string) {
	ctx := c.Context
	bb, err := rt.newBitbucket(c, source)
	if err != nil {
		d.fail("", "Bitbucket client: %v", err)
		return
	}
	if bb.Tokens != nil {
		scopes, err := bb.Tokens.Scopes(ctx)
		if err != nil {
			d.fail("", "Bitbucket token exchange: %v", err)
			return
		}
		d.ok("Bitbucket token exchange works; scopes granted: %s", strings.Join(scopes, " "))
		var missing []string
		for _, s := range []string{"account", "repository"} {
			if len(scopes) > 0 && !slices.Contains(scopes, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			d.warn("the consumer lacks the %s scope: edit it in Workspace settings → OAuth consumers and tick %s", strings.Join(missing, " and "), scopeBoxes(missing))
		}
	}
	slugs := c.StringSlice("workspace")
	if len(slugs) == 0 {
		for ws, err := range bb.ListWorkspaces(ctx) {
			if err != nil {
				d.fail("or pass --workspace=<slug> for each workspace to import", "workspaces: %v", err)
				return
			}
			slugs = append(slugs, ws.Slug)
		}
		if len(slugs) == 0 {
			d.fail("the consumer's owner must be a member of the workspaces to import, or pass --workspace=<slug>", "workspaces: none visible to these credentials")
			return
		}
		d.ok("workspaces: %d visible (%s)", len(slugs), firstFew(slugs, 5))
	}
	bad := 0
	for _, ws := range slugs {
		if err := firstRepoPage(ctx, bb.Client, ws); err != nil {
			bad++
			d.fail("", "repositories of %s: %v", ws, err)
			if bad >= 3 {
				d.skip("stopped checking workspaces after 3 failures")
				break
			}
		}
	}
	if bad == 0 {
		d.ok("repositories: one page of each of %s readable", plural(len(slugs), "workspace"))
	}
}

func firstRepoPage(ctx context.Context, c *bitbucket.Client, ws string) error {
	_, _, err := c.ListRepositoriesPage(ctx, ws, &bitbucket.RepositoryListOptions{PageLen: 1}, "")
	return err
}

func scopeBoxes(scopes []string) string {
	boxes := map[string]string{"account": "Account: Read", "repository": "Repositories: Read"}
	var out []string
	for _, s := range scopes {
		out = append(out, "'"+boxes[s]+"'")
	}
	return strings.Join(out, " and ")
}

func firstFew(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", … %d more", len(s)-n)
}

func (rt *runtime) doctorSnyk(c *cli.Context, d *doctor, source string) {
	ctx := c.Context
	if rt.env("SNYK_TOKEN") == "" {
		d.skip("Snyk checks skipped: SNYK_TOKEN is not set")
		return
	}
	sn, err := rt.newSnyk(c)
	if err != nil {
		d.fail("", "Snyk client: %v", err)
		return
	}
	group := strings.TrimSpace(c.String("groupId"))
	orgsFile := strings.TrimSpace(c.String("orgsData"))
	if group == "" && orgsFile == "" {
		d.skip("Snyk token and group not checked: pass --groupId (and --orgsData to check each org's integration)")
		return
	}
	if group != "" {
		if _, err := sn.ListGroupOrgsPage(ctx, group, 1, 1); err != nil {
			d.fail(snykFix(err), "Snyk group %s: %v", group, err)
		} else {
			d.ok("Snyk token valid; group %s readable", group)
		}
	}
	if orgsFile == "" {
		return
	}
	orgs, err := importer.ReadCreatedOrgsFile(orgsFile)
	if err != nil {
		d.fail("pass the snyk-created-orgs.json written by orgs:create", "orgs file: %v", err)
		return
	}
	cands := importer.IntegrationCandidates(source, strings.TrimSpace(c.String("integrationType")))
	good := 0
	for _, o := range orgs {
		ints, err := sn.ListIntegrations(ctx, o.OrgID)
		if err != nil {
			d.fail(snykFix(err), "org %s (%s): %v", o.Name, o.OrgID, err)
			continue
		}
		key := ""
		for _, k := range cands {
			if ints[k] != "" {
				key = k
				break
			}
		}
		if key == "" {
			have := make([]string, 0, len(ints))
			for k := range ints {
				have = append(have, k)
			}
			slices.Sort(have)
			d.fail("in Snyk, open the org → Integrations → add the Bitbucket Cloud App (or pass --integrationType=<one it has>)",
				"org %s (%s) has no %s integration (it has: %s)", o.Name, o.OrgID, strings.Join(cands, " or "), orDash(strings.Join(have, ", ")))
			continue
		}
		good++
	}
	if good == len(orgs) {
		d.ok("orgs: all %d have a Bitbucket integration (%s)", len(orgs), strings.Join(cands, " or "))
	}
}

func snykFix(err error) string {
	if snyk.IsAuthError(err) {
		return "check SNYK_TOKEN (a service account token with Group Admin, or Org Admin on each org) and SNYK_API for your region"
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
