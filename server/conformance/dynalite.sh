#!/usr/bin/env bash
# Run dynalite's test suite (test/*.js in architect/dynalite: mocha + should, raw HTTP requests
# signed with aws4, written by dynalite's author and checked by him against DynamoDB itself with
# REMOTE=1) against `seedbed serve`'s DynamoDB endpoint.
#
# The suite is on no package registry (the dynalite package on npm ships without test/): give
# this script a copy of it, e.g. a checkout of
#   git clone --depth 1 https://github.com/architect/dynalite
# as DYNALITE_DIR (the directory holding test/). Nothing of it is copied into this repository;
# CI cannot fetch it and does not run it.
#
# The run works on a copy of test/ in a directory of its own. Its helpers.js is patched there:
# it starts no dynalite server (require('..') becomes a stand-in whose listen and close do
# nothing; the before and after hooks still create and delete the suite's five tables) and
# sends every request to this server, signed by aws4 for service dynamodb in us-east-1 with a
# fresh administrator's key. The suite runs as it does against AWS (REMOTE=1: fixed table names,
# retries on throttling) except that its slow tests run too (SLOW_TESTS=1; the suite skips them
# against AWS for their cost). Stand-ins for dynalite's modules serve the files that load them
# (connection.js's one test of dynalite's own SSL listener is skipped: pending). Each test's
# requests go in series (async.forEach is forEachSeries): in parallel, the answers still in
# flight after a test's first failure fail later tests and can end the run. A helper that
# a test file (from another version) uses but helpers.js lacks is defined to fail its tests,
# saying so. mocha, should, aws4, async and once come from npm into the cache, at the versions
# the checkout's package.json names.
#
#   DYNALITE_DIR=~/src/dynalite server/conformance/dynalite.sh
#   DYNALITE_DIR=... FILES="createTable listTables" VERBOSE=1 server/conformance/dynalite.sh
#   DYNALITE_DIR=... ONLY="should return ValidationException" LOG=/tmp/dynalite.log server/conformance/dynalite.sh
#
# Prints one line last:
#
#   dynalite: P passing, F failing, S pending
#
# (a failing before/after hook counts as one failure). Environment: DYNALITE_DIR (required);
# FILES (test file names, with or without .js; default every test/*.js but helpers.js and
# bench.js); ONLY (a mocha --grep pattern); SEEDBED (the binary; default target/release/seedbed,
# else target/debug/seedbed); SEEDBED_CACHE (default ~/.cache/seedbed-conformance); NODE_DIR
# (where the npm packages go; default the cache's dynalite-node/<hash of their versions>);
# TIMEOUT (mocha's per-test timeout; default 30s, the suite's own for REMOTE runs); SLOW_TESTS
# (default 1; set empty to skip them as against AWS); RUN_TIMEOUT_S (the whole run; 3600);
# MOCHA_EXTRA (more mocha flags); LOG (copy the full mocha log, spec reporter, there); KEEP=1
# keeps the run's directory (store, server log, mocha.log); VERBOSE=1 lists the failing tests
# with each failure's message (on one line, cut at 600 characters).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "dynalite.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

[ -n "${DYNALITE_DIR:-}" ] || die "set DYNALITE_DIR to a copy of architect/dynalite (the directory holding test/)"
DYNALITE_DIR=$(cd "$DYNALITE_DIR" && pwd)
SUITE=$DYNALITE_DIR/test
[ -f "$SUITE/helpers.js" ] || die "no test/helpers.js under $DYNALITE_DIR"
{ command -v node && command -v npm; } > /dev/null || die "node and npm are needed"
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
mkdir -p "$CACHE"
find_seedbed

