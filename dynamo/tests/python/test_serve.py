"""The DynamoDB endpoint as `seedbed serve` runs it: signatures and IAM from the server's IAM
file, DynamoDB's error shapes for bad requests, metrics beside S3's, the banner, a clean stop
on SIGTERM, and tables that survive a restart."""

import datetime
import json
import os
import re
import subprocess
import time
import urllib.request
from decimal import Decimal

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import create, own_server, seedbed_binary, unique

JSON = "application/x-amz-json-1.0"


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def raw(server, operation, body, sign=True, secret=None, content_type=JSON):
    """POST `body` (bytes) with `X-Amz-Target: DynamoDB_20120810.<operation>`, SigV4-signed
    like an SDK would, without the SDK's own checks of the body."""
    headers = {"Content-Type": content_type, "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(server.access_key, secret or server.secret_key), "dynamodb", "us-east-1").add_auth(req)
    r = requests.post(server.endpoint + "/", data=body, headers=dict(req.headers.items()), timeout=30)
    return r


def wire_error(r):
    """(status, __type's short name, message) of an error response; the message member is
    `message` or `Message` as DynamoDB writes it."""
    body = r.json()
    return r.status_code, body["__type"].rsplit("#", 1)[-1], body.get("message", body.get("Message"))


# ---- bad input gets DynamoDB's error shapes -------------------------------------------------

def test_malformed_json_and_unknown_operations(server, table_s):
    r = raw(server, "PutItem", b'{"TableName": "' + table_s.name.encode() + b'", "Item": {')
    # DynamoDB's answer to a body that is not JSON carries no message (dynalite's tests).
    assert (r.status_code, r.json()) == (400, {"__type": "com.amazon.coral.service#SerializationException"})
    # The checksum boto3 verifies is there on errors too.
    import zlib
    assert int(r.headers["x-amz-crc32"]) == zlib.crc32(r.content)
    assert r.headers["content-type"] == JSON

    r = raw(server, "FlyToTheMoon", b"{}")
    assert r.status_code == 400
    assert r.json() == {"__type": "com.amazon.coral.service#UnknownOperationException"}
    # Before any signature: the body's type, its JSON, then the operation; a body of
    # another type is DynamoDB's 404 page.
    r = raw(server, "ListTables", b"{}", sign=False, content_type="text/plain")
    assert (r.status_code, r.content) == (404, b"<UnknownOperationException/>\n")
    r = raw(server, "ListTables", b"hi", sign=False)
    assert r.json() == {"__type": "com.amazon.coral.service#SerializationException"}
    r = raw(server, "FlyToTheMoon", b"{}", sign=False)
    assert r.json() == {"__type": "com.amazon.coral.service#UnknownOperationException"}
    r = raw(server, "ListTables", b"{}", sign=False)
    assert wire_error(r)[:2] == (400, "MissingAuthenticationTokenException")
    # application/json is answered as application/json.
    r = raw(server, "ListTables", b"{}", content_type="application/json")
    assert (r.status_code, r.headers["content-type"]) == (200, "application/json")

    # A member of the wrong JSON type.
    r = raw(server, "GetItem", json.dumps({"TableName": table_s.name, "Key": ["pk"]}).encode())
    assert wire_error(r)[:2] == (400, "SerializationException")
    # A value that is not an attribute value.
    r = raw(server, "GetItem", json.dumps({"TableName": table_s.name, "Key": {"pk": {"Q": "x"}}}).encode())
    assert wire_error(r)[:2] == (400, "SerializationException") or wire_error(r)[:2] == (400, "ValidationException")


def test_bad_keys_and_oversize_items(server, client, table_sn):
    name = table_sn.name
    r = raw(server, "PutItem", json.dumps({"TableName": name, "Item": {"pk": {"N": "1"}, "sk": {"N": "1"}}}).encode())
    assert wire_error(r) == (400, "ValidationException",
                             "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")
    with pytest.raises(ClientError) as e:
        client.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert e.value.response["Error"]["Message"] == "The provided key element does not match the schema"
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "x" * (400 * 1024)}})
    assert (code(e), e.value.response["Error"]["Message"]) == (
        "ValidationException", "Item size has exceeded the maximum allowed size")
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1e126"}})
    assert code(e) == "ValidationException"
    # Nothing of the refused writes was stored.
    assert client.scan(TableName=name)["Count"] == 0


