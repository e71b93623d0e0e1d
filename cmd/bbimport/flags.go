package main

import (
	"strings"
	"time"

	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/urfave/cli/v2"
)

// Sources bbimport speaks for (pkg/importer defines them).
const (
	sourceApp   = importer.SourceBitbucketCloudApp
	sourceCloud = importer.SourceBitbucketCloud
)

// sourceUsage is the --source flag's usage: the default source with its
// credentials, then the others.
var sourceUsage = func() string {
	all := importer.Sources()
	names := []string{all[0].Name + " (" + all[0].Credentials + ")"}
	for _, s := range all[1:] {
		names = append(names, s.Name)
	}
	return strings.Join(names, " or ")
}()

func checkSource(s string) (string, error) {
	s = strings.TrimSpace(s)
	if _, ok := importer.LookupSource(s); ok {
		return s, nil
	}
	if s == "" {
		var each []string
		for _, src := range importer.Sources() {
			each = append(each, src.Name+" ("+src.Credentials+")")
		}
		return "", usagef("--source is required: %s", strings.Join(each, " or "))
	}
	return "", usagef("--source %q is not supported by bbimport; use %s", s, sourceUsage)
}

// waitFlag is --wait of the commands that lock the log directory.
func waitFlag() cli.Flag {
	return &cli.BoolFlag{Name: "wait", Usage: "when another bbimport is using the log directory, wait for it to finish instead of exiting (exit 2)"}
}

// requireString returns a required flag's value or a usage error naming it.
func requireString(c *cli.Context, name, what string) (string, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return "", usagef("--%s is required: %s", name, what)
	}
	return v, nil
}

// parseDate accepts the date forms a person types: 2024-01-31, or RFC 3339.
func parseDate(flag, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usagef("--%s=%q is not a date; use YYYY-MM-DD or RFC 3339 (2024-01-31T00:00:00Z)", flag, s)
}
