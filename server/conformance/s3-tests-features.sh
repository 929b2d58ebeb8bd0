#!/usr/bin/env bash
# ceph/s3-tests' tests of the features the shared runner's `core` and `access` groups leave out
# (../shared/conformance/s3-tests/run.sh selects by the suite's own markers and names; these are
# selected the same way, one feature at a time), against `seedbed serve` on a fresh store with
# the two users the suite needs, on a free loopback port, stopped by its pid whatever happens.
#
#   server/conformance/s3-tests-features.sh     # every feature below
#   FEATURES="lifecycle lifecycle_expiration" server/conformance/s3-tests-features.sh
#   FEATURES=sse CHECK_FLOOR=1 server/conformance/s3-tests-features.sh
#   FEATURES=iam ONLY="group_policy" server/conformance/s3-tests-features.sh   # a -k subset
#
# Each feature prints `s3-tests FEATURE: P passed, F failed, E errors of N`; with CHECK_FLOOR=1
# the script fails when one passes fewer than its `feature-FEATURE` floor in floor.txt. Tests
# the suite marks `fails_on_rgw` are left out, as Ceph's CI leaves them out. The SSE-KMS tests
# (feature `sse_kms`) run against the server's built-in KMS: every server here starts with the
# two customer keys the suite names (--kms-key testkey-1, testkey-2), given to the suite by ARN.
# What still fails, and why, is in docs/s3-compatibility.md.
#
# Lifecycle comes in two parts. `lifecycle`: the configuration tests and the ones that read
# x-amz-expiration, which hold on AWS (real days). `lifecycle_expiration`: the tests that wait
# for rules to act, which the suite marks fails_on_aws (or, one, delete_marker) because they need RGW's
# rgw_lc_debug_interval (a "day" of a few seconds); they get a server of their own started with
# --lifecycle-day-secs LC_DAY (default 3) and `lc_debug_interval = LC_DAY` in s3tests.conf.
# `lifecycle_transition`: the tests whose rules move objects to other storage classes, on a
# server with the same short day and two classes named to the suite (`storage_classes` in
# s3tests.conf): INTELLIGENT_TIERING and GLACIER_IR, the two that S3 lets a rule move an object to
# after any number of days (STANDARD_IA and ONEZONE_IA need 30) and that read without a restore.
# Of test_lifecycle_transition_encrypted (12 s each) one pair of classes per kind of
# encryption runs (STANDARD to GLACIER_IR). Transitions to cloud endpoints are RGW's own.
#
# IAM (`iam`): the tests of the IAM API that work in AWS accounts (markers iam_account and
# iam_cross_account), on a server whose two accounts also have root users — the suite's
# `[iam root]` and `[iam alt root]` must be roots, known by their accounts' canonical IDs and
# e-mails. The `iam_tenant` tests are left out: they put RGW's tenant model to the test (alt,
# a user of another account, gaining access to main's buckets by a user policy alone), which
# AWS accounts do not have. `sts` (test_sts.py, not in the default list) runs what of STS needs
# no OpenID provider; most of it names RGW's account-less ARNs (`arn:aws:iam:::user/x`).
#
# Environment: FEATURES; ONLY (a pytest -k expression narrowing each feature); PYTEST_EXTRA
# (more pytest arguments, word-split, e.g. `--durations=15` to see where a group's time goes); SEEDBED (default target/release/seedbed, else target/debug/seedbed);
# SHARED (default ../shared beside the repository); SEEDBED_CACHE (where run.sh keeps the suite
# and its venv, default ~/.cache/seedbed-conformance; made here from the shared tarball and
# PyPI when missing); CHECK_FLOOR=1; KEEP=1 keeps the store and the logs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "s3-tests-features.sh: $*" >&2; exit 2; }
. "$HERE/lib.sh"

: "${FEATURES:=sse sse_kms tagging cors object_lock s3select lifecycle lifecycle_expiration lifecycle_transition post_object sigv2 iam}"
: "${LC_DAY:=3}"
find_shared
TARBALL="${SHARED:-}/conformance/s3-tests/s3-tests-8f0ae7b.tar.gz"
: "${SEEDBED_CACHE:=$HOME/.cache/seedbed-conformance}"
SUITE=$SEEDBED_CACHE/s3-tests-8f0ae7b
VENV=$SEEDBED_CACHE/venv
find_seedbed

