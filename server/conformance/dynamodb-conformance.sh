#!/usr/bin/env bash
# Run the DynamoDB Conformance Suite (nubo-db/dynamodb-conformance: vitest + the AWS SDK for
# JavaScript v3, about 700 tests in three tiers, every one run against DynamoDB itself first and
# kept only when DynamoDB passes it) against `seedbed serve`'s DynamoDB endpoint.
#
# The suite is on no package registry: give this script a copy of it, e.g. a checkout of
#   git clone --depth 1 https://github.com/nubo-db/dynamodb-conformance
# as CONFORMANCE_DIR (the directory holding package.json, vitest.config.ts, src/ and tests/).
# Nothing of it is copied into this repository; CI cannot fetch it and does not run it.
#
# The run is the suite's own, as its README runs an emulator: `vitest run` with
# DYNAMODB_ENDPOINT pointing at a fresh server on a free loopback port, and the SDK's
# credentials a fresh administrator's key (this server checks every signature). The suite's
# npm packages come from npm into the cache, at the versions its package.json names. Tests of
# operations the server does not implement skip themselves (each file probes in beforeAll), as
# they do for every target the suite scores.
#
#   CONFORMANCE_DIR=~/src/dynamodb-conformance server/conformance/dynamodb-conformance.sh
#   CONFORMANCE_DIR=... FILES="tests/tier1/scan" ONLY="parallel" VERBOSE=1 server/conformance/dynamodb-conformance.sh
#
# Prints one line last:
#
#   dynamodb-conformance: P passed, F failed, S skipped
#
# Environment: CONFORMANCE_DIR (required); FILES (test files or directories, relative to the
# copy; default all of tests/); ONLY (a vitest -t pattern); SEEDBED (the binary; default
# target/release/seedbed, else target/debug/seedbed); SEEDBED_CACHE (default
# ~/.cache/seedbed-conformance); NODE_DIR (where the npm packages go; default the cache's
# dynamodb-conformance-node/<hash of the package.json>); VITEST_EXTRA (more vitest flags); KEEP=1
# keeps the run's directory (store, server log, vitest.log, results.json); VERBOSE=1 lists the
# failing tests with each failure's first line.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "dynamodb-conformance.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

[ -n "${CONFORMANCE_DIR:-}" ] || die "set CONFORMANCE_DIR to a copy of nubo-db/dynamodb-conformance"
SUITE=$(cd "$CONFORMANCE_DIR" && pwd)
for f in package.json vitest.config.ts src/helpers.ts src/setup.ts; do
  [ -f "$SUITE/$f" ] || die "no $f under $SUITE"
done
[ -d "$SUITE/tests" ] || die "no tests/ under $SUITE"
{ command -v node && command -v npm; } > /dev/null || die "node and npm are needed"
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
mkdir -p "$CACHE"
find_seedbed

# The suite's packages (dependencies and devDependencies), once per package.json.
HASH=$(node -e '
  var p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  console.log(JSON.stringify([p.dependencies || {}, p.devDependencies || {}]))
' "$SUITE/package.json" | sha256sum | cut -c1-12)
NODE_DIR=${NODE_DIR:-$CACHE/dynamodb-conformance-node/$HASH}
if [ ! -x "$NODE_DIR/node_modules/.bin/vitest" ]; then
  mkdir -p "$(dirname "$NODE_DIR")"
  dl=$(mktemp -d "$(dirname "$NODE_DIR")/dl.XXXXXX")
  node -e '
    var fs = require("fs"), p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))
    fs.writeFileSync(process.argv[2], JSON.stringify({ name: "seedbed-dynamodb-conformance", private: true,
      type: "module", dependencies: Object.assign({}, p.dependencies, p.devDependencies) }))
  ' "$SUITE/package.json" "$dl/package.json"
  (cd "$dl" && npm install --no-audit --no-fund --loglevel=error > npm.log 2>&1) \
    || { tail -n 20 "$dl/npm.log" >&2; rm -rf "$dl"; die "npm could not install the suite's packages"; }
  if [ -x "$NODE_DIR/node_modules/.bin/vitest" ]; then rm -rf "$dl"; else rm -rf "$NODE_DIR"; mv "$dl" "$NODE_DIR"; fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-ddbconf.XXXXXX")
PID=""
finish_on_exit 'finish_run dynamodb-conformance.sh'

# The run's tree: a copy of the suite beside the cached node_modules.
mkdir -p "$WORK/tree"
for f in package.json vitest.config.ts tsconfig.json src tests; do
  [ -e "$SUITE/$f" ] && cp -R "$SUITE/$f" "$WORK/tree/"
done
ln -s "$NODE_DIR/node_modules" "$WORK/tree/node_modules"

# One administrator, the key the SDK signs with. Writes are not synced: the suite checks the
# protocol, not durability.
start_dynamodb_admin_server

ARGS=(run --reporter=verbose --reporter=json --outputFile.json="$WORK/results.json")
[ -n "${ONLY:-}" ] && ARGS+=(-t "$ONLY")
# shellcheck disable=SC2206 # FILES and VITEST_EXTRA are word-split on purpose
ARGS+=(${VITEST_EXTRA:-} ${FILES:-})

set +e
( cd "$WORK/tree" && env -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_REGION \
    DYNAMODB_ENDPOINT="$URL" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" \
    node_modules/.bin/vitest "${ARGS[@]}" ) > "$WORK/vitest.log" 2>&1
set -e
[ -s "$WORK/results.json" ] || { tail -n 40 "$WORK/vitest.log" >&2; die "vitest wrote no results (see above)"; }

node - "$WORK/results.json" "$SUITE" "${VERBOSE:-0}" <<'EOF'
var r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')), suite = process.argv[3]
var passed = 0, failed = 0, skipped = 0
r.testResults.forEach(function (file) {
  var name = file.name.replace(/^.*?\/tree\//, '')
  if (file.assertionResults.length === 0 && file.status === 'failed') {
    failed++
    if (process.argv[4] === '1') console.log(name + '  --  (file failed to run) ' + String(file.message).split('\n')[0])
  }
  file.assertionResults.forEach(function (t) {
    if (t.status === 'passed') passed++
    else if (t.status === 'failed') {
      failed++
      if (process.argv[4] === '1') {
        var msg = (t.failureMessages || []).join(' ').split('\n')[0].slice(0, 600)
        console.log(name + ' > ' + t.fullName + '  --  ' + msg)
      }
    } else skipped++
  })
})
console.log('dynamodb-conformance: ' + passed + ' passed, ' + failed + ' failed, ' + skipped + ' skipped')
EOF
if [ -n "${LOG:-}" ]; then cp "$WORK/vitest.log" "$LOG"; fi
