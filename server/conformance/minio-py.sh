#!/usr/bin/env bash
# Run minio-py's functional tests — the Python part of MinIO's Mint, the suite MinIO runs
# against S3-compatible servers — against `seedbed serve`, by their authors' rules.
#
# The tests ship in minio-py's source distribution (tests/functional/tests.py); this script
# fetches it from PyPI (pinned by version and SHA-256, kept in a cache, never copied into the
# repository), installs minio-py of the same version into a venv, starts a server on a fresh
# store on a free loopback port, and runs the suite as Mint does in its full mode
# (MINT_MODE=full; ENABLE_HTTPS=0, so the suite leaves out its SSE-C variants, which need
# HTTPS). The suite's own verdicts are kept: each test prints one JSON line with status PASS,
# FAIL or NA (the server answered NotImplemented). The suite stops at its first failure;
# minio-py-driver.py runs it with each test's failure recorded and the run going on, so one
# failure does not hide the rest. The server is stopped by its pid whatever happens.
# Prints one line last:
#
#   minio-py functional: P passed, F failed, N not applicable of T
#
# With CHECK_FLOOR=1 it fails when fewer pass than the `minio-py` floor in floor.txt beside this
# script. docs/s3-compatibility.md lists every test that does not pass and why.
#
# Environment: SEEDBED (the binary; default target/release/seedbed, else target/debug/seedbed);
# VENV (a Python venv to use or create; default in the cache); SEEDBED_CACHE (default
# ~/.cache/seedbed-conformance); CHECK_FLOOR=1; KEEP=1 keeps the store, the server's log and
# the suite's JSON lines; VERBOSE=1 prints every test's line.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "minio-py.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

MINIO_VERSION=7.2.20
MINIO_SHA256=95898b7a023fbbfde375985aa77e2cd6a0762268db79cf886f002a9ea8e68598
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
VENV=${VENV:-$CACHE/venv}
SUITE=$CACHE/minio-$MINIO_VERSION
mkdir -p "$CACHE"
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
find_seedbed

ensure_venv "import minio, sys; sys.exit(minio.__version__ != '$MINIO_VERSION')" \
  "minio $MINIO_VERSION" "minio==$MINIO_VERSION"

# The suite: minio-py's sdist holds its functional tests (the wheel does not).
fetch_sdist minio "$MINIO_VERSION" "$MINIO_SHA256" tests/functional/tests.py

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-minio-py.XXXXXX")
PID=""
finish_on_exit 'finish_run minio-py.sh'
# Two users in two accounts, S3 only, on a free loopback port; the suite uses the first.
start_suite_server

# The suite writes its data files (1 MiB, 11 MiB) into its working directory.
mkdir -p "$WORK/run"
set +e
( cd "$WORK/run" && env -u AWS_PROFILE MINT_MODE=full ENABLE_HTTPS=0 \
  SERVER_ENDPOINT="127.0.0.1:$PORT" ACCESS_KEY="$MAIN_AK" SECRET_KEY="$MAIN_SK" \
  timeout "${RUN_TIMEOUT_S:-900}" "$VENV/bin/python" "$HERE/minio-py-driver.py" \
    "$SUITE/tests/functional/tests.py" ) > "$WORK/results.jsonl" 2> "$WORK/suite.log"
rc=$?
set -e
kill -0 "$PID" 2>/dev/null || { echo "minio-py.sh: the server died during the run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
[ "$rc" = 0 ] || { tail -n 30 "$WORK/suite.log" >&2; KEEP=1; die "the suite's driver exited $rc (set-up problem or time limit); output kept in $WORK"; }
summary=$("$VENV/bin/python" - "$WORK/results.jsonl" "${VERBOSE:-0}" "$WORK/verdicts.txt" <<'PY'
import json, sys
counts = {"PASS": 0, "FAIL": 0, "NA": 0}
verdicts = open(sys.argv[3], "w")
for line in open(sys.argv[1]):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    status = entry.get("status")
    if status not in counts:
        continue
    counts[status] += 1
    if status != "PASS" or sys.argv[2] == "1":
        why = (entry.get("message") or entry.get("alert") or "").splitlines()[:1]
        print(f"{status:4} {entry['name']} {' '.join(why)[:200]}", file=verdicts)
total = sum(counts.values())
print(f"{counts['PASS']} {counts['FAIL']} {counts['NA']} {total}")
PY
)
read -r passed failed na total <<< "$summary"
cat "$WORK/verdicts.txt"
echo "minio-py functional: $passed passed, $failed failed, $na not applicable of $total"
if [ "${CHECK_FLOOR:-0}" = 1 ]; then
  floor=$(floor_of minio-py)
  if [ "$passed" -lt "$floor" ]; then
    echo "minio-py.sh: $passed passed, below the floor of $floor (server/conformance/floor.txt)" >&2
    exit 1
  fi
  echo "minio-py.sh: $passed passed, floor $floor: ok"
fi