# The suite and its venv, where run.sh keeps them (the same tarball, the same requirements).
if [ ! -f "$SUITE/s3tests/functional/test_s3.py" ]; then
  [ -f "$TARBALL" ] || die "ceph/s3-tests not found: no $TARBALL (set SHARED)"
  mkdir -p "$SUITE" && tar -xzf "$TARBALL" -C "$SUITE" --strip-components=1
fi
if ! "$VENV/bin/python" -c 'import boto3, munch, pytest' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$SUITE/requirements.txt" \
    || die "pip install of the suite's requirements failed"
fi

BASE=$(mktemp -d "${TMPDIR:-/tmp}/seedbed-s3-features.XXXXXX")
WORK=$BASE
PID=""
SERVING="none"
finish_on_exit 'WORK=$BASE; finish_run s3-tests-features.sh'

# A server for the flags in $1 (a fresh store and the two users in a directory of its own),
# unless the one running has them; the configuration run.sh writes, for its users.
serve_with() {
  [ "$SERVING" = "$1|${USERS:-}|${CLASSES:-}" ] && return 0
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
  fi
  WORK=$(mktemp -d "$BASE/server.XXXX")
  # The two customer KMS keys the suite's SSE-KMS tests name (by ARN, in the conf below).
  SERVE_EXTRA="--kms-key testkey-1 --kms-key testkey-2 $1"
  start_suite_server
  SERVING="$1|${USERS:-}|${CLASSES:-}"
  write_conf
}

write_conf() {
MA=$MAIN_AK; MS=$MAIN_SK; AA=$ALT_AK; AS=$ALT_SK
# The configuration run.sh writes, for the same two users (the suite's loader wants every
# section; the tenant and IAM ones reuse the main user, as run.sh's defaults do).
cat > "$WORK/s3tests.conf" <<EOF
[DEFAULT]
host = 127.0.0.1
port = $PORT
is_secure = False
ssl_verify = False

[fixtures]
bucket prefix = s3t-{random}-
iam name prefix = s3-tests-
iam path prefix = /s3-tests/

[s3 main]
display_name = main
user_id = $MAIN_ID
email = main@example.com
api_name = us-east-1
lc_debug_interval = $LC_DAY
${CLASSES:+storage_classes = $CLASSES}
kms_keyid = arn:aws:kms:us-east-1:111111111111:key/testkey-1
kms_keyid2 = arn:aws:kms:us-east-1:111111111111:key/testkey-2
access_key = $MA
secret_key = $MS

[s3 alt]
display_name = alt
user_id = $ALT_ID
email = alt@example.com
access_key = $AA
secret_key = $AS

[s3 tenant]
display_name = tenant
user_id = tenant
email = tenant@example.com
tenant = tenant
access_key = $MA
secret_key = $MS

[iam]
email = iam@example.com
user_id = iam
access_key = $MA
secret_key = $MS
display_name = iam

[iam root]
access_key = ${ROOT_AK:-$MA}
secret_key = ${ROOT_SK:-$MS}
user_id = $MAIN_ID
email = main@example.com

[iam alt root]
access_key = ${ALT_ROOT_AK:-$AA}
secret_key = ${ALT_ROOT_SK:-$AS}
user_id = $ALT_ID
email = alt@example.com
EOF
printf '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n' > "$WORK/aws-config"
export S3TEST_CONF=$WORK/s3tests.conf AWS_CONFIG_FILE=$WORK/aws-config \
       AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL \
      AWS_ENDPOINT_URL_S3 2>/dev/null || true
}

