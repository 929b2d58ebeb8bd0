# Shared by the conformance runners (s3-tests.sh, moto-aws-verified.sh); sourced, not run.

# SEEDBED: as set, else the release build, else the debug build; dies when there is none.
find_seedbed() {
  if [ -z "${SEEDBED:-}" ]; then
    for b in "$ROOT/target/release/seedbed" "$ROOT/target/debug/seedbed"; do
      [ -x "$b" ] && { SEEDBED=$b; break; }
    done
  fi
  [ -x "${SEEDBED:-}" ] || die "no seedbed binary: build one (cargo build --release) or set SEEDBED"
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
