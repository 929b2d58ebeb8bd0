"""An index added to a table in use, through a running `seedbed serve`: a table of N items
(default 1,000,000, about 100 bytes each) is filled with BatchWriteItem from 4 threads; PutItem
latency is taken (one client, 2,000 puts); then UpdateTable adds a global index (ALL
projection) and the script polls DescribeTable every 50 ms until it is ACTIVE, while one client
keeps putting items the index must hold. Prints the fill time, the build time (UpdateTable to
ACTIVE) and items per second, PutItem latency before and during the build, and how many of the
writes made during the build the index holds (all of them, or the build is wrong); then the
time a deleted index is DELETING (until its entries are removed and it leaves DescribeTable),
and PutItem latency meanwhile; then the time TTL is ENABLING (every item carries a far-future
expiry, `exp`, so the fill queues them all and none expires) and DISABLING (its queue emptied),
polled with DescribeTimeToLive, and PutItem latency meanwhile.

    seedbed serve --store /tmp/ixb --json > serve.json &            # writes synced, the default
    python3 scripts/bench-dynamodb-index-build.py serve.json [N]     # boto3 from PyPI

docs/benchmarks.md ("An index built online") has the figures and the machine.
"""

import json
import sys
import threading
import time

import boto3
from botocore.config import Config

info = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "serve.json"))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
ddb = boto3.session.Session(aws_access_key_id=info["access_key"], aws_secret_access_key=info["secret_key"],
                            region_name="us-east-1").client(
    "dynamodb", endpoint_url=info["dynamodb"],
    config=Config(max_pool_connections=16, retries={"max_attempts": 1}))
TABLE = "index-build"

ddb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")


def fill(lo, hi):
    for start in range(lo, hi, 25):
        ddb.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": {"pk": {"S": f"p{i:08d}"}, "g": {"S": f"g{i % 1000}"},
                                     "v": {"N": str(i)}, "exp": {"N": str(2_000_000_000 + i)},
                                     "pad": {"S": "x" * 60}}}}
            for i in range(start, min(start + 25, hi))]})


t = time.perf_counter()
threads = [threading.Thread(target=fill, args=(k * n // 4, (k + 1) * n // 4)) for k in range(4)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print(f"fill: {n} items in {time.perf_counter() - t:.1f} s")


def put(prefix, i, into):
    a = time.perf_counter()
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"{prefix}{i}"}, "g": {"S": prefix}, "v": {"N": "1"}})
    into.append((time.perf_counter() - a) * 1000)


before, during = [], []
for i in range(2000):
    put("before", i, before)
stop = threading.Event()


def writer(prefix, into):
    """Put items named PREFIX0, PREFIX1, ... until `stop` is set, each latency into INTO."""
    i = 0
    while not stop.is_set():
        put(prefix, i, into)
        i += 1


t = time.perf_counter()
ddb.update_table(TableName=TABLE, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                 GlobalSecondaryIndexUpdates=[{"Create": {
                     "IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                     "Projection": {"ProjectionType": "ALL"}}}])
w = threading.Thread(target=writer, args=("during", during))
w.start()
while ddb.describe_table(TableName=TABLE)["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"] != "ACTIVE":
    time.sleep(0.05)
took = time.perf_counter() - t
stop.set()
w.join()
items = ddb.describe_table(TableName=TABLE)["Table"]["ItemCount"]
print(f"build: {took:.2f} s for {items} items ({items / took:,.0f} items/s)")


def q(xs, p):
    return sorted(xs)[int(p * (len(xs) - 1))]


for name, xs in [("before", before), ("during", during)]:
    print(f"PutItem {name} the build: n={len(xs)} p50 {q(xs, .5):.2f} ms, p99 {q(xs, .99):.2f} ms, "
          f"max {max(xs):.2f} ms")
found = ddb.query(TableName=TABLE, IndexName="by_g", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "during"}}, Select="COUNT")["Count"]
print(f"writes made during the build that the index holds: {found} of {len(during)}")

# Then the index is deleted, one client putting items meanwhile.
deleting = []
stop.clear()

w = threading.Thread(target=writer, args=("deleting", deleting))
w.start()
time.sleep(0.2)
t = time.perf_counter()
ddb.update_table(TableName=TABLE, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_g"}}])
while "GlobalSecondaryIndexes" in ddb.describe_table(TableName=TABLE)["Table"]:
    time.sleep(0.05)
took = time.perf_counter() - t
time.sleep(0.2)
stop.set()
w.join()
print(f"delete: DELETING for {took:.2f} s; PutItem from 0.2 s before to 0.2 s after: "
      f"n={len(deleting)} p50 {q(deleting, .5):.2f} ms, p99 {q(deleting, .99):.2f} ms, "
      f"max {max(deleting):.2f} ms")

# Then TTL, enabled on `exp` and disabled again, one client putting items meanwhile.
ttl_puts = []
stop.clear()


def ttl_to(enabled, status):
    t = time.perf_counter()
    ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": enabled})
    while ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]["TimeToLiveStatus"] != status:
        time.sleep(0.05)
    return time.perf_counter() - t


w = threading.Thread(target=writer, args=("ttl", ttl_puts))
w.start()
time.sleep(0.2)
enabling = ttl_to(True, "ENABLED")
disabling = ttl_to(False, "DISABLED")
time.sleep(0.2)
stop.set()
w.join()
print(f"TTL: ENABLING for {enabling:.2f} s, DISABLING for {disabling:.2f} s; PutItem from 0.2 s before "
      f"to 0.2 s after: n={len(ttl_puts)} p50 {q(ttl_puts, .5):.2f} ms, p99 {q(ttl_puts, .99):.2f} ms, "
      f"max {max(ttl_puts):.2f} ms")

# Last, DeleteTable, whose answer waits for the table's items and index entries to be purged.
t = time.perf_counter()
ddb.delete_table(TableName=TABLE)
print(f"DeleteTable: answered in {time.perf_counter() - t:.2f} s, the table's keys purged")
sys.exit(0 if found == len(during) else 1)
