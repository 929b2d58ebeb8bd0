"""boto3 against Seedbed's DynamoDB endpoint.

The endpoint is $SEEDBED_DYNAMODB_ENDPOINT (e.g. http://127.0.0.1:8000); credentials come from
the usual AWS variables (any values work against an endpoint without IAM). Every test gets
fresh tables with random names and deletes them afterwards.
"""

import os
import uuid

import boto3
import pytest
from botocore.config import Config

ENDPOINT = os.environ.get("SEEDBED_DYNAMODB_ENDPOINT")


def pytest_collection_modifyitems(config, items):
    if not ENDPOINT:
        raise pytest.UsageError("set SEEDBED_DYNAMODB_ENDPOINT to the endpoint under test")


def _session():
    return boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "seedbed"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "seedbed-secret"),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


_config = Config(retries={"max_attempts": 1}, parameter_validation=True)


@pytest.fixture(scope="session")
def client():
    return _session().client("dynamodb", endpoint_url=ENDPOINT, config=_config)


@pytest.fixture(scope="session")
def resource():
    return _session().resource("dynamodb", endpoint_url=ENDPOINT, config=_config)


def unique(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create(resource, name=None, hash_key=("pk", "S"), range_key=None, lsis=(), gsis=(), extra_attrs=()):
    name = name or unique()
    key_schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    attrs = {hash_key[0]: hash_key[1]}
    if range_key:
        key_schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        attrs[range_key[0]] = range_key[1]
    for a, t in extra_attrs:
        attrs[a] = t
    kwargs = dict(
        TableName=name,
        KeySchema=key_schema,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attrs.items()],
        BillingMode="PAY_PER_REQUEST",
    )
    if lsis:
        kwargs["LocalSecondaryIndexes"] = list(lsis)
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = list(gsis)
    table = resource.create_table(**kwargs)
    table.wait_until_exists()
    return table


@pytest.fixture
def table_s(resource):
    """Partition key pk (S) only."""
    t = create(resource)
    yield t
    t.delete()


@pytest.fixture
def table_sn(resource):
    """Partition key pk (S), sort key sk (N)."""
    t = create(resource, range_key=("sk", "N"))
    yield t
    t.delete()
