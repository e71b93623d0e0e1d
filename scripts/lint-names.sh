#!/bin/sh
# lint-names: the libraries (pkg/, internal/) name no flag and no
# environment variable, in code or in comments: they return typed errors
# with fields, and cmd/ words them (cmd/bbimport/explain.go,
# fieldnames.go). The simulator (internal/sim) and tests are exempt: they
# stand in for the user.
set -u
pattern='SNYK_|BITBUCKET_|BBIMPORT_|NODE_EXTRA|CONCURRENT_IMPORTS|(^|[^-[:alnum:]])--[[:alpha:]]'
hits=$(grep -rnE --include='*.go' --exclude='*_test.go' "$pattern" pkg internal | grep -v '^internal/sim/')
if [ -n "$hits" ]; then
	echo "lint-names: flag or environment variable names outside cmd/ (return a typed error and word it in cmd/bbimport):"
	printf '%s\n' "$hits"
	exit 1
fi
