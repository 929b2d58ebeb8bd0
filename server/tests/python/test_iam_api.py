"""IAM over HTTP with boto3's own IAM and STS clients, at the server's one endpoint: an
administrator makes a user and a key, the key signs at once and is refused what no policy
allows, a user policy (then a group's managed policy) grants it, a role is made and assumed,
and a user without IAM rights cannot change IAM. What each call answers is IAM's shape, so
these run unchanged against AWS."""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def iam_client(server, access_key=None, secret_key=None, session_token=None, service="iam"):
    return boto3.client(
        service, endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=access_key or server.access_key,
        aws_secret_access_key=secret_key or server.secret_key,
        aws_session_token=session_token,
        config=Config(retries={"max_attempts": 1}),
    )


def code(e):
    return e.value.response["Error"]["Code"]


def allow(*actions, resource="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": resource}]})


def test_a_new_users_key_signs_at_once_and_its_policies_decide(server, bucket):
    iam = iam_client(server)
    user = iam.create_user(UserName="carol", Path="/team/")["User"]
    assert user["Arn"] == "arn:aws:iam::123456789012:user/team/carol"
    assert user["UserId"].startswith("AIDA")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    s3 = server.client(key["AccessKeyId"], key["SecretAccessKey"])
    # Signs (no InvalidAccessKeyId), but nothing allows it yet.
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket)
    assert code(e) == "AccessDenied"
    # The document is answered as it was written.
    doc = allow("s3:ListBucket", resource=f"arn:aws:s3:::{bucket}")
    iam.put_user_policy(UserName="carol", PolicyName="list", PolicyDocument=doc)
    got = iam.get_user_policy(UserName="Carol", PolicyName="list")
    assert json.dumps(got["PolicyDocument"]) == doc
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code(e) == "AccessDenied"
    # A group's managed policy reaches its members.
    iam.create_group(GroupName="writers")
    iam.add_user_to_group(GroupName="writers", UserName="carol")
    iam.attach_group_policy(GroupName="writers", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # Deactivated, the key no longer signs.
    iam.update_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket)
    assert code(e) == "InvalidAccessKeyId"


def test_iam_itself_is_decided_by_iam(server):
    iam = iam_client(server)
    iam.create_user(UserName="dave")
    key = iam.create_access_key(UserName="dave")["AccessKey"]
    dave = iam_client(server, key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        dave.create_user(UserName="eve")
    assert code(e) == "AccessDenied"
    assert "iam:CreateUser" in e.value.response["Error"]["Message"]
    iam.attach_user_policy(UserName="dave", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    names = [u["UserName"] for u in dave.list_users()["Users"]]
    assert "dave" in names and "admin" in names
    with pytest.raises(ClientError) as e:
        dave.delete_user(UserName="admin")
    assert code(e) == "AccessDenied"


def test_conflicts_quotas_and_missing_entities_are_iams_errors(server):
    iam = iam_client(server)
    iam.create_user(UserName="frank")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName="FRANK")
    iam.create_access_key(UserName="frank")
    iam.create_access_key(UserName="frank")
    with pytest.raises(iam.exceptions.LimitExceededException):
        iam.create_access_key(UserName="frank")
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="frank")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="nobody")
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.put_user_policy(UserName="frank", PolicyName="p", PolicyDocument='{"Version": "2012-10-17"}')
    with pytest.raises(ClientError) as e:
        iam.list_mfa_devices(UserName="frank")
    assert code(e) == "InvalidAction"


def test_a_role_made_over_iam_is_assumed_over_sts(server, bucket):
    iam = iam_client(server)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
        "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="Reader", Path="/svc/", AssumeRolePolicyDocument=trust)["Role"]
    assert role["Arn"] == "arn:aws:iam::123456789012:role/svc/Reader"
    assert role["MaxSessionDuration"] == 3600
    iam.put_role_policy(RoleName="Reader", PolicyName="read", PolicyDocument=allow("s3:ListBucket"))
    sts = iam_client(server, service="sts")
    # One hour is the role's limit unless it says otherwise.
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    assert code(e) == "ValidationError"
    iam.update_role(RoleName="Reader", MaxSessionDuration=7200)
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)["Credentials"]
    s3 = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code(e) == "AccessDenied"
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_role(RoleName="Reader")
    iam.delete_role_policy(RoleName="Reader", PolicyName="read")
    iam.delete_role(RoleName="Reader")
    # The role's sessions went with it.
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket)
    assert code(e) in ("InvalidAccessKeyId", "InvalidToken")


