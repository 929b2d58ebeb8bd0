#!/usr/bin/env bash
# Run the S3 integration tests of AWS's Python SDK — written by AWS's SDK team and run by them
# against S3 itself — against `seedbed serve`:
#
#   s3transfer   tests/integration of s3transfer, the transfer manager behind boto3's
#                upload_file/download_file/copy and the aws cli's `s3 cp` (multipart, ranged
#                downloads, streams, SSE-C, checksums, cancels, process-pool downloads);
#   botocore     tests/integration/test_s3.py of botocore (the client every boto3 call goes
#                through: signing, presigned URLs and POSTs, paging, unicode keys, region
#                redirects, retries, checksums, SigV2 and SigV4).
#
# Each suite ships in its package's source distribution; this script fetches them from PyPI
# (pinned by version and SHA-256, kept in a cache, never copied into the repository), installs
# the same versions into a venv of its own (the tests import the packages' internals), starts a
# server on a fresh store on a free loopback port for each suite, points botocore at it
# (AWS_ENDPOINT_URL_S3, path-style addressing through an AWS config file) and runs pytest. The
# server is stopped by its pid whatever happens.
#
# Left out: s3transfer's test_crt.py, the transfers through the AWS Common Runtime (awscrt,
# not installed), whose client speaks TLS only, which this server does not
# (docs/s3-compatibility.md). Most s3transfer tests wait 5 s in botocore's object_exists
# waiter (they look for an object while its upload is still running), so the two suites take
# about 5.5 minutes whatever the build; CI does not run them. Prints one line per suite last:
#
#   aws-sdk-python s3transfer: P passed, F failed, E errors of N
#
# Environment: SUITES (default "s3transfer botocore"); SEEDBED (the binary; default
# target/release/seedbed, else target/debug/seedbed); VENV (default in the cache);
# SEEDBED_CACHE (default ~/.cache/seedbed-conformance); ONLY (a pytest -k expression);
# PYTEST_EXTRA; KEEP=1 keeps each run's store, the server's log and pytest's.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "aws-sdk-python.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

S3TRANSFER_VERSION=0.19.3
S3TRANSFER_SHA256=8326acc3d056d7f7b8a37110c7d2aea41f67e83f6ae79cd3b5fbcca34c726406
BOTOCORE_VERSION=1.44.18
BOTOCORE_SHA256=c78f0a2346b4700d77702530d04c1fed525ef0bb9723218eb8a7cfeae07b6b28
BOTO3_VERSION=1.44.18
CACHE=${SEEDBED_CACHE:-$HOME/.cache/seedbed-conformance}
VENV=${VENV:-$CACHE/venv-s3transfer}
mkdir -p "$CACHE"
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
find_seedbed

# The tests import the packages' internals: the installed ones must be the suites' versions.
ensure_venv "import s3transfer, botocore, pytest, sys; sys.exit(s3transfer.__version__ != '$S3TRANSFER_VERSION' or botocore.__version__ != '$BOTOCORE_VERSION')" \
  "s3transfer $S3TRANSFER_VERSION, botocore $BOTOCORE_VERSION, boto3 and pytest" \
  "s3transfer==$S3TRANSFER_VERSION" "botocore==$BOTOCORE_VERSION" "boto3==$BOTO3_VERSION" pytest

# run SUITE DIR TARGETS...: one suite against a fresh server; prints its count line.
run() {
  local suite=$1 dir=$2 rc summary passed failed errors
  shift 2
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-sdk-$suite.XXXXXX")
  PID=""
  start_suite_server
  # The tests make their buckets in us-west-2 and other regions (a request signed for a
  # region is sent to it, docs/s3-compatibility.md "Regions"); path-style addressing, as for
  # every client here. botocore's retry settings are left as they are: a test of them
  # (test_request_retried_for_sigv4) wants a dropped connection retried.
  printf '[default]\ns3 =\n    addressing_style = path\n' > "$WORK/aws-config"
  set +e
  ( cd "$dir" && env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_SECURITY_TOKEN -u AWS_CA_BUNDLE \
    AWS_ENDPOINT_URL_S3="http://127.0.0.1:$PORT" \
    AWS_ACCESS_KEY_ID="$MAIN_AK" AWS_SECRET_ACCESS_KEY="$MAIN_SK" \
    AWS_CONFIG_FILE="$WORK/aws-config" AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    timeout "${RUN_TIMEOUT_S:-1200}" "$VENV/bin/python" -m pytest -p no:cacheprovider --color=no -q -rfE \
      ${ONLY:+-k "$ONLY"} ${PYTEST_EXTRA:-} "$@" ) > "$WORK/pytest.log" 2>&1
  rc=$?
  set -e
  grep -E '^(FAILED|ERROR) ' "$WORK/pytest.log" | sed 's/ - .*//' || true
  kill -0 "$PID" 2>/dev/null || { echo "aws-sdk-python.sh: the server died during the $suite run; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
  [ "$rc" -le 1 ] || { tail -n 30 "$WORK/pytest.log" >&2; KEEP=1; die "$suite: pytest exited $rc (set-up problem or time limit); log kept in $WORK"; }
  summary=$(tail -n 1 "$WORK/pytest.log")
  count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+' || echo 0; }
  passed=$(count passed); failed=$(count failed); errors=$(count 'errors?')
  RESULTS+=("aws-sdk-python $suite: $passed passed, $failed failed, $errors errors of $((passed + failed + errors))")
  finish_run aws-sdk-python.sh
  PID=""
}

WORK=""
PID=""
finish_on_exit 'finish_run aws-sdk-python.sh'
RESULTS=()
for suite in ${SUITES:-s3transfer botocore}; do
  case $suite in
    s3transfer)
      fetch_sdist s3transfer "$S3TRANSFER_VERSION" "$S3TRANSFER_SHA256" tests/__init__.py tests
      run s3transfer "$CACHE/s3transfer-$S3TRANSFER_VERSION" \
        --ignore=tests/integration/test_crt.py tests/integration ;;
    botocore)
      fetch_sdist botocore "$BOTOCORE_VERSION" "$BOTOCORE_SHA256" tests/__init__.py tests
      run botocore "$CACHE/botocore-$BOTOCORE_VERSION" tests/integration/test_s3.py ;;
    *) die "SUITES: s3transfer and/or botocore, not $suite" ;;
  esac
done
printf '%s\n' "${RESULTS[@]}"
