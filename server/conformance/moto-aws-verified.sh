#!/usr/bin/env bash
# Run moto's AWS-verified tests of one service (DynamoDB or S3) against `seedbed serve`, by
# their authors' rules.
#
# moto's test suite marks the tests its authors run against real AWS with
# `@pytest.mark.aws_verified`; with MOTO_TEST_ALLOW_AWS_REQUEST=true they talk to whatever
# endpoint boto3 is given instead of moto's in-process mock. That makes them a conformance
# suite written by others, checked against AWS itself. This script fetches moto's source
# distribution from PyPI (pinned by version and SHA-256, kept in a cache, never copied into the
# repository), starts a server on a fresh store on free loopback ports, points boto3 at it
# (AWS_ENDPOINT_URL_DYNAMODB or _S3, path-style addressing for S3; STS at the DynamoDB listener,
# which answers GetCallerIdentity; the other service at a closed loopback port, so no test
# reaches the internet), runs
# `pytest -m aws_verified tests/test_SERVICE`, and stops the server by its pid whatever happens.
# Prints one line last:
#
#   moto SERVICE aws_verified: P passed, F failed, E errors of N
#
# With CHECK_FLOOR=1 it fails when fewer pass than the `moto-SERVICE` floor in floor.txt beside
# this script. docs/dynamodb-compatibility.md and docs/s3-compatibility.md list every test that
# fails and why.
#
#   server/conformance/moto-aws-verified.sh                  # SERVICE=dynamodb (default)
#   SERVICE=s3 server/conformance/moto-aws-verified.sh
#   SERVICE=iam server/conformance/moto-aws-verified.sh       # IAM at the S3 address
#   ONLY="select or scan" PYTEST_EXTRA="-x -vv" server/conformance/moto-aws-verified.sh
#
# Environment: SERVICE (dynamodb | s3 | iam); SEEDBED (the binary; default target/release/seedbed,
# else target/debug/seedbed); VENV (a Python venv to use or create; default in the cache);
# SEEDBED_CACHE (default ~/.cache/seedbed-conformance); ONLY (a pytest -k expression);
# PYTEST_EXTRA; CHECK_FLOOR=1; KEEP=1 keeps the store and the server's log; VERBOSE=1 lists
# the failing tests.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "moto-aws-verified.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

SERVICE=${SERVICE:-dynamodb}
case $SERVICE in dynamodb|s3|iam) ;; *) die "SERVICE=$SERVICE: dynamodb, s3 or iam" ;; esac
MOTO_VERSION=5.2.5
MOTO_SHA256=391857257d5dac144334013c2c10e599def5f0562f553e979160140bd7bd9cf6
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
VENV=${VENV:-$CACHE/venv-moto}
SUITE=$CACHE/moto-$MOTO_VERSION
mkdir -p "$CACHE"
# The suite runs from its own directory: paths given relative to here must not break there.
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac

find_seedbed
case $SEEDBED in /*) ;; *) SEEDBED=$PWD/$SEEDBED ;; esac

# The venv: moto itself (the tests import its helpers), pytest, and freezegun (imported by
# some test files).
ensure_venv "import moto, pytest, freezegun, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" \
  "moto $MOTO_VERSION, pytest and freezegun" "moto[server]==$MOTO_VERSION" pytest freezegun

# The suite: moto's sdist holds its tests (the wheel does not).
fetch_sdist moto "$MOTO_VERSION" "$MOTO_SHA256" tests/test_dynamodb/__init__.py

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-moto-$SERVICE.XXXXXX")
PID=""
finish_on_exit 'finish_run moto-aws-verified.sh'

# One administrator in account 123456789012 (moto's default account, which some tests put in
# the ARNs they build). Writes are not synced: the suite checks the protocol, not durability.
key() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d[sys.argv[1]])' "$1"; }
"$SEEDBED" iam user add main --iam "$WORK/iam.json" --account 123456789012 --admin --json > "$WORK/user.json"
SEEDBED_LOG=${SEEDBED_LOG:-warn} "$SEEDBED" serve --store "$WORK/store" --iam "$WORK/iam.json" --no-fsync \
  --s3-addr 127.0.0.1:0 --dynamodb-addr 127.0.0.1:0 --metrics-addr off --json > "$WORK/serve.json" 2> "$WORK/serve.log" &
PID=$!
for _ in $(seq 100); do [ -s "$WORK/serve.json" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
[ -s "$WORK/serve.json" ] || { cat "$WORK/serve.log" >&2; die "the server did not start"; }

# STS's GetCallerIdentity (the account_id fixture, the resource-policy tests) is answered on
# the DynamoDB listener (docs/dynamodb.md). Both services point at the server, whichever suite
# runs: DynamoDB's import and export tests create buckets and objects through S3 and the
# server's DynamoDB reads and writes them in its own store.
STS_URL=$(key dynamodb < "$WORK/serve.json")
DYNAMODB_URL=$STS_URL
S3_URL=$(key s3 < "$WORK/serve.json")
# Path-style addressing: the server routes no virtual-hosted bucket names (s3-compatibility.md).
printf '[default]\ns3 =\n    addressing_style = path\n' > "$WORK/aws-config"
set +e
( cd "$SUITE" && env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN \
  MOTO_TEST_ALLOW_AWS_REQUEST=true AWS_DEFAULT_REGION=us-east-1 \
  AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_URL AWS_ENDPOINT_URL_S3=$S3_URL \
  AWS_ENDPOINT_URL_STS=$STS_URL AWS_ENDPOINT_URL_IAM=$S3_URL AWS_MAX_ATTEMPTS=1 \
  AWS_ACCESS_KEY_ID=$(key access_key < "$WORK/user.json") \
  AWS_SECRET_ACCESS_KEY=$(key secret_key < "$WORK/user.json") \
  AWS_CONFIG_FILE=$WORK/aws-config AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  timeout "${RUN_TIMEOUT_S:-900}" "$VENV/bin/python" -m pytest -p no:cacheprovider --color=no -q -rfE \
    -m aws_verified ${ONLY:+-k "$ONLY"} ${PYTEST_EXTRA:-} "tests/test_$SERVICE" ) > "$WORK/pytest.log" 2>&1
rc=$?
set -e
grep -E '^(FAILED|ERROR) ' "$WORK/pytest.log" | sed 's/ - .*//' > "$WORK/failures.txt" || true
kill -0 "$PID" 2>/dev/null || { echo "moto-aws-verified.sh: the server died during the run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
summary=$(tail -n 1 "$WORK/pytest.log")
count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+' || echo 0; }
passed=$(count passed); failed=$(count failed); errors=$(count 'errors?')
[ "$rc" -le 1 ] || { tail -n 30 "$WORK/pytest.log" >&2; KEEP=1; die "pytest exited $rc (set-up problem or time limit); log kept in $WORK"; }
[ "${KEEP:-0}" = 1 ] || [ "${VERBOSE:-0}" = 1 ] && cat "$WORK/failures.txt"
echo "moto $SERVICE aws_verified: $passed passed, $failed failed, $errors errors of $((passed + failed + errors))"
if [ "${CHECK_FLOOR:-0}" = 1 ]; then
  floor=$(floor_of "moto-$SERVICE")
  if [ "$passed" -lt "$floor" ]; then
    echo "moto-aws-verified.sh: $SERVICE: $passed passed, below the floor of $floor (server/conformance/floor.txt); failing tests:" >&2
    cat "$WORK/failures.txt" >&2
    exit 1
  fi
  echo "moto-aws-verified.sh: $SERVICE: $passed passed, floor $floor: ok"
  exit 0
fi
exit "$rc"
