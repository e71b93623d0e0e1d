#!/usr/bin/env bash
# make demo: the whole pipeline against the local simulator, no real credentials.
# Starts bin/bbsim on a free loopback port, runs the four stages with bin/bbimport,
# prints each stage's summary, and stops the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${DEMO_OUT:-demo-out}
rm -rf "$out"
mkdir -p "$out"

bin/bbsim -addr 127.0.0.1:0 -url-file "$out/sim.url" -env-file "$out/sim.env" \
  -latency 5ms -pending-polls 1 -fail-project-every 40 >"$out/sim.log" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do [ -s "$out/sim.env" ] && break; sleep 0.1; done
[ -s "$out/sim.env" ] || { echo "demo: the simulator did not start; see $out/sim.log" >&2; exit 1; }
# shellcheck disable=SC1090
. "$out/sim.env"
# The default settings: 15 import workers, SNYK_RATE_LIMIT 1,500 a minute
# (docs/polling.md: polls use what the budget leaves).
export SNYK_LOG_PATH="$out/logs"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step bbimport orgs:data --source=bitbucket-cloud-app --groupId="$SNYK_GROUP_ID"
bin/bbimport orgs:data --source=bitbucket-cloud-app --groupId="$SNYK_GROUP_ID"

orgs="$SNYK_LOG_PATH/group-$SNYK_GROUP_ID-bitbucket-cloud-app-orgs.json"
step bbimport orgs:create --file="$orgs"
bin/bbimport orgs:create --file="$orgs"

step bbimport import:data --source=bitbucket-cloud-app --orgsData="$SNYK_LOG_PATH/snyk-created-orgs.json"
bin/bbimport import:data --source=bitbucket-cloud-app --orgsData="$SNYK_LOG_PATH/snyk-created-orgs.json"

step bbimport import --file="$SNYK_LOG_PATH/bitbucket-cloud-app-import-targets.json"
code=0
bin/bbimport import --file="$SNYK_LOG_PATH/bitbucket-cloud-app-import-targets.json" || code=$?

step bbimport import "(again: resumes, imports nothing new)"
bin/bbimport import --file="$SNYK_LOG_PATH/bitbucket-cloud-app-import-targets.json" || true

printf '\nThe import exited %s (3 = finished, some projects failed: the simulator fails every 40th on purpose).\n' "$code"
printf 'Generated files and logs are in %s\n' "$SNYK_LOG_PATH"
