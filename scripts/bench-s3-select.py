"""S3 Select through a running `seedbed serve`, as a client sees it: a 1,000,000-row CSV
(18 MB; plain and gzip), two queries, five rounds each, the median wall time of the whole
request (read, query, event stream) and the CSV megabytes per second it stands for.

    seedbed serve --store /tmp/sel --no-fsync --dynamodb-addr off --metrics-addr off --json > serve.json &
    python3 scripts/bench-s3-select.py serve.json      # boto3 from PyPI (the CI venv has it)
    python3 scripts/bench-s3-select.py serve.json 2    # and a 2 GiB CSV (one count, one LIMIT)

The server's peak memory is its `VmHWM` (grep VmHWM /proc/PID/status): the object is read a
stripe at a time, so it stays flat whatever the object's size.

docs/benchmarks.md ("S3 Select") has the figures and the machine.
"""

import gzip
import json
import os
import random
import statistics
import sys
import time

import boto3
from botocore.config import Config

info = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "serve.json"))
s3 = boto3.client("s3", endpoint_url=info["s3"], region_name="us-east-1",
                  aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"],
                  config=Config(s3={"addressing_style": "path"}))
random.seed(1)
rows = "name,city,age\n" + "".join(
    f"p{i},{random.choice(['Seattle', 'Chicago', 'Denver'])},{i % 90}\n" for i in range(1_000_000))
s3.create_bucket(Bucket="select-bench")
s3.put_object(Bucket="select-bench", Key="people.csv", Body=rows.encode())
s3.put_object(Bucket="select-bench", Key="people.csv.gz", Body=gzip.compress(rows.encode()))


def run(key, expr, comp):
    t = time.perf_counter()
    r = s3.select_object_content(
        Bucket="select-bench", Key=key, Expression=expr, ExpressionType="SQL",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}, "CompressionType": comp},
        OutputSerialization={"JSON": {}})
    out = b"".join(e["Records"]["Payload"] for e in r["Payload"] if "Records" in e)
    return time.perf_counter() - t, len(out)


for key, comp in (("people.csv", "NONE"), ("people.csv.gz", "GZIP")):
    for expr in ("SELECT count(*) FROM S3Object s WHERE s.city = 'Seattle'",
                 "SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 85"):
        times = []
        for _ in range(5):
            t, n = run(key, expr, comp)
            times.append(t)
        m = statistics.median(times)
        print(f"{key:14} {expr:60} median {m * 1000:7.1f} ms "
              f"(rounds {', '.join(f'{x * 1000:.0f}' for x in times)}) "
              f"{len(rows) / m / 1e6:6.1f} MB/s of CSV, {n} B returned")


def ranged(key, size, parts):
    """count(*) over `parts` ScanRanges that tile the object, run at once (one thread each, as
    a parallel reader splits an object); returns (wall seconds, total count)."""
    from concurrent.futures import ThreadPoolExecutor
    cuts = [size * i // parts for i in range(parts + 1)]

    def one(i):
        r = s3.select_object_content(
            Bucket="select-bench", Key=key, Expression="SELECT count(*) FROM S3Object s",
            ExpressionType="SQL", InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
            OutputSerialization={"CSV": {}}, ScanRange={"Start": cuts[i], "End": cuts[i + 1] - 1})
        return int(b"".join(e["Records"]["Payload"] for e in r["Payload"] if "Records" in e))

    t = time.perf_counter()
    with ThreadPoolExecutor(parts) as pool:
        total = sum(pool.map(one, range(parts)))
    return time.perf_counter() - t, total


times = []
for _ in range(5):
    t, total = ranged("people.csv", len(rows), 8)
    times.append(t)
    assert total == 1_000_000, total
m = statistics.median(times)
print(f"people.csv     count(*) over 8 ScanRanges at once, every row once            median {m * 1000:7.1f} ms "
      f"(rounds {', '.join(f'{x * 1000:.0f}' for x in times)})")

if len(sys.argv) > 2:
    # A big object: the rows above repeated to the size asked for, uploaded from a file.
    gib = float(sys.argv[2])
    path = "/tmp/seedbed-select-big.csv"
    block = rows.split("\n", 1)[1].encode()
    copies = max(1, int(gib * (1 << 30) // len(block)))
    with open(path, "wb") as f:
        f.write(b"name,city,age\n")
        for _ in range(copies):
            f.write(block)
    size = os.path.getsize(path)
    t = time.perf_counter()
    s3.upload_file(path, "select-bench", "big.csv")
    print(f"big.csv: {size / 2**30:.2f} GiB uploaded in {time.perf_counter() - t:.1f} s")
    os.remove(path)
    for expr in ("SELECT count(*) FROM S3Object s WHERE s.city = 'Seattle'",
                 "SELECT s.name FROM S3Object s WHERE s.city = 'Denver' LIMIT 3"):
        t, n = run("big.csv", expr, "NONE")
        print(f"big.csv        {expr:60} {t:7.2f} s {size / t / 1e6:6.1f} MB/s of CSV, {n} B returned")
    t, total = ranged("big.csv", size, 8)
    print(f"big.csv        count(*) over 8 ScanRanges at once: {total} rows        {t:7.2f} s {size / t / 1e6:6.1f} MB/s of CSV")