def test_oversize_request_body_is_refused_before_it_is_read_whole(server):
    own_server(server)
    r = raw(server, "BatchWriteItem", b" " * (16 * 1024 * 1024 + 1), sign=False)
    assert r.status_code == 413
    assert r.json()["__type"] == "com.amazon.coral.service#SerializationException"
    # Refused on its declared length, unread: the connection is not kept for another request.
    assert r.headers.get("connection") == "close", r.headers


# ---- signatures and IAM from the server's IAM file ------------------------------------------

def test_signatures_are_checked(server):
    own_server(server)
    r = raw(server, "ListTables", b"{}", sign=False)
    assert wire_error(r)[:2] == (400, "MissingAuthenticationTokenException")
    r = raw(server, "ListTables", b"{}", secret="not-the-secret")
    assert wire_error(r)[:2] == (400, "InvalidSignatureException")
    with pytest.raises(ClientError) as e:
        server.client("AKIANOSUCHKEY0000000", "x").list_tables()
    assert code(e) == "UnrecognizedClientException"
    # A long-term key with a session token: the token is refused, not ignored (as at AWS).
    stale = boto3.session.Session(aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                                  aws_session_token="left-over-token", region_name="us-east-1")
    with pytest.raises(ClientError) as e:
        stale.client("dynamodb", endpoint_url=server.endpoint,
                     config=Config(retries={"max_attempts": 1})).list_tables()
    assert code(e) == "UnrecognizedClientException"


def eventually(f, deadline_s=10):
    """Retry `f` while the server has not yet reloaded the IAM file (at most once a second)."""
    deadline = time.time() + deadline_s
    while True:
        try:
            return f()
        except ClientError as e:
            # DynamoDB's and STS's words for a key the server does not know (yet).
            unknown = ("UnrecognizedClientException", "InvalidClientTokenId")
            if time.time() > deadline or e.response["Error"]["Code"] not in unknown:
                raise
            time.sleep(0.3)


