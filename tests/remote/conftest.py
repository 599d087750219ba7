"""A real S3-compatible server (moto's server mode, in its own process on 127.0.0.1) and a fresh bucket per test."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

KEY, SECRET, REGION = "testing-key", "testing-secret", "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    proc: subprocess.Popen[bytes]


@dataclass(frozen=True)
class Bucket:
    """A fresh bucket on the server; `url` is what remote.url takes, `env` what a doit process needs."""

    endpoint: str
    name: str

    @property
    def url(self) -> str:
        return f"s3://{self.name}/shared"

    def env(self, **extra: str) -> dict[str, str]:
        return {"PROJECTIONS_REMOTE__URL": self.url, "PROJECTIONS_REMOTE__ENDPOINT_URL": self.endpoint,
                "PROJECTIONS_REMOTE__KEY": KEY, "PROJECTIONS_REMOTE__SECRET": SECRET,
                "PROJECTIONS_REMOTE__REGION": REGION, **extra}

    def s3(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                            region_name=REGION)

    def keys(self, prefix: str = "") -> list[str]:
        out: list[str] = []
        for page in self.s3().get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=f"shared/{prefix}"):
            out.extend(o["Key"][len("shared/"):] for o in page.get("Contents", []))
        return sorted(out)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1",
                             "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.05)
    try:
        yield S3Server(endpoint, proc)
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def bucket(s3_server: S3Server) -> Bucket:
    made = Bucket(s3_server.endpoint, f"test-{uuid.uuid4().hex[:12]}")
    made.s3().create_bucket(Bucket=made.name)
    return made
