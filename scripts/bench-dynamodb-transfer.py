"""DynamoDB export to S3 and import back, through a running `seedbed serve`: a table of N items
(default 100,000, about 120 bytes each) is filled with BatchWriteItem, exported
(ExportTableToPointInTime) and imported from the export's data files into a new table
(ImportTable, GZIP). Prints the wall time of each job (request to COMPLETED, polled every
20 ms) and items per second.

    seedbed serve --store /tmp/xfer --json > serve.json &          # writes synced, the default
    python3 scripts/bench-dynamodb-transfer.py serve.json [N]       # boto3 from PyPI

docs/benchmarks.md ("DynamoDB import and export") has the figures and the machine.
"""

import json
import sys
import time

import boto3
from botocore.config import Config

info = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "serve.json"))
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
session = boto3.session.Session(aws_access_key_id=info["access_key"],
                                aws_secret_access_key=info["secret_key"], region_name="us-east-1")
ddb = session.client("dynamodb", endpoint_url=info["dynamodb"], config=Config(retries={"max_attempts": 1}))
s3 = session.client("s3", endpoint_url=info["s3"], config=Config(s3={"addressing_style": "path"}))

schema = dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                    {"AttributeName": "sk", "AttributeType": "N"}],
              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
              BillingMode="PAY_PER_REQUEST")
ddb.create_table(TableName="xfer-src", **schema)
t = time.perf_counter()
for start in range(0, n, 25):
    ddb.batch_write_item(RequestItems={"xfer-src": [
        {"PutRequest": {"Item": {"pk": {"S": f"user{i % 1000:04}"}, "sk": {"N": str(i)},
                                 "name": {"S": f"player number {i}"}, "score": {"N": str(i * 7 % 1000)},
                                 "tags": {"SS": ["a", "b"]}, "pad": {"S": "x" * 40}}}}
        for i in range(start, min(start + 25, n))]})
fill = time.perf_counter() - t
s3.create_bucket(Bucket="xfer-bench")
ddb.update_continuous_backups(TableName="xfer-src",
                              PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
arn = ddb.describe_table(TableName="xfer-src")["Table"]["TableArn"]


def wait(fetch, key, status):
    while True:
        d = fetch()[key]
        if d[status] != "IN_PROGRESS":
            return d
        time.sleep(0.02)


t = time.perf_counter()
e = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="xfer-bench", S3Prefix="bench")["ExportDescription"]
e = wait(lambda: ddb.describe_export(ExportArn=e["ExportArn"]), "ExportDescription", "ExportStatus")
export = time.perf_counter() - t
assert e["ExportStatus"] == "COMPLETED" and e["ItemCount"] == n, e
data = "bench/AWSDynamoDB/" + e["ExportArn"].rsplit("/", 1)[1] + "/data/"

t = time.perf_counter()
i = ddb.import_table(S3BucketSource={"S3Bucket": "xfer-bench", "S3KeyPrefix": data},
                     InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
                     TableCreationParameters={"TableName": "xfer-copy", **schema})["ImportTableDescription"]
i = wait(lambda: ddb.describe_import(ImportArn=i["ImportArn"]), "ImportTableDescription", "ImportStatus")
imported = time.perf_counter() - t
assert i["ImportStatus"] == "COMPLETED" and i["ImportedItemCount"] == n, i

print(f"{n} items, {e['BilledSizeBytes']} bytes of items")
print(f"fill (BatchWriteItem x {(n + 24) // 25}): {fill:7.2f} s {n / fill:9.0f} items/s")
print(f"export:                        {export:7.2f} s {n / export:9.0f} items/s")
print(f"import:                        {imported:7.2f} s {n / imported:9.0f} items/s")
