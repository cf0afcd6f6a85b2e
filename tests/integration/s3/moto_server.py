"""One moto_server process (an S3-compatible server) and container files read back from it."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any, cast

import avro.datafile
import avro.io
import boto3
import fastavro
import httpx

from tests.servers.common import ServerProcess, free_port

ACCESS_KEY = "testing"


SECRET_KEY = "testing"


REGION = "us-east-1"


class MotoServer(ServerProcess):
    """One ``moto_server`` process on a fixed port (so it can be stopped and started again at the same URL)."""

    name = "moto_server"

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # In the test run's session, as it always was: a Ctrl-C of the run stops it too.
        self._launch([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)], new_session=False)
        self._wait_until(self._answers, 30, "answer")

    def _answers(self) -> bool:
        try:
            httpx.get(f"{self.endpoint}/moto-api/", timeout=1)
        except httpx.TransportError:
            return False
        return True

    def stop(self) -> None:
        """Stop at once (SIGKILL, as an outage); its buckets are gone."""
        self.kill()
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