# One feature: its marker expression, its name expression, its file.
select_feature() {
  case "$1" in
    sse)         M="(encryption or bucket_encryption or sse_s3) and not fails_on_rgw"; K="not kms"
                 F=s3tests/functional/test_s3.py ;;
    sse_kms)     M="(encryption or bucket_encryption) and not fails_on_rgw"; K="kms"
                 F=s3tests/functional/test_s3.py ;;
    tagging)     M="tagging and not fails_on_rgw"; K="not lifecycle"; F=s3tests/functional/test_s3.py ;;
    cors)        M="not fails_on_rgw"; K="cors"; F=s3tests/functional/test_s3.py ;;
    object_lock) M="not fails_on_rgw"; K="object_lock"; F=s3tests/functional/test_s3.py ;;
    s3select)    M="s3select and not fails_on_rgw"; K="not nothing"; F=s3tests/functional/test_s3select.py ;;
    lifecycle)   M="lifecycle and not (lifecycle_expiration and (fails_on_aws or delete_marker)) and not lifecycle_transition and not cloud_transition and not fails_on_rgw"
                 K="not nothing"; F=s3tests/functional/test_s3.py ;;
    lifecycle_expiration)
                 M="lifecycle_expiration and (fails_on_aws or delete_marker) and not lifecycle_transition and not cloud_transition and not fails_on_rgw"
                 K="not nothing"; F=s3tests/functional/test_s3.py; FLAGS="--lifecycle-day-secs $LC_DAY" ;;
    lifecycle_transition)
                 M="lifecycle_transition and not cloud_transition and not fails_on_rgw"
                 K="not encrypted or STANDARD-GLACIER_IR"; F=s3tests/functional/test_s3.py
                 FLAGS="--lifecycle-day-secs $LC_DAY"; CLASSES="INTELLIGENT_TIERING, GLACIER_IR" ;;
    post_object) M="not fails_on_rgw"; K="post_object and not kms"; F=s3tests/functional/test_s3.py ;;
    sigv2)       M="auth_aws2 and not fails_on_rgw"; K="not nothing"; F=s3tests/functional/test_headers.py ;;
    iam)         M="(iam_account or iam_cross_account) and not iam_tenant and not fails_on_rgw"
                 K="not nothing"; F=s3tests/functional/test_iam.py; USERS=iam ;;
    sts)         M="(test_of_sts or session_policy) and not webidentity_test and not fails_on_rgw"
                 K="not nothing"; F=s3tests/functional/test_sts.py; USERS=iam ;;
    *) die "unknown feature '$1' (sse, sse_kms, tagging, cors, object_lock, s3select, lifecycle, lifecycle_expiration, lifecycle_transition, post_object, sigv2, iam, sts)" ;;
  esac
}

status=0
cd "$SUITE"
for feature in $FEATURES; do
  FLAGS=""; USERS=""; CLASSES=""; ROOT_AK=""; ROOT_SK=""; ALT_ROOT_AK=""; ALT_ROOT_SK=""
  select_feature "$feature"
  [ -z "${ONLY:-}" ] || K="($K) and ($ONLY)"
  serve_with "$FLAGS"
  log=$WORK/$feature.log
  set +e
  timeout --foreground --kill-after=30 900 "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rfE --tb=line ${PYTEST_EXTRA:-} \
    -m "$M" -k "$K" -o junit_family=xunit2 --junitxml="$WORK/$feature.xml" "$F" > "$log" 2>&1
  set -e
  counts=$(python3 - "$WORK/$feature.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 0 0 0"); sys.exit()
s = root if root.tag == "testsuite" else root.find("testsuite")
n, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
print(n - f - e - k, f, e, n - k)
PY
)
  read -r passed failed errors total <<< "$counts"
  echo "s3-tests $feature: $passed passed, $failed failed, $errors errors of $total"
  grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/  /' || true
  kill -0 "$PID" 2>/dev/null || { echo "s3-tests-features.sh: the server died; its log:" >&2; tail -n 50 "$WORK/serve.log" >&2; exit 1; }
  if [ "${CHECK_FLOOR:-0}" = 1 ]; then
    floor=$(floor_of "feature-$feature")
    if [ "$passed" -lt "$floor" ]; then
      echo "s3-tests-features.sh: $feature: $passed passed, below the floor of $floor" >&2
      status=1
    else
      echo "s3-tests-features.sh: $feature: $passed passed, floor $floor: ok"
    fi
  fi
done
exit "$status"