def test_iam_leading_keys_attributes_select_and_return_values(server, client, resource, tmp_path):
    own_server(server)
    table = create(resource, range_key=("sk", "N"))
    user = f"player{os.getpid()}{int(time.time()) % 100000}"
    policy = tmp_path / "player.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "Resource": f"arn:aws:dynamodb:us-east-1:*:table/{table.name}",
        "Condition": {
            "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": ["${aws:username}"],
                "dynamodb:Attributes": ["pk", "sk", "score"],
            },
            "StringEqualsIfExists": {
                "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                "dynamodb:ReturnValues": ["NONE", "UPDATED_NEW"],
            },
        },
    }]}))
    out = json.loads(server.seedbed("iam", "user", "add", user, "--iam", str(server.iam),
                                    "--policy", str(policy), "--json"))
    mine = server.client(out["access_key"], out["secret_key"])
    eventually(lambda: mine.put_item(TableName=table.name, Item={"pk": {"S": user}, "sk": {"N": "1"}, "score": {"N": "10"}}))
    # Its own partition, allowed attributes: fine.
    got = mine.get_item(TableName=table.name, Key={"pk": {"S": user}, "sk": {"N": "1"}}, ProjectionExpression="score")
    assert got["Item"] == {"score": {"N": "10"}}
    r = mine.update_item(TableName=table.name, Key={"pk": {"S": user}, "sk": {"N": "1"}},
                         UpdateExpression="ADD score :d", ExpressionAttributeValues={":d": {"N": "5"}},
                         ReturnValues="UPDATED_NEW")
    assert r["Attributes"] == {"score": {"N": "15"}}
    r = mine.query(TableName=table.name, KeyConditionExpression="pk = :p",
                   ExpressionAttributeValues={":p": {"S": user}}, Select="SPECIFIC_ATTRIBUTES",
                   ProjectionExpression="sk, score")
    assert r["Count"] == 1
    # Someone else's partition (LeadingKeys), another attribute (Attributes), the whole item
    # (Select ALL_ATTRIBUTES), ALL_OLD (ReturnValues), an action the policy does not name:
    # denied, and nothing is written. (A GetItem without a projection names no attributes, so
    # a ForAllValues condition on dynamodb:Attributes holds; docs/dynamodb-compatibility.md.)
    denied = [
        lambda: mine.put_item(TableName=table.name, Item={"pk": {"S": "someone-else"}, "sk": {"N": "1"}}),
        lambda: mine.put_item(TableName=table.name, Item={"pk": {"S": user}, "sk": {"N": "2"}, "secret": {"S": "x"}}),
        lambda: mine.query(TableName=table.name, KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": user}}, Select="ALL_ATTRIBUTES"),
        lambda: mine.put_item(TableName=table.name, Item={"pk": {"S": user}, "sk": {"N": "3"}}, ReturnValues="ALL_OLD"),
        lambda: mine.delete_item(TableName=table.name, Key={"pk": {"S": user}, "sk": {"N": "1"}}),
    ]
    for i, call in enumerate(denied):
        try:
            call()
        except ClientError as e:
            err = e.response["Error"]
            assert err["Code"] == "AccessDeniedException", f"call {i}: {err}"
            assert user in err["Message"], f"call {i}: the message names the caller: {err}"
        else:
            pytest.fail(f"denied call {i} was allowed")
    items = client.scan(TableName=table.name)["Items"]
    assert items == [{"pk": {"S": user}, "sk": {"N": "1"}, "score": {"N": "15"}}]
    table.delete()


def test_caller_identity_and_a_table_policy_that_admits_another_account(server, client, resource):
    """`aws sts get-caller-identity` against the DynamoDB listener tells which identity a key
    is; a table's resource-based policy admits a principal of another account, for what it
    allows only, until it is deleted."""
    own_server(server)
    sts = server.session().client("sts", endpoint_url=server.endpoint, region_name="us-east-1")
    me = sts.get_caller_identity()
    assert me["Arn"].startswith(f"arn:aws:iam::{me['Account']}:user/") and me["UserId"]
    table = create(resource)
    client.put_item(TableName=table.name, Item={"pk": {"S": "k"}, "v": {"S": "1"}})
    arn = client.describe_table(TableName=table.name)["Table"]["TableArn"]
    user = f"partner{os.getpid()}{int(time.time()) % 100000}"
    out = json.loads(server.seedbed("iam", "user", "add", user, "--iam", str(server.iam),
                                    "--account", "210987654321", "--admin", "--json"))
    partner = server.client(out["access_key"], out["secret_key"])
    partner_sts = server.session(out["access_key"], out["secret_key"]).client(
        "sts", endpoint_url=server.endpoint, region_name="us-east-1")
    assert eventually(partner_sts.get_caller_identity)["Account"] == "210987654321"
    get = lambda: partner.get_item(TableName=arn, Key={"pk": {"S": "k"}})
    with pytest.raises(ClientError) as e:
        get()
    assert code(e) == "AccessDeniedException", "another account needs the table's leave"
    with pytest.raises(ClientError) as e:
        client.get_resource_policy(ResourceArn=arn)
    assert code(e) == "PolicyNotFoundException"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "210987654321"},
        "Action": "dynamodb:GetItem", "Resource": arn}]})
    rev = client.put_resource_policy(ResourceArn=arn, Policy=policy)["RevisionId"]
    assert client.get_resource_policy(ResourceArn=arn) | {"ResponseMetadata": None} == {
        "Policy": policy, "RevisionId": rev, "ResponseMetadata": None}
    assert get()["Item"] == {"pk": {"S": "k"}, "v": {"S": "1"}}
    with pytest.raises(ClientError) as e:
        partner.put_item(TableName=arn, Item={"pk": {"S": "x"}})
    assert code(e) == "AccessDeniedException", "only what the policy allows"
    with pytest.raises(ClientError) as e:
        client.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId="0")
    assert code(e) == "PolicyNotFoundException"
    client.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=rev)
    with pytest.raises(ClientError) as e:
        get()
    assert code(e) == "AccessDeniedException"
    table.delete()


# ---- metrics, access log, banner, stop and restart ------------------------------------------

