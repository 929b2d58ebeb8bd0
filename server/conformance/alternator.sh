#!/usr/bin/env bash
# Run ScyllaDB's Alternator tests (test/alternator in scylladb/scylladb: pytest + boto3, run by
# their authors against DynamoDB itself with --aws) against `seedbed serve`'s DynamoDB endpoint.
#
# The suite is on no package registry: give this script a copy of it, e.g. a checkout of
#   git clone --depth 1 https://github.com/scylladb/scylladb
# as ALTERNATOR_DIR (the directory holding test/alternator/). Nothing of it is copied into this
# repository; CI cannot fetch it and does not run it. docs/dynamodb-compatibility.md has the
# last hand run and what every remaining failure is.
#
# The suite imports a few modules of Scylla's own test framework (test.pylib, test.cqlpy).
# This script runs it from a directory of its own in which test/alternator is the given copy
# and those modules are small stand-ins: the fixture scope and --host option of Scylla's
# test.py, its skip helper, and CQL helpers that skip (this server has no CQL). With no CQL
# port the suite signs with its fallback key, unknownuser / unknownsecret, which the script
# adds to the server's administrator. Tests of Scylla-only behaviour run too and fail: the
# suite skips them only against AWS.
#
#   ALTERNATOR_DIR=~/src/scylladb server/conformance/alternator.sh
#   ALTERNATOR_DIR=... ONLY="test_item or test_batch" PYTEST_EXTRA="-x -vv" server/conformance/alternator.sh
#
# Prints one line last:
#
#   alternator: P passed, F failed, E errors, S skipped of N
#
# ("passed" counts XPASS, "failed" XFAIL.) Environment: ALTERNATOR_DIR (required); SEEDBED (the
# binary; default target/release/seedbed, else target/debug/seedbed); VENV (default in the
# cache); SEEDBED_CACHE (default ~/.cache/seedbed-conformance); ONLY (a pytest -k expression);
# PYTEST_EXTRA; KEEP=1 keeps the run's directory (store, server log, pytest.log);
# VERBOSE=1 lists the failing tests.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "alternator.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

[ -n "${ALTERNATOR_DIR:-}" ] || die "set ALTERNATOR_DIR to a copy of scylladb/scylladb (the directory holding test/alternator/)"
SUITE=$(cd "$ALTERNATOR_DIR" && pwd)/test/alternator
[ -f "$SUITE/conftest.py" ] || die "no test/alternator/conftest.py under $ALTERNATOR_DIR"
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
VENV=${VENV:-$CACHE/venv-alternator}
mkdir -p "$CACHE"
find_seedbed

# boto3 and pytest; packaging (conftest checks botocore's version with it); requests (the
# health check after every test); scylla-driver (the CQL driver the suite imports; with no CQL
# port here it finds none, as against DynamoDB).
ensure_venv "import boto3, pytest, requests, packaging, cassandra" \
  "boto3, pytest, requests, packaging and scylla-driver" 'boto3>=1.36' pytest requests packaging scylla-driver

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-alternator.XXXXXX")
PID=""
finish_on_exit 'finish_run alternator.sh'

# The run's tree: test/alternator is the suite; the framework modules it imports are stand-ins.
mkdir -p "$WORK/tree/test/pylib/suite" "$WORK/tree/test/cqlpy"
ln -s "$SUITE" "$WORK/tree/test/alternator"
touch "$WORK/tree/test/__init__.py" "$WORK/tree/test/pylib/__init__.py" \
  "$WORK/tree/test/pylib/suite/__init__.py" "$WORK/tree/test/cqlpy/__init__.py"
cat > "$WORK/tree/test/pylib/runner.py" <<'EOF'
# Stand-in: the fixture scope of Scylla's test.py, for a plain pytest run.
testpy_test_fixture_scope = "session"
EOF
cat > "$WORK/tree/test/pylib/suite/python.py" <<'EOF'
# Stand-in: the --host option Scylla's test.py adds.
def add_host_option(parser):
    parser.addoption("--host", action="store", default=None)
EOF
cat > "$WORK/tree/test/pylib/skip_types.py" <<'EOF'
# Stand-in: Scylla's skip helper.
import pytest

def skip_env(reason):
    pytest.skip(reason)
EOF
cat > "$WORK/tree/test/cqlpy/conftest.py" <<'EOF'
# Stand-in: test/cqlpy's `host` fixture; None makes the suite's conftest use --url.
import pytest

@pytest.fixture(scope="session")
def host(request):
    return request.config.getoption("host", default=None)
EOF
cat > "$WORK/tree/test/cqlpy/util.py" <<'EOF'
# Stand-ins: Scylla configuration through CQL, which this server does not have.
import contextlib
import pytest

@contextlib.contextmanager
def config_value_context(cql, key, value):
    pytest.skip("Scylla configuration (CQL) is not available")
    yield

def keyspace_has_tablets(cql, keyspace):
    return False
EOF

# One administrator, with the suite's fallback key beside its own. Writes are not synced: the
# suite checks the protocol, not durability.
"$SEEDBED" iam user add admin --iam "$WORK/iam.json" --admin --json > /dev/null
python3 - "$WORK/iam.json" <<'EOF'
import json, sys
path = sys.argv[1]
d = json.load(open(path))
d["users"][0]["access_keys"].append({"id": "unknownuser", "secret": "unknownsecret"})
json.dump(d, open(path, "w"), indent=1)
EOF
SEEDBED_LOG=${SEEDBED_LOG:-warn} "$SEEDBED" serve --store "$WORK/store" --iam "$WORK/iam.json" --no-fsync \
  --s3-addr 127.0.0.1:0 --dynamodb-addr 127.0.0.1:0 --metrics-addr off --json > "$WORK/serve.json" 2> "$WORK/serve.log" &
PID=$!
for _ in $(seq 100); do [ -s "$WORK/serve.json" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
[ -s "$WORK/serve.json" ] || { cat "$WORK/serve.log" >&2; die "the server did not start"; }
URL=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["dynamodb"])' < "$WORK/serve.json")

set +e
( cd "$WORK/tree" && env -u AWS_PROFILE -u AWS_CA_BUNDLE PYTHONPATH="$WORK/tree:$WORK/tree/test/alternator" \
  timeout "${RUN_TIMEOUT_S:-1800}" "$VENV/bin/python" -m pytest -p no:cacheprovider -p no:logging --color=no -q -rfE \
    ${ONLY:+-k "$ONLY"} ${PYTEST_EXTRA:-} test/alternator --url "$URL" ) > "$WORK/pytest.log" 2>&1
rc=$?
set -e
grep -E '^(FAILED|ERROR) ' "$WORK/pytest.log" | sed 's/ - .*//' > "$WORK/failures.txt" || true
kill -0 "$PID" 2>/dev/null || { echo "alternator.sh: the server died during the run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
summary=$(tail -n 1 "$WORK/pytest.log")
count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+' | head -n 1 || true; }
n() { local v; v=$(count "$1"); echo "${v:-0}"; }
passed=$(( $(n passed) + $(n xpassed) )); failed=$(( $(n failed) + $(n xfailed) ))
errors=$(n 'errors?'); skipped=$(n skipped)
[ "$rc" -le 1 ] || { tail -n 30 "$WORK/pytest.log" >&2; KEEP=1; die "pytest exited $rc (set-up problem or time limit); log kept in $WORK"; }
[ "${KEEP:-0}" = 1 ] || [ "${VERBOSE:-0}" = 1 ] && cat "$WORK/failures.txt"
echo "alternator: $passed passed, $failed failed, $errors errors, $skipped skipped of $((passed + failed + errors + skipped))"
exit "$rc"
