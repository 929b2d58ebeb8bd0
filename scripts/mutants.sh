#!/usr/bin/env bash
# Mutation score of the simulator's sweeps over the protocol code (issue #21, goal 4).
#
# What it does: runs `cargo mutants` (crates.io; installed here if missing) over the protocol
# files — the quorum coordinator, replica store, versions and vector clocks
# (nodes/src/quorum/{coordinator,store,version,vclock}.rs), SWIM's member and node
# (nodes/src/gossip/{member,node}.rs) and IAM propagation (sim/src/workloads/iam/propagation.rs)
# — and tests each mutant with nothing but the default sweep of the workload that runs it
# (sim/tests/mutants_sweep.rs: seeds 0..N with default parameters and swarm faults, plus N/4
# seeds of each other setting or workload that runs the same code: quorum with sync=group and
# mode=lww; SWIM under quorum's membership=gossip and IAM's mode=swim, and with one seed member;
# IAM a third of N in each propagation mode). A mutant is *caught* when some seed fails a checker, the
# liveness check or panics, or when a "sometimes" event the workload declares happens in none
# of the seeds; *missed* otherwise.
#
# How long: 514 mutants (--list: quorum 239, gossip 220, iam 55), 70 of them equivalent and
# left out (below). Measured 2026-12-03 on the 2-core VM, nothing else running (load 1.3-2.2),
# from a cold target/mutants: quorum 817 s, gossip 709 s, iam 244 s — 1,770 s, 29.5 minutes,
# the first build of target/mutants (profile `mutants`: incremental, opt-level 1) and each
# group's unmutated baseline included. A caught mutant takes about 3 s (a 2-3 s build, then the
# sweep until its first failing seed), a missed one about 10 s (the build and the whole sweep:
# 100 seeds of the group's workload plus its other settings, on every core —
# SEEDBED_MUTANTS_JOBS, default one thread per core). An IAM mutant rebuilds the simulator
# crate itself (propagation.rs lives in sim/); a mutant of a generic or inlined function in
# nodes/ rebuilds the simulator's code that uses it (up to 25 s). One mutant at a time
# (--in-place runs one; it refuses --jobs), under nice. On a busy machine sample a group with
# `-- --shard 0/5 --sharding round-robin`, or re-test only the last run's survivors with
# `-- --iterate` (it reads mutants.out/GROUP/mutants.out of the last run in this checkout).
#
# It mutates the files of this checkout IN PLACE (cargo mutants --in-place), one at a time, and
# puts each back: that reuses target/mutants/ across mutants instead of building a copy of the
# tree from scratch. Do not edit nodes/ or sim/ while it runs; it refuses to start on
# uncommitted changes there and checks afterwards that it left none.
#
# Equivalent mutants: the ones docs/simulation.md classifies as equivalent (no test of the
# default sweeps can tell them from the real code) are listed, each with its reason, in
# scripts/mutants-equivalent.txt and left out (cargo mutants --exclude-re); --all tests them too.
# The script warns when a pattern there matches no mutant (its line moved: re-check it).
#
# Usage: scripts/mutants.sh [--list] [--all] [GROUP...] [-- EXTRA cargo-mutants ARGS]
#   GROUP: quorum | gossip | iam (default: all three)
#   --list: count each group's mutants (and how many are excluded), run nothing
#   --all:  test the equivalent mutants as well
#   SEEDBED_MUTANTS_SEEDS=N   seeds per sweep (default 100)
# Output: mutants.out/GROUP/mutants.out/{caught,missed,timeout,unviable}.txt (git-ignored),
# and a summary line per group and in total.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the release this score was measured with; it builds with rustc 1.95.
MUTANTS_VERSION=27.1.0
export SEEDBED_MUTANTS_SEEDS=${SEEDBED_MUTANTS_SEEDS:-100}

list=0
all=0
groups=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list=1 ;;
    --all) all=1 ;;
    quorum | gossip | iam) groups+=("$1") ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown argument: $1 (want --list, --all, quorum, gossip, iam, or -- ARGS)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#groups[@]} -gt 0 ] || groups=(quorum gossip iam)

if ! cargo mutants --version 2>/dev/null | grep -q "$MUTANTS_VERSION"; then
  cargo install cargo-mutants --locked --version "$MUTANTS_VERSION"
fi

# The files of each group, the package they are in, and the test that sweeps them.
files_of() {
  case "$1" in
    quorum) echo "-p seedbed-nodes -f nodes/src/quorum/coordinator.rs -f nodes/src/quorum/store.rs -f nodes/src/quorum/version.rs -f nodes/src/quorum/vclock.rs" ;;
    gossip) echo "-p seedbed-nodes -f nodes/src/gossip/member.rs -f nodes/src/gossip/node.rs" ;;
    iam) echo "-p seedbed-sim -f sim/src/workloads/iam/propagation.rs" ;;
  esac
}

