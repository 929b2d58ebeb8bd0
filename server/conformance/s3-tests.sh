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
find_shared
RUN="${SHARED:-}/conformance/s3-tests/run.sh"
[ -f "$RUN" ] || die "ceph/s3-tests not found: looked for shared/conformance/s3-tests/run.sh beside and above $ROOT (set SHARED)"
find_seedbed

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-s3-tests.XXXXXX")
PID=""
finish_on_exit 'finish_run s3-tests.sh'

start_suite_server

set +e
ENDPOINT_PORT=$PORT API_NAME=us-east-1 \
MAIN_ACCESS_KEY=$MAIN_AK MAIN_SECRET_KEY=$MAIN_SK \
MAIN_USER_ID=$MAIN_ID MAIN_DISPLAY_NAME=main MAIN_EMAIL=main@example.com \
ALT_ACCESS_KEY=$ALT_AK ALT_SECRET_KEY=$ALT_SK \
ALT_USER_ID=$ALT_ID ALT_DISPLAY_NAME=alt ALT_EMAIL=alt@example.com \
GROUP=$GROUP bash "$RUN" | tee "$WORK/summary.txt"
rc=${PIPESTATUS[0]}
set -e
kill -0 "$PID" 2>/dev/null || { echo "s3-tests.sh: the server died during the run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
if [ "${CHECK_FLOOR:-0}" = 1 ]; then
  passed=$(sed -n "s/^s3-tests $GROUP: \([0-9]*\) passed.*/\1/p" "$WORK/summary.txt" | tail -n 1)
  [ -n "$passed" ] || die "no summary line from run.sh"
  floor=$(floor_of "$GROUP")
  if [ "$passed" -lt "$floor" ]; then
    echo "s3-tests.sh: $GROUP: $passed passed, below the floor of $floor (server/conformance/floor.txt)" >&2
    exit 1
  fi
  echo "s3-tests.sh: $GROUP: $passed passed, floor $floor: ok"
  exit 0
fi
exit "$rc"
