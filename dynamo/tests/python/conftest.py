"""boto3 against Seedbed's DynamoDB endpoint.

By default the tests start their own `seedbed serve` (S3, DynamoDB and metrics on free loopback
ports, a fresh store in a temporary directory, writes not synced) and stop it by its pid —
SIGTERM, then SIGKILL — whatever happened. The binary is $SEEDBED, else target/debug/seedbed or
target/release/seedbed. Requests are signed with the administrator key the server minted.

To run the same tests against another endpoint (DynamoDB Local, a server started by hand), set
$SEEDBED_DYNAMODB_ENDPOINT; credentials then come from the usual AWS variables. Tests that need
the server process itself (metrics, the IAM file, a restart) are skipped then.

Every test gets fresh tables with random names and deletes them afterwards.
"""

import json
import os
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[3]
EXTERNAL = os.environ.get("SEEDBED_DYNAMODB_ENDPOINT")


def seedbed_binary():
    b = os.environ.get("SEEDBED")
    if b:
        return b
    for cand in (ROOT / "target" / "debug" / "seedbed", ROOT / "target" / "release" / "seedbed"):
        if cand.exists():
            return str(cand)
    raise RuntimeError("no seedbed binary: cargo build -p seedbed, or set SEEDBED")


class Server:
    """A running `seedbed serve` (or, with $SEEDBED_DYNAMODB_ENDPOINT, someone else's endpoint)."""

    def __init__(self, workdir=None, *extra):
        self.proc = None
        self.log = None
        if workdir is None:
            self.endpoint = EXTERNAL
            self.access_key = os.environ.get("AWS_ACCESS_KEY_ID", "seedbed")
            self.secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "seedbed-secret")
            self.metrics = None
            return
        self.workdir = Path(workdir)
        self.store = self.workdir / "store"
        self.iam = self.workdir / "iam.json"
        self.extra = list(extra)
        self.start()

    def start(self):
        self.log = open(self.workdir / "serve.log", "ab")
        self.proc = subprocess.Popen(
            [seedbed_binary(), "serve", "--store", str(self.store), "--iam", str(self.iam),
             "--s3-addr", "127.0.0.1:0", "--dynamodb-addr", "127.0.0.1:0",
             "--metrics-addr", "127.0.0.1:0", "--json", *self.extra],
            stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, "SEEDBED_LOG": "info"},
        )
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("seedbed serve did not start; see " + str(self.workdir / "serve.log"))
        info = json.loads(line)
        self.endpoint = info["dynamodb"]
        self.s3_endpoint = info["s3"]
        self.metrics = info["metrics"]
        if info.get("access_key"):
            self.access_key, self.secret_key = info["access_key"], info["secret_key"]

    def stop(self, sig=signal.SIGTERM):
        """Stop the process; returns its exit status (None if there was none)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None
        return self.proc.returncode

    def session(self, access_key=None, secret_key=None):
        return boto3.session.Session(
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name="us-east-1",
        )

    def client(self, access_key=None, secret_key=None, **config):
        return self.session(access_key, secret_key).client(
            "dynamodb", endpoint_url=self.endpoint, config=Config(retries={"max_attempts": 1}, **config))

    def streams(self, access_key=None, secret_key=None):
        """A DynamoDB Streams client of the same endpoint (its own service at AWS)."""
        return self.session(access_key, secret_key).client(
            "dynamodbstreams", endpoint_url=self.endpoint, config=Config(retries={"max_attempts": 1}))

    def s3(self, access_key=None, secret_key=None):
        """An S3 client of the same server (imports read from it, exports write to it)."""
        return self.session(access_key, secret_key).client(
            "s3", endpoint_url=self.s3_endpoint,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))

    def resource(self, access_key=None, secret_key=None):
        return self.session(access_key, secret_key).resource(
            "dynamodb", endpoint_url=self.endpoint, config=Config(retries={"max_attempts": 1}))

    def seedbed(self, *args):
        """Run `seedbed ARGS` (an `iam` verb on this server's file) and return its stdout."""
        out = subprocess.run([seedbed_binary(), *args], check=True, capture_output=True)
        return out.stdout.decode()


def own_server(server):
    """Skip a test that needs the server process when the endpoint is someone else's."""
    if server.proc is None:
        pytest.skip("needs a `seedbed serve` started by the tests (unset SEEDBED_DYNAMODB_ENDPOINT)")


@pytest.fixture(scope="session")
def server():
    if EXTERNAL:
        yield Server()
        return
    with tempfile.TemporaryDirectory(prefix="seedbed-ddb-") as d:
        s = Server(d, "--no-fsync")
        try:
            yield s
        finally:
            s.stop()


@pytest.fixture
def fresh_server():
    """A server of its own, for tests that stop or restart it."""
    if EXTERNAL:
        pytest.skip("needs a `seedbed serve` started by the tests (unset SEEDBED_DYNAMODB_ENDPOINT)")
    made = []

    def make(*extra):
        d = tempfile.mkdtemp(prefix="seedbed-ddb-")
        s = Server(d, *extra)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()
        subprocess.run(["rm", "-rf", str(s.workdir)], check=False)


@pytest.fixture(scope="session")
def client(server):
    return server.client(parameter_validation=True)


@pytest.fixture(scope="session")
def resource(server):
    return server.resource()


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
