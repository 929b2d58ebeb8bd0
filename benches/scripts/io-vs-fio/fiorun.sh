#!/bin/bash
# usage: fiorun.sh NAME ENGINE RW BS QD  -> prints iops MB/s p50 p99 p99.9 (us)
name=$1; eng=$2; rw=$3; bs=$4; qd=$5
fio --name=$name --filename=fio.dat --size=1G --ioengine=$eng --direct=1 --iodepth=$qd --rw=$rw --bs=$bs --runtime=${RUNTIME:-10} --time_based --lat_percentiles=1 --output-format=json > $name.json 2>/dev/null
python3 - $name.json <<'PY'
import json,sys
j=json.load(open(sys.argv[1]))['jobs'][0]
d=j['read'] if j['read']['io_bytes']>0 else j['write']
p=d["lat_ns"]["percentile"]
print(f"{sys.argv[1][:-5]:24s} iops={d['iops']:9.0f} MB/s={d['bw_bytes']/1e6:8.1f} p50={p['50.000000']/1e3:8.1f} p99={p['99.000000']/1e3:8.1f} p99.9={p['99.900000']/1e3:8.1f}")
PY
