#!/usr/bin/env bash
# Run ceph/s3-tests (from ../shared/conformance, never copied here) against `seedbed serve`:
# a fresh store and IAM file with two users in two accounts (main and alt, as the suite needs),
# a server on a free loopback port, the suite's run.sh, and the server stopped by its pid
# whatever happens. Prints run.sh's summary line; with CHECK_FLOOR=1 fails when the pass count
# is below the floor recorded in floor.txt beside this script.
#
#   server/conformance/s3-tests.sh                 # GROUP=core (default) | access | both
#   GROUP=access ONLY="acl" PYTEST_EXTRA="-x -v" server/conformance/s3-tests.sh
#
# Environment: GROUP, ONLY, PYTEST_EXTRA, RUN_TIMEOUT_S (passed to run.sh); FSYNC=1 (sync
# every write, as the default server does; off here for speed); SEEDBED (the
# binary, default target/release/seedbed, else target/debug/seedbed); SHARED (the shared
# folder, default ../shared beside the repository); CHECK_FLOOR=1; KEEP=1 keeps the store.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "s3-tests.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

: "${GROUP:=core}"
# shared/ sits beside the repository (CI's clone, the lead's checkout) or a level above
# (a worktree under wt/).
if [ -z "${SHARED:-}" ]; then
  for d in "$ROOT/../shared" "$ROOT/../../shared" "$ROOT/../../../shared"; do
    [ -f "$d/conformance/s3-tests/run.sh" ] && { SHARED=$(cd "$d" && pwd); break; }
  done
fi
RUN="${SHARED:-}/conformance/s3-tests/run.sh"
[ -f "$RUN" ] || die "ceph/s3-tests not found: looked for shared/conformance/s3-tests/run.sh beside and above $ROOT (set SHARED)"
find_seedbed

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-s3-tests.XXXXXX")
PID=""
trap 'finish_run s3-tests.sh' EXIT INT TERM

IAM="$WORK/iam.json"
MAIN_ID=$(printf 'seedbed-main' | sha256sum | cut -c1-64)
ALT_ID=$(printf 'seedbed-alt' | sha256sum | cut -c1-64)
key() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d[sys.argv[1]])' "$1"; }
main=$("$SEEDBED" iam user add main --iam "$IAM" --account 111111111111 --account-name main \
        --email main@example.com --canonical-id "$MAIN_ID" --admin --json)
alt=$("$SEEDBED" iam user add alt --iam "$IAM" --account 222222222222 --account-name alt \
        --email alt@example.com --canonical-id "$ALT_ID" --admin --json)

# The suite checks the protocol, not durability (the engine's crash tests do): by default the
# server acknowledges before syncing, which roughly halves the run. FSYNC=1 keeps syncs.
NOSYNC=--no-fsync
[ "${FSYNC:-0}" = 1 ] && NOSYNC=
SEEDBED_LOG=${SEEDBED_LOG:-warn} "$SEEDBED" serve --store "$WORK/store" --iam "$IAM" $NOSYNC \
  --s3-addr 127.0.0.1:0 --dynamodb-addr off --metrics-addr off --json > "$WORK/serve.json" 2> "$WORK/serve.log" &
PID=$!
for _ in $(seq 100); do [ -s "$WORK/serve.json" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
[ -s "$WORK/serve.json" ] || { cat "$WORK/serve.log" >&2; die "the server did not start"; }
PORT=$(key s3 < "$WORK/serve.json" | sed 's/.*://')

set +e
ENDPOINT_PORT=$PORT API_NAME=us-east-1 \
MAIN_ACCESS_KEY=$(echo "$main" | key access_key) MAIN_SECRET_KEY=$(echo "$main" | key secret_key) \
MAIN_USER_ID=$MAIN_ID MAIN_DISPLAY_NAME=main MAIN_EMAIL=main@example.com \
ALT_ACCESS_KEY=$(echo "$alt" | key access_key) ALT_SECRET_KEY=$(echo "$alt" | key secret_key) \
ALT_USER_ID=$ALT_ID ALT_DISPLAY_NAME=alt ALT_EMAIL=alt@example.com \
GROUP=$GROUP bash "$RUN" | tee "$WORK/summary.txt"
rc=${PIPESTATUS[0]}
set -e
kill -0 "$PID" 2>/dev/null || { echo "s3-tests.sh: the server died during the run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
if [ "${CHECK_FLOOR:-0}" = 1 ]; then
  passed=$(sed -n "s/^s3-tests $GROUP: \([0-9]*\) passed.*/\1/p" "$WORK/summary.txt" | tail -n 1)
  floor=$(sed -n "s/^$GROUP \([0-9]*\).*/\1/p" "$HERE/floor.txt")
  [ -n "$passed" ] || die "no summary line from run.sh"
  [ -n "$floor" ] || die "no floor for group $GROUP in $HERE/floor.txt"
  if [ "$passed" -lt "$floor" ]; then
    echo "s3-tests.sh: $GROUP: $passed passed, below the floor of $floor (server/conformance/floor.txt)" >&2
    exit 1
  fi
  echo "s3-tests.sh: $GROUP: $passed passed, floor $floor: ok"
  exit 0
fi
exit "$rc"