# The suite's packages at the ranges the checkout's package.json gives (else its latest ones);
# mocha at least 10 whatever it says (the run skips through a root hook, mocha 8 and later).
SPECS=$(node -e '
  var fs = require("fs"), p = {}
  try { p = JSON.parse(fs.readFileSync(process.argv[1], "utf8")) } catch (e) {}
  var d = Object.assign({}, p.dependencies, p.optionalDependencies, p.devDependencies)
  var want = { mocha: "^10.2.0", should: "^13.2.3", aws4: "^1.12.0", async: "^3.2.4", once: "^1.4.0" }
  ;[ "should", "aws4", "async", "once" ].forEach(function (k) { if (d[k]) want[k] = d[k] })
  console.log(Object.keys(want).map(function (k) { return k + "@" + want[k] }).join(" "))
' "$DYNALITE_DIR/package.json")
# One directory per set of versions, filled once (in a temporary directory, then renamed).
NODE_DIR=${NODE_DIR:-$CACHE/dynalite-node/$(echo "$SPECS" | sha256sum | cut -c1-12)}
if [ ! -d "$NODE_DIR/node_modules/mocha" ]; then
  mkdir -p "$(dirname "$NODE_DIR")"
  dl=$(mktemp -d "$(dirname "$NODE_DIR")/dl.XXXXXX")
  # shellcheck disable=SC2086 # SPECS is a list of package specs
  npm install --prefix "$dl" --no-audit --no-fund --loglevel=error $SPECS > "$dl/npm.log" 2>&1 \
    || { tail -n 20 "$dl/npm.log" >&2; rm -rf "$dl"; die "npm could not install $SPECS"; }
  echo "$SPECS" > "$dl/specs"
  if [ -d "$NODE_DIR/node_modules/mocha" ]; then rm -rf "$dl"; else rm -rf "$NODE_DIR"; mv "$dl" "$NODE_DIR"; fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-dynalite.XXXXXX")
PID=""
finish_on_exit 'finish_run dynalite.sh'

# The run's tree: test/ is a copy of the suite; index.js and db/ stand in for dynalite's modules
# (require('..') and require('../db')), which the suite's files load.
mkdir -p "$WORK/tree"
cp -R "$SUITE" "$WORK/tree/test"
ln -s "$NODE_DIR/node_modules" "$WORK/tree/node_modules"
cat > "$WORK/tree/index.js" <<'EOF'
// Stand-in for dynalite (require('..') in connection.js): no dynalite server runs here.
module.exports = function () {
  return {
    listen: function (port, cb) { cb(new Error('dynalite itself does not run against seedbed')) },
    close: function (cb) { cb() },
  }
}
EOF
mkdir -p "$WORK/tree/db"
cat > "$WORK/tree/db/index.js" <<'EOF'
// Stand-in for dynalite's db module (require('../db') in batchWriteItem.js, for a skipped test).
exports.itemSize = function () { throw new Error("dynalite's db.itemSize is not available here") }
EOF
cat > "$WORK/tree/hooks.js" <<'EOF'
// Root hook plugin (mocha --require): tests of dynalite itself, not of DynamoDB's API, are marked
// pending once, before any test runs (a root beforeEach could be blamed for a stray assertion
// of an earlier test, which would end the run).
var SKIP = [ 'dynalite connections basic should connect to SSL' ]
// The suite sends a test's requests in parallel (async.forEach) and ends the test at the first
// failure; the answers still on their way then fail whatever test is running, and once that
// test has passed mocha gives up the whole run. In series, a test's requests stop at its
// first failure: the same assertions, nothing left in flight.
var async = require('async')
async.forEach = async.each = async.forEachSeries
exports.mochaHooks = {
  beforeAll: function () {
    (function mark (suite) {
      suite.tests.forEach(function (test) { if (SKIP.indexOf(test.fullTitle()) >= 0) test.pending = true })
      suite.suites.forEach(mark)
    })(this.test.parent)
  },
}
EOF
cat > "$WORK/tree/reporter.js" <<'EOF'
// mocha's spec reporter, which also writes the counts and every failure to $DYNALITE_SUMMARY.
var fs = require('fs'), Spec = require('mocha').reporters.Spec
class Reporter extends Spec {
  constructor (runner, options) {
    super(runner, options)
    var failures = []
    runner.on('fail', function (test, err) {
      var msg = String((err && err.message) || err).replace(/\s+/g, ' ').trim()
      if (msg.length > 600) msg = msg.slice(0, 600) + '...'
      failures.push({ title: test.fullTitle(), file: test.file, message: msg })
    })
    runner.once('end', function () {
      fs.writeFileSync(process.env.DYNALITE_SUMMARY, JSON.stringify({ stats: runner.stats, failures: failures }, null, 1))
    })
  }
}
module.exports = Reporter
EOF

# One administrator, the key every request is signed with. Writes are not synced: the suite
# checks the protocol, not durability.
start_dynamodb_admin_server

# Patch the copy of helpers.js: no dynalite server, requests to $URL signed for dynamodb.
node - "$WORK/tree/test/helpers.js" "$URL" <<'EOF' || die "could not patch test/helpers.js (an unknown version?)"
var fs = require('fs'), file = process.argv[2], url = new URL(process.argv[3])
var src = fs.readFileSync(file, 'utf8')
var requires = src.match(/require\(\s*['"]\.\.\/?['"]\s*\)/g) || []
if (requires.length !== 1) throw new Error("expected one require('..'), found " + requires.length)
if (!/\brequestOpts\b/.test(src)) throw new Error('no requestOpts')
src = src.replace(/require\(\s*['"]\.\.\/?['"]\s*\)/, '(function () { return { ' +
  'listen: function (port, cb) { cb() }, close: function (cb) { cb() } } }) /* seedbed: no dynalite server */')
src += '\n// seedbed conformance (dynalite.sh): every request goes to seedbed serve, signed for dynamodb.\n' +
  'requestOpts = ' + JSON.stringify({ host: url.hostname, port: Number(url.port), method: 'POST',
    service: 'dynamodb', region: 'us-east-1' }) + '\n'
// A test file from another version may use a helper this helpers.js lacks: its tests fail
// saying so, instead of the file failing to load (which would end the whole run).
var dir = require('path').dirname(file), have = {}, missing = {}
src.replace(/exports\.(\w+)\s*=/g, function (m, name) { have[name] = true })
fs.readdirSync(dir).filter(function (f) { return /\.js$/.test(f) && f !== 'helpers.js' }).forEach(function (f) {
  fs.readFileSync(dir + '/' + f, 'utf8').replace(/helpers\.(\w+)/g, function (m, name) {
    if (!have[name]) (missing[name] = missing[name] || []).push(f)
  })
})
Object.keys(missing).forEach(function (name) {
  src += 'exports.' + name + ' = function () { throw new Error(' + JSON.stringify('helpers.' + name +
    ' (used by ' + Array.from(new Set(missing[name])).join(', ') + ') is not in this test/helpers.js') + ') }\n'
})
fs.writeFileSync(file, src)
EOF

FILE_ARGS=()
if [ -n "${FILES:-}" ]; then
  for f in $FILES; do
    f=${f%.js}; f=${f#test/}
    [ -f "$WORK/tree/test/$f.js" ] || die "no test/$f.js in $SUITE"
    FILE_ARGS+=("test/$f.js")
  done
else
  for f in "$WORK"/tree/test/*.js; do
    case ${f##*/} in helpers.js|bench.js) ;; *) FILE_ARGS+=("test/${f##*/}") ;; esac
  done
fi

set +e
# shellcheck disable=SC2086 # MOCHA_EXTRA is word-split on purpose
( cd "$WORK/tree" && env -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_REGION \
    REMOTE=1 SLOW_TESTS="${SLOW_TESTS-1}" AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" DYNALITE_SUMMARY="$WORK/summary.json" \
    timeout "${RUN_TIMEOUT_S:-3600}" node node_modules/mocha/bin/mocha.js --require should --require ./hooks.js \
      --reporter ./reporter.js --timeout "${TIMEOUT:-30s}" --exit --no-color \
      ${ONLY:+--grep "$ONLY"} ${MOCHA_EXTRA:-} "${FILE_ARGS[@]}" ) > "$WORK/mocha.log" 2>&1
rc=$?
set -e
[ -z "${LOG:-}" ] || cp "$WORK/mocha.log" "$LOG"
kill -0 "$PID" 2>/dev/null || { echo "dynalite.sh: the server died during the run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
[ -s "$WORK/summary.json" ] || { tail -n 30 "$WORK/mocha.log" >&2; KEEP=1; die "mocha exited $rc without finishing (set-up problem or time limit); log kept in $WORK"; }
node -e '
  var s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  if (process.argv[2] === "1") s.failures.forEach(function (f) { console.log(f.title + "  --  " + f.message) })
  console.log("dynalite: " + s.stats.passes + " passing, " + s.stats.failures + " failing, " + s.stats.pending + " pending")
  process.exit(s.stats.failures ? 1 : 0)
' "$WORK/summary.json" "$([ "${KEEP:-0}" = 1 ] || [ "${VERBOSE:-0}" = 1 ] && echo 1)"
