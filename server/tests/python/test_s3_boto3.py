"""`seedbed serve` driven by a real S3 client (boto3), as users drive it: what they rely on,
not what the code happens to do. Each test names the S3 behaviour it checks."""

import base64
import email.utils
import hashlib
import hmac
import json
import os
import re
import socket
import sys
import time
import urllib.request

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def code(e):
    return e.value.response["Error"]["Code"]


def signed(server, method, path, body=b"", headers=None, query=""):
    """A request signed with SigV4 by botocore, sent with requests (for bodies boto3 would not
    send: malformed XML, and the like)."""
    url = server.endpoint + path + (("?" + query) if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    req.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(req)
    return requests.request(method, url, data=body, headers=dict(req.headers), timeout=30)


def test_objects_round_trip_with_metadata_and_awkward_keys(server, bucket):
    s3 = server.client()
    keys = ["plain.txt", "dir/../escape", "ünïcødé/✓ key", "a+b=c&d", "trailing/"]
    for k in keys:
        body = ("content of " + k).encode()
        r = s3.put_object(Bucket=bucket, Key=k, Body=body, ContentType="text/plain",
                          Metadata={"colour": "blue"}, CacheControl="max-age=60")
        assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
        g = s3.get_object(Bucket=bucket, Key=k)
        assert g["Body"].read() == body
        assert g["ContentType"] == "text/plain"
        assert g["Metadata"] == {"colour": "blue"}
        assert g["CacheControl"] == "max-age=60"
    # `../` is part of a key, never a path: the listing shows exactly what was written.
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(keys)
    for k in keys:
        s3.delete_object(Bucket=bucket, Key=k)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_default_crc32_trailer_is_checked_and_stored(server, bucket):
    s3 = server.client()
    body = os.urandom(300_000)
    # boto3 >= 1.36 sends a CRC32 trailer (aws-chunked) by default.
    r = s3.put_object(Bucket=bucket, Key="c", Body=body)
    assert "ChecksumCRC32" in r
    h = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == r["ChecksumCRC32"]
    # A checksum that does not match the bytes: refused, nothing written.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumSHA256="A" * 43 + "=")
    assert code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_content_md5_mismatch_is_bad_digest_and_writes_nothing(server, bucket):
    r = signed(server, "PUT", f"/{bucket}/md5", body=b"hello",
               headers={"Content-MD5": "XrY7u+Ae7tCTyyK7j1rNww=="})  # MD5 of "hello world"
    assert r.status_code == 400 and b"<Code>BadDigest</Code>" in r.content
    with pytest.raises(ClientError):
        server.client().head_object(Bucket=bucket, Key="md5")


def test_multipart_parts_ranges_and_part_reads(server, bucket):
    s3 = server.client()
    up = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts, data = [], b""
    for n, size in enumerate([5 * MIB, 5 * MIB, 123], start=1):
        chunk = bytes([n]) * size
        data += chunk
        e = s3.upload_part(Bucket=bucket, Key="big", UploadId=up, PartNumber=n, Body=chunk)["ETag"]
        parts.append({"PartNumber": n, "ETag": e})
    assert len(s3.list_parts(Bucket=bucket, Key="big", UploadId=up)["Parts"]) == 3
    r = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up,
                                     MultipartUpload={"Parts": parts})
    assert r["ETag"].endswith('-3"')
    got = s3.get_object(Bucket=bucket, Key="big", Range="bytes=5242870-5242890")
    assert got["Body"].read() == data[5242870:5242891]
    assert got["ContentRange"] == "bytes 5242870-5242890/%d" % len(data)
    p2 = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert p2["PartsCount"] == 3 and p2["Body"].read() == bytes([2]) * (5 * MIB)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="big", Range="bytes=%d-" % len(data))
    assert code(e) == "InvalidRange"
    # An upload left unfinished does not keep a bucket from being deleted.
    s3.create_multipart_upload(Bucket=bucket, Key="abandoned")
    s3.delete_object(Bucket=bucket, Key="big")
    s3.delete_bucket(Bucket=bucket)


def test_versions_delete_markers_and_conditions(server, bucket):
    s3 = server.client()
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert code(e) == "NoSuchKey"
    old = s3.get_object(Bucket=bucket, Key="k", VersionId=v1["VersionId"])
    assert old["Body"].read() == b"one"
    vs = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in vs["Versions"]] == [v2["VersionId"], v1["VersionId"]]
    assert len(vs["DeleteMarkers"]) == 1 and vs["DeleteMarkers"][0]["IsLatest"]
    # Conditional GET and PUT.
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"x")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    # S3 words every failed precondition alike and names the header in <Condition>.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert code(e) == "PreconditionFailed"
    assert e.value.response["Error"]["Message"] == "At least one of the pre-conditions you specified did not hold"
    assert e.value.response["Error"]["Condition"] == "If-Match"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"y", IfNoneMatch="*")
    assert code(e) == "PreconditionFailed"
    assert e.value.response["Error"]["Condition"] == "If-None-Match"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "c"},
                       CopySourceIfMatch='"0000"')
    assert e.value.response["Error"]["Condition"] == "x-amz-copy-source-If-Match"
    # Errors that carry elements or headers of their own (<Condition>, <Key>, a delete
    # marker's x-amz-delete-marker) still say they are XML: clients such as minio-py read an
    # error document only when its Content-Type says so.
    for method, path, headers, status in (
        ("PUT", f"/{bucket}/c3", {"x-amz-copy-source": f"/{bucket}/c",
                                  "x-amz-copy-source-if-match": '"0000"'}, 412),
        ("GET", f"/{bucket}/c", {"If-Match": '"0000"'}, 412),
        ("GET", f"/{bucket}/nothing-here", {}, 404),
        ("GET", f"/{bucket}/k", {}, 404),
    ):
        r = signed(server, method, path, headers=headers)
        assert r.status_code == status, (path, r.text)
        assert r.headers.get("Content-Type") == "application/xml", (path, r.headers)
        assert r.text.startswith("<?xml") and "<Error>" in r.text, r.text


