"""Fixtures: a `seedbed serve` process per test module on a fresh store, on a free loopback port,
always stopped by its pid (SIGTERM, then SIGKILL) when the tests are done — whatever happened."""

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[3]


def seedbed_binary():
    b = os.environ.get("SEEDBED")
    if b:
        return b
    for cand in (ROOT / "target" / "debug" / "seedbed", ROOT / "target" / "release" / "seedbed"):
        if cand.exists():
            return str(cand)
    raise RuntimeError("no seedbed binary: cargo build -p seedbed, or set SEEDBED")


class Server:
    """A running `seedbed serve`, its endpoint and its administrator's key."""

    def __init__(self, workdir, *extra):
        self.workdir = Path(workdir)
        self.store = self.workdir / "store"
        self.iam = self.workdir / "iam.json"
        self.extra = list(extra)
        self.proc = None
        self.start()

    def start(self):
        self.log = open(self.workdir / "serve.log", "ab")
        self.proc = subprocess.Popen(
            [seedbed_binary(), "serve", "--store", str(self.store), "--iam", str(self.iam),
             "--s3-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--dynamodb-addr", "off",
             "--json", *self.extra],
            stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, "SEEDBED_LOG": "info"},
        )
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("seedbed serve did not start; see " + str(self.workdir / "serve.log"))
        info = json.loads(line)
        self.endpoint = info["s3"]
        self.metrics = info["metrics"]
        if info.get("access_key"):
            self.access_key, self.secret_key = info["access_key"], info["secret_key"]

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def kill(self):
        """SIGKILL: no chance to finish anything (a crash)."""
        self.stop(signal.SIGKILL)

    def client(self, access_key=None, secret_key=None, **config):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
        )

    def seedbed(self, *args):
        """Run `seedbed ARGS` (an `iam` verb on this server's file) and return its stdout."""
        out = subprocess.run([seedbed_binary(), *args], check=True, capture_output=True)
        return out.stdout.decode()


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="seedbed-py-") as d:
        s = Server(d)
        try:
            yield s
        finally:
            s.stop()


# A lifecycle "day" of this many seconds on the `fast` server.
LIFECYCLE_DAY = 2


@pytest.fixture(scope="module")
def fast():
    """A server of the module's own whose lifecycle "day" is LIFECYCLE_DAY seconds
    (`--lifecycle-day-secs`): rules act, and restores complete, within seconds."""
    with tempfile.TemporaryDirectory(prefix="seedbed-py-") as d:
        s = Server(d, "--lifecycle-day-secs", str(LIFECYCLE_DAY))
        try:
            yield s
        finally:
            s.stop()


def wait_for(check, seconds):
    """Poll `check` until it is true or `seconds` pass; its last value."""
    end = time.time() + seconds
    while True:
        ok = check()
        if ok or time.time() > end:
            return ok
        time.sleep(0.1)


@pytest.fixture
def fresh_server():
    """A server of its own, for tests that stop, kill or restart it."""
    made = []

    def make(*extra):
        d = tempfile.mkdtemp(prefix="seedbed-py-")
        s = Server(d, *extra)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()
        subprocess.run(["rm", "-rf", str(s.workdir)], check=False)


_n = [0]


@pytest.fixture
def bucket(server):
    """A new bucket in the module's server."""
    _n[0] += 1
    name = f"pytest-{os.getpid()}-{_n[0]}-{int(time.time())}"
    server.client().create_bucket(Bucket=name)
    return name
