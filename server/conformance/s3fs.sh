#!/usr/bin/env bash
# Run s3fs's own test suite — the tests of fsspec's S3 filesystem, which pandas, dask, xarray
# and many data tools use for every `s3://` path — against `seedbed serve`.
#
# The tests ship in s3fs's source distribution (s3fs/tests); this script fetches it from PyPI
# (pinned by version and SHA-256, kept in a cache, never copied into the repository), installs
# s3fs of the same version and the suite's test dependencies into a venv, and runs pytest on the
# whole folder. s3fs tests itself against moto's server; s3fs_driver.py (a pytest plugin) puts
# `seedbed serve` where the suite starts moto and restarts it on a fresh store where the suite
# resets moto before each test. No test or fixture is changed; one is left out,
# `test_async_close`, which connects to test.s3.amazonaws.com whatever the endpoint (it fails
# under moto too, after 11 s of retries offline). The pytest verdicts are kept as
# they are: an `xfail` (a test the authors expect to fail, mostly "not on moto") counts as
# not run, an XPASS as passed. Prints one line last:
#
#   s3fs: P passed, F failed, S skipped or xfail of T
#
# With CHECK_FLOOR=1 it fails when fewer pass than the `s3fs` floor in floor.txt beside this
# script. docs/s3-compatibility.md lists every test that does not pass and why.
#
# Environment: SEEDBED (the binary; default target/release/seedbed, else target/debug/seedbed);
# VENV (a Python venv to use or create; default in the cache); SEEDBED_CACHE (default
# ~/.cache/seedbed-conformance); CHECK_FLOOR=1; KEEP=1 keeps the run's folder (pytest's output,
# JUnit XML); PYTEST_ARGS (more pytest arguments, e.g. `-k versioned`, word-split).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "s3fs.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

S3FS_VERSION=2026.9.0
S3FS_SHA256=ec078ff0122d28fd21d36ea4987794e4f42ecd6e8785eeaa083208771c1464e5
# What s3fs's CI installs for its tests (moto's server is imported, then stood in for).
TEST_DEPS=(aiobotocore==3.10.0 "moto[server]==5.2.6" pytest==9.2.0 pytest-asyncio==1.5.0
           requests python-dateutil packaging)
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
VENV=${VENV:-$CACHE/venv-s3fs}
SUITE=$CACHE/s3fs-$S3FS_VERSION
mkdir -p "$CACHE"
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
find_seedbed

ensure_venv "import s3fs, moto, pytest, sys; sys.exit(s3fs.__version__ != '$S3FS_VERSION')" \
  "s3fs $S3FS_VERSION and its test dependencies" "s3fs==$S3FS_VERSION" "${TEST_DEPS[@]}"

fetch_sdist s3fs "$S3FS_VERSION" "$S3FS_SHA256" s3fs/tests/test_s3fs.py

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-s3fs.XXXXXX")
PID=""
finish_on_exit 'finish_run s3fs.sh'
# One admin user; every server the driver starts reads a copy of this file.
user=$("$SEEDBED" iam user add main --iam "$WORK/iam.json" --account 111111111111 --admin --json)
key() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
AK=$(echo "$user" | key access_key)
SK=$(echo "$user" | key secret_key)

# Run from the unpacked sdist (its tests import s3fs.tests.*); the driver is found on
# PYTHONPATH. AWS_CA_BUNDLE and profiles are the caller's, not the suite's.
set +e
# shellcheck disable=SC2086
( cd "$SUITE" && env -u AWS_CA_BUNDLE -u AWS_PROFILE -u AWS_SESSION_TOKEN \
    AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    SEEDBED="$SEEDBED" SEEDBED_IAM="$WORK/iam.json" SEEDBED_WORK="$WORK" \
    PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" \
    timeout "${RUN_TIMEOUT_S:-1200}" "$VENV/bin/python" -m pytest -p s3fs_driver \
      -p no:cacheprovider -q -rfEs --junitxml="$WORK/junit.xml" ${PYTEST_ARGS:-} \
      --deselect s3fs/tests/test_s3fs.py::test_async_close s3fs/tests ) \
  > "$WORK/pytest.txt" 2>&1
rc=$?
set -e
# pytest: 0 all passed, 1 some failed; anything else is a set-up problem.
if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
  tail -n 30 "$WORK/pytest.txt" >&2; KEEP=1; die "pytest exited $rc (set-up problem or time limit); output kept in $WORK"
fi
summary=$("$VENV/bin/python" - "$WORK/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for case in ET.parse(sys.argv[1]).iter("testcase"):
    kinds = {child.tag for child in case}
    name = f"{case.get('classname')}::{case.get('name')}"
    if kinds & {"failure", "error"}:
        failed += 1
        why = next(c for c in case if c.tag in ("failure", "error")).get("message", "")
        print(f"FAIL {name} {' '.join(why.split())[:200]}", file=sys.stderr)
    elif "skipped" in kinds:
        skipped += 1
    else:
        passed += 1
print(passed, failed, skipped, passed + failed + skipped)
PY
) 2> "$WORK/verdicts.txt"
read -r passed failed skipped total <<< "$summary"
cat "$WORK/verdicts.txt"
echo "s3fs: $passed passed, $failed failed, $skipped skipped or xfail of $total"
if [ "${CHECK_FLOOR:-0}" = 1 ]; then
  floor=$(floor_of s3fs)
  if [ "$passed" -lt "$floor" ]; then
    echo "s3fs.sh: $passed passed, below the floor of $floor (server/conformance/floor.txt)" >&2
    exit 1
  fi
  echo "s3fs.sh: $passed passed, floor $floor: ok"
fi
