"""One moto_server process (an S3-compatible server) and container files read back from it."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import avro.datafile
import avro.io
import boto3
import fastavro
import httpx

from tests.integration.collector_process import free_port

ACCESS_KEY = "testing"


SECRET_KEY = "testing"


REGION = "us-east-1"


class MotoServer:
    """One ``moto_server`` process on a fixed port (so it can be stopped and started again at the same URL)."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"moto_server exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError("moto_server did not answer within 30 s") from None
                time.sleep(0.1)

    def stop(self, sig: int = signal.SIGKILL) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            process.wait(10)
        self.process = None

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY)  # fmt: skip

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(Bucket=bucket)

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under ``prefix``: key → content."""
        client = self.client()
        keys = [
            item["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in sorted(keys)}


def read_records(data: bytes) -> list[dict[str, Any]]:
    """The records of a container file, read by fastavro and checked against Apache Avro's reading."""
    fast = [cast(dict[str, Any], record) for record in fastavro.reader(io.BytesIO(data))]
    apache = list(avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader()))
    assert fast == apache
    return fast
