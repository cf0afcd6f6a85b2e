"""A real Pub/Sub server for the Pub/Sub sink's tests: Google's pstest fake, one per session or one of a test's own.

The server (``tests/servers/pubsub/server.py``) speaks Pub/Sub's gRPC API; topics and subscriptions are made, and
messages pulled, with the official client (``google-cloud-pubsub``'s generated clients on a plaintext channel),
independent of the sink's own publishing code. Without the built server the tests fail with the command to run.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.pubsub_v1 import PublisherClient, SubscriberClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from tests.servers.pubsub.server import PubsubServer

PROJECT = "divolte-test"


class Pubsub:
    """Admin and consumer side of one pstest server: topics, subscriptions, pulls."""

    def __init__(self, server: PubsubServer) -> None:
        self.server = server
        self._channels: list[grpc.Channel] = []
        self.connect()

    @property
    def host(self) -> str:
        return self.server.host

    def connect(self) -> None:
        """New clients (after a restart of the server the old channels may still be backing off)."""
        self.close()
        publisher_channel, subscriber_channel = grpc.insecure_channel(self.host), grpc.insecure_channel(self.host)
        self._channels = [publisher_channel, subscriber_channel]
        self.publisher = PublisherClient(transport=PublisherGrpcTransport(channel=publisher_channel))
        self.subscriber = SubscriberClient(transport=SubscriberGrpcTransport(channel=subscriber_channel))

    def close(self) -> None:
        for channel in self._channels:
            channel.close()
        self._channels = []

    def create_topic(self, name: str | None = None) -> str:
        """A new topic with one subscription (named like the topic); returns the topic's short name."""
        name = name or f"divolte-{uuid.uuid4().hex[:12]}"
        self.publisher.create_topic(name=f"projects/{PROJECT}/topics/{name}")
        self.subscriber.create_subscription(
            name=self.subscription(name), topic=f"projects/{PROJECT}/topics/{name}", ack_deadline_seconds=60
        )
        return name

    @staticmethod
    def subscription(topic: str) -> str:
        return f"projects/{PROJECT}/subscriptions/{topic}"

    def pull(self, topic: str, count: int, timeout: float = 60.0) -> list[Any]:
        """Pull (and acknowledge) until ``count`` messages came or ``timeout`` passed; the messages received."""
        received: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            response = self.subscriber.pull(subscription=self.subscription(topic), max_messages=1000, timeout=10)
            if not response.received_messages:
                time.sleep(0.1)
                continue
            received += [m.message for m in response.received_messages]
            self.subscriber.acknowledge(
                subscription=self.subscription(topic), ack_ids=[m.ack_id for m in response.received_messages]
            )
        return received


@pytest.fixture(scope="session")
def pubsub() -> Iterator[Pubsub]:
    with tempfile.TemporaryDirectory(prefix="pubsub-") as folder:
        server = PubsubServer(Path(folder))
        server.start()
        client = Pubsub(server)
        try:
            yield client
        finally:
            client.close()
            server.stop()


@pytest.fixture
def pubsub_factory(tmp_path: Path) -> Iterator[Callable[[], Pubsub]]:
    """Servers of a test's own, for tests that stop and restart them."""
    started: list[Pubsub] = []

    def start() -> Pubsub:
        server = PubsubServer(tmp_path / f"pubsub-{len(started)}")
        server.start()
        started.append(Pubsub(server))
        return started[-1]

    yield start
    for client in started:
        client.close()
        client.server.kill()
