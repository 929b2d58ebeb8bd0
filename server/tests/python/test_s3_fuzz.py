"""Seeded request fuzzing of the S3 endpoint over HTTP: signed requests, mostly shaped like S3's
operations (subresources, conditional and range headers, checksums, copy sources, tags,
configuration documents, browser forms), with odd values and documents cut short or nested
wrongly. Whatever arrives, the server answers with S3's error document or the operation's
result — never a 500, never a dropped connection — and is still serving at the end, with no
panic in its log.

CI sends a few hundred; a campaign sends more:
SEEDBED_FUZZ_REQUESTS=20000 SEEDBED_FUZZ_SEED=7 pytest server/tests/python/test_s3_fuzz.py
A failure names its seed and request number, and the request.
"""

import base64
import collections
import hashlib
import os
import random
import urllib.parse

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SEED = int(os.environ.get("SEEDBED_FUZZ_SEED", "1"))
REQUESTS = int(os.environ.get("SEEDBED_FUZZ_REQUESTS", "400"))

BUCKETS = ["fuzz-a", "fuzz-b", "nosuch-bucket", "A_b", "x" * 64, "fuzz-a..b"]
KEYS = ["k", "dir/k", "../etc/passwd", "sp ace", "ünï/ç", "a%2Fb", "x" * 1025, "", "\u00e9" * 300,
        "q?x=1", "t#h", "+plus"]
SUBRESOURCES = [
    "", "acl", "tagging", "lifecycle", "cors", "policy", "versioning", "uploads", "versions",
    "location", "encryption", "object-lock", "retention", "legal-hold", "website",
    "notification", "policyStatus", "ownershipControls", "publicAccessBlock", "restore",
    "attributes", "select&select-type=2", "list-type=2", "list-type=2&max-keys=-1",
    "list-type=2&continuation-token=%%%", "delete", "uploadId=nope&partNumber=1",
    "uploadId=nope", "partNumber=0", "versionId=null", "versionId=zz", "max-keys=abc",
    "prefix=%FF&delimiter=", "encoding-type=base64", "key-marker=k&version-id-marker=v",
]
CONFIG_ELEMENTS = [
    "LifecycleConfiguration", "Rule", "ID", "Filter", "Prefix", "Status", "Expiration", "Days",
    "Date", "Transition", "StorageClass", "NoncurrentVersionExpiration", "NoncurrentDays",
    "AbortIncompleteMultipartUpload", "DaysAfterInitiation", "And", "Tag", "Key", "Value",
    "Tagging", "TagSet", "CORSConfiguration", "CORSRule", "AllowedOrigin", "AllowedMethod",
    "AllowedHeader", "MaxAgeSeconds", "VersioningConfiguration", "MfaDelete", "Delete",
    "Object", "VersionId", "Quiet", "CompleteMultipartUpload", "Part", "PartNumber", "ETag",
    "ServerSideEncryptionConfiguration", "ApplyServerSideEncryptionByDefault",
    "SSEAlgorithm", "KMSMasterKeyID", "ObjectLockConfiguration", "ObjectLockEnabled",
    "DefaultRetention", "Mode", "Years", "Retention", "RetainUntilDate", "LegalHold",
    "AccessControlPolicy", "Owner", "AccessControlList", "Grant", "Grantee", "Permission",
    "RestoreRequest", "GlacierJobParameters", "Tier", "SelectObjectContentRequest",
    "Expression", "ExpressionType", "InputSerialization", "CSV", "OutputSerialization",
    "PublicAccessBlockConfiguration", "BlockPublicAcls", "OwnershipControls",
    "ObjectOwnership", "CreateBucketConfiguration", "LocationConstraint",
]
TEXTS = ["", "1", "-1", "0", "99999999999999999999", "Enabled", "Disabled", "GLACIER",
         "2026-01-01T00:00:00Z", "not-a-date", "*", "GET", "k", "&amp;", "&bogus;", "]]>",
         "\u00e9", "AES256", "aws:kms", "COMPLIANCE", "GOVERNANCE", "SELECT * FROM S3Object",
         "SELECT s.a FROM S3Object s WHERE", "SQL", "Expedited", "true", "x" * 3000]