def test_anonymous_access_is_decided_by_the_bucket_policy(server, bucket):
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="pub/a", Body=b"public")
    s3.put_object(Bucket=bucket, Key="priv/a", Body=b"private")
    url = f"{server.endpoint}/{bucket}/pub/a"
    assert requests.get(url, timeout=10).status_code == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/pub/*"}]}))
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == b"public"
    assert requests.get(f"{server.endpoint}/{bucket}/priv/a", timeout=10).status_code == 403
    # Presigned URLs: a valid one reads, an expired one does not.
    ok = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "priv/a"}, ExpiresIn=60)
    assert requests.get(ok, timeout=10).content == b"private"
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "priv/a"}, ExpiresIn=-60)
    assert requests.get(expired, timeout=10).status_code == 403


def test_notification_configuration_reads_empty_and_minio_versioning_is_refused(server, bucket):
    """No bucket here has event notifications: reading the configuration answers S3's empty
    one (minio-py and the aws cli read it); putting one is not served. MinIO's versioning
    extensions (ExcludeFolders, ExcludedPrefixes) are refused rather than silently dropped."""
    s3 = server.client()
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert not {"TopicConfigurations", "QueueConfigurations",
                "LambdaFunctionConfigurations", "EventBridgeConfiguration"} & set(got)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_notification_configuration(Bucket=bucket + "-missing")
    assert code(e) == "NoSuchBucket"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert code(e) == "NotImplemented"
    minio = ('<VersioningConfiguration><Status>Enabled</Status>'
             '<ExcludedPrefixes><Prefix>tmp/</Prefix></ExcludedPrefixes></VersioningConfiguration>')
    r = signed(server, "PUT", f"/{bucket}", body=minio.encode(), query="versioning")
    assert r.status_code == 501 and "<Code>NotImplemented</Code>" in r.text, r.text
    assert "ExcludedPrefixes" in r.text
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)  # nothing was changed
    plain = minio.replace("<ExcludedPrefixes><Prefix>tmp/</Prefix></ExcludedPrefixes>",
                          "<ExcludeFolders>false</ExcludeFolders>")
    r = signed(server, "PUT", f"/{bucket}", body=plain.encode(), query="versioning")
    assert r.status_code == 200, r.text
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_a_long_term_key_with_a_session_token_is_refused(server, bucket):
    """S3 refuses a session token sent with a long-term key rather than ignore it (botocore's
    integration test_bad_request_on_invalid_credentials); the same key without one works."""
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    stale = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
        aws_session_token="bad-token-causes-400",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        stale.head_object(Bucket=bucket, Key="k")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        stale.get_object(Bucket=bucket, Key="k")
    assert code(e) == "InvalidToken"
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 1


def test_a_new_user_gets_only_what_its_policy_allows(server, bucket, tmp_path):
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="shared/x", Body=b"x")
    policy = tmp_path / "reader.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/shared/*"}]}))
    out = json.loads(server.seedbed("iam", "user", "add", f"reader{os.getpid()}", "--iam",
                                    str(server.iam), "--policy", str(policy), "--json"))
    reader = server.client(out["access_key"], out["secret_key"])
    deadline = time.time() + 10  # the server reloads the IAM file within a second
    while True:
        try:
            assert reader.get_object(Bucket=bucket, Key="shared/x")["Body"].read() == b"x"
            break
        except ClientError as e:
            if time.time() > deadline or e.response["Error"]["Code"] != "InvalidAccessKeyId":
                raise
            time.sleep(0.3)
    with pytest.raises(ClientError) as e:
        reader.list_objects_v2(Bucket=bucket)
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        reader.put_object(Bucket=bucket, Key="shared/y", Body=b"y")
    assert code(e) == "AccessDenied"
    bad = server.client(out["access_key"], "not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.get_object(Bucket=bucket, Key="shared/x")
    assert code(e) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        server.client("AKIANOSUCHKEY0000000", "x").list_buckets()
    assert code(e) == "InvalidAccessKeyId"


def test_ranges_and_part_numbers_answer_206_on_get_and_head(server, bucket):
    """A range or a part number is a partial answer, for HEAD as for GET, even part 1 of an
    object uploaded in one piece (S3 answers 206 with the whole object's Content-Range)."""
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="single", Body=b"0123456789")
    for call in (s3.get_object, s3.head_object):
        whole = call(Bucket=bucket, Key="single")
        assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert "content-range" not in whole["ResponseMetadata"]["HTTPHeaders"]
        r = call(Bucket=bucket, Key="single", Range="bytes=2-4")
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert (r["ContentRange"], r["ContentLength"]) == ("bytes 2-4/10", 3)
        p = call(Bucket=bucket, Key="single", PartNumber=1)
        assert p["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert (p["ContentRange"], p["ContentLength"]) == ("bytes 0-9/10", 10)
    assert s3.get_object(Bucket=bucket, Key="single", PartNumber=1)["Body"].read() == b"0123456789"


def test_headers_s3_reads_leniently_are_read_so_here(server, bucket):
    """Signed headers S3 forgives and the protocol library would refuse with 400 (the server
    mends them under a signature it checks and signs again, server/src/s3/lenient.rs): a
    reversed or listed Range is ignored, ETags with stray or missing quotes are compared, an
    If-Modified-Since in RFC 850 or asctime form is read and one that is no date is ignored, and
    an Expires that is no date is kept as given, as S3 keeps it."""
    s3 = server.client()
    etag = s3.put_object(Bucket=bucket, Key="f", Body=b"0123456789")["ETag"]
    for rng in ("bytes=1-0", "bytes=0-1,4-5"):
        for call in (s3.get_object, s3.head_object):
            r = call(Bucket=bucket, Key="f", Range=rng)
            assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, rng
            assert "content-range" not in r["ResponseMetadata"]["HTTPHeaders"]
            assert r["ContentLength"] == 10
    # One quote missing: still this object's ETag, so the write goes ahead.
    etag2 = s3.put_object(Bucket=bucket, Key="f", Body=b"abc", IfMatch=etag[1:])["ETag"]
    assert s3.get_object(Bucket=bucket, Key="f", IfMatch=etag2[:-1])["Body"].read() == b"abc"
    # Not an ETag at all: matches nothing.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="f", Body=b"x", IfMatch="unknown etag")
    assert code(e) == "PreconditionFailed" and e.value.response["Error"]["Condition"] == "If-Match"
    s3.copy_object(Bucket=bucket, Key="g", CopySource={"Bucket": bucket, "Key": "f"},
                   CopySourceIfNoneMatch="unknown etag")
    assert s3.get_object(Bucket=bucket, Key="g")["Body"].read() == b"abc"
    # Dates: an RFC 850 date long past is read (the object is newer: 200); a bad one ignored.
    # (boto3 sends its dates in the usual form, so these go out signed by hand.)
    for since in ("Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "not a date"):
        r = signed(server, "GET", f"/{bucket}/f", headers={"If-Modified-Since": since})
        assert r.status_code == 200 and r.content == b"abc", (since, r.text)
    r = signed(server, "GET", f"/{bucket}/f", headers={"If-Unmodified-Since": "Sunday, 06-Nov-94 08:49:37 GMT"})
    assert r.status_code == 412, r.text
    r = signed(server, "GET", f"/{bucket}/f", headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
    assert r.status_code == 304, r.text
    # Expires is kept as the client gave it, date or not, and sent back so (boto3 shows a value
    # that is no date as ExpiresString, with Expires left out).
    for given in ("5d", "Thursday, 01-Dec-94 16:00:00 GMT", "Thu, 01 Dec 1994 16:00:00 GMT"):
        r = signed(server, "PUT", f"/{bucket}/exp", body=b"e", headers={"Expires": given})
        assert r.status_code == 200, (given, r.text)
        for call in (s3.head_object, s3.get_object):
            got = call(Bucket=bucket, Key="exp")
            assert got["ExpiresString"] == given, (given, got)
    s3.create_multipart_upload(Bucket=bucket, Key="exp-mp")  # boto3 sends a date; still typed
    r = signed(server, "POST", f"/{bucket}/exp-mp", headers={"Expires": "0"}, query="uploads")
    assert r.status_code == 200, r.text
    upload = re.search(r"<UploadId>([^<]+)</UploadId>", r.text).group(1)
    part = s3.upload_part(Bucket=bucket, Key="exp-mp", UploadId=upload, PartNumber=1, Body=b"m")
    s3.complete_multipart_upload(Bucket=bucket, Key="exp-mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=bucket, Key="exp-mp")["ExpiresString"] == "0"
    # A forged signature over such a header is still refused, not mended.
    r = signed(server, "GET", f"/{bucket}/f", headers={"Range": "bytes=1-0"})
    assert r.status_code == 200 and r.content == b"abc"
    req = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}/f", headers={"Range": "bytes=1-0"})
    req.headers["x-amz-content-sha256"] = hashlib.sha256(b"").hexdigest()
    SigV4Auth(Credentials(server.access_key, "wrong-secret"), "s3", "us-east-1").add_auth(req)
    r = requests.get(req.url, headers=dict(req.headers), timeout=30)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text


def test_a_content_disposition_in_utf8_is_kept_as_given(server, bucket):
    """botocore sends a Python string header as UTF-8; S3 stores it and sends it back as given
    (botocore's integration test_can_set_utf_8_headers). s3s reads ASCII headers only, so the
    server carries this one past it, the request signed again."""
    s3 = server.client()
    given = "attachment; filename=5小時接力起跑.jpg;"
    s3.put_object(Bucket=bucket, Key="u", Body=b"hello", ContentDisposition=given)
    for call in (s3.get_object, s3.head_object):
        raw = call(Bucket=bucket, Key="u")["ResponseMetadata"]["HTTPHeaders"]["content-disposition"]
        # http.client decodes header bytes as Latin-1: the UTF-8 bytes are the same.
        assert raw.encode("latin-1").decode("utf-8") == given
    up = s3.create_multipart_upload(Bucket=bucket, Key="mu", ContentDisposition=given)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mu", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mu", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    raw = s3.head_object(Bucket=bucket, Key="mu")["ResponseMetadata"]["HTTPHeaders"]["content-disposition"]
    assert raw.encode("latin-1").decode("utf-8") == given
    # A signature that does not hold is still refused, header or not.
    bad = server.client(server.access_key, "not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket=bucket, Key="u2", Body=b"x", ContentDisposition=given)
    assert code(e) == "SignatureDoesNotMatch"


def test_sigv2_clients_work_and_their_time_is_checked(server, bucket):
    """Signature Version 2 (boto3's "s3" signer; aws cli 1.x and older tools sign so): objects
    go in, come back and are listed. Its time is checked as S3 checks it, before the signature
    (server/src/s3/request_time.rs): a request signed correctly but 20 minutes ago — a replay —
    is 403 RequestTimeTooSkewed, naming both times; one without a time S3 can read is 403
    AccessDenied; x-amz-date, when present, is the time read."""
    v2 = server.client(signature_version="s3")
    # Bucket requests too: botocore signs their resource as `/bucket/` (s3/sigv2.rs).
    mine = bucket + "-v2"
    v2.create_bucket(Bucket=mine)
    v2.put_bucket_versioning(Bucket=mine, VersioningConfiguration={"Status": "Enabled"})
    assert v2.get_bucket_versioning(Bucket=mine)["Status"] == "Enabled"
    v2.put_object(Bucket=mine, Key="v2/a b", Body=b"two", Metadata={"k": "v"})
    got = v2.get_object(Bucket=mine, Key="v2/a b")
    assert got["Body"].read() == b"two" and got["Metadata"] == {"k": "v"}
    assert [o["Key"] for o in v2.list_objects_v2(Bucket=mine, Prefix="v2/")["Contents"]] == ["v2/a b"]
    assert [o["Key"] for o in v2.list_objects(Bucket=mine)["Contents"]] == ["v2/a b"]
    assert v2.get_bucket_acl(Bucket=mine)["Grants"]
    v2.delete_objects(Bucket=mine, Delete={"Objects": [{"Key": "v2/a b"}]})
    for v in v2.list_object_versions(Bucket=mine).get("Versions", []) + \
            v2.list_object_versions(Bucket=mine).get("DeleteMarkers", []):
        v2.delete_object(Bucket=mine, Key=v["Key"], VersionId=v["VersionId"])
    v2.delete_bucket(Bucket=mine)
    assert mine not in [b["Name"] for b in v2.list_buckets()["Buckets"]]
    v2.put_object(Bucket=bucket, Key="k", Body=b"kept")
    # A bucket in a region S3 opened after 2014 takes SigV4 only, as S3 answers SigV2 there.
    s3 = server.client()
    for region, v2_ok in (("eu-central-1", False), ("eu-west-1", True)):
        b = f"{bucket}-{region}"
        s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": region})
        if v2_ok:
            assert v2.list_objects(Bucket=b).get("Contents") is None
        else:
            with pytest.raises(ClientError) as e:
                v2.list_objects(Bucket=b)
            assert code(e) == "InvalidRequest"
            assert "Please use AWS4-HMAC-SHA256" in e.value.response["Error"]["Message"]
        assert s3.list_objects(Bucket=b).get("Contents") is None  # SigV4 is served everywhere
        s3.delete_bucket(Bucket=b)

    def v2_get(date=None, amz_date=None, secret=None):
        """GET /bucket/k signed by hand as SigV2 documents it (HMAC-SHA1 over the method, the
        Content-MD5, Content-Type and Date lines, the x-amz- headers and the resource; the Date
        line empty when x-amz-date is sent)."""
        headers, amz = {}, ""
        if date is not None:
            headers["Date"] = date
        if amz_date is not None:
            headers["x-amz-date"] = amz_date
            amz = f"x-amz-date:{amz_date}\n"
        sts = f"GET\n\n\n{'' if amz_date is not None else (date or '')}\n{amz}/{bucket}/k"
        key = (secret or server.secret_key).encode()
        sig = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha1).digest()).decode()
        headers["Authorization"] = f"AWS {server.access_key}:{sig}"
        return requests.get(f"{server.endpoint}/{bucket}/k", headers=headers, timeout=30)

    def http_date(offset):
        return email.utils.formatdate(time.time() + offset, usegmt=True)

    r = v2_get(date=http_date(0))
    assert r.status_code == 200 and r.content == b"kept", r.text
    for offset in (-1200, 1200):
        r = v2_get(date=http_date(offset))
        assert r.status_code == 403 and "<Code>RequestTimeTooSkewed</Code>" in r.text, r.text
        assert f"<RequestTime>{http_date(offset)[:16]}" in r.text and "<ServerTime>" in r.text
    for date, amz_date in ((None, None), ("Bad Date", None), (None, "Bad Date"), (None, "")):
        r = v2_get(date=date, amz_date=amz_date)
        assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, (date, amz_date, r.text)
    # x-amz-date wins: a stale Date beside a current x-amz-date is fine, and the reverse is not.
    r = v2_get(date=http_date(-1200), amz_date=http_date(0))
    assert r.status_code == 200 and r.content == b"kept", r.text
    r = v2_get(date=http_date(0), amz_date=http_date(-1200))
    assert r.status_code == 403 and "RequestTimeTooSkewed" in r.text, r.text
    # On time is not enough: the signature is still checked.
    r = v2_get(date=http_date(0), secret="wrong-secret")
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text, r.text


def test_sts_at_the_s3_listener(server, bucket, tmp_path):
    """A client given one endpoint for every service (AWS_ENDPOINT_URL) reaches STS at the S3
    listener: GetCallerIdentity, and AssumeRole minting a session whose keys work at once, as
    far as the role allows, and only with their session token."""
    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                       aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key)
    me = sts.get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{me['Account']}:user/admin"
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="r/q1.csv", Body=b"eu,42")
    role = f"Reader{os.getpid()}{int(time.time()) % 100000}"
    trust, reader = tmp_path / "trust.json", tmp_path / "reader.json"
    trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": me["Arn"]}, "Action": "sts:AssumeRole"}]}))
    reader.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/r/*"}]}))
    server.seedbed("iam", "role", "add", role, "--iam", str(server.iam), "--account", me["Account"],
                   "--trust", str(trust), "--policy", str(reader))
    deadline = time.time() + 10
    while True:  # the server rereads the IAM file within a second
        try:
            r = sts.assume_role(RoleArn=f"arn:aws:iam::{me['Account']}:role/{role}", RoleSessionName="s3-side")
            break
        except ClientError as e:
            if time.time() > deadline or "no such role" not in str(e):
                raise
            time.sleep(0.2)
    c = r["Credentials"]
    assert r["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{me['Account']}:assumed-role/{role}/s3-side"
    as_role = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                           aws_session_token=c["SessionToken"],
                           config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    assert as_role.get_object(Bucket=bucket, Key="r/q1.csv")["Body"].read() == b"eu,42"
    with pytest.raises(ClientError) as e:
        as_role.put_object(Bucket=bucket, Key="r/q2.csv", Body=b"x")
    assert code(e) == "AccessDenied"
    no_token = server.client(c["AccessKeyId"], c["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        no_token.get_object(Bucket=bucket, Key="r/q1.csv")
    assert code(e) == "InvalidToken"
    # A form POST to / naming no STS action is refused in STS's words, not S3's.
    r = signed(server, "POST", "/", body=b"Version=2011-06-15",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "<Code>MissingAction</Code>" in r.text, r.text


def test_browser_form_uploads_follow_their_signed_policy(server, bucket):
    """POST Object, as web pages upload with a form boto3's generate_presigned_post signed
    (a SigV2 or SigV4 policy, as boto3 chooses): the upload lands under the key with ${filename} filled in; a form its
    policy does not allow is 403 AccessDenied "Invalid according to Policy", as S3 answers, and
    one with a policy but no signature 400; the acl and tagging fields apply; a redirect carries
    the quoted ETag."""
    s3 = server.client()
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"Content-Type": "text/plain"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"},
                    ["content-length-range", 1, 1024]], ExpiresIn=600)
    fields = post["fields"]
    assert fields["key"] == "uploads/${filename}"
    # The key takes the uploaded file's name, as S3 fills in ${filename}.
    r = requests.post(post["url"], data=fields, files={"file": ("note.txt", b"hello form")}, timeout=30)
    assert r.status_code == 204, r.text
    got = s3.get_object(Bucket=bucket, Key="uploads/note.txt")
    assert got["Body"].read() == b"hello form" and got["ContentType"] == "text/plain"
    log = (server.workdir / "serve.log").read_text()
    assert f"operation=PostObject bucket={bucket} key=uploads/note.txt status=204" in log
    # Outside the policy: another key prefix, a body too large.
    for bad_fields, body in (({"key": "elsewhere.txt"}, b"x"), ({}, b"x" * 2000)):
        r = requests.post(post["url"], data=dict(fields, **bad_fields),
                          files={"file": ("f", body)}, timeout=30)
        assert r.status_code in (400, 403), r.text
        if bad_fields:
            assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, r.text
            assert "Invalid according to Policy" in r.text
    unsigned = {k: v for k, v in fields.items() if k.lower() not in ("signature", "x-amz-signature")}
    r = requests.post(post["url"], data=unsigned, files={"file": ("u.txt", b"x")}, timeout=30)
    assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text, r.text
    for never in ("elsewhere.txt", "uploads/u.txt"):
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=never)
    # The acl and tagging fields, under S3's names (tagging as a Tagging document).
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>web &amp; co</Value></Tag></TagSet></Tagging>"
    post = s3.generate_presigned_post(bucket, "t.txt", Fields={"acl": "public-read", "tagging": tagging},
                                      Conditions=[{"acl": "public-read"}, {"tagging": tagging}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("t.txt", b"t")}, timeout=30)
    assert r.status_code == 204, r.text
    assert s3.get_object_tagging(Bucket=bucket, Key="t.txt")["TagSet"] == [{"Key": "team", "Value": "web & co"}]
    grants = s3.get_object_acl(Bucket=bucket, Key="t.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/AllUsers") and g["Permission"] == "READ" for g in grants), grants
    # success_action_redirect: 303 to the page, with bucket, key and the quoted ETag.
    page = "http://127.0.0.1:9/done"
    post = s3.generate_presigned_post(bucket, "r.txt", Fields={"success_action_redirect": page},
                                      Conditions=[{"success_action_redirect": page}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("r.txt", b"r")},
                      allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    etag = s3.head_object(Bucket=bucket, Key="r.txt")["ETag"].strip('"')
    assert r.headers["location"] == f"{page}?bucket={bucket}&key=r.txt&etag=%22{etag}%22"


def test_a_part_number_past_the_parts_is_refused(server, bucket):
    """HEAD with a part number the object does not have answers 416, as S3 does (a HEAD has no
    body, so the status is all a client sees); GET answers 400 InvalidPart, as ceph/s3-tests
    expects of it (docs/s3-compatibility.md)."""
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="single", Body=b"0123456789")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="single", PartNumber=2)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert "Range Not Satisfiable" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="single", PartNumber=2)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert code(e) == "InvalidPart"


def test_bucket_tags_are_kept_checked_and_removed(server, bucket):
    """Put/Get/DeleteBucketTagging as S3 answers them (what tools such as Terraform rely on)."""
    s3 = server.client()
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(e) == "NoSuchTagSet"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert e.value.response["Error"]["BucketName"] == bucket
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket + "-none")
    assert code(e) == "NoSuchBucket" and e.value.response["Error"]["BucketName"] == bucket + "-none"
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "cost-centre", "Value": ""}]
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    for bad in ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}], [{"Key": "aws:x", "Value": "1"}]):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": bad})
        assert code(e) == "InvalidTag"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags, "a refused set changes nothing"
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(e) == "NoSuchTagSet"


def test_object_tags_ride_writes_and_copies_and_are_kept_per_version(server, bucket):
    """Object tagging as S3 answers it (lifecycle rules, IAM conditions and cost tools read
    tags): with the PUT (x-amz-tagging), through a copy, per version, refused by S3's rules."""
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="team=storage&empty")
    got = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert got == [{"Key": "empty", "Value": ""}, {"Key": "team", "Value": "storage"}]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    head = s3.head_object(Bucket=bucket, Key="t")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    # A copy keeps them, unless it says REPLACE.
    s3.copy_object(Bucket=bucket, Key="kept", CopySource={"Bucket": bucket, "Key": "t"})
    assert len(s3.get_object_tagging(Bucket=bucket, Key="kept")["TagSet"]) == 2
    s3.copy_object(Bucket=bucket, Key="new", CopySource={"Bucket": bucket, "Key": "t"},
                   TaggingDirective="REPLACE", Tagging="a=1")
    assert s3.get_object_tagging(Bucket=bucket, Key="new")["TagSet"] == [{"Key": "a", "Value": "1"}]
    # Replace and remove; the data and its ETag stay.
    etag = head["ETag"]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})
    assert s3.head_object(Bucket=bucket, Key="t")["ETag"] == etag
    r = s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="t")
    # S3's rules, in S3's words.
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={
            "TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert code(e) == "BadRequest"
    assert e.value.response["Error"]["Message"] == "Object tags cannot be greater than 10"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="t2", Body=b"x", Tagging="aws:foo=bar")
    assert code(e) == "InvalidTag"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="t2")
    assert code(e) == "NoSuchKey", "a refused PUT wrote nothing"
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging={"TagSet": []})
    assert code(e) == "NoSuchKey" and e.value.response["Error"]["Key"] == "missing"


def test_conditional_delete_and_delete_marker_headers(server, bucket):
    """DELETE with If-Match (S3's conditional delete), and what a HEAD of a deleted key tells."""
    s3 = server.client()
    etag = s3.put_object(Bucket=bucket, Key="d", Body=b"test")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="d", IfMatch='"0000"')
    assert code(e) == "PreconditionFailed" and e.value.response["Error"]["Condition"] == "If-Match"
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"test", "not deleted"
    s3.delete_object(Bucket=bucket, Key="d", IfMatch=etag)
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="d", IfMatch=etag)
    assert code(e) == "NoSuchKey"
    # A versioned key whose latest version is a delete marker: HEAD says so, with its id.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="m", Body=b"1")
    marker = s3.delete_object(Bucket=bucket, Key="m")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="m")
    h = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert h["x-amz-delete-marker"] == "true" and h["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="m", VersionId=marker, Tagging={"TagSet": []})
    err = e.value.response["Error"]
    assert (err["Code"], err["Method"], err["ResourceType"]) == ("MethodNotAllowed", "PUT", "DeleteMarker")


def test_buckets_are_created_where_s3_puts_them(server):
    """CreateBucket by S3's rules for the region a request is sent (signed) to: a regional
    endpoint only creates buckets in its own region; us-east-1's creates them where the
    LocationConstraint says, and GetBucketLocation tells it."""
    import uuid

    def client(region):
        return boto3.client("s3", endpoint_url=server.endpoint, region_name=region,
                            aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    west, east = client("us-west-2"), client("us-east-1")
    name = f"loc-{uuid.uuid4().hex[:12]}"
    for kwargs, words in [({}, "unspecified"), ({"CreateBucketConfiguration": {"LocationConstraint": "eu-central-1"}}, "eu-central-1")]:
        with pytest.raises(ClientError) as e:
            west.create_bucket(Bucket=name, **kwargs)
        assert code(e) == "IllegalLocationConstraintException"
        assert e.value.response["Error"]["Message"] == (
            f"The {words} location constraint is incompatible for the region specific endpoint this request was sent to.")
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert east.get_bucket_location(Bucket=name)["LocationConstraint"] == "us-west-2"
    assert east.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-west-2"
    other = name + "-eu"
    east.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert east.get_bucket_location(Bucket=other)["LocationConstraint"] == "eu-central-1"
    with pytest.raises(ClientError) as e:
        east.create_bucket(Bucket=name + "-x", CreateBucketConfiguration={"LocationConstraint": "moon-base"})
    assert code(e) == "InvalidLocationConstraint"
    for b in (name, other):
        east.delete_bucket(Bucket=b)


def test_object_lock_keeps_versions_until_their_date(server):
    """Object Lock (WORM): a bucket created with it keeps each version under its retention —
    a versioned DELETE is refused, a plain DELETE only writes a marker, a legal hold stops even
    a governance bypass — and GET/HEAD tell the lock."""
    import datetime
    import uuid
    s3 = server.client()
    name = f"worm-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]["Rule"] == {
        "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    v = s3.put_object(Bucket=name, Key="ledger", Body=b"entry", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    head = s3.head_object(Bucket=name, Key="ledger")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] > until - datetime.timedelta(seconds=1)
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=name, Key="ledger", VersionId=v, BypassGovernanceRetention=True)
    assert code(e) == "AccessDenied"
    assert e.value.response["Error"]["Message"] == "Access Denied because object protected by object lock."
    marker = s3.delete_object(Bucket=name, Key="ledger")
    assert marker["DeleteMarker"]
    assert s3.get_object(Bucket=name, Key="ledger", VersionId=v)["Body"].read() == b"entry"
    # The default rule (GOVERNANCE): bypassed by an administrator who asks; a legal hold is not.
    g = s3.put_object(Bucket=name, Key="draft", Body=b"x")["VersionId"]
    assert s3.get_object_retention(Bucket=name, Key="draft", VersionId=g)["Retention"]["Mode"] == "GOVERNANCE"
    s3.put_object_legal_hold(Bucket=name, Key="draft", VersionId=g, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=name, Key="draft", VersionId=g)["LegalHold"]["Status"] == "ON"
    r = s3.delete_objects(Bucket=name, BypassGovernanceRetention=True,
                          Delete={"Objects": [{"Key": "draft", "VersionId": g}]})
    assert r["Errors"][0]["Code"] == "AccessDenied"
    s3.put_object_legal_hold(Bucket=name, Key="draft", VersionId=g, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=name, Key="draft", VersionId=g, BypassGovernanceRetention=True)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert code(e) == "InvalidBucketState"


def test_cors_rules_answer_browsers(server, bucket):
    """A bucket's CORS rules decide what a browser's preflight and its actual requests are
    told (web apps that upload straight to S3 rely on it); without rules, preflights fail."""
    s3 = server.client()
    url = f"{server.endpoint}/{bucket}/page.html"
    asks = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type"}
    assert requests.options(url, headers=asks, timeout=10).status_code == 403
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert code(e) == "NoSuchCORSConfiguration" and e.value.response["Error"]["BucketName"] == bucket
    rules = [{"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
              "AllowedHeaders": ["content-type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    r = requests.options(url, headers=asks, timeout=10)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert r.headers["access-control-allow-methods"] == "GET, PUT"
    assert r.headers["access-control-allow-headers"] == "content-type"
    assert r.headers["access-control-max-age"] == "600"
    other = dict(asks, Origin="https://evil.example.org")
    assert requests.options(url, headers=other, timeout=10).status_code == 403
    # An actual (here anonymous, refused) request from an allowed origin still gets the headers.
    r = requests.get(url, headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 403 and r.headers["access-control-expose-headers"] == "ETag"
    assert "access-control-allow-origin" not in requests.get(
        url, headers={"Origin": "https://evil.example.org"}, timeout=10).headers
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert requests.options(url, headers=asks, timeout=10).status_code == 403


def test_select_runs_sql_where_the_object_is(server, bucket):
    """S3 Select: the filter runs in the store; only matching rows come back, in the event
    stream boto3 reads (Records, Stats, End), from plain and compressed objects."""
    import gzip

    s3 = server.client()
    rows = "city,name,age\n" + "".join(f"{'Seattle' if i % 3 == 0 else 'Chicago'},p{i},{i}\n" for i in range(300))
    s3.put_object(Bucket=bucket, Key="people.csv.gz", Body=gzip.compress(rows.encode()))

    def select(expression, key="people.csv.gz", output=None, **inp):
        r = s3.select_object_content(
            Bucket=bucket, Key=key, Expression=expression, ExpressionType="SQL",
            InputSerialization=inp or {"CSV": {"FileHeaderInfo": "USE"}, "CompressionType": "GZIP"},
            OutputSerialization=output or {"JSON": {}})
        events = list(r["Payload"])
        assert "End" in events[-1] and "Stats" in events[-2]
        return b"".join(e["Records"]["Payload"] for e in events if "Records" in e), events[-2]["Stats"]["Details"]

    out, stats = select("SELECT s.name, s.age FROM S3Object s WHERE s.city = 'Seattle' AND CAST(s.age AS INT) >= 290")
    assert out == b'{"name":"p291","age":"291"}\n{"name":"p294","age":"294"}\n{"name":"p297","age":"297"}\n'
    assert stats["BytesProcessed"] == len(rows) and stats["BytesReturned"] == len(out)
    assert stats["BytesScanned"] == s3.head_object(Bucket=bucket, Key="people.csv.gz")["ContentLength"]
    out, _ = select("SELECT count(*) AS n, max(CAST(age AS INT)) FROM S3Object WHERE city LIKE 'Chi%'",
                    output={"CSV": {}})
    assert out == b"200,299\n"

    # ScanRange: the records whose first byte is in it (a parallel reader's split).
    plain = "city,name,age\nSeattle,a,1\nChicago,b,2\nDenver,c,3\n"
    s3.put_object(Bucket=bucket, Key="small.csv", Body=plain.encode())
    r = s3.select_object_content(
        Bucket=bucket, Key="small.csv", Expression="SELECT s.name FROM S3Object s", ExpressionType="SQL",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}}, OutputSerialization={"CSV": {}},
        ScanRange={"Start": 15, "End": 38})  # Seattle starts at 14, Chicago at 26, Denver at 38
    assert b"".join(e["Records"]["Payload"] for e in r["Payload"] if "Records" in e) == b"b\nc\n"
    s3.put_object(Bucket=bucket, Key="docs.json", Body=b'{"id":1,"tags":["a"]}\n{"id":2}\n')
    out, _ = select("SELECT * FROM S3Object s WHERE s.tags IS MISSING", key="docs.json", JSON={"Type": "LINES"})
    assert out == b'{"id":2}\n'
    # JSON lines with a range that starts inside the first line: the reader starts at the next.
    r = s3.select_object_content(
        Bucket=bucket, Key="docs.json", Expression="SELECT * FROM S3Object", ExpressionType="SQL",
        InputSerialization={"JSON": {"Type": "LINES"}}, OutputSerialization={"JSON": {}}, ScanRange={"Start": 5})
    assert b"".join(e["Records"]["Payload"] for e in r["Payload"] if "Records" in e) == b'{"id":2}\n'

    with pytest.raises(ClientError) as e:
        select("SELECT * FROM S3Object WHERE", key="docs.json", JSON={"Type": "LINES"})
    assert code(e) == "ParseUnexpectedToken" and "at 28" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        select("SELECT * FROM S3Object", key="docs.json", JSON={"Type": "LINES"}, CompressionType="BZIP2")
    assert code(e) == "InvalidCompressionFormat"
    with pytest.raises(ClientError) as e:
        select("SELECT * FROM S3Object", key="nope.json", JSON={"Type": "LINES"})
    assert code(e) == "NoSuchKey"


def test_select_streams_its_result_and_fails_mid_stream_with_an_error_event(server, bucket):
    """S3 Select reads the object as a stream and sends records as they are produced: a large
    result comes as many Records events, and a failure far into the object (a value that does
    not cast) ends the stream with an error event after the records already sent, as S3 does.
    The same failure in the first records is an ordinary error response."""
    from botocore.exceptions import EventStreamError

    s3 = server.client()
    n = 300_000
    s3.put_object(Bucket=bucket, Key="numbers.csv", Body=("".join(f"{i}\n" for i in range(n)) + "oops\n").encode())
    r = s3.select_object_content(
        Bucket=bucket, Key="numbers.csv", Expression="SELECT CAST(_1 AS INT) + 1 FROM S3Object",
        ExpressionType="SQL", InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}})
    got = []
    with pytest.raises(EventStreamError) as e:
        for ev in r["Payload"]:
            assert "End" not in ev and "Stats" not in ev
            if "Records" in ev:
                got.append(ev["Records"]["Payload"])
    assert code(e) == "CastFailed" and "oops" in e.value.response["Error"]["Message"]
    out = b"".join(got)
    assert len(got) > 10 and out.endswith(b"\n")
    assert "".join(f"{i + 1}\n" for i in range(n)).encode().startswith(out)

    s3.put_object(Bucket=bucket, Key="bad-first.csv", Body=b"oops\n1\n")
    with pytest.raises(ClientError) as e:
        s3.select_object_content(
            Bucket=bucket, Key="bad-first.csv", Expression="SELECT CAST(_1 AS INT) FROM S3Object",
            ExpressionType="SQL", InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}})
    assert code(e) == "CastFailed"


def test_access_logs_are_delivered_to_the_target_bucket(fresh_server):
    """Server access logging: the requests to a logging bucket arrive in its target bucket as
    S3-format records, written as logging.s3.amazonaws.com, which the target's policy must
    allow; the configuration outlives a restart. (A stop delivers what is pending.)"""
    s = fresh_server()
    c = s.client()
    c.create_bucket(Bucket="site")
    c.create_bucket(Bucket="site-logs")
    with pytest.raises(ClientError) as e:
        c.put_bucket_logging(Bucket="site", BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "no-such-bucket", "TargetPrefix": "x/"}})
    assert code(e) == "InvalidTargetBucketForLogging"
    c.put_bucket_policy(Bucket="site-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::site-logs/access/*"}]}))
    c.put_bucket_logging(Bucket="site", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "site-logs", "TargetPrefix": "access/"}})
    assert c.get_bucket_logging(Bucket="site")["LoggingEnabled"] == {"TargetBucket": "site-logs", "TargetPrefix": "access/"}
    c.put_object(Bucket="site", Key="index.html", Body=b"<html/>")
    c.get_object(Bucket="site", Key="index.html")["Body"].read()
    with pytest.raises(ClientError):
        c.get_object(Bucket="site", Key="missing.html")
    c.list_objects_v2(Bucket="site-logs")  # not a logging bucket: no record

    s.stop()
    assert s.proc.returncode == 0
    s.start()
    c = s.client()
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="site-logs", Prefix="access/").get("Contents", [])]
    assert len(keys) == 1 and re.fullmatch(r"access/\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}", keys[0]), keys
    lines = c.get_object(Bucket="site-logs", Key=keys[0])["Body"].read().decode().splitlines()
    ops = [l.split(" ")[7] for l in lines]
    # bucket owner, bucket, [time], ip, requester, request id, operation, key, "uri", status
    # (The PutBucketLogging that switched it on came before: not logged.)
    assert ops == ["REST.GET.LOGGING_STATUS", "REST.PUT.OBJECT", "REST.GET.OBJECT", "REST.GET.OBJECT"], lines
    fields = lines[2].split(" ")
    assert fields[1] == "site" and fields[8] == "index.html" and fields[12] == "200", fields
    assert fields[5].startswith("arn:aws:iam::") and fields[2].startswith("[")
    assert " 404 " in lines[3]
    # The configuration came back with the restart: new requests are logged again.
    assert c.get_bucket_logging(Bucket="site")["LoggingEnabled"]["TargetBucket"] == "site-logs"

    # A target whose policy does not admit the logging service gets nothing.
    c.create_bucket(Bucket="closed-logs")
    c.put_bucket_logging(Bucket="site", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "closed-logs", "TargetPrefix": ""}})
    c.head_object(Bucket="site", Key="index.html")
    s.stop()
    s.start()
    c = s.client()
    assert c.list_objects_v2(Bucket="closed-logs").get("KeyCount") == 0
    assert "access log delivery refused" in (s.workdir / "serve.log").read_text()

    # Partitioned keys: account, region, source bucket and the date of the first event.
    fmt = {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}
    c.put_bucket_logging(Bucket="site", BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "site-logs", "TargetPrefix": "access/", "TargetObjectKeyFormat": fmt}})
    assert c.get_bucket_logging(Bucket="site")["LoggingEnabled"]["TargetObjectKeyFormat"] == fmt
    c.head_object(Bucket="site", Key="index.html")
    s.stop()
    s.start()
    keys = [o["Key"] for o in s.client().list_objects_v2(Bucket="site-logs", Prefix="access/")["Contents"]]
    assert any(re.fullmatch(r"access/\d{12}/us-east-1/site/\d{4}/\d\d/\d\d/\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}", k)
               for k in keys), keys


def test_bad_input_gets_s3_errors(server, bucket):
    s3 = server.client()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert code(e) == "KeyTooLongError"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Bad_Bucket")
    assert code(e) == "InvalidBucketName"
    # A refusal made before any operation runs still says what is wrong, as S3's do (botocore
    # printed "Unknown" where the message was missing).
    err = e.value.response["Error"]
    assert "'B' is not allowed" in err["Message"] and err["BucketName"] == "Bad_Bucket"
    assert e.value.response["ResponseMetadata"]["RequestId"]
    # DeleteObjects on a bucket that is not there fails whole: 404, not 200 with an error per key.
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="no-such-bucket-here", Delete={"Objects": [{"Key": "k"}]})
    assert code(e) == "NoSuchBucket" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    r = signed(server, "POST", f"/{bucket}", body=b"<Delete><Object><Key>x</Key>", query="delete")
    assert r.status_code == 400 and b"<Code>MalformedXML</Code>" in r.content
    r = signed(server, "PUT", f"/{bucket}?versioning", body=b"<VersioningConfiguration>nope")
    assert r.status_code == 400


def test_limits_size_slow_clients_and_connections(fresh_server):
    s = fresh_server("--max-object-mib", "1", "--client-timeout", "2", "--max-connections", "1")
    s3 = s.client()
    s3.create_bucket(Bucket="limits")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="limits", Key="big", Body=b"x" * (2 * MIB))
    assert code(e) == "EntityTooLarge"
    # A client that stops sending its body: RequestTimeout, nothing written.
    host, port = s.endpoint.split("//")[1].split(":")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "limits", "Key": "slow"}, ExpiresIn=60)
    path = url.split(port, 1)[1]
    with socket.create_connection((host, int(port))) as c:
        c.sendall(f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 1000\r\n\r\n0123456789".encode())
        c.settimeout(15)
        reply = c.recv(4096)
    assert b"RequestTimeout" in reply or reply == b"", reply
    with pytest.raises(ClientError):
        s3.head_object(Bucket="limits", Key="slow")
    # One connection at a time: a second client waits until the first (idle, sending nothing)
    # is closed by the header deadline.
    s3.close()
    time.sleep(0.5)
    idle = socket.create_connection((host, int(port)))
    time.sleep(0.3)
    t0 = time.time()
    with socket.create_connection((host, int(port))) as c:
        c.sendall(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        c.settimeout(15)
        reply = c.recv(4096)
    waited = time.time() - t0
    idle.close()
    assert reply.startswith(b"HTTP/1.1 403"), reply
    assert waited >= 1.0, f"the second connection was served at once ({waited:.2f} s)"


def _response(f):
    """One HTTP response read from the file `f`: its status line and headers (lower-cased)."""
    status = f.readline()
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, v = line.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    f.read(int(headers.get("content-length", 0)))
    return status, headers


def test_an_error_before_the_body_keeps_the_connection_usable(server):
    # An upload refused before its body was read (here: no such bucket). Its body arrives
    # after the headers, as most clients send it; the server reads the rest before answering
    # and keeps the connection, so the client's next request on it is answered. Before, the
    # answer said keep-alive and the server closed the connection anyway when the body had
    # not arrived yet (found by test_s3_fuzz.py: the next request failed).
    host, port = server.endpoint.split("//")[1].split(":")
    for _ in range(5):
        with socket.create_connection((host, int(port))) as c:
            c.settimeout(15)
            body = b"<Tagging><TagSet/></Tagging>"
            c.sendall(f"PUT /no-such-bucket-here/k HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n".encode())
            time.sleep(0.05)
            c.sendall(body)
            f = c.makefile("rb")
            status, headers = _response(f)
            assert status.startswith(b"HTTP/1.1 404"), status
            assert headers.get("connection") != "close", headers
            c.sendall(f"GET /no-such-bucket-here HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            assert f.readline().startswith(b"HTTP/1.1 404")
    # A large body left unread is not waited for: the answer says the connection closes.
    with socket.create_connection((host, int(port))) as c:
        c.settimeout(15)
        c.sendall(f"PUT /no-such-bucket-here/k HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"Content-Length: {64 * MIB}\r\n\r\n".encode() + b"x" * 4096)
        status, headers = _response(c.makefile("rb"))
        assert status.startswith(b"HTTP/1.1 404"), status
        assert headers.get("connection") == "close", headers


def test_a_method_with_no_operation_is_method_not_allowed(server, bucket):
    # A file POSTed to an object's URL (as browser code meant for PUT does), a POST with a
    # subresource S3 has no POST for, a DELETE of the service: S3 has no such operation and
    # answers 405 MethodNotAllowed naming the method and the resource's kind (s3s said 501
    # NotImplemented "Unknown operation"; found by test_s3_fuzz.py).
    for method, path, kind in [("POST", f"/{bucket}/k", "OBJECT"), ("POST", f"/{bucket}/k?tagging", "OBJECT"),
                               ("POST", f"/{bucket}?website", "BUCKET"), ("DELETE", "/", "SERVICE")]:
        req = AWSRequest(method=method, url=server.endpoint + path, data=b"data", headers={})
        S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(req)
        r = requests.request(method, server.endpoint + path, headers=dict(req.headers.items()), data=b"data")
        assert r.status_code == 405, (path, r.status_code, r.text)
        assert "<Code>MethodNotAllowed</Code>" in r.text, r.text
        assert f"<Method>{method}</Method><ResourceType>{kind}</ResourceType>" in r.text, r.text
    # An operation S3 has and this server does not serve is still NotImplemented.
    with pytest.raises(ClientError) as e:
        server.client().get_bucket_website(Bucket=bucket)
    assert code(e) == "NotImplemented"


def test_metrics_count_requests_by_bucket_and_operation(server, bucket):
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="m", Body=b"12345")
    s3.get_object(Bucket=bucket, Key="m")["Body"].read()
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="missing")
    time.sleep(0.2)
    text = urllib.request.urlopen(server.metrics, timeout=10).read().decode()
    assert f's3_put_requests_total{{bucket="{bucket}",operation="PutObject"}} 1' in text
    assert f's3_bytes_downloaded_total{{bucket="{bucket}",operation="GetObject"}}' in text
    assert f's3_4xx_errors_total{{bucket="{bucket}",operation="GetObject"}} 1' in text
    assert "s3_first_byte_latency_seconds_bucket" in text
    log = (server.workdir / "serve.log").read_text()
    assert f"operation=PutObject bucket={bucket} key=m status=200 bytes_in=5" in log


def test_a_server_killed_mid_put_leaves_no_partial_object(fresh_server):
    s = fresh_server()
    s3 = s.client()
    s3.create_bucket(Bucket="crash")
    s3.put_object(Bucket="crash", Key="before", Body=b"kept")

    def shard_files():
        # Object data only: each disk's metadata LSM (disk*/meta) rewrites its own files on
        # every restart, which says nothing about the cut-off PUT.
        return sorted(str(p) for d in ("blobs", "packs")
                      for p in s.store.glob(f"disk*/{d}/**/*") if p.is_file())

    before = shard_files()

    # A presigned PUT of 64 MiB, of which only 32 MiB are sent before the server dies.
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "crash", "Key": "partial"},
                                    ExpiresIn=300)
    host, port = s.endpoint.split("//")[1].split(":")
    path = url.split(port, 1)[1]
    conn = socket.create_connection((host, int(port)))
    conn.sendall(f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Content-Length: {64 * MIB}\r\n\r\n".encode())
    for _ in range(32):
        conn.sendall(b"z" * MIB)
    deadline = time.time() + 30
    while len(shard_files()) == len(before) and time.time() < deadline:
        time.sleep(0.05)
    assert len(shard_files()) > len(before), "the PUT never reached the disk"
    s.kill()
    conn.close()
    s.start()
    s3 = s.client()
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="crash", Key="partial")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.get_object(Bucket="crash", Key="before")["Body"].read() == b"kept"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="crash")["Contents"]] == ["before"]
    assert shard_files() == before, "the cut-off PUT left shard files behind"


