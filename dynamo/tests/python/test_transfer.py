"""ImportTable and ExportTableToPointInTime through boto3: the server's DynamoDB reads and
writes objects in its own S3 store, as the caller, and a table survives the round trip."""

import base64
import gzip
import hashlib
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import create, own_server, unique
from test_serve import eventually


def wait(fetch, key, status_key):
    """Poll a job until it leaves IN_PROGRESS (a bound on the number of polls, not a timing
    assertion: a job of a few items ends in milliseconds)."""
    for _ in range(600):
        d = fetch()[key]
        if d[status_key] != "IN_PROGRESS":
            return d
        time.sleep(0.05)
    pytest.fail(f"the job is still running after 600 polls: {d}")


def wait_import(client, arn):
    return wait(lambda: client.describe_import(ImportArn=arn), "ImportTableDescription", "ImportStatus")


def wait_export(client, arn):
    return wait(lambda: client.describe_export(ExportArn=arn), "ExportDescription", "ExportStatus")


def b64md5(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def test_export_to_s3_and_import_back(server, client, resource):
    own_server(server)
    s3 = server.s3()
    bucket = unique("exports")
    s3.create_bucket(Bucket=bucket)
    table = create(resource, range_key=("sk", "N"))
    items = [
        {"pk": {"S": f"user{i % 4}"}, "sk": {"N": str(i * 7 - 20)}, "bin": {"B": bytes([i, 0, 255])},
         "tags": {"SS": ["a", f"t{i}"]}, "doc": {"M": {"n": {"N": "1.5"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
         "team": {"S": f"team{i % 3}"}}
        for i in range(40)
    ]
    for it in items:
        client.put_item(TableName=table.name, Item=it)
    arn = client.describe_table(TableName=table.name)["Table"]["TableArn"]

    # No export before point-in-time recovery is on, as in DynamoDB.
    with pytest.raises(ClientError) as e:
        client.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="nightly")
    assert e.value.response["Error"]["Code"] == "PointInTimeRecoveryUnavailableException"
    assert client.describe_continuous_backups(TableName=table.name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    client.update_continuous_backups(TableName=table.name,
                                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    assert client.describe_continuous_backups(TableName=table.name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    started = client.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="nightly")["ExportDescription"]
    done = wait_export(client, started["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == 40 and done["ExportFormat"] == "DYNAMODB_JSON" and done["TableArn"] == arn
    assert {"ExportArn": done["ExportArn"], "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"} in \
        client.list_exports(TableArn=arn)["ExportSummaries"]

    # The files, where DynamoDB writes them; checksums that hold; the items, as DynamoDB JSON.
    base = "nightly/AWSDynamoDB/" + done["ExportArn"].rsplit("/", 1)[1]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=base)["Contents"]]
    for name in ("_started", "manifest-summary.json", "manifest-summary.md5", "manifest-files.json", "manifest-files.md5"):
        assert f"{base}/{name}" in keys
    get = lambda k: s3.get_object(Bucket=bucket, Key=k)["Body"].read()
    files = get(f"{base}/manifest-files.json")
    assert get(f"{base}/manifest-files.md5").decode() == b64md5(files)
    assert json.loads(get(done["ExportManifest"]))["itemCount"] == 40
    rows = []
    for line in files.decode().splitlines():
        entry = json.loads(line)
        data = get(entry["dataFileS3Key"])
        assert entry["md5Checksum"] == b64md5(data)
        lines = [json.loads(r) for r in gzip.decompress(data).decode().splitlines() if r]
        assert len(lines) == entry["itemCount"]
        rows += lines
    wire = [{k: ({"B": base64.b64encode(v["B"]).decode()} if "B" in v else v) for k, v in it.items()} for it in items]
    assert sorted(json.dumps(r["Item"], sort_keys=True) for r in rows) == \
        sorted(json.dumps(w, sort_keys=True) for w in wire)

    # Back into a new table, with an index the original did not have.
    copy = unique()
    imp = client.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": f"{base}/data/"},
        InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
        TableCreationParameters={
            "TableName": copy,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"},
                                     {"AttributeName": "team", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [{"IndexName": "by-team",
                                        "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
                                        "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        })["ImportTableDescription"]
    d = wait_import(client, imp["ImportArn"])
    assert (d["ImportStatus"], d["ImportedItemCount"], d["ErrorCount"]) == ("COMPLETED", 40, 0), d
    scan = lambda t: sorted(json.dumps(i, sort_keys=True, default=str) for i in client.scan(TableName=t)["Items"])
    assert scan(copy) == scan(table.name)
    q = client.query(TableName=copy, IndexName="by-team", KeyConditionExpression="team = :t",
                     ExpressionAttributeValues={":t": {"S": "team0"}})
    assert q["Count"] == len([i for i in range(40) if i % 3 == 0])
    assert any(s["ImportArn"] == imp["ImportArn"] for s in client.list_imports()["ImportSummaryList"])
    client.delete_table(TableName=copy)
    table.delete()


def test_jobs_read_and_write_s3_as_their_caller(server, client, resource, tmp_path):
    """A caller allowed every DynamoDB action but no S3 one cannot import or export through the
    server's S3 store; the bucket's policy granting it the reads lets its import through."""
    own_server(server)
    s3 = server.s3()
    bucket = unique("src")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="items.json", Body=b'{"Item":{"pk":{"S":"a"}}}\n{"Item":{"pk":{"S":"b"}}}')
    policy = tmp_path / "ddb-only.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
    user = unique("ddbonly")
    out = json.loads(server.seedbed("iam", "user", "add", user, "--iam", str(server.iam),
                                    "--policy", str(policy), "--json"))
    mine = server.client(out["access_key"], out["secret_key"])
    params = lambda name: {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}

    denied = unique()
    imp = eventually(lambda: mine.import_table(S3BucketSource={"S3Bucket": bucket}, InputFormat="DYNAMODB_JSON",
                                               TableCreationParameters=params(denied)))["ImportTableDescription"]
    d = wait_import(mine, imp["ImportArn"])
    assert (d["ImportStatus"], d["FailureCode"]) == ("FAILED", "S3AccessDenied"), d
    assert denied not in client.list_tables()["TableNames"], "no table is made when the source cannot be read"

    table = create(resource)
    client.update_continuous_backups(TableName=table.name,
                                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    exp = mine.export_table_to_point_in_time(TableArn=table.table_arn, S3Bucket=bucket)["ExportDescription"]
    d = wait_export(mine, exp["ExportArn"])
    assert (d["ExportStatus"], d["FailureCode"]) == ("FAILED", "S3AccessDenied"), d

    # The bucket's owner grants the reads an import needs, to this user only.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{out['account']}:user/{user}"},
        "Action": ["s3:ListBucket", "s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))
    allowed = unique()
    imp = mine.import_table(S3BucketSource={"S3Bucket": bucket}, InputFormat="DYNAMODB_JSON",
                            TableCreationParameters=params(allowed))["ImportTableDescription"]
    d = wait_import(mine, imp["ImportArn"])
    assert (d["ImportStatus"], d["ImportedItemCount"]) == ("COMPLETED", 2), d
    assert sorted(i["pk"]["S"] for i in client.scan(TableName=allowed)["Items"]) == ["a", "b"]
    client.delete_table(TableName=allowed)
    table.delete()


def test_an_export_asked_for_sse_s3_is_encrypted(server, client, resource):
    """`S3SseAlgorithm: AES256` writes every file of the export with SSE-S3, as DynamoDB does:
    each reads back with `x-amz-server-side-encryption: AES256`."""
    own_server(server)
    s3 = server.s3()
    bucket = unique("sse-exports")
    s3.create_bucket(Bucket=bucket)
    table = create(resource)
    for i in range(5):
        client.put_item(TableName=table.name, Item={"pk": {"S": f"k{i}"}})
    arn = client.describe_table(TableName=table.name)["Table"]["TableArn"]
    client.update_continuous_backups(TableName=table.name,
                                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    started = client.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="enc",
                                                   S3SseAlgorithm="AES256")["ExportDescription"]
    done = wait_export(client, started["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["S3SseAlgorithm"] == "AES256"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="enc/")["Contents"]]
    assert len(keys) >= 6
    for k in keys:
        assert s3.head_object(Bucket=bucket, Key=k).get("ServerSideEncryption") == "AES256", k
