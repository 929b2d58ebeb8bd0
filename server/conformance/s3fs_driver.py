"""A pytest plugin that runs s3fs's own tests against `seedbed serve` instead of moto's server.

s3fs (fsspec's S3 filesystem, what pandas, dask and xarray read and write `s3://` with) tests
itself against moto's server: its fixtures start `ThreadedMotoServer` on a fixed port and,
before every test, empty it with a POST to moto's `/moto-api/reset`. This plugin changes no
test and no fixture; it stands `seedbed serve` where those two moto pieces are:

- `ThreadedMotoServer(ip_address, port)` becomes a `seedbed serve` on a fresh store, on the
  port the fixture asks for; the ports the modules name (5555, 5556) are swapped for free ones
  before any fixture runs, so a run never collides with another server.
- the reset POST restarts that server on a fresh store (moto's reset forgets everything too).

Every server is stopped by its pid when the run ends, whatever happened. Reads SEEDBED (the
binary), SEEDBED_IAM (an IAM file whose user the suite's AWS_ACCESS_KEY_ID names) and
SEEDBED_WORK (where stores and logs go) from the environment.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import requests
import moto.moto_server.threaded_moto_server as moto_server

SEEDBED = os.environ["SEEDBED"]
IAM = os.environ["SEEDBED_IAM"]
WORK = os.environ["SEEDBED_WORK"]

# The modules that name a port and an endpoint for their fixtures.
SUITE_MODULES = ("s3fs.tests.test_s3fs", "s3fs.tests.derived.s3fs_fixtures")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SeedbedServer:
    """Stands where the suite starts moto's server: `seedbed serve`, S3 only, on a loopback port."""

    live = {}  # port → the server on it
    starts = 0

    def __init__(self, ip_address="127.0.0.1", port=5000, verbose=False):
        if ip_address != "127.0.0.1":
            raise ValueError(f"servers bind loopback only, not {ip_address}")
        self.port = port
        self.proc = None
        self.dir = None

    def start(self):
        SeedbedServer.starts += 1
        self.dir = os.path.join(WORK, f"server-{SeedbedServer.starts}")
        os.makedirs(self.dir)
        # A copy: the IAM API may write to the file, and every server starts from the same users.
        iam = os.path.join(self.dir, "iam.json")
        shutil.copyfile(IAM, iam)
        out = open(os.path.join(self.dir, "serve.json"), "w")
        log = open(os.path.join(self.dir, "serve.log"), "w")
        self.proc = subprocess.Popen(
            [SEEDBED, "serve", "--store", os.path.join(self.dir, "store"), "--iam", iam,
             "--no-fsync", "--s3-addr", f"127.0.0.1:{self.port}", "--dynamodb-addr", "off",
             "--metrics-addr", "off", "--json"],
            stdout=out, stderr=log, env={**os.environ, "SEEDBED_LOG": "warn"})
        out.close()
        log.close()
        banner = os.path.join(self.dir, "serve.json")
        for _ in range(200):
            if os.path.getsize(banner) > 0:
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if os.path.getsize(banner) == 0:
            with open(os.path.join(self.dir, "serve.log")) as f:
                raise RuntimeError(f"seedbed serve did not start on port {self.port}: {f.read()[-2000:]}")
        with open(banner) as f:
            json.loads(f.readline())
        SeedbedServer.live[self.port] = self

    def stop(self):
        SeedbedServer.live.pop(self.port, None)
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.returncode not in (0, -15):
            with open(os.path.join(self.dir, "serve.log")) as f:
                print(f"s3fs-driver: seedbed serve exited {self.proc.returncode}: {f.read()[-2000:]}",
                      file=sys.stderr)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def reset(self):
        self.stop()
        self.start()


moto_server.ThreadedMotoServer = SeedbedServer

_post = requests.post


def post(url, *args, **kwargs):
    """moto's reset, done as a restart on a fresh store; every other POST as it was."""
    u = urlparse(url)
    if u.path.rstrip("/").endswith("/moto-api/reset") and u.port in SeedbedServer.live:
        SeedbedServer.live[u.port].reset()
        response = requests.Response()
        response.status_code = 200
        return response
    return _post(url, *args, **kwargs)


requests.post = post


def pytest_collection_modifyitems(session, config, items):
    """Give each module's fixtures a free port (collection has imported them; no fixture ran)."""
    for name in SUITE_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        module.port = free_port()
        module.endpoint_uri = f"http://127.0.0.1:{module.port}/"


def pytest_unconfigure(config):
    for server in list(SeedbedServer.live.values()):
        server.stop()