def metric(text, name, operation):
    m = re.search(rf'^{name}{{operation="{operation}"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def test_sts_assume_role_mints_sessions_that_iam_bounds(server, client, resource, tmp_path):
    """`aws sts assume-role` against the DynamoDB listener: the role's trust policy and the
    caller's own policies decide; the session's keys work at once, on both listeners, as far as
    the role's policies (narrowed by a session policy) allow; the sessions are kept in the IAM
    file; what STS refuses is refused in its words, and what is not served is named."""
    own_server(server)
    table = create(resource)
    client.put_item(TableName=table.name, Item={"pk": {"S": "k"}, "v": {"S": "1"}})
    n = f"{os.getpid()}{int(time.time()) % 100000}"
    files = {}
    for name, doc in {
        "caller": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]},
        "trust": {"Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"],
                                 "Principal": {"AWS": f"arn:aws:iam::123456789012:user/bob{n}"}}]},
        "reader": {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Scan"],
                                  "Resource": "*"}]},
    }.items():
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps({"Version": "2012-10-17", **doc}))
    keys = {}
    for who in ("bob", "carol"):
        keys[who] = json.loads(server.seedbed("iam", "user", "add", f"{who}{n}", "--iam", str(server.iam),
                                              "--policy", str(files["caller"]), "--json"))
    server.seedbed("iam", "role", "add", f"Reader{n}", "--iam", str(server.iam),
                   "--trust", str(files["trust"]), "--policy", str(files["reader"]))
    role = f"arn:aws:iam::123456789012:role/Reader{n}"

    def sts_of(access_key, secret_key, token=None):
        return boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                                     aws_session_token=token, region_name="us-east-1").client(
            "sts", endpoint_url=server.endpoint, config=Config(retries={"max_attempts": 1}))

    bob = sts_of(keys["bob"]["access_key"], keys["bob"]["secret_key"])
    r = eventually(lambda: bob.assume_role(RoleArn=role, RoleSessionName="bob-1", DurationSeconds=900,
                                           Tags=[{"Key": "team", "Value": "storage"}]))
    c, me = r["Credentials"], f"arn:aws:sts::123456789012:assumed-role/Reader{n}/bob-1"
    assert c["AccessKeyId"].startswith("ASIA") and r["AssumedRoleUser"]["Arn"] == me
    assert r["AssumedRoleUser"]["AssumedRoleId"].endswith(":bob-1")
    left = (c["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 840 < left <= 900, left

    def as_session(c, service):
        return boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                     aws_session_token=c["SessionToken"], region_name="us-east-1").client(
            service, endpoint_url=server.endpoint if service != "s3" else server.s3_endpoint,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))

    # At once, without waiting for a reload: reads allowed, writes not; the S3 listener knows
    # the key too (and denies: the role gives no S3 rights).
    ddb = as_session(c, "dynamodb")
    assert ddb.get_item(TableName=table.name, Key={"pk": {"S": "k"}})["Item"]["v"] == {"S": "1"}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table.name, Item={"pk": {"S": "k2"}})
    assert code(e) == "AccessDeniedException" and me in str(e.value)
    assert as_session(c, "sts").get_caller_identity()["Arn"] == me
    # Temporary keys without their session token (or with another) are not the session's.
    for token in (None, c["SessionToken"][:-4] + "AAAA"):
        bare = boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                     aws_session_token=token, region_name="us-east-1")
        with pytest.raises(ClientError) as e:
            bare.client("dynamodb", endpoint_url=server.endpoint, config=Config(retries={"max_attempts": 1})) \
                .get_item(TableName=table.name, Key={"pk": {"S": "k"}})
        assert code(e) == "UnrecognizedClientException", e.value.response["Error"]
        with pytest.raises(ClientError) as e:
            bare.client("sts", endpoint_url=server.endpoint).get_caller_identity()
        assert code(e) == "InvalidClientTokenId", e.value.response["Error"]
    with pytest.raises(ClientError) as e:
        as_session(c, "s3").list_buckets()
    assert code(e) == "AccessDenied" and me in str(e.value)
    # A session policy narrows the role: Scan only.
    only_scan = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}]})
    narrow = as_session(bob.assume_role(RoleArn=role, RoleSessionName="bob-2", Policy=only_scan)["Credentials"],
                        "dynamodb")
    assert narrow.scan(TableName=table.name)["Count"] == 1
    with pytest.raises(ClientError) as e:
        narrow.get_item(TableName=table.name, Key={"pk": {"S": "k"}})
    assert code(e) == "AccessDeniedException"
    # Kept where `seedbed iam assume-role` keeps them: the IAM file.
    recorded = [s["session_name"] for s in json.loads(server.iam.read_text())["sessions"]]
    assert "bob-1" in recorded and "bob-2" in recorded
    shown = server.seedbed("iam", "show", "--iam", str(server.iam))
    assert f"session Reader{n}/bob-1  key: {c['AccessKeyId']}" in shown and c["SecretAccessKey"] not in shown
    # Refused: a user the trust policy does not name, a role that does not exist, a session
    # assuming a role (role chaining), a policy that is no JSON, parameters not served.
    carol = sts_of(keys["carol"]["access_key"], keys["carol"]["secret_key"])
    refusals = [
        (lambda: eventually(lambda: carol.assume_role(RoleArn=role, RoleSessionName="c1")), "AccessDenied", "trust policy"),
        (lambda: bob.assume_role(RoleArn=role + "x", RoleSessionName="b3"), "AccessDenied", "no such role"),
        (lambda: as_session(c, "sts").assume_role(RoleArn=role, RoleSessionName="b4"), "AccessDenied",
         f"{me} may not assume {role}"),
        (lambda: as_session(c, "sts").assume_role(RoleArn=role, RoleSessionName="b8", DurationSeconds=7200),
         "ValidationError", "role chaining"),
        (lambda: bob.assume_role(RoleArn=role, RoleSessionName="b5", Policy="{not json"), "MalformedPolicyDocument", "JSON"),
        (lambda: bob.assume_role(RoleArn=role, RoleSessionName="b6", SerialNumber="arn:aws:iam::123456789012:mfa/b",
                                 TokenCode="123456"), "ValidationError", "SerialNumber"),
        (lambda: bob.assume_role(RoleArn="arn:aws:iam::123456789012:user/Reader", RoleSessionName="b7"), "ValidationError", "RoleArn"),
    ]
    for call, want, words in refusals:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == want and words in e.value.response["Error"]["Message"], e.value.response["Error"]
    # Role chaining: a role whose trust policy names Reader is assumed by Reader's session, for
    # an hour at most.
    hop_trust = tmp_path / "hop-trust.json"
    hop_trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "sts:AssumeRole", "Principal": {"AWS": role}}]}))
    server.seedbed("iam", "role", "add", f"Hop{n}", "--iam", str(server.iam),
                   "--trust", str(hop_trust), "--policy", str(files["reader"]))
    hop = eventually(lambda: as_session(c, "sts").assume_role(
        RoleArn=f"arn:aws:iam::123456789012:role/Hop{n}", RoleSessionName="hop-1"))
    assert hop["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::123456789012:assumed-role/Hop{n}/hop-1"
    assert as_session(hop["Credentials"], "sts").get_caller_identity()["Arn"] == hop["AssumedRoleUser"]["Arn"]
    table.delete()


def test_one_endpoint_for_every_service(server, client, resource):
    """A client given one endpoint for every service (AWS_ENDPOINT_URL set to the S3 address,
    as LocalStack users set theirs) reaches DynamoDB, STS and S3 there: the S3 listener hands
    requests with DynamoDB's `X-Amz-Target` to the same tables, with the same signatures and
    IAM, and form POSTs to `/` to STS."""
    own_server(server)
    table = create(resource)
    one = server.session()
    ddb = one.client("dynamodb", endpoint_url=server.s3_endpoint, config=Config(retries={"max_attempts": 1}))
    ddb.put_item(TableName=table.name, Item={"pk": {"S": "via-s3-port"}, "v": {"N": "1"}})
    got = client.get_item(TableName=table.name, Key={"pk": {"S": "via-s3-port"}})["Item"]
    assert got == {"pk": {"S": "via-s3-port"}, "v": {"N": "1"}}, "the same tables on both ports"
    assert table.name in ddb.list_tables()["TableNames"]
    me = one.client("sts", endpoint_url=server.s3_endpoint).get_caller_identity()
    assert me["Arn"].endswith(":user/admin")
    assert "Buckets" in one.client("s3", endpoint_url=server.s3_endpoint).list_buckets()
    # Signatures are checked as on the DynamoDB port.
    bad = server.session(server.access_key, "not-the-secret").client(
        "dynamodb", endpoint_url=server.s3_endpoint, config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        bad.list_tables()
    assert code(e) == "InvalidSignatureException"
    table.delete()


def test_metrics_count_operations(server, client, table_s):
    own_server(server)
    before = urllib.request.urlopen(server.metrics, timeout=10).read().decode()
    client.put_item(TableName=table_s.name, Item={"pk": {"S": "m"}})
    client.get_item(TableName=table_s.name, Key={"pk": {"S": "m"}})
    with pytest.raises(ClientError):
        client.put_item(TableName=table_s.name, Item={"pk": {"S": "m"}}, ConditionExpression="attribute_not_exists(pk)")
    after = urllib.request.urlopen(server.metrics, timeout=10).read().decode()
    delta = lambda name, op: metric(after, name, op) - metric(before, name, op)
    assert delta("dynamodb_requests_total", "PutItem") == 2
    assert delta("dynamodb_requests_total", "GetItem") == 1
    assert delta("dynamodb_user_errors_total", "PutItem") == 1
    assert delta("dynamodb_conditional_check_failed_requests_total", "PutItem") == 1
    assert delta("dynamodb_successful_request_latency_seconds_count", "PutItem") == 1
    assert 'dynamodb_errors_total{operation="PutItem",error="ConditionalCheckFailedException"}' in after
    log = (server.workdir / "serve.log").read_text()
    assert re.search(r'endpoint="?dynamodb"? .*principal=arn:aws:iam::\d+:user/admin operation=GetItem status=200', log), \
        "the access log has a line per request"


def test_banner_help_sigterm_and_restart(fresh_server, tmp_path):
    help_text = subprocess.run([seedbed_binary(), "serve", "--help"], check=True, capture_output=True).stdout.decode()
    assert "--dynamodb-addr" in help_text and "STORE/dynamodb/" in help_text

    # The banner a person sees.
    store = tmp_path / "store"
    p = subprocess.Popen([seedbed_binary(), "serve", "--store", str(store), "--s3-addr", "127.0.0.1:0",
                          "--dynamodb-addr", "127.0.0.1:0", "--metrics-addr", "off"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        for line in p.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        banner = "".join(lines)
        assert re.search(r"DynamoDB +http://127\.0\.0\.1:\d+ +\(tables in .*store/dynamodb\)", banner), banner
        assert re.search(r"aws --endpoint-url http://127\.0\.0\.1:\d+ --region us-east-1 dynamodb list-tables", banner), banner
    finally:
        p.terminate()
        assert p.wait(timeout=15) == 0, "SIGTERM stops the server cleanly"

    # Acknowledged writes survive a stop and a restart (writes synced, as by default).
    s = fresh_server()
    c = s.client()
    name = unique()
    c.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    c.put_item(TableName=name, Item={"pk": {"S": "kept"}, "n": {"N": "12345678901234567890123456789012345678"}})
    assert s.stop() == 0, "SIGTERM: exit status 0"
    s.start()
    c = s.client()
    assert c.get_item(TableName=name, Key={"pk": {"S": "kept"}})["Item"]["n"] == {"N": "12345678901234567890123456789012345678"}
    assert name in c.list_tables()["TableNames"]
    assert (s.store / "dynamodb").is_dir()


def test_a_store_past_its_space_reserve_takes_deletes_only(fresh_server):
    """`--space-reserve` larger than the disk makes every file system "nearly full" without
    filling one: what adds to the store — an item, a table, an object — is refused before
    anything is written (DynamoDB: 500 InternalServerError with the reason, as a full disk
    answers; S3: 507 InsufficientStorage), while reads and deletes of both go through."""
    s = fresh_server()
    c, s3 = s.client(), s.s3()
    c.create_table(TableName="kept", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")
    for k in ("a", "b"):
        c.put_item(TableName="kept", Item={"pk": {"S": k}, "v": {"N": "1"}})
    s3.create_bucket(Bucket="kept")
    s3.put_object(Bucket="kept", Key="o", Body=b"x" * 1000)
    s.stop()
    s.extra = ["--space-reserve", "1000T"]
    s.start()
    c, s3 = s.client(), s.s3()

    def refused_500(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        err = e.value.response
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 500, err
        assert err["Error"]["Code"] == "InternalServerError", err
        assert "nearly full" in err["Error"]["Message"] and "deletes only" in err["Error"]["Message"], err

    refused_500(c.put_item, TableName="kept", Item={"pk": {"S": "c"}})
    refused_500(c.update_item, TableName="kept", Key={"pk": {"S": "a"}},
                UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    refused_500(c.batch_write_item, RequestItems={"kept": [
        {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}, {"PutRequest": {"Item": {"pk": {"S": "d"}}}}]})
    refused_500(c.execute_statement, Statement="INSERT INTO kept VALUE {'pk': 'e'}")
    refused_500(c.create_table, TableName="more", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="kept", Key="p", Body=b"y")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 507
    assert e.value.response["Error"]["Code"] == "InsufficientStorage"

    # Reads and deletes go through.
    assert c.get_item(TableName="kept", Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    c.delete_item(TableName="kept", Key={"pk": {"S": "a"}})
    c.batch_write_item(RequestItems={"kept": [{"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]})
    assert c.scan(TableName="kept")["Count"] == 0
    assert s3.get_object(Bucket="kept", Key="o")["Body"].read() == b"x" * 1000
    s3.delete_object(Bucket="kept", Key="o")
    c.delete_table(TableName="kept")