def _flip_on_disk(store, data, offset):
    """Flip one byte of the shard block holding `data[offset]` (data shards hold the object's
    bytes as they are), wherever on the store's disks it is; return the file."""
    pattern = data[offset:offset + 64]
    found = []
    for disk in sorted(store.glob("disk*")):
        for f in list(disk.glob("blobs/*/*")) + list(disk.glob("packs/*")):
            content = f.read_bytes()
            at = content.find(pattern)
            if at >= 0:
                found.append((f, at))
    assert len(found) == 1, f"bytes at {offset} found in {found}"
    f, at = found[0]
    with open(f, "r+b") as h:
        h.seek(at + 10)
        b = h.read(1)
        h.seek(at + 10)
        h.write(bytes([b[0] ^ 0x5A]))
    return f


def test_corrupt_shards_are_read_through_parity_and_never_served_wrong(fresh_server):
    """GET checks every block it reads: up to M (2) bad shards of a stripe are rebuilt from
    parity and the exact bytes come back, whole or by range, for an object answered in one
    piece (small) and one streamed (large); one more bad shard fails the GET instead of
    serving wrong bytes."""
    server = fresh_server()
    s3 = server.client()
    s3.create_bucket(Bucket="rot")
    rnd = os.urandom(3 * MIB + 12345)
    small, large = rnd[:4096], rnd[4096:]
    s3.put_object(Bucket="rot", Key="small", Body=small)
    s3.put_object(Bucket="rot", Key="large", Body=large)
    # Small: 4 data shards of 1 KiB (K=4). Large: 4 data shards of 0.75 MiB and change.
    for data, offsets in ((small, (100, 1124)), (large, (100, 1 * MIB + 100))):
        for off in offsets:
            _flip_on_disk(server.store, data, off)
    for key, data in (("small", small), ("large", large)):
        assert s3.get_object(Bucket="rot", Key=key)["Body"].read() == data, key
        got = s3.get_object(Bucket="rot", Key=key, Range="bytes=50-2000")["Body"].read()
        assert got == data[50:2001], key
    # A third bad shard in the same stripe: more than parity can rebuild.
    _flip_on_disk(server.store, small, 2148)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="rot", Key="small")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    _flip_on_disk(server.store, large, 2 * MIB + 100)
    # The response has started (200, Content-Length) when the bad stripe is met: the server
    # cuts the body short, and the client sees an incomplete read, never the wrong bytes.
    try:
        body = s3.get_object(Bucket="rot", Key="large")["Body"].read()
    except Exception as e:  # botocore's incomplete-read / streaming errors
        body = e
    assert isinstance(body, Exception), f"three bad shards served {len(body)} bytes"


