"""Server-side encryption through boto3, as users rely on it: an SSE-C object is readable only
with its key and never stored in clear; SSE-S3 asked per object or as a bucket's default;
multipart uploads and copies carry their keys; SSE-KMS under the built-in KMS's keys."""

import base64
import hashlib
import json
import os
import pathlib
import re

import pytest
from botocore.exceptions import ClientError

KEY = os.urandom(32)
OTHER = os.urandom(32)


def sse_c(key=KEY, prefix="SSECustomer"):
    return {
        prefix + "Algorithm": "AES256",
        prefix + "Key": base64.b64encode(key).decode(),
        prefix + "KeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }


def status(e):
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def stored_bytes(server):
    """Everything under the store's directory (shards, packs, metadata)."""
    out = bytearray()
    for p in pathlib.Path(server.store).rglob("*"):
        if p.is_file():
            out += p.read_bytes()
    return bytes(out)


def test_sse_c_objects_are_read_only_with_their_key(server, bucket):
    s3 = server.client()
    secret = b"the plaintext that no shard holds; " * 3000
    put = s3.put_object(Bucket=bucket, Key="c", Body=secret, **sse_c())
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == sse_c()["SSECustomerKeyMD5"]
    # Its ETag is not the data's MD5 (a listing shows it to callers without the key).
    assert put["ETag"] != '"%s"' % hashlib.md5(secret).hexdigest()
    got = s3.get_object(Bucket=bucket, Key="c", **sse_c())
    assert got["Body"].read() == secret
    assert got["SSECustomerKeyMD5"] == sse_c()["SSECustomerKeyMD5"]
    part = s3.get_object(Bucket=bucket, Key="c", Range="bytes=1000-1099", **sse_c())
    assert part["Body"].read() == secret[1000:1100]
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket, Key="c")
        assert status(e) == 400
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket, Key="c", **sse_c(OTHER))
        assert status(e) == 400
    assert s3.head_object(Bucket=bucket, Key="c", **sse_c())["ContentLength"] == len(secret)
    # A key on an object stored without one is refused too.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"in clear")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="plain", **sse_c())
    assert status(e) == 400
    disk = stored_bytes(server)
    assert b"the plaintext that no shard holds" not in disk
    assert b"in clear" in disk, "the scan reads what the store holds"


def test_sse_s3_per_object_and_as_the_bucket_default(server, bucket):
    s3 = server.client()
    body = b"sse-s3 " * 1000
    r = s3.put_object(Bucket=bucket, Key="one", Body=body, ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=bucket, Key="one")
    assert (got["Body"].read(), got["ServerSideEncryption"]) == (body, "AES256")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "ServerSideEncryptionConfigurationNotFoundError"
    assert e.value.response["Error"]["Message"].startswith(
        "The server side encryption configuration was not found")
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    r = s3.put_object(Bucket=bucket, Key="defaulted", Body=b"x" * 5000)
    assert r["ServerSideEncryption"] == "AES256"
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert up["ServerSideEncryption"] == "AES256"
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"])
    assert s3.head_object(Bucket=bucket, Key="defaulted")["ServerSideEncryption"] == "AES256"
    s3.delete_bucket_encryption(Bucket=bucket)
    r = s3.put_object(Bucket=bucket, Key="after", Body=b"y")
    assert "ServerSideEncryption" not in r
    # The master key is a file beside the store's layout, readable by its owner only.
    key_file = pathlib.Path(server.store) / "sse-s3.key"
    assert key_file.stat().st_size == 32 and key_file.stat().st_mode & 0o077 == 0


