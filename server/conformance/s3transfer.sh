#!/usr/bin/env bash
# Run s3transfer's integration tests — written by AWS's SDK team for boto3's transfer manager
# (upload_file, download_file, copy, delete, multipart, SSE-C, checksums, process-pool
# downloads) and run by them against S3 itself — against `seedbed serve`.
#
# The tests ship in s3transfer's source distribution (tests/integration); this script fetches
# it from PyPI (pinned by version and SHA-256, kept in a cache, never copied into the
# repository), installs that s3transfer with a pinned boto3 into a venv of its own, starts a
# server on a fresh store on a free loopback port, points botocore at it
# (AWS_ENDPOINT_URL_S3, path-style addressing through an AWS config file) and runs
# `pytest tests/integration`. The server is stopped by its pid whatever happens.
#
# Left out: test_crt.py, the transfers through the AWS Common Runtime (awscrt, not installed),
# whose client speaks TLS only, which this server does not (docs/s3-compatibility.md).
# Most tests wait 5 s in botocore's object_exists waiter (they check for an object while its
# upload is still running), so a run takes about 3.5 minutes whatever the build; CI does not
# run it. Prints one line last:
#
#   s3transfer integration: P passed, F failed, E errors of N
#
# Environment: SEEDBED (the binary; default target/release/seedbed, else target/debug/seedbed);
# VENV (default in the cache); SEEDBED_CACHE (default ~/.cache/seedbed-conformance); ONLY (a
# pytest -k expression); PYTEST_EXTRA; KEEP=1 keeps the store, the server's log and pytest's.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "s3transfer.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

S3TRANSFER_VERSION=0.19.3
S3TRANSFER_SHA256=8326acc3d056d7f7b8a37110c7d2aea41f67e83f6ae79cd3b5fbcca34c726406
BOTO3_VERSION=1.44.18
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
VENV=${VENV:-$CACHE/venv-s3transfer}
SUITE=$CACHE/s3transfer-$S3TRANSFER_VERSION
mkdir -p "$CACHE"
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
find_seedbed

# The tests import s3transfer's internals: the installed package must be the suite's version.
if ! "$VENV/bin/python" -c "import s3transfer, pytest, sys; sys.exit(s3transfer.__version__ != '$S3TRANSFER_VERSION')" 2>/dev/null; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "could not create a venv at $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "s3transfer==$S3TRANSFER_VERSION" \
    "boto3==$BOTO3_VERSION" pytest \
    || die "pip could not install s3transfer $S3TRANSFER_VERSION, boto3 $BOTO3_VERSION and pytest into $VENV"
fi

if [ ! -f "$SUITE/tests/integration/__init__.py" ]; then
  DL=$(mktemp -d "$CACHE/dl.XXXXXX")
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
    "s3transfer==$S3TRANSFER_VERSION" -d "$DL" || { rm -rf "$DL"; die "could not download s3transfer $S3TRANSFER_VERSION's sdist from PyPI"; }
  TARBALL="$DL/s3transfer-$S3TRANSFER_VERSION.tar.gz"
  echo "$S3TRANSFER_SHA256  $TARBALL" | sha256sum -c --quiet - \
    || { rm -rf "$DL"; die "s3transfer-$S3TRANSFER_VERSION.tar.gz does not have the pinned SHA-256"; }
  tar xzf "$TARBALL" -C "$DL"
  rm -rf "$SUITE"
  mv "$DL/s3transfer-$S3TRANSFER_VERSION" "$SUITE"
  rm -rf "$DL"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-s3transfer.XXXXXX")
PID=""
trap 'finish_run s3transfer.sh' EXIT INT TERM
start_suite_server

# The tests make their buckets in us-west-2 (a request signed for a region is sent to it,
# docs/s3-compatibility.md "Regions"); path-style addressing, as for every client here.
printf '[default]\ns3 =\n    addressing_style = path\n' > "$WORK/aws-config"
set +e
( cd "$SUITE" && env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_CA_BUNDLE \
  AWS_ENDPOINT_URL_S3="http://127.0.0.1:$PORT" AWS_MAX_ATTEMPTS=1 \
  AWS_ACCESS_KEY_ID="$MAIN_AK" AWS_SECRET_ACCESS_KEY="$MAIN_SK" \
  AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  timeout "${RUN_TIMEOUT_S:-1200}" "$VENV/bin/python" -m pytest -p no:cacheprovider --color=no -q -rfE \
    --ignore=tests/integration/test_crt.py ${ONLY:+-k "$ONLY"} ${PYTEST_EXTRA:-} tests/integration ) \
  > "$WORK/pytest.log" 2>&1
rc=$?
set -e
grep -E '^(FAILED|ERROR) ' "$WORK/pytest.log" | sed 's/ - .*//' || true
kill -0 "$PID" 2>/dev/null || { echo "s3transfer.sh: the server died during the run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
[ "$rc" -le 1 ] || { tail -n 30 "$WORK/pytest.log" >&2; KEEP=1; die "pytest exited $rc (set-up problem or time limit); log kept in $WORK"; }
summary=$(tail -n 1 "$WORK/pytest.log")
count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+' || echo 0; }
passed=$(count passed); failed=$(count failed); errors=$(count 'errors?')
echo "s3transfer integration: $passed passed, $failed failed, $errors errors of $((passed + failed + errors))"
exit "$rc"
