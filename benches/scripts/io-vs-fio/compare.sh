#!/bin/bash
# Interleaved rounds of fio and seedbed bench io on the same file system; prints one line per run.
SB=${SB:-seedbed}
ROUNDS=${ROUNDS:-5}
sb() { # sb NAME IO CASE
  $SB bench io --io $2 --cases $3 --dir . --size 1GiB --runtime-secs 10 --keep --json $1.jsonl >/dev/null 2>$1.err || { echo "$1 FAILED"; cat $1.err; return; }
  python3 -c "
import json,sys
r=json.loads(open('$1.jsonl').readline())
print(f\"{'$1':24s} iops={r['iops']:9.0f} MB/s={r['mb_per_s']:8.1f} p50={r['p50_us']:8.1f} p99={r['p99_us']:8.1f} p99.9={r['p999_us']:8.1f}\")"
}
for i in $(seq 1 $ROUNDS); do
  echo "# round $i $(uptime)"
  "$(dirname "$0")"/fiorun.sh fio_rr32_uring io_uring randread 4k 32
  sb sb_rr32_uring uring randread-qd32
  "$(dirname "$0")"/fiorun.sh fio_rr1_psync psync randread 4k 1
  sb sb_rr1_std std randread-qd1
  "$(dirname "$0")"/fiorun.sh fio_sw1_uring io_uring write 1M 1
  sb sb_sw1_uring uring seqwrite-qd1
done