HEADERS = [
    ("Range", ["bytes=0-0", "bytes=-1", "bytes=5-", "bytes=9-1", "bytes=", "bytes=a-b",
               "items=0-1", "bytes=0-1,3-4", "bytes=99999999999999999999-"]),
    ("If-Match", ['"x"', "*", "", '"', "W/\"x\""]),
    ("If-None-Match", ['"x"', "*", ""]),
    ("If-Modified-Since", ["Sat, 01 Jan 2000 00:00:00 GMT", "yesterday", "", "0"]),
    ("If-Unmodified-Since", ["Sat, 01 Jan 2000 00:00:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT"]),
    ("x-amz-copy-source", ["fuzz-a/k", "/fuzz-a/k?versionId=zz", "fuzz-a", "/", "%", "fuzz-a/%FF",
                           "nosuch-bucket/k", "fuzz-a/k?versionId="]),
    ("x-amz-copy-source-range", ["bytes=0-0", "bytes=x", "bytes=5-1"]),
    ("x-amz-metadata-directive", ["COPY", "REPLACE", "MERGE"]),
    ("Content-MD5", ["1B2M2Y8AsgTpgAmY7PhCfg==", "x", "", "AAAA"]),
    ("x-amz-checksum-crc32", ["AAAAAA==", "x", ""]),
    ("x-amz-checksum-sha256", ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "=="]),
    ("x-amz-sdk-checksum-algorithm", ["CRC32", "MD5", "CRC64NVME", "x"]),
    ("x-amz-tagging", ["a=b", "a=b&a=c", "=", "%", "k=" + "v" * 300, "a"]),
    ("x-amz-meta-a.b_c", ["v"]),
    ("x-amz-meta-x", ["\u00e9\u00e9", "", "v" * 3000]),
    ("x-amz-acl", ["public-read", "private", "bogus", "authenticated-read"]),
    ("x-amz-server-side-encryption", ["AES256", "aws:kms", "bogus"]),
    ("x-amz-server-side-encryption-customer-algorithm", ["AES256", "x"]),
    ("x-amz-server-side-encryption-customer-key", ["x", base64.b64encode(b"k" * 32).decode()]),
    ("x-amz-object-lock-mode", ["GOVERNANCE", "COMPLIANCE", "x"]),
    ("x-amz-object-lock-retain-until-date", ["2030-01-01T00:00:00Z", "soon"]),
    ("x-amz-storage-class", ["GLACIER", "STANDARD_IA", "bogus"]),
    ("x-amz-bypass-governance-retention", ["true", "maybe"]),
    ("Expires", ["0", "Thu, 01 Dec 1994 16:00:00 GMT", "\u00e9"]),
    ("Content-Type", ["multipart/form-data; boundary=b", "multipart/form-data; boundary=",
                      "multipart/form-data", "text/plain; charset=\u00e9", ""]),
    ("x-amz-expected-bucket-owner", ["123456789012", "x"]),
    ("x-amz-mfa", ["a b", "x"]),
    ("x-amz-request-payer", ["requester"]),
    ("x-amz-optional-object-attributes", ["RestoreStatus", "x"]),
    ("x-amz-object-attributes", ["ETag,ObjectSize", "x"]),
    ("x-amz-max-parts", ["-1", "x"]),
]


def xml_doc(rng, depth=0):
    """A document of S3's configuration elements, nested at random, now and then cut short."""
    name = rng.choice(CONFIG_ELEMENTS)
    if depth > 3 or rng.random() < 0.4:
        inner = rng.choice(TEXTS)
        inner = inner.replace("&", "&amp;") if rng.random() < 0.7 else inner
    else:
        inner = "".join(xml_doc(rng, depth + 1) for _ in range(rng.randrange(0, 4)))
    doc = f"<{name}>{inner}</{name}>"
    if depth == 0 and rng.random() < 0.1:
        doc = doc[: rng.randrange(0, len(doc) + 1)]
    if depth == 0 and rng.random() < 0.3:
        doc = '<?xml version="1.0" encoding="UTF-8"?>' + doc
    return doc


def form_body(rng, boundary):
    """A browser-form upload (POST Object), with fields and a file, now and then malformed."""
    fields = [("key", rng.choice(KEYS + ["${filename}"])), ("acl", rng.choice(["private", "x"])),
              ("policy", rng.choice(["", "e30=", "!!", base64.b64encode(b'{"expiration":"x"}').decode()])),
              ("x-amz-signature", "00"), ("tagging", xml_doc(rng)), ("success_action_status", "201")]
    rng.shuffle(fields)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in fields[: rng.randrange(0, len(fields) + 1)]]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
                 f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n")
    body = "".join(parts).encode()
    if rng.random() < 0.3:
        body = body[: rng.randrange(0, len(body) + 1)]
    return body