def test_sse_kms_seals_under_the_key_named_and_refuses_unknown_keys(fresh_server):
    server = fresh_server("--kms-key", "team-key")
    s3 = server.client()
    s3.create_bucket(Bucket="kms-bucket")
    secret = b"kms plaintext that must not reach the disk " * 10
    # No key named: the account's AWS managed key (aws/s3), by its ARN, as on S3.
    r = s3.put_object(Bucket="kms-bucket", Key="managed", Body=secret,
                      ServerSideEncryption="aws:kms")
    managed = r["SSEKMSKeyId"]
    assert r["ServerSideEncryption"] == "aws:kms"
    assert re.fullmatch(r"arn:aws:kms:us-east-1:\d{12}:key/[0-9a-f-]{36}", managed), managed
    got = s3.get_object(Bucket="kms-bucket", Key="managed")
    assert got["Body"].read() == secret and got["SSEKMSKeyId"] == managed
    assert s3.head_object(Bucket="kms-bucket", Key="managed")["ServerSideEncryption"] == "aws:kms"
    # A customer key the server was started with, by ID; the Bucket Key setting is echoed.
    r = s3.put_object(Bucket="kms-bucket", Key="team", Body=secret, ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="team-key", BucketKeyEnabled=True)
    assert r["SSEKMSKeyId"].endswith(":key/team-key") and r["BucketKeyEnabled"] is True
    assert s3.get_object(Bucket="kms-bucket", Key="team")["Body"].read() == secret
    assert secret not in stored_bytes(server)
    # A key the KMS does not have: 400 KMS.NotFoundException, and nothing stored.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="kms-bucket", Key="lost", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="no-such-key")
    assert (status(e), e.value.response["Error"]["Code"]) == (400, "KMS.NotFoundException")
    with pytest.raises(ClientError):
        s3.head_object(Bucket="kms-bucket", Key="lost")
    # The KMS headers need aws:kms; dual-layer SSE-KMS is refused, not ignored.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="kms-bucket", Key="k", Body=b"x", SSEKMSKeyId="team-key")
    assert status(e) == 400
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="kms-bucket", Key="k", Body=b"x", ServerSideEncryption="aws:kms:dsse")
    assert status(e) == 501
    # As the bucket's default: writes that ask for nothing get the configured key.
    s3.put_bucket_encryption(Bucket="kms-bucket", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": "team-key"},
        "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket="kms-bucket")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                         "KMSMasterKeyID": "team-key"}
    r = s3.put_object(Bucket="kms-bucket", Key="defaulted", Body=b"d")
    assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"].endswith(":key/team-key")
    # A copy re-encrypts as its own request says; multipart keeps the upload's key.
    r = s3.copy_object(Bucket="kms-bucket", Key="copy", CopySource={"Bucket": "kms-bucket",
                       "Key": "team"}, ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket="kms-bucket", Key="copy")["Body"].read() == secret
    up = s3.create_multipart_upload(Bucket="kms-bucket", Key="mp", ServerSideEncryption="aws:kms")
    assert up["SSEKMSKeyId"] == managed
    p = s3.upload_part(Bucket="kms-bucket", Key="mp", UploadId=up["UploadId"], PartNumber=1,
                       Body=b"part")
    assert p["SSEKMSKeyId"] == managed
    r = s3.complete_multipart_upload(Bucket="kms-bucket", Key="mp", UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                 "ETag": p["ETag"]}]})
    assert r["SSEKMSKeyId"] == managed
    assert s3.get_object(Bucket="kms-bucket", Key="mp")["Body"].read() == b"part"


def test_multipart_uploads_and_copies_carry_their_keys(server, bucket):
    s3 = server.client()
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **sse_c())["UploadId"]
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1024)]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=parts[0])
    assert status(e) == 400
    done = []
    for n, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=n, Body=data, **sse_c())
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    # A key sent with CompleteMultipartUpload must be the upload's; sending none is fine, as
    # at S3 (boto3's transfer manager completes without it).
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                     MultipartUpload={"Parts": done}, **sse_c(OTHER))
    assert status(e) == 400
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": done})
    whole = b"".join(parts)
    # An upload made with a checksum algorithm is completed only with its key, as S3 asks.
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="mp2", ChecksumAlgorithm="CRC32",
                                     **sse_c())["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="mp2", UploadId=up2, PartNumber=1, Body=b"tail",
                       ChecksumAlgorithm="CRC32", **sse_c())
    one = [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]}]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp2", UploadId=up2,
                                     MultipartUpload={"Parts": one})
    assert status(e) == 400
    s3.complete_multipart_upload(Bucket=bucket, Key="mp2", UploadId=up2,
                                 MultipartUpload={"Parts": one}, **sse_c())
    assert s3.get_object(Bucket=bucket, Key="mp2", **sse_c())["Body"].read() == b"tail"
    assert s3.get_object(Bucket=bucket, Key="mp", **sse_c())["Body"].read() == whole
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2, **sse_c())
    assert second["Body"].read() == parts[1]
    # Copy out of SSE-C needs the source's key; the copy here gets SSE-S3.
    with pytest.raises(ClientError):
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "mp"})
    r = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "mp"},
                       ServerSideEncryption="AES256", **sse_c(prefix="CopySourceSSECustomer"))
    assert r["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == whole


def test_a_bucket_policy_can_require_encryption(server, bucket):
    s3 = server.client()
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
        }],
    }))
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="clear", Body=b"x")
    assert status(e) == 403
    s3.put_object(Bucket=bucket, Key="sealed", Body=b"x", ServerSideEncryption="AES256")


