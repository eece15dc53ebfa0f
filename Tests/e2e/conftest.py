"""End-to-end fixtures: the built `stablegate` binary, real databases, a running gateway."""
import hashlib
import hmac
import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("STABLEGATE_BINARY", ROOT / ".build" / "debug" / "stablegate"))
POSTGRES_URL = os.environ.get("STABLEGATE_TEST_POSTGRES_URL")


def backends():
    return ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, env=None, cwd=None, check=True):
    """Runs the stablegate binary and returns the completed process."""
    result = subprocess.run([str(BINARY), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"stablegate {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True, timeout=60)


@pytest.fixture
def database(request, tmp_path):
    """A fresh database URL for the requested backend, dropped afterwards."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:{tmp_path}/stablegate.sqlite"
        return
    if not POSTGRES_URL:
        pytest.fail("STABLEGATE_TEST_POSTGRES_URL is not set; run the README's test command")
    name = "sge2e_" + uuid.uuid4().hex[:16]
    psql(POSTGRES_URL, f"CREATE DATABASE {name}")
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    psql(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Gateway:
    """A `stablegate serve` process on a free loopback port."""

    def __init__(self, database, data_dir, extra_args=(), env=None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database = database
        self.data_dir = str(data_dir)
        self.log_path = Path(data_dir) / f"serve-{self.port}.log"
        self.env = env
        self.args = ["serve", "--port", str(self.port), "--database", database, "--data-dir", self.data_dir, *extra_args]
        self.process = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([str(BINARY), *self.args], stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"gateway did not become healthy:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise AssertionError("gateway did not stop on SIGTERM")
        self.log.close()

    def cli(self, *args, check=True):
        return run_cli(*args, "--database", self.database, "--data-dir", self.data_dir, check=check, env=self.env)

    def merchant(self, name="E2E Shop"):
        return json.loads(self.cli("merchants", "create", "--name", name, "--json").stdout)

    def logs(self):
        return self.log_path.read_text()


@pytest.fixture
def gateway(database, tmp_path):
    instance = Gateway(database, tmp_path).start()
    yield instance
    instance.stop()


def signed_request(base_url, method, path, key, secret, body=b"", query="", nonce=None, timestamp=None, headers=None):
    """Signs with an independent Python implementation of seed 003's scheme and sends."""
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    nonce = nonce or str(uuid.uuid4())
    canonical = "\n".join([method, path, query, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    signature = "v1=" + base64.b64encode(hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()).decode()
    all_headers = {"X-API-Key": key, "X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature}
    if body:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    url = base_url + path + ("?" + query if query else "")
    request = urllib.request.Request(url, data=body if body else None, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())
