"""A real Kafka broker for the Kafka sink's tests: one per session, or one of a test's own.

The broker (``tests/servers/kafka/broker.py``) is shared by the session; tests that stop or break a broker get one
of their own from ``kafka_factory``. Records are read back with confluent-kafka (librdkafka), a client
independent of the aiokafka producer under test. Without Java and Maven the tests are skipped, except in
CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.kafka.records import Broker
from tests.servers.kafka.broker import KafkaBroker, KafkaUnavailable, fetch
from tests.servers.kafka.secured import Certificates, secured_broker


def _available() -> None:
    try:
        fetch()
    except KafkaUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def kafka() -> Iterator[Broker]:
    _available()
    with tempfile.TemporaryDirectory(prefix="kafka-") as folder:
        broker = KafkaBroker(Path(folder))
        broker.start()
        try:
            yield Broker(broker)
        finally:
            broker.stop()


@dataclass
class SecuredKafka:
    broker: Broker
    certificates: Certificates

    def address(self, listener: str) -> str:
        return self.broker.broker.address(listener)


@pytest.fixture(scope="session")
def secured_kafka() -> Iterator[SecuredKafka]:
    """One broker with SASL_PLAINTEXT, SASL_SSL and mutual-TLS listeners (``tests/servers/kafka/secured.py``)."""
    _available()
    with tempfile.TemporaryDirectory(prefix="kafka-secured-") as folder:
        broker, certificates = secured_broker(Path(folder))
        broker.start()
        try:
            yield SecuredKafka(Broker(broker), certificates)
        finally:
            broker.stop()


@pytest.fixture
def kafka_factory(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Brokers of a test's own, for tests that stop, kill or reconfigure them."""
    _available()
    started: list[KafkaBroker] = []

    def start(*, running: bool = True, **extra: str) -> Broker:
        broker = KafkaBroker(tmp_path / f"kafka-{len(started)}", extra=extra)
        started.append(broker)
        if running:
            broker.start()
        return Broker(broker)

    yield start
    for broker in started:
        broker.kill()
