"""Lifecycle rules through boto3, as users rely on them: a configuration is kept and answered as
sent, S3's refusals come back as S3's errors, PUT and HEAD tell when an object will expire, and
the server's pass really expires objects, noncurrent versions, lone delete markers and stale
uploads, and moves objects to colder storage classes — watched on a server whose lifecycle "day" is two seconds (`--lifecycle-day-secs`)."""

import datetime
import email.utils
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import LIFECYCLE_DAY as DAY, wait_for


def code(e):
    return e.value.response["Error"]["Code"]


def put_rules(s3, bucket, *rules):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def test_a_configuration_is_answered_as_sent_and_deleted(server, bucket):
    s3 = server.client()
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(e) == "NoSuchLifecycleConfiguration"
    rules = [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
        {"ID": "tmp", "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "k", "Value": "v"}]}},
         "Status": "Disabled", "Expiration": {"Date": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)}},
        {"ID": "old", "Prefix": "old/", "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 3},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
         "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}]},
    ]
    put_rules(s3, bucket, *rules)
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["ID"] for r in got] == ["logs", "tmp", "old"]
    assert got[0]["Filter"] == {"Prefix": "logs/"} and got[0]["Expiration"] == {"Days": 30}
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert got[1]["Expiration"]["Date"].year == 2030 and got[1]["Status"] == "Disabled"
    assert got[2]["Prefix"] == "old/" and "Filter" not in got[2]
    assert got[2]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7, "NewerNoncurrentVersions": 3}
    assert got[2]["Transitions"][0]["StorageClass"] == "GLACIER"

    # A rule without an ID gets one.
    put_rules(s3, bucket, {"Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}})
    (only,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert only["ID"]

    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(e) == "NoSuchLifecycleConfiguration"


@pytest.mark.parametrize("rule,want", [
    ({"ID": "x" * 256, "Prefix": "a", "Status": "Enabled", "Expiration": {"Days": 1}}, "InvalidArgument"),
    ({"ID": "a", "Prefix": "a", "Status": "enabled", "Expiration": {"Days": 1}}, "MalformedXML"),
    ({"ID": "a", "Prefix": "a", "Status": "Enabled", "Expiration": {"Days": 0}}, "InvalidArgument"),
    ({"ID": "a", "Prefix": "a", "Status": "Enabled", "Expiration": {"Date": "2030-01-01T12:00:00Z"}}, "InvalidArgument"),
    ({"ID": "a", "Prefix": "a", "Status": "Enabled"}, "InvalidRequest"),
    ({"ID": "a", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}, "InvalidRequest"),
    # S3 keeps an object 30 days in a class before it moves it to an IA class.
    ({"ID": "a", "Prefix": "a", "Status": "Enabled",
      "Transitions": [{"Days": 7, "StorageClass": "STANDARD_IA"}]}, "InvalidArgument"),
    ({"ID": "a", "Prefix": "a", "Status": "Enabled",
      "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "ONEZONE_IA"}]}, "InvalidArgument"),
])
def test_s3s_refusals_come_back_as_s3s_errors(server, bucket, rule, want):
    s3 = server.client()
    with pytest.raises(ClientError) as e:
        put_rules(s3, bucket, rule)
    assert code(e) == want
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_two_rules_with_one_id_are_refused(server, bucket):
    s3 = server.client()
    r = {"ID": "same", "Prefix": "a", "Status": "Enabled", "Expiration": {"Days": 1}}
    with pytest.raises(ClientError) as e:
        put_rules(s3, bucket, r, dict(r, Prefix="b"))
    assert code(e) == "InvalidArgument"


def expiry(headers):
    m = re.fullmatch(r'expiry-date="(.+)", rule-id="(.+)"', headers["x-amz-expiration"])
    return email.utils.parsedate_to_datetime(m.group(1)), m.group(2)


def test_put_get_and_head_tell_when_an_object_expires(server, bucket):
    s3 = server.client()
    put_rules(s3, bucket,
              {"ID": "week", "Filter": {"Prefix": "p/"}, "Status": "Enabled", "Expiration": {"Days": 7}},
              {"ID": "tagged", "Filter": {"Tag": {"Key": "t", "Value": "1"}}, "Status": "Enabled",
               "Expiration": {"Days": 2}})
    put = s3.put_object(Bucket=bucket, Key="p/a", Body=b"x")
    when, rule = expiry(put["ResponseMetadata"]["HTTPHeaders"])
    now = datetime.datetime.now(datetime.timezone.utc)
    # S3's rule: the write time plus the days, rounded up to the next midnight UTC.
    assert rule == "week"
    assert (when.hour, when.minute, when.second) == (0, 0, 0)
    assert datetime.timedelta(days=7) <= when - now <= datetime.timedelta(days=8)
    for r in (s3.head_object(Bucket=bucket, Key="p/a"), s3.get_object(Bucket=bucket, Key="p/a")):
        assert expiry(r["ResponseMetadata"]["HTTPHeaders"]) == (when, "week")
    # The earliest rule that applies is the one told; none applies: no header.
    s3.put_object(Bucket=bucket, Key="p/b", Body=b"x", Tagging="t=1")
    assert expiry(s3.head_object(Bucket=bucket, Key="p/b")["ResponseMetadata"]["HTTPHeaders"])[1] == "tagged"
    s3.put_object(Bucket=bucket, Key="q/c", Body=b"x")
    assert "x-amz-expiration" not in s3.head_object(Bucket=bucket, Key="q/c")["ResponseMetadata"]["HTTPHeaders"]


def keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_objects_expire_on_a_fast_server(fast):
    s3 = fast.client()
    b = f"lc-expire-{int(time.time())}"
    s3.create_bucket(Bucket=b)
    for k in ("gone/a", "gone/b", "kept/a"):
        s3.put_object(Bucket=b, Key=k, Body=b"x")
    put_rules(s3, b, {"ID": "r", "Filter": {"Prefix": "gone/"}, "Status": "Enabled", "Expiration": {"Days": 1}})
    assert wait_for(lambda: keys(s3, b) == ["kept/a"], 6 * DAY), keys(s3, b)


def test_a_versioned_bucket_loses_old_versions_then_its_lone_markers(fast):
    s3 = fast.client()
    b = f"lc-versions-{int(time.time())}"
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2", b"3"):
        s3.put_object(Bucket=b, Key="k", Body=body)
    s3.put_object(Bucket=b, Key="m", Body=b"x")
    s3.delete_object(Bucket=b, Key="m")
    put_rules(s3, b, {"ID": "r", "Filter": {}, "Status": "Enabled",
                      "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                      "Expiration": {"ExpiredObjectDeleteMarker": True}})

    def state():
        v = s3.list_object_versions(Bucket=b)
        return (sorted((x["Key"], x["IsLatest"]) for x in v.get("Versions", [])),
                len(v.get("DeleteMarkers", [])))

    assert wait_for(lambda: state() == ([("k", True)], 0), 8 * DAY), state()
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"3"


def test_transitions_change_the_class_objects_show_on_a_fast_server(fast):
    s3 = fast.client()
    b = f"lc-transition-{int(time.time())}"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="cold/a", Body=b"data")
    s3.put_object(Bucket=b, Key="warm/a", Body=b"x")
    put_rules(s3, b, {"ID": "r", "Filter": {"Prefix": "cold/"}, "Status": "Enabled",
                      "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]})

    def classes():
        return {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=b)["Contents"]}

    want = {"cold/a": "GLACIER_IR", "warm/a": "STANDARD"}
    assert wait_for(lambda: classes() == want, 6 * DAY), classes()
    got = s3.get_object(Bucket=b, Key="cold/a")
    assert got["StorageClass"] == "GLACIER_IR" and got["Body"].read() == b"data"
    assert "StorageClass" not in s3.head_object(Bucket=b, Key="warm/a")


def test_stale_uploads_are_aborted_on_a_fast_server(fast):
    s3 = fast.client()
    b = f"lc-uploads-{int(time.time())}"
    s3.create_bucket(Bucket=b)
    s3.create_multipart_upload(Bucket=b, Key="tmp/a")
    s3.create_multipart_upload(Bucket=b, Key="keep/a")
    put_rules(s3, b, {"ID": "r", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
                      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})

    def uploads():
        return sorted(u["Key"] for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", []))

    assert wait_for(lambda: uploads() == ["keep/a"], 6 * DAY), uploads()


def test_removals_by_the_pass_reach_the_access_log(fresh_server):
    """The pass's removals are in the bucket's server access log as S3 writes them:
    S3.EXPIRE.OBJECT for a removal for good, S3.CREATE.DELETEMARKER (with the marker's id) when
    a versioned object is hidden; S3 itself is the requester, and there is no address, request
    line or status. (A stop delivers what is pending.)"""
    s = fresh_server("--lifecycle-day-secs", str(DAY))
    c = s.client()
    for b in ("lc-plain", "lc-ver", "lc-logs"):
        c.create_bucket(Bucket=b)
    c.put_bucket_versioning(Bucket="lc-ver", VersioningConfiguration={"Status": "Enabled"})
    c.put_bucket_policy(Bucket="lc-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::lc-logs/*"}]}))
    for b in ("lc-plain", "lc-ver"):
        c.put_bucket_logging(Bucket=b, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "lc-logs", "TargetPrefix": b + "/"}})
    c.put_object(Bucket="lc-plain", Key="gone/a", Body=b"x")
    c.put_object(Bucket="lc-ver", Key="gone/k", Body=b"y")
    for b in ("lc-plain", "lc-ver"):
        put_rules(c, b, {"ID": "r", "Filter": {"Prefix": "gone/"}, "Status": "Enabled", "Expiration": {"Days": 1}})

    def markers():
        return [m["VersionId"] for m in c.list_object_versions(Bucket="lc-ver").get("DeleteMarkers", [])]

    assert wait_for(lambda: keys(c, "lc-plain") == [] and len(markers()) == 1, 6 * DAY), (keys(c, "lc-plain"), markers())
    (marker,) = markers()
    s.stop()
    assert s.proc.returncode == 0
    s.start()
    c = s.client()

    def removals(prefix):
        lines = []
        for o in c.list_objects_v2(Bucket="lc-logs", Prefix=prefix).get("Contents", []):
            lines += c.get_object(Bucket="lc-logs", Key=o["Key"])["Body"].read().decode().splitlines()
        # owner bucket [time +0000] ip requester id operation key uri status error bytes size
        # total turnaround referer agent version ...
        return [l.split(" ") for l in lines if l.split(" ")[7].startswith("S3.")]

    (plain,) = removals("lc-plain/")
    assert plain[1] == "lc-plain" and plain[7:9] == ["S3.EXPIRE.OBJECT", "gone/a"], plain
    assert plain[4:6] == ["-", "AmazonS3"] and plain[9:11] == ["-", "-"] and plain[18] == "-", plain
    (ver,) = removals("lc-ver/")
    assert ver[7:9] == ["S3.CREATE.DELETEMARKER", "gone/k"] and ver[18] == marker, ver


def test_uploads_and_copies_tell_their_dates_too(server, bucket):
    s3 = server.client()
    put_rules(s3, bucket,
              {"ID": "mpu", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
               "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
              {"ID": "exp", "Filter": {"Prefix": "up/"}, "Status": "Enabled", "Expiration": {"Days": 10}})
    now = datetime.datetime.now(datetime.timezone.utc)
    up = s3.create_multipart_upload(Bucket=bucket, Key="up/big")
    assert up["AbortRuleId"] == "mpu"
    assert up["AbortDate"].hour == 0 and datetime.timedelta(days=3) <= up["AbortDate"] - now <= datetime.timedelta(days=4)
    listed = s3.list_parts(Bucket=bucket, Key="up/big", UploadId=up["UploadId"])
    assert (listed["AbortDate"], listed["AbortRuleId"]) == (up["AbortDate"], "mpu")
    part = s3.upload_part(Bucket=bucket, Key="up/big", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="up/big", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert 'rule-id="exp"' in done["Expiration"]
    copied = s3.copy_object(Bucket=bucket, Key="up/copy", CopySource={"Bucket": bucket, "Key": "up/big"})
    assert 'rule-id="exp"' in copied["Expiration"]
    # Outside the rules' prefix: nothing to tell.
    other = s3.create_multipart_upload(Bucket=bucket, Key="elsewhere")
    assert "AbortDate" not in other and "AbortRuleId" not in other
    assert "Expiration" not in s3.copy_object(Bucket=bucket, Key="elsewhere2", CopySource={"Bucket": bucket, "Key": "up/big"})
