# Shared by the conformance runners (s3-tests.sh, s3-tests-features.sh, moto-aws-verified.sh, s3fs.sh,
# minio-py.sh, aws-sdk-python.sh, dynalite.sh, dynamodb-conformance.sh); sourced, not run.

# SEEDBED: as set, else the release build, else the debug build; dies when there is none.
find_seedbed() {
  if [ -z "${SEEDBED:-}" ]; then
    for b in "$ROOT/target/release/seedbed" "$ROOT/target/debug/seedbed"; do
      [ -x "$b" ] && { SEEDBED=$b; break; }
    done
  fi
  [ -x "${SEEDBED:-}" ] || die "no seedbed binary: build one (cargo build --release) or set SEEDBED"
  SEEDBED=$(cd "$(dirname "$SEEDBED")" && pwd)/$(basename "$SEEDBED")
}

# The EXIT trap of a run: stop the server by its pid ($PID: SIGTERM, up to 5 s, then SIGKILL),
# then remove the run's directory ($WORK) unless KEEP=1. $1 names the script in the message.
finish_run() {
  if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "$1: kept $WORK" >&2; else rm -rf "$WORK"; fi
}

# Run $1 (a `finish_run` call) however the script ends. SIGINT and SIGTERM end the script
# (through the EXIT trap): a trap that only cleaned up would let it go on, its server gone.
finish_on_exit() {
  # shellcheck disable=SC2064 # $1 is the command to run, expanded now on purpose
  trap "$1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# SHARED: as set, else the `shared` folder beside the repository (CI's clone, the lead's
# checkout) or a level or two above (a worktree under wt/); empty when none holds the suite.
find_shared() {
  if [ -z "${SHARED:-}" ]; then
    for d in "$ROOT/../shared" "$ROOT/../../shared" "$ROOT/../../../shared"; do
      [ -f "$d/conformance/s3-tests/run.sh" ] && { SHARED=$(cd "$d" && pwd); break; }
    done
  fi
}

# Start `seedbed serve` for ceph/s3-tests in $WORK: a fresh store and IAM file with the two
# users the suite needs (main and alt, in two accounts, with the canonical ids the suite is
# told), S3 only, on a free loopback port. Sets PID, PORT, MAIN_ID, ALT_ID and the four keys
# (MAIN_AK, MAIN_SK, ALT_AK, ALT_SK). The suite checks the protocol, not durability (the
# engine's crash tests do): the server acknowledges before syncing unless FSYNC=1.
#
# USERS=iam also gives both accounts a root user (ROOT_AK, ROOT_SK, ALT_ROOT_AK, ALT_ROOT_SK),
# which the suite's IAM account tests need as their `[iam root]` and `[iam alt root]`.
start_suite_server() {
  local iam="$WORK/iam.json" main alt root altroot nosync=--no-fsync
  key() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d[sys.argv[1]])' "$1"; }
  MAIN_ID=$(printf 'seedbed-main' | sha256sum | cut -c1-64)
  ALT_ID=$(printf 'seedbed-alt' | sha256sum | cut -c1-64)
  main=$("$SEEDBED" iam user add main --iam "$iam" --account 111111111111 --account-name main \
          --email main@example.com --canonical-id "$MAIN_ID" --admin --json)
  alt=$("$SEEDBED" iam user add alt --iam "$iam" --account 222222222222 --account-name alt \
          --email alt@example.com --canonical-id "$ALT_ID" --admin --json)
  if [ "${USERS:-}" = iam ]; then
    root=$("$SEEDBED" iam key root --account 111111111111 --iam "$iam" --json)
    altroot=$("$SEEDBED" iam key root --account 222222222222 --iam "$iam" --json)
    ROOT_AK=$(echo "$root" | key access_key); ROOT_SK=$(echo "$root" | key secret_key)
    ALT_ROOT_AK=$(echo "$altroot" | key access_key); ALT_ROOT_SK=$(echo "$altroot" | key secret_key)
  fi
  MAIN_AK=$(echo "$main" | key access_key); MAIN_SK=$(echo "$main" | key secret_key)
  ALT_AK=$(echo "$alt" | key access_key); ALT_SK=$(echo "$alt" | key secret_key)
  [ "${FSYNC:-0}" = 1 ] && nosync=
  # SERVE_EXTRA: more flags for the server (word-split on purpose).
  # shellcheck disable=SC2086
  SEEDBED_LOG=${SEEDBED_LOG:-warn} "$SEEDBED" serve --store "$WORK/store" --iam "$iam" $nosync \
    --s3-addr 127.0.0.1:0 --dynamodb-addr off --metrics-addr off --json ${SERVE_EXTRA:-} \
    > "$WORK/serve.json" 2> "$WORK/serve.log" &
  PID=$!
  for _ in $(seq 100); do [ -s "$WORK/serve.json" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  [ -s "$WORK/serve.json" ] || { cat "$WORK/serve.log" >&2; die "the server did not start"; }
  PORT=$(key s3 < "$WORK/serve.json" | sed 's/.*://')
}

# fetch_sdist NAME VERSION SHA256 CHECK [MEMBER]: NAME==VERSION's source distribution from
# PyPI (where suites ship their tests), checked against SHA256 and unpacked once into
# $CACHE/NAME-VERSION; nothing is fetched while CHECK, a path inside that folder, exists.
# MEMBER, a path inside the archive, unpacks only that (botocore's data files are large).
# Uses $VENV's pip; dies naming what failed.
fetch_sdist() {
  local name=$1 version=$2 sha=$3 check=$4 member=${5:-} dir=$CACHE/$1-$2 dl tarball
  [ -e "$dir/$check" ] && return 0
  dl=$(mktemp -d "$CACHE/dl.XXXXXX")
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
    "$name==$version" -d "$dl" || { rm -rf "$dl"; die "could not download $name $version's sdist from PyPI"; }
  tarball="$dl/$name-$version.tar.gz"
  echo "$sha  $tarball" | sha256sum -c --quiet - \
    || { rm -rf "$dl"; die "$name-$version.tar.gz does not have the pinned SHA-256"; }
  tar xzf "$tarball" -C "$dl" ${member:+"$name-$version/$member"}
  rm -rf "$dir"
  mv "$dl/$name-$version" "$dir"
  rm -rf "$dl"
}

# ensure_venv CHECK WHAT PACKAGE...: $VENV with the PACKAGEs from PyPI, unless the Python
# statement CHECK already runs in it without error (it exits non-zero when a pinned version is
# not the one installed); the venv is made first when missing. Dies naming WHAT on failure.
ensure_venv() {
  local check=$1 what=$2
  shift 2
  "$VENV/bin/python" -c "$check" 2>/dev/null && return 0
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "could not create a venv at $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$@" \
    || die "pip could not install $what into $VENV"
}

# floor_of KEY: the pass count floor.txt records for KEY (`core`, `moto-s3`, `feature-sse`,
# `minio-py`, ...); dies when it records none.
floor_of() {
  local f
  f=$(sed -n "s/^$1 \([0-9]*\).*/\1/p" "$HERE/floor.txt")
  [ -n "$f" ] || die "no $1 floor in $HERE/floor.txt"
  echo "$f"
}

# Start `seedbed serve` in $WORK for a DynamoDB suite driven by node: a fresh store, one
# administrator (the key every request is signed with), DynamoDB (and S3) on free loopback
# ports, writes not synced (the suites check the protocol, not durability). Sets PID, URL (the
# DynamoDB endpoint), AK and SK; dies with the server's log if it does not start.
start_dynamodb_admin_server() {
  "$SEEDBED" iam user add admin --iam "$WORK/iam.json" --admin --json > "$WORK/admin.json"
  SEEDBED_LOG=${SEEDBED_LOG:-warn} "$SEEDBED" serve --store "$WORK/store" --iam "$WORK/iam.json" --no-fsync \
    --s3-addr 127.0.0.1:0 --dynamodb-addr 127.0.0.1:0 --metrics-addr off --json > "$WORK/serve.json" 2> "$WORK/serve.log" &
  PID=$!
  for _ in $(seq 100); do [ -s "$WORK/serve.json" ] && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  [ -s "$WORK/serve.json" ] || { cat "$WORK/serve.log" >&2; die "the server did not start"; }
  jget() { node -e 'var d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(d[process.argv[2]])' "$1" "$2"; }
  URL=$(jget "$WORK/serve.json" dynamodb)
  AK=$(jget "$WORK/admin.json" access_key)
  SK=$(jget "$WORK/admin.json" secret_key)
}