def test_storage_classes_are_kept_as_labels(server, bucket):
    """The class a write names is what HEAD, GET, listings and ListParts show (the store keeps
    every class alike); a copy takes the class its own request names, as on S3."""
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="sc/rr", Body=b"x", StorageClass="REDUCED_REDUNDANCY")
    s3.put_object(Bucket=bucket, Key="sc/std", Body=b"y", StorageClass="STANDARD")
    assert s3.head_object(Bucket=bucket, Key="sc/rr")["StorageClass"] == "REDUCED_REDUNDANCY"
    assert s3.get_object(Bucket=bucket, Key="sc/rr")["StorageClass"] == "REDUCED_REDUNDANCY"
    # STANDARD is shown by the header's absence, as S3 shows it.
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="sc/std")
    listed = {o["Key"]: o["StorageClass"]
              for o in s3.list_objects_v2(Bucket=bucket, Prefix="sc/")["Contents"]}
    assert listed == {"sc/rr": "REDUCED_REDUNDANCY", "sc/std": "STANDARD"}
    versions = s3.list_object_versions(Bucket=bucket, Prefix="sc/rr")["Versions"]
    assert [v["StorageClass"] for v in versions] == ["REDUCED_REDUNDANCY"]
    attrs = s3.get_object_attributes(Bucket=bucket, Key="sc/rr", ObjectAttributes=["StorageClass"])
    assert attrs["StorageClass"] == "REDUCED_REDUNDANCY"
    # A copy: the request's class, else STANDARD (not the source's).
    s3.copy_object(Bucket=bucket, Key="sc/copy", CopySource={"Bucket": bucket, "Key": "sc/rr"})
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="sc/copy")
    s3.copy_object(Bucket=bucket, Key="sc/rr", CopySource={"Bucket": bucket, "Key": "sc/rr"},
                   StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="sc/rr")["StorageClass"] == "STANDARD_IA"
    # Multipart: named at Create, shown while in flight and on the object.
    up = s3.create_multipart_upload(Bucket=bucket, Key="sc/mp", StorageClass="GLACIER_IR")
    part = s3.upload_part(Bucket=bucket, Key="sc/mp", UploadId=up["UploadId"], PartNumber=1,
                          Body=b"z")
    assert s3.list_parts(Bucket=bucket, Key="sc/mp", UploadId=up["UploadId"])["StorageClass"] == \
        "GLACIER_IR"
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix="sc/")["Uploads"]
    assert [u["StorageClass"] for u in uploads] == ["GLACIER_IR"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="sc/mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=bucket, Key="sc/mp")["StorageClass"] == "GLACIER_IR"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="sc/bad", Body=b"x", StorageClass="LUKEWARM")
    assert code(e) == "InvalidStorageClass" and "LUKEWARM" in e.value.response["Error"]["Message"]


def _loop_mount(image, at):
    """Mount a fresh 64 MiB ext4 image at `at` (root, a loop device): None, or why not."""
    import shutil
    import subprocess
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4") or not shutil.which("mount"):
        return "needs root, mkfs.ext4 and mount"
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    for cmd in (["mkfs.ext4", "-q", "-F", str(image)], ["mount", "-o", "loop", str(image), str(at)]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return f"{' '.join(cmd)}: {r.stderr.strip()}"
    return None


def _puts_then_a_multipart(s3, bucket, prefix, sizes, objects):
    """PUT random objects of `sizes` as PREFIX-0 .., then a two-part multipart upload as
    `parts`; append each (key, bytes) to `objects`, and read every one of them back exact."""
    for i, size in enumerate(sizes):
        body = os.urandom(size)
        s3.put_object(Bucket=bucket, Key=f"{prefix}-{i}", Body=body)
        objects.append((f"{prefix}-{i}", body))
    up = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    parts, whole = [], b""
    for n in (1, 2):
        body = os.urandom(5 << 20)
        etag = s3.upload_part(Bucket=bucket, Key="parts", UploadId=up, PartNumber=n,
                              Body=body)["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
        whole += body
    s3.complete_multipart_upload(Bucket=bucket, Key="parts", UploadId=up,
                                 MultipartUpload={"Parts": parts})
    objects.append(("parts", whole))
    for key, data in objects:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data, key


def _mount_again_and_heal(s, disk0, bucket, objects):
    """Mount stopped server `s`'s loop-device disk 0 again and start the server: its open finds
    the disk's metadata copy behind, and the scrub at start rebuilds a shard of (nearly) every
    object in `objects`; then, with disks 1 and 5 deleted, every object reads back exact."""
    import shutil
    import subprocess
    from conftest import wait_for
    subprocess.run(["mount", "-o", "loop", str(s.workdir / "disk0.img"), str(disk0)],
                   check=True)
    s.start()
    s3 = s.client()
    log = s.workdir / "serve.log"
    at_start = 'why="metadata copies were rebuilt when the store opened"'
    assert wait_for(lambda: at_start in log.read_text(), 20), log.read_text()[-3000:]
    line = next(l for l in log.read_text().splitlines() if at_start in l)
    healed = int(re.search(r"shards_healed=(\d+)", line).group(1))
    assert healed >= len(objects) - 1, line
    # Disk 0 whole again: two other disks may go.
    for d in ["disk1", "disk5"]:
        shutil.rmtree(s.store / d)
    for key, data in objects:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data, key


def _disk0_onto_a_loop_device(s):
    """Move disk 0 of stopped server `s`'s store onto ext4 on a loop device mounted at its
    path, its files copied over; the mount point. Skips the test without root or a loop
    device."""
    import shutil
    import subprocess
    disk0 = s.store / "disk0"
    kept = s.workdir / "disk0.kept"
    shutil.move(str(disk0), str(kept))
    disk0.mkdir()
    why = _loop_mount(s.workdir / "disk0.img", disk0)
    if why:
        shutil.rmtree(disk0)
        shutil.move(str(kept), str(disk0))
        pytest.skip(f"a loop-mounted disk: {why}")
    try:
        subprocess.run(["cp", "-a", f"{kept}/.", str(disk0)], check=True)
        shutil.rmtree(disk0 / "lost+found")
    except BaseException:
        subprocess.run(["umount", str(disk0)], check=False)
        raise
    return disk0


def test_puts_go_on_past_a_disk_that_fails_its_io(fresh_server):
    """A disk that fails every request while it stays mounted — ext4 on a loop device, shut
    down with EXT4_IOC_SHUTDOWN, after which the kernel answers EIO to every open, write and
    fsync on it, as for a dying drive: PUTs of small objects (pack records), large ones (the
    PUT pipeline) and a multipart upload go on without it and read back exact, and the server
    logs the disk's failures; restarted with the disk still dead, the server opens and goes on.
    The disk is disk 0, which also holds the packs' lock. The file system mounted again and the
    server restarted, the store's open finds the disk's metadata copy behind and the scrub at
    start rebuilds the shards the disk missed."""
    import fcntl
    import shutil
    import struct
    import subprocess
    from conftest import wait_for
    s = fresh_server("--disk-check", "1")
    s.stop()
    disk0 = _disk0_onto_a_loop_device(s)
    mounted = True
    try:
        s.start()
        s3 = s.client()
        s3.create_bucket(Bucket="failing")
        before = os.urandom(4096)
        s3.put_object(Bucket="failing", Key="before", Body=before)
        fd = os.open(disk0, os.O_RDONLY)
        try:
            # EXT4_IOC_SHUTDOWN, EXT4_GOING_FLAGS_NOLOGFLUSH.
            fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))
        finally:
            os.close(fd)
        with pytest.raises(OSError):
            (disk0 / "probe").write_bytes(b"x")
        objects = [("before", before)]
        _puts_then_a_multipart(s3, "failing", "after", [4096, 100, 3 << 20, 4096, 5 << 20],
                               objects)
        # A restart with the disk still dead: the store opens without it.
        s.stop()
        s.start()
        s3 = s.client()
        for i, size in enumerate([4096, 3 << 20]):
            body = os.urandom(size)
            s3.put_object(Bucket="failing", Key=f"restarted-{i}", Body=body)
            objects.append((f"restarted-{i}", body))
        for key, data in objects:
            assert s3.get_object(Bucket="failing", Key=key)["Body"].read() == data, key
        log = s.workdir / "serve.log"
        failed = "disk failed writes"
        assert wait_for(lambda: failed in log.read_text(), 10), log.read_text()[-3000:]
        line = next(l for l in log.read_text().splitlines() if failed in l)
        assert "disk0" in line and "Input/output error" in line, line
        s.stop()
        # The disk repaired: mounted again (ext4 replays its journal).
        subprocess.run(["umount", str(disk0)], check=True)
        _mount_again_and_heal(s, disk0, "failing", objects)
    finally:
        s.stop()
        if mounted:
            subprocess.run(["umount", str(disk0)], check=False)


def _fault_fs_mounted_at(disk, backing, switch):
    """Mount faultfs.py at `disk` over directory `backing` (EIO on every request while file
    `switch` exists); its process. Skips the test without root, /dev/fuse, libfuse 3 or
    mfusepy (pip install mfusepy)."""
    import subprocess
    from conftest import wait_for
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        pytest.skip("a FUSE disk needs root and /dev/fuse")
    try:
        import mfusepy  # noqa: F401 (fails without libfuse)
    except (ImportError, OSError) as e:
        pytest.skip(f"a FUSE disk needs mfusepy and libfuse3: {e}")
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen([sys.executable, os.path.join(here, "faultfs.py"), str(backing),
                             str(disk), str(switch)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not wait_for(lambda: os.path.ismount(disk) or proc.poll() is not None, 10) or \
            proc.poll() is not None:
        proc.kill()
        err = proc.communicate()[1].decode(errors="replace")[-500:]
        pytest.skip(f"faultfs.py did not mount: {err}")
    return proc


def test_a_disk_that_fails_and_works_again_is_rebuilt_without_a_restart(fresh_server):
    """Disk 1 behind a FUSE file system that answers every request with EIO while a switch is
    on — a drive whose cable is pulled and reseated, with nothing unmounted. With the switch
    on, PUTs (pack records, a large object, a multipart upload) go on past the disk and read
    back exact, and the server says the disk fails. The switch off, the running server's probe
    finds the disk working by itself and its scrub rebuilds every shard the PUTs went without
    and the disk's metadata copy; then, with disks 0 and 5 deleted, everything still reads."""
    import shutil
    import subprocess
    from conftest import wait_for
    s = fresh_server("--disk-check", "1")
    s.stop()
    disk1 = s.store / "disk1"
    backing = s.workdir / "disk1.backing"
    switch = s.workdir / "disk1.fails"
    shutil.move(str(disk1), str(backing))
    disk1.mkdir()
    fs = _fault_fs_mounted_at(disk1, backing, switch)
    try:
        s.start()
        s3 = s.client()
        s3.create_bucket(Bucket="flaky")
        objects = [("before", os.urandom(4096))]
        s3.put_object(Bucket="flaky", Key="before", Body=objects[0][1])
        switch.touch()
        _puts_then_a_multipart(s3, "flaky", "failing", [4096, 100, 3 << 20, 0], objects)
        log = s.workdir / "serve.log"
        failed = "disk failed writes"
        assert wait_for(lambda: failed in log.read_text(), 10), log.read_text()[-3000:]
        assert "disk1" in next(l for l in log.read_text().splitlines() if failed in l)
        switch.unlink()
        works = 'why="a failing disk works again"'
        assert wait_for(lambda: works in log.read_text(), 60), log.read_text()[-3000:]
        line = next(l for l in log.read_text().splitlines() if works in l)
        # Every object written while the disk failed lacked its shard there (5 of them, with
        # the multipart upload's two parts as one blob or two), and its metadata copy.
        assert int(re.search(r"shards_healed=(\d+)", line).group(1)) >= 5, line
        assert "metadata_copies_healed=1" in line, line
        assert not (disk1 / "seedbed-probe.tmp").exists()
        for d in ["disk0", "disk5"]:
            shutil.rmtree(s.store / d)
        for key, data in objects:
            assert s3.get_object(Bucket="flaky", Key=key)["Body"].read() == data, key
    finally:
        s.stop()
        if subprocess.run(["umount", str(disk1)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk1)], capture_output=True)
        try:
            fs.wait(timeout=10)
        except subprocess.TimeoutExpired:
            fs.kill()


def _files_under(d):
    return [p for p in d.rglob("*") if p.is_file()]


def test_a_disk_not_mounted_takes_nothing_until_it_is_mounted_again(fresh_server):
    """Disk 0 of the store is ext4 on a loop device (the other five plain directories). The
    server stopped and the disk unmounted — a disk that did not come up at boot: its mount
    point left behind, an empty directory on the parent's file system — the server starts,
    says the disk is not mounted, and PUTs of small objects (pack records), large ones and a
    multipart upload go on without it and read back exact; nothing at all is written into the
    empty mount point (no shard, no metadata copy, no identity file). Mounted again and the
    server restarted, the scrub at start rebuilds what the disk missed, and with disks 1 and 5
    then deleted everything still reads."""
    import shutil
    import subprocess
    from conftest import wait_for
    s = fresh_server("--disk-check", "1")
    s.stop()
    disk0 = _disk0_onto_a_loop_device(s)
    mounted = True
    try:
        # Started once with the disk mounted: the store records that disk 0 is a mount point.
        s.start()
        s3 = s.client()
        s3.create_bucket(Bucket="unmounted")
        objects = [("before", os.urandom(4096))]
        s3.put_object(Bucket="unmounted", Key="before", Body=objects[0][1])
        s.stop()
        subprocess.run(["umount", str(disk0)], check=True)
        mounted = False
        assert _files_under(disk0) == []
        s.start()
        s3 = s.client()
        log = s.workdir / "serve.log"
        said = "disk is missing (not mounted"
        assert wait_for(lambda: said in log.read_text(), 10), log.read_text()[-3000:]
        assert "disk0" in next(l for l in log.read_text().splitlines() if said in l)
        _puts_then_a_multipart(s3, "unmounted", "while", [4096, 100, 3 << 20, 0], objects)
        assert _files_under(disk0) == [], "written into the empty mount point"
        s.stop()
        assert _files_under(disk0) == []
        mounted = True
        _mount_again_and_heal(s, disk0, "unmounted", objects)
    finally:
        s.stop()
        if mounted:
            subprocess.run(["umount", str(disk0)], check=False)


def test_puts_go_on_past_a_lost_disk_and_its_return_is_healed_online(fresh_server):
    """A disk's directory deleted under the running server: it is logged, and PUTs of small
    objects (pack records) and large ones (shard files) go on, written to the disks left, and
    read back exact; the write does not make the lost directory again. The directory made
    again (a replacement disk), the server rebuilds the missing shards by itself (`--disk-check`),
    and so does a restart after a disk was lost while it was stopped, so that losing M = 2
    other disks afterwards loses nothing. More disks lost than parity covers: PUTs are refused
    with a 503 ServiceUnavailable naming the missing disks."""
    import shutil
    from conftest import wait_for
    s = fresh_server("--disk-check", "1")
    s3 = s.client()
    s3.create_bucket(Bucket="degraded")
    before = os.urandom(4096)
    s3.put_object(Bucket="degraded", Key="before", Body=before)
    shutil.rmtree(s.store / "disk2")
    small, large = os.urandom(4096), os.urandom(3 << 20)
    s3.put_object(Bucket="degraded", Key="small", Body=small)
    s3.put_object(Bucket="degraded", Key="large", Body=large)
    objects = [("before", before), ("small", small), ("large", large)]
    for key, data in objects:
        assert s3.get_object(Bucket="degraded", Key=key)["Body"].read() == data, key
    assert not (s.store / "disk2").exists()
    log = s.workdir / "serve.log"
    assert wait_for(lambda: "disk is missing (its directory is gone)" in log.read_text(), 10), log.read_text()
    (s.store / "disk2").mkdir()
    # The bucket's settings record, `before`, `small`, `large`: one shard each; and the disk's
    # metadata copy.
    assert wait_for(lambda: "shards_healed=4" in log.read_text(), 20), log.read_text()[-3000:]
    assert "metadata_copies_healed=1" in log.read_text()
    # A disk lost while the server is stopped: the store's open rebuilds its metadata copy, and
    # the server scrubs at start.
    s.stop()
    shutil.rmtree(s.store / "disk1")
    s.start()
    s3 = s.client()
    at_start = 'why="metadata copies were rebuilt when the store opened"'
    assert wait_for(lambda: at_start in log.read_text(), 20), log.read_text()[-3000:]
    line = next(l for l in log.read_text().splitlines() if at_start in l)
    assert "shards_healed=4" in line, line
    for d in ["disk0", "disk4"]:
        shutil.rmtree(s.store / d)
    for key, data in objects:
        assert s3.get_object(Bucket="degraded", Key=key)["Body"].read() == data, key
    shutil.rmtree(s.store / "disk5")
    for body in [small, large]:
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="degraded", Key="refused", Body=body)
        err = e.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert code(e) == "ServiceUnavailable", err
        assert all(d in err["Error"]["Message"] for d in ["disk0", "disk4", "disk5"]), err