def test_a_bucket_policy_can_pin_the_kms_key_and_the_storage_class(fresh_server):
    """The condition keys S3 gives a PUT for its KMS key and its storage class, as sent."""
    server = fresh_server("--kms-key", "team-key")
    s3 = server.client()
    s3.create_bucket(Bucket="pinned")
    team = s3.put_object(Bucket="pinned", Key="probe", Body=b"x", ServerSideEncryption="aws:kms",
                         SSEKMSKeyId="team-key")["SSEKMSKeyId"]
    s3.put_bucket_policy(Bucket="pinned", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::pinned/*",
            "Condition": {"StringNotEqualsIfExists": {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": team}},
        }, {
            "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::pinned/*",
            "Condition": {"StringEquals": {"s3:x-amz-storage-class": "GLACIER"}},
        }],
    }))
    s3.put_object(Bucket="pinned", Key="ok", Body=b"x", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=team)
    for denied in [dict(ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/aws/s3"),
                   dict(ServerSideEncryption="aws:kms", SSEKMSKeyId=team, StorageClass="GLACIER")]:
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="pinned", Key="no", Body=b"x", **denied)
        assert status(e) == 403, denied
    # IfExists: a write that names no key is denied too.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="pinned", Key="no", Body=b"x")
    assert status(e) == 403
    s3.put_object(Bucket="pinned", Key="ia", Body=b"x", StorageClass="STANDARD_IA",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=team)


def test_a_bucket_can_block_sse_c_for_new_writes(server, bucket):
    """PutBucketEncryption's BlockedEncryptionTypes (S3, 2025): SSE-C blocked refuses new SSE-C
    writes with 403 AccessDenied (PUT, copy, multipart), leaves objects already stored so
    readable with their key, and shows in GetBucketEncryption; NONE allows SSE-C again."""
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="before", Body=b"kept", **sse_c())

    def configure(*blocked):
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        if blocked:
            rule["BlockedEncryptionTypes"] = {"EncryptionType": list(blocked)}
        s3.put_bucket_encryption(Bucket=bucket,
                                 ServerSideEncryptionConfiguration={"Rules": [rule]})

    def shown():
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        return rule.get("BlockedEncryptionTypes", {}).get("EncryptionType")

    configure("SSE-C")
    assert shown() == ["SSE-C"]
    for write in (
        lambda: s3.put_object(Bucket=bucket, Key="new", Body=b"x", **sse_c()),
        lambda: s3.copy_object(Bucket=bucket, Key="new", CopySource={"Bucket": bucket, "Key": "before"},
                               **sse_c(), **sse_c(prefix="CopySourceSSECustomer")),
        lambda: s3.create_multipart_upload(Bucket=bucket, Key="new", **sse_c()),
    ):
        with pytest.raises(ClientError) as e:
            write()
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        assert "SSE-C" in e.value.response["Error"]["Message"]
    assert s3.get_object(Bucket=bucket, Key="before", **sse_c())["Body"].read() == b"kept"
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p")  # SSE-S3 by the bucket's default
    assert s3.head_object(Bucket=bucket, Key="plain")["ServerSideEncryption"] == "AES256"
    # A rule without the element leaves the block as it is; NONE lifts it.
    configure()
    assert shown() == ["SSE-C"]
    configure("NONE")
    assert shown() is None
    s3.put_object(Bucket=bucket, Key="new", Body=b"x", **sse_c())
    with pytest.raises(ClientError) as e:
        configure("SSE-KMS-ish")
    assert e.value.response["Error"]["Code"] == "MalformedXML"
    # Deleting the configuration lifts the block with it.
    configure("SSE-C")
    s3.delete_bucket_encryption(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="new", Body=b"y", **sse_c())