def test_principal_tags_set_over_iam_decide_conditions(server, bucket):
    iam = iam_client(server)
    iam.create_user(UserName="gina", Tags=[{"Key": "team", "Value": "blue"}])
    assert iam.get_user(UserName="gina")["User"]["Tags"] == [{"Key": "team", "Value": "blue"}]
    iam.put_user_policy(UserName="gina", PolicyName="team-blue", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]}))
    key = iam.create_access_key(UserName="gina")["AccessKey"]
    s3 = server.client(key["AccessKeyId"], key["SecretAccessKey"])
    s3.list_objects_v2(Bucket=bucket)
    iam.tag_user(UserName="gina", Tags=[{"Key": "team", "Value": "red"}])
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket)
    assert code(e) == "AccessDenied"
    iam.untag_user(UserName="gina", TagKeys=["team"])
    assert iam.list_user_tags(UserName="gina")["Tags"] == []
    with pytest.raises(ClientError) as e:
        iam.tag_user(UserName="gina", Tags=[{"Key": "aws:team", "Value": "x"}])
    assert code(e) == "ValidationError"


def test_managed_session_policies_narrow_an_assumed_role(server, bucket):
    iam = iam_client(server)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
        "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="Writer", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="Writer", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    sts = iam_client(server, service="sts")
    creds = sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/Writer", RoleSessionName="narrow",
        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}])["Credentials"]
    s3 = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/Writer", RoleSessionName="ec2",
                        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AmazonEC2FullAccess"}])
    assert code(e) == "ValidationError"


def test_an_accounts_own_managed_policy_and_its_versions(server, bucket):
    iam = iam_client(server)
    iam.create_user(UserName="hana")
    key = iam.create_access_key(UserName="hana")["AccessKey"]
    s3 = server.client(key["AccessKeyId"], key["SecretAccessKey"])
    arn = iam.create_policy(PolicyName="bucket-read", Path="/app/",
                            PolicyDocument=allow("s3:ListBucket"))["Policy"]["Arn"]
    assert arn == "arn:aws:iam::123456789012:policy/app/bucket-read"
    iam.attach_user_policy(UserName="hana", PolicyArn=arn)
    s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert code(e) == "AccessDenied"
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow("s3:ListBucket", "s3:PutObject"),
                              SetAsDefault=True)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [("v2", True), ("v1", False)]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy(PolicyArn=arn)
    # The account's own policy narrows a session as AWS's do.
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
        "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="Full", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="Full", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    creds = iam_client(server, service="sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/Full", RoleSessionName="own",
        PolicyArns=[{"arn": arn}])["Credentials"]
    session = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    session.put_object(Bucket=bucket, Key="k2", Body=b"x")
    with pytest.raises(ClientError) as e:
        session.delete_object(Bucket=bucket, Key="k2")
    assert code(e) == "AccessDenied"