# The equivalent mutants' patterns, as --exclude-re arguments; and a check that each still
# names a mutant of this tree (a pattern pins file:line:col, which an edit above it moves).
equivalent=scripts/mutants-equivalent.txt
patterns=()
while IFS= read -r p; do patterns+=("$p"); done < <(grep -vE '^[[:space:]]*(#|$)' "$equivalent")
exclude=()
if [ "$all" = 0 ]; then
  for p in "${patterns[@]}"; do exclude+=(--exclude-re "$p"); done
fi
every=$(mktemp)
trap 'rm -f "$every"' EXIT
for g in quorum gossip iam; do
  # shellcheck disable=SC2046
  cargo mutants --list --no-config $(files_of "$g") >>"$every"
done
for p in "${patterns[@]}"; do
  if ! grep -qE -- "$p" "$every"; then
    echo "WARNING: $equivalent: no mutant matches '$p' (has its line moved? re-check the argument and the line number)" >&2
  fi
done

if [ "$list" = 1 ]; then
  for g in "${groups[@]}"; do
    # shellcheck disable=SC2046
    n=$(cargo mutants --list $(files_of "$g") "${extra[@]}" | wc -l)
    # shellcheck disable=SC2046
    k=$(cargo mutants --list $(files_of "$g") "${exclude[@]}" "${extra[@]}" | wc -l)
    echo "$g: $n mutants, $((n - k)) excluded as equivalent, $k tested"
  done
  exit 0
fi

if ! git diff --quiet -- nodes sim; then
  echo "uncommitted changes in nodes/ or sim/: the in-place run would test them; commit or stash first" >&2
  exit 1
fi

start=$(date +%s)
echo "mutants: seeds 0..$SEEDBED_MUTANTS_SEEDS per sweep; load at start: $(uptime)"
for g in "${groups[@]}"; do
  t0=$(date +%s)
  mkdir -p "mutants.out/$g"
  # The unmutated baseline, run here: cargo-mutants 27.1's own baseline tests the mutated
  # package (seedbed-nodes), not --test-package, and so cannot find the sweep test.
  nice -n 10 cargo test -q --profile mutants -p seedbed-sim --test mutants_sweep -- \
    --ignored --exact "${g}_default_sweep"
  echo "$g baseline passed in $(( $(date +%s) - t0 )) s (build included)"
  # --cargo-arg puts --test=mutants_sweep on the build as well as the test command: otherwise
  # every mutant would also build the sim crate's other test binary, tests/it (its sixteen
  # modules; sim/tests/mutants_sweep.rs says why the sweep is a binary of its own).
  # Exit codes 2 (missed) and 3 (timeouts) are results, not errors; 4 (the unmutated baseline
  # fails) and others are.
  # shellcheck disable=SC2046
  nice -n 10 cargo mutants --in-place --profile mutants --baseline skip --timeout 90 --build-timeout 600 \
    --test-package seedbed-sim --cargo-arg=--test=mutants_sweep $(files_of "$g") \
    -o "mutants.out/$g" "${exclude[@]}" "${extra[@]}" -- -- --ignored --exact "${g}_default_sweep" || {
      rc=$?
      if [ $rc -ne 2 ] && [ $rc -ne 3 ]; then echo "cargo mutants failed ($rc) for $g" >&2; exit $rc; fi
    }
  echo "$g done in $(( $(date +%s) - t0 )) s; load: $(uptime)"
done

if ! git diff --quiet -- nodes sim; then
  echo "WARNING: the tree is not clean after the run: git diff nodes sim" >&2
fi

echo
printf '%-8s %7s %7s %7s %9s %7s\n' group caught missed timeout unviable score
tc=0 tm=0 tt=0 tu=0
count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
for g in "${groups[@]}"; do
  d="mutants.out/$g/mutants.out"
  c=$(count "$d/caught.txt") m=$(count "$d/missed.txt") t=$(count "$d/timeout.txt") u=$(count "$d/unviable.txt")
  tc=$((tc + c)) tm=$((tm + m)) tt=$((tt + t)) tu=$((tu + u))
  # The score counts a timeout as caught (the mutant made the sweep hang: a run that never
  # ends fails), unviable mutants not at all.
  printf '%-8s %7d %7d %7d %9d %6s%%\n' "$g" "$c" "$m" "$t" "$u" \
    "$(awk -v c="$c" -v m="$m" -v t="$t" 'BEGIN { if (c+m+t) printf "%.1f", 100*(c+t)/(c+m+t); else print "-" }')"
done
printf '%-8s %7d %7d %7d %9d %6s%%\n' total "$tc" "$tm" "$tt" "$tu" \
  "$(awk -v c="$tc" -v m="$tm" -v t="$tt" 'BEGIN { if (c+m+t) printf "%.1f", 100*(c+t)/(c+m+t); else print "-" }')"
if [ "$all" = 0 ]; then
  echo "not tested: the equivalent mutants of $equivalent (--all tests them too)"
fi
echo "wall: $(( $(date +%s) - start )) s; load at end: $(uptime)"
for g in "${groups[@]}"; do
  f="mutants.out/$g/mutants.out/missed.txt"
  [ -s "$f" ] && { echo "missed ($g):"; sed 's/^/  /' "$f"; }
done
exit 0
