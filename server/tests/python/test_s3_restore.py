"""The archive classes through boto3, as a client of S3 Glacier relies on them: an object in
GLACIER or DEEP_ARCHIVE refuses GET and copies with 403 InvalidObjectState (HEAD answers),
RestoreObject answers 202 and HEAD shows `x-amz-restore` going from ongoing to an expiry date,
the data reads until the copy lapses, a second restore while one runs is 409 and one after
extends it (200), listings show RestoreStatus when asked, and a lifecycle transition to GLACIER
archives an object — on a server whose lifecycle "day" is two seconds, so that a 5-hour
Standard restore takes 0.4 s."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import LIFECYCLE_DAY as DAY, wait_for


def code(e):
    return e.value.response["Error"]["Code"]


def status(e):
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def restore(s3, b, key, days, tier="Standard", **kw):
    r = s3.restore_object(Bucket=b, Key=key, RestoreRequest={
        "Days": days, "GlacierJobParameters": {"Tier": tier}}, **kw)
    return r["ResponseMetadata"]["HTTPStatusCode"]


def test_an_archived_object_reads_only_while_restored(fast):
    s3 = fast.client()
    b = f"restore-{int(time.time())}"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    s3.put_object(Bucket=b, Key="ir", Body=b"instant", StorageClass="GLACIER_IR")
    assert s3.get_object(Bucket=b, Key="ir")["Body"].read() == b"instant"

    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="cold")
    assert (code(e), status(e)) == ("InvalidObjectState", 403)
    assert e.value.response["Error"]["StorageClass"] == "GLACIER"
    head = s3.head_object(Bucket=b, Key="cold")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "cold"})
    assert code(e) == "InvalidObjectState"
    with pytest.raises(ClientError) as e:
        restore(s3, b, "ir", 1)
    assert (code(e), status(e)) == ("InvalidObjectState", 403)

    # Bulk on GLACIER: 12 of 24 hours, 1 s here; the copy lasts 3 days (6 s) from then.
    assert restore(s3, b, "cold", 3, tier="Bulk") == 202
    assert s3.head_object(Bucket=b, Key="cold")["Restore"] == 'ongoing-request="true"'

    def listed():
        """RestoreStatus by key, in both listings, only when asked for (S3 lists it then)."""
        v2 = s3.list_objects_v2(Bucket=b, OptionalObjectAttributes=["RestoreStatus"])
        versions = s3.list_object_versions(Bucket=b, OptionalObjectAttributes=["RestoreStatus"])
        by_key = {o["Key"]: o.get("RestoreStatus") for o in v2["Contents"]}
        assert by_key == {v["Key"]: v.get("RestoreStatus") for v in versions["Versions"]}
        return by_key

    assert listed() == {"cold": {"IsRestoreInProgress": True}, "ir": None}
    assert "RestoreStatus" not in s3.list_objects_v2(Bucket=b)["Contents"][0]
    with pytest.raises(ClientError) as e:
        restore(s3, b, "cold", 3)
    assert (code(e), status(e)) == ("RestoreAlreadyInProgress", 409)
    assert wait_for(lambda: s3.head_object(Bucket=b, Key="cold").get("Restore", "")
                    .startswith('ongoing-request="false", expiry-date="'), 5 * DAY)
    got = s3.get_object(Bucket=b, Key="cold")
    assert got["Body"].read() == b"frozen" and got["Restore"].startswith('ongoing-request="false"')
    listed_status = listed()["cold"]
    assert listed_status["IsRestoreInProgress"] is False
    assert listed_status["RestoreExpiryDate"].year >= 2026
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "cold"})
    assert "StorageClass" not in s3.head_object(Bucket=b, Key="copy")

    # Asked again while readable: 200, and the copy lasts its days from now.
    assert restore(s3, b, "cold", 1) == 200

    def lapsed():
        try:
            s3.get_object(Bucket=b, Key="cold")
            return False
        except ClientError as e:
            return e.response["Error"]["Code"] == "InvalidObjectState"

    assert wait_for(lapsed, 5 * DAY)
    assert "Restore" not in s3.head_object(Bucket=b, Key="cold")


def test_deep_archive_has_no_expedited_tier_and_bad_requests_are_refused(fast):
    s3 = fast.client()
    b = f"restore-deep-{int(time.time())}"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="deep", Body=b"x", StorageClass="DEEP_ARCHIVE")
    with pytest.raises(ClientError) as e:
        restore(s3, b, "deep", 1, tier="Expedited")
    assert (code(e), status(e)) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket=b, Key="deep", RestoreRequest={"Days": 0})
    assert code(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        restore(s3, b, "missing", 1)
    assert code(e) == "NoSuchKey"


def test_a_transition_to_glacier_archives_the_object(fast):
    s3 = fast.client()
    b = f"restore-lc-{int(time.time())}"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="logs/a", Body=b"old log")
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "archive", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}]})
    assert wait_for(lambda: s3.head_object(Bucket=b, Key="logs/a").get("StorageClass") == "GLACIER",
                    6 * DAY)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="logs/a")
    assert code(e) == "InvalidObjectState"
    assert restore(s3, b, "logs/a", 1, tier="Expedited") == 202
    assert wait_for(lambda: "expiry-date" in s3.head_object(Bucket=b, Key="logs/a").get("Restore", ""),
                    3 * DAY)


def test_restore_secs_fixes_the_time_a_restore_takes(tmp_path):
    from conftest import Server

    s = Server(tmp_path, "--restore-secs", "0")
    try:
        s3 = s.client()
        s3.create_bucket(Bucket="now")
        s3.put_object(Bucket="now", Key="k", Body=b"at once", StorageClass="DEEP_ARCHIVE")
        assert restore(s3, "now", "k", 1, tier="Bulk") == 202
        assert s3.get_object(Bucket="now", Key="k")["Body"].read() == b"at once"
    finally:
        s.stop()