def test_an_audit_reads_the_account_in_one_answer_and_its_credential_report(server):
    """GetAccountAuthorizationDetails and the credential report, as an auditor's tools read
    them (boto3 parses both; the report is IAM's CSV)."""
    iam = iam_client(server)
    iam.create_user(UserName="auditee")
    iam.put_user_policy(UserName="auditee", PolicyName="list", PolicyDocument=allow("s3:ListBucket"))
    iam.create_access_key(UserName="auditee")
    details = iam.get_account_authorization_details(Filter=["User"])
    assert details["GroupDetailList"] == [] and details["RoleDetailList"] == []
    user = next(u for u in details["UserDetailList"] if u["UserName"] == "auditee")
    assert user["UserPolicyList"][0]["PolicyName"] == "list"
    assert user["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == ["s3:ListBucket"]

    with pytest.raises(ClientError) as e:
        iam.get_credential_report()
    assert code(e) == "ReportNotPresent"
    while iam.generate_credential_report()["State"] != "COMPLETE":
        pass
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    lines = report["Content"].decode().splitlines()
    header = lines[0].split(",")
    row = dict(zip(header, next(l for l in lines if l.startswith("auditee,")).split(",")))
    assert row["access_key_1_active"] == "true" and row["access_key_2_active"] == "false"
    assert row["arn"].endswith(":user/auditee") and row["mfa_active"] == "false"
    iam.delete_user_policy(UserName="auditee", PolicyName="list")


def test_each_keys_last_use_is_recorded_and_outlives_the_server(fresh_server):
    """GetAccessKeyLastUsed and GetRole's RoleLastUsed, as an audit for unused keys reads them:
    a use is a request that authenticated (even one IAM then refuses), never one whose
    signature is wrong; the record is written into the IAM file when the server stops, and read
    back from it after a restart."""
    s = fresh_server()
    iam = iam_client(s)
    iam.create_user(UserName="dave")
    key = iam.create_access_key(UserName="dave")["AccessKey"]
    kid, secret = key["AccessKeyId"], key["SecretAccessKey"]
    unused = iam.get_access_key_last_used(AccessKeyId=kid)
    assert unused["UserName"] == "dave"
    assert unused["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    with pytest.raises(ClientError) as e:
        iam.get_access_key_last_used(AccessKeyId="AKIANOSUCHKEY0000000")
    assert code(e) == "NoSuchEntity"

    # Authenticated, then refused by IAM: a use of the key, with S3, in the region it signed for.
    s3 = boto3.client(
        "s3", endpoint_url=s.endpoint, region_name="eu-west-1",
        aws_access_key_id=kid, aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert code(e) == "AccessDenied"
    used = iam.get_access_key_last_used(AccessKeyId=kid)["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("s3", "eu-west-1")
    assert "LastUsedDate" in used
    # A wrong signature is no use of the key.
    with pytest.raises(ClientError) as e:
        iam_client(s, kid, "not-the-secret").list_users()
    assert code(e) == "SignatureDoesNotMatch"
    assert iam.get_access_key_last_used(AccessKeyId=kid)["AccessKeyLastUsed"]["ServiceName"] == "s3"
    with pytest.raises(ClientError) as e:
        iam_client(s, kid, secret).list_users()
    assert code(e) == "AccessDenied"
    assert iam.get_access_key_last_used(AccessKeyId=kid)["AccessKeyLastUsed"]["ServiceName"] == "iam"

    # A role is used when one of its sessions signs.
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
        "Action": "sts:AssumeRole"}]})
    arn = iam.create_role(RoleName="Auditor", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    assert iam.get_role(RoleName="Auditor")["Role"]["RoleLastUsed"] == {}
    creds = iam_client(s, service="sts").assume_role(RoleArn=arn, RoleSessionName="a1")["Credentials"]
    with pytest.raises(ClientError):
        iam_client(s, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).list_users()
    last = iam.get_role(RoleName="Auditor")["Role"]["RoleLastUsed"]
    assert last["Region"] == "us-east-1" and "LastUsedDate" in last
    assert "RoleLastUsed" not in iam.list_roles()["Roles"][0]

    # Written down when the server stops, and answered from the file after a restart.
    s.stop()
    written = json.loads(s.iam.read_text())
    dave = next(u for u in written["users"] if u["name"] == "dave")
    assert dave["access_keys"][0]["last_used"]["service"] == "iam"
    role = next(r for r in written["roles"] if r["name"] == "Auditor")
    assert role["last_used"]["region"] == "us-east-1"
    s.start()
    again = iam_client(s).get_access_key_last_used(AccessKeyId=kid)["AccessKeyLastUsed"]
    assert again["ServiceName"] == "iam" and again["LastUsedDate"] >= used["LastUsedDate"]