def fuzz_request(rng, endpoint):
    method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST", "GET", "PUT"])
    bucket = rng.choice(BUCKETS[:2] * 4 + BUCKETS)
    path = "/" + urllib.parse.quote(bucket, safe="")
    if rng.random() < 0.7:
        path += "/" + urllib.parse.quote(rng.choice(KEYS), safe="/")
    query = rng.choice(SUBRESOURCES)
    headers = {}
    for _ in range(rng.randrange(0, 4)):
        name, values = rng.choice(HEADERS)
        headers[name] = rng.choice(values)
    body = b""
    r = rng.random()
    if method in ("PUT", "POST"):
        if headers.get("Content-Type", "").startswith("multipart/form-data") or (method == "POST" and r < 0.2):
            boundary = rng.choice(["b", "----x", "é"])
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            body = form_body(rng, boundary)
        elif r < 0.6:
            body = xml_doc(rng).encode()
        elif r < 0.7:
            body = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::fuzz-a/*","Condition":{"StringLike":{"aws:Referer":["x"]}}}]}'.encode()
            if rng.random() < 0.5:
                body = body[: rng.randrange(0, len(body))]
        else:
            body = os.urandom(0) + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
    if rng.random() < 0.1 and "Content-MD5" not in headers:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    url = endpoint + path + ("?" + query if query else "")
    return method, url, headers, body


def sign(method, url, headers, body, access_key, secret_key):
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    S3SigV4Auth(Credentials(access_key, secret_key), "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def test_fuzzed_requests_get_s3_answers(server):
    rng = random.Random(SEED)
    s3 = server.client()
    # One plain bucket, one versioned with Object Lock (versions, delete markers, retention).
    s3.create_bucket(Bucket=BUCKETS[0])
    s3.create_bucket(Bucket=BUCKETS[1], ObjectLockEnabledForBucket=True)
    for b in BUCKETS[:2]:
        s3.put_object(Bucket=b, Key="k", Body=b"0123456789")
    session = requests.Session()
    statuses = collections.Counter()
    before = None
    for i in range(REQUESTS):
        method, url, headers, body = fuzz_request(rng, server.endpoint)
        signed = sign(method, url, headers, body, server.access_key, server.secret_key)
        if rng.random() < 0.05:
            # Changed after signing: refused (403), never trusted.
            k = rng.choice(list(signed))
            signed[k] = signed[k][:-1] if signed[k] else "\u00e9"
        # Header values as UTF-8 bytes (http.client would refuse the str of a non-Latin-1 one).
        signed = {k: v.encode() if isinstance(v, str) else v for k, v in signed.items()}
        at = f"seed {SEED}, request {i}: {method} {url} {headers} {body[:300]!r}"
        try:
            r = session.request(method, url, headers=signed, data=body, timeout=30, allow_redirects=False)
        except requests.exceptions.ConnectionError as e:
            pytest.fail(f"{at}: connection failed: {e}; the request before: {before}")
        statuses[r.status_code] += 1
        before = f"{at}: {r.status_code} {dict(r.headers)}"
        assert r.status_code < 500 or r.status_code in (501, 503), f"{at}: {r.status_code} {r.text[:500]}"
        if r.status_code >= 400 and method != "HEAD" and r.content:
            assert b"<Code>" in r.content, f"{at}: {r.status_code} error without S3's document: {r.text[:500]}"
    # What the requests got (`-s` shows it): a fuzzer whose requests all fail the signature
    # check tests nothing behind it.
    print("statuses:", sorted(statuses.items()))
    assert statuses[200] + statuses[204] > REQUESTS // 10, statuses
    # Still serving, and nothing panicked on the way.
    assert s3.list_buckets()["Buckets"]
    log = (server.workdir / "serve.log").read_text(errors="replace")
    assert "panicked" not in log, log[-3000:]


IAM_ACTIONS = [
    "CreateUser", "GetUser", "UpdateUser", "DeleteUser", "ListUsers", "CreateAccessKey",
    "UpdateAccessKey", "DeleteAccessKey", "ListAccessKeys", "GetAccessKeyLastUsed", "CreateGroup",
    "GetGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup", "ListGroupsForUser",
    "CreateRole", "GetRole", "UpdateRole", "UpdateAssumeRolePolicy", "DeleteRole", "ListRoles",
    "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy", "ListUserPolicies", "AttachUserPolicy",
    "DetachUserPolicy", "PutGroupPolicy", "PutRolePolicy", "AttachRolePolicy", "CreatePolicy",
    "CreatePolicyVersion", "GetPolicy", "GetPolicyVersion", "DeletePolicy", "TagUser", "UntagUser",
    "TagRole", "ListUserTags", "PutUserPermissionsBoundary", "PutRolePermissionsBoundary",
    "UploadSigningCertificate", "UploadServerCertificate", "CreateOpenIDConnectProvider",
    "GetAccountSummary", "GenerateCredentialReport", "GetCredentialReport",
    "GetAccountAuthorizationDetails", "SimulatePrincipalPolicy", "NoSuchAction",
]
# Names the fuzzer may create, change and delete: never the server's administrator.
IAM_NAMES = ["fz1", "fz2", "fz+=,.@-_", "", "x" * 129, "ünï", "fz1/x"]
POLICY = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
          '"Resource":"arn:aws:s3:::fuzz-a/${aws:username}/*","Condition":{"IpAddress":'
          '{"aws:SourceIp":"10.0.0.0/8"}}}]}')
TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
         '{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}')


def iam_params(rng):
    """A form's parameters: IAM's, with values that are valid, odd, or cut short."""
    doc = rng.choice([POLICY, TRUST, "{}", "[]", "not json", POLICY.replace("s3:", "s3"),
                      POLICY[: rng.randrange(len(POLICY))], POLICY.replace("2012-10-17", "2008-10-17")])
    candidates = {
        "UserName": rng.choice(IAM_NAMES), "GroupName": rng.choice(IAM_NAMES),
        "RoleName": rng.choice(IAM_NAMES), "PolicyName": rng.choice(IAM_NAMES),
        "NewUserName": rng.choice(IAM_NAMES), "Path": rng.choice(["/", "/a/", "a", "//", "/é/"]),
        "PolicyDocument": doc, "AssumeRolePolicyDocument": doc,
        "PolicyArn": rng.choice(["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/fz1",
                                 "arn", "arn:aws:iam::123456789012:policy/"]),
        "PermissionsBoundary": rng.choice(["arn:aws:iam::aws:policy/ReadOnlyAccess", "x"]),
        "AccessKeyId": rng.choice(["AKIAXXXXXXXXXXXXXXXX", "x", ""]),
        "Status": rng.choice(["Active", "Inactive", "Bogus"]),
        "MaxItems": rng.choice(["1", "0", "-1", "1001", "x"]), "Marker": rng.choice(["x", "", "%%"]),
        "Tags.member.1.Key": rng.choice(["k", "", "aws:x"]), "Tags.member.1.Value": rng.choice(["v", "x" * 300]),
        "TagKeys.member.1": "k", "VersionId": rng.choice(["v1", "v2", "x"]),
        "SetAsDefault": rng.choice(["true", "false", "x"]), "MaxSessionDuration": rng.choice(["3600", "1", "x"]),
        "CertificateBody": rng.choice(["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "x"]),
        "PrivateKey": "x", "ServerCertificateName": rng.choice(IAM_NAMES),
        "Url": rng.choice(["https://issuer.example.com", "http://x", "x"]),
        "ThumbprintList.member.1": rng.choice(["a" * 40, "x"]), "ClientIDList.member.1": "c",
        "PolicySourceArn": "arn:aws:iam::123456789012:user/fz1", "ActionNames.member.1": "s3:GetObject",
        "Filter.member.1": rng.choice(["User", "Role", "x"]),
    }
    keys = rng.sample(sorted(candidates), rng.randrange(0, 7))
    return {k: candidates[k] for k in keys}


def test_fuzzed_iam_and_sts_requests_get_their_answers(fresh_server):
    # IAM's and STS's query protocol (a signed form POST to `/`) at the same endpoint: random
    # actions with parameters valid, odd or cut short. The answers are IAM's or STS's XML —
    # a result or an error with its Code — never a 500 or a dropped connection.
    server = fresh_server()
    rng = random.Random(SEED * 7919)
    session = requests.Session()
    statuses = collections.Counter()
    for i in range(REQUESTS // 2):
        sts = rng.random() < 0.2
        params = iam_params(rng)
        if sts:
            params = {**params, "Action": rng.choice(["AssumeRole", "GetCallerIdentity", "GetSessionToken",
                                                      "AssumeRoleWithWebIdentity", "x"]),
                      "Version": "2011-06-15",
                      "RoleArn": rng.choice(["arn:aws:iam::123456789012:role/fz1", "x"]),
                      "RoleSessionName": rng.choice(["s", "", "x" * 65]),
                      "DurationSeconds": rng.choice(["900", "1", "x", "43201"])}
        else:
            params = {**params, "Action": rng.choice(IAM_ACTIONS), "Version": "2010-05-08"}
        body = urllib.parse.urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        req = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
        S3SigV4Auth(Credentials(server.access_key, server.secret_key), "sts" if sts else "iam",
                    "us-east-1").add_auth(req)
        signed = {k: v.encode() if isinstance(v, str) else v for k, v in req.headers.items()}
        at = f"seed {SEED}, IAM request {i}: {params}"
        try:
            r = session.post(server.endpoint + "/", headers=signed, data=body, timeout=30)
        except requests.exceptions.ConnectionError as e:
            pytest.fail(f"{at}: connection failed: {e}")
        statuses[r.status_code] += 1
        assert r.status_code < 500 or r.status_code == 501, f"{at}: {r.status_code} {r.text[:500]}"
        if r.status_code >= 400:
            assert b"<Code>" in r.content, f"{at}: {r.status_code} without IAM's error: {r.text[:500]}"
    print("statuses:", sorted(statuses.items()))
    assert statuses[200] > REQUESTS // 20, statuses
    log = (server.workdir / "serve.log").read_text(errors="replace")
    assert "panicked" not in log, log[-3000:]
