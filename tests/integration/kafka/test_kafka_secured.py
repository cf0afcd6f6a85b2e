"""Secured Kafka for real: the settings a Divolte user writes in ``divolte.global.kafka.producer``, against a
broker with SASL (PLAIN, SCRAM-SHA-512) and TLS listeners (``tests/servers/kafka/secured.py``).

Records are read back with librdkafka through the same secured listener. Refused credentials or an untrusted
broker give an error that names the setting to fix, and the records wait in the spool: a collector started
with the fixed settings on the same spool delivers them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import RunningCollector, StartCollector
from tests.integration.kafka.conftest import (
    SecuredKafka,
    decode,
    event_number,
    kafka_config,
    send_events,
    wait_for_log,
)
from tests.paths import REPO
from tests.servers.kafka.secured import PLAIN_JAAS, SCRAM_JAAS, USERS

pytestmark = pytest.mark.integration


def jaas(module: str, user: str, password: str) -> str:
    """``sasl.jaas.config`` as a user writes it in HOCON: one quoted string with escaped quotes."""
    return f'"{module} required username=\\"{user}\\" password=\\"{password}\\";"'


@dataclass(frozen=True)
class Case:
    listener: str
    producer: str
    """The producer properties a user writes (besides bootstrap.servers)."""
    consumer: dict[str, str]
    """The same security for librdkafka, reading the records back."""


def case(name: str, kafka: SecuredKafka) -> Case:
    certificates = kafka.certificates
    alice, bob = ("alice", USERS["alice"]), ("bob", USERS["bob"])
    plain_sasl = {"sasl.mechanism": "PLAIN", "sasl.username": alice[0], "sasl.password": alice[1]}
    scram_sasl = {"sasl.mechanism": "SCRAM-SHA-512", "sasl.username": bob[0], "sasl.password": bob[1]}
    if name == "SASL_PLAINTEXT PLAIN":
        return Case("SASL_PLAINTEXT", f"""
            security.protocol = SASL_PLAINTEXT
            sasl.mechanism = PLAIN
            sasl.jaas.config = {jaas(PLAIN_JAAS, *alice)}
        """, {"security.protocol": "SASL_PLAINTEXT", **plain_sasl})  # fmt: skip
    if name == "SASL_PLAINTEXT SCRAM-SHA-512":
        return Case("SASL_PLAINTEXT", f"""
            security.protocol = SASL_PLAINTEXT
            sasl.mechanism = SCRAM-SHA-512
            sasl.jaas.config = {jaas(SCRAM_JAAS, *bob)}
        """, {"security.protocol": "SASL_PLAINTEXT", **scram_sasl})  # fmt: skip
    if name == "SASL_SSL SCRAM-SHA-512":
        return Case("SASL_SSL", f"""
            security.protocol = SASL_SSL
            sasl.mechanism = SCRAM-SHA-512
            sasl.jaas.config = {jaas(SCRAM_JAAS, *bob)}
            ssl.truststore.type = PEM
            ssl.truststore.location = "{certificates.ca}"
        """, {"security.protocol": "SASL_SSL", "ssl.ca.location": str(certificates.ca), **scram_sasl})  # fmt: skip
    assert name == "SSL with a client certificate"
    return Case("SSL", f"""
        security.protocol = SSL
        ssl.truststore.type = PEM
        ssl.truststore.location = "{certificates.ca}"
        ssl.keystore.type = PEM
        ssl.keystore.location = "{certificates.client}"
    """, {"security.protocol": "SSL", "ssl.ca.location": str(certificates.ca),
          "ssl.certificate.location": str(certificates.client_certificate),
          "ssl.key.location": str(certificates.client_key)})  # fmt: skip


CASES = [
    "SASL_PLAINTEXT PLAIN",
    "SASL_PLAINTEXT SCRAM-SHA-512",
    "SASL_SSL SCRAM-SHA-512",
    "SSL with a client certificate",
]


def secured_config(kafka: SecuredKafka, listener: str, topic: str, spool: Path, producer: str) -> str:
    return kafka_config(kafka.address(listener), topic, spool, extra_producer=producer)


def metric(collector: RunningCollector, series: str) -> float:
    for line in httpx.get(f"{collector.base_url}/metrics").text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{series} not exported")


@pytest.mark.parametrize("name", CASES)
def test_records_arrive_through_a_secured_listener(
    name: str, secured_kafka: SecuredKafka, start_collector: StartCollector, tmp_path: Path
) -> None:
    settings = case(name, secured_kafka)
    topic = secured_kafka.broker.create_topic(partitions=2)
    collector = start_collector(secured_config(secured_kafka, settings.listener, topic, tmp_path / "spool",
                                               settings.producer))  # fmt: skip
    sent = [(party, event) for event in range(5) for party in range(4)]
    send_events(collector.base_url, sent)
    client = {"bootstrap.servers": secured_kafka.address(settings.listener), **settings.consumer}
    records = secured_kafka.broker.consume(topic, len(sent), client=client)
    assert sorted(event_number(decode(r.value)) for r in records) == sorted(sent)
    assert f"Connected to Kafka at {secured_kafka.address(settings.listener)}" in collector.log()
    assert collector.stop() == 0


REFUSALS = {
    "a wrong SCRAM password": (
        "SASL_PLAINTEXT",
        f"""security.protocol = SASL_PLAINTEXT
            sasl.mechanism = SCRAM-SHA-512
            sasl.jaas.config = {jaas(SCRAM_JAAS, "bob", "not-bobs-password")}""",
        "the brokers refuse the credentials (SASL SCRAM-SHA-512, user 'bob'",
    ),
    "an unknown PLAIN user": (
        "SASL_PLAINTEXT",
        f"""security.protocol = SASL_PLAINTEXT
            sasl.mechanism = PLAIN
            sasl.jaas.config = {jaas(PLAIN_JAAS, "mallory", "guess")}""",
        "the brokers refuse the credentials (SASL PLAIN, user 'mallory'",
    ),
    "a broker certificate signed by a CA we do not trust": (
        "SASL_SSL",
        f"""security.protocol = SASL_SSL
            sasl.mechanism = SCRAM-SHA-512
            sasl.jaas.config = {jaas(SCRAM_JAAS, "bob", USERS["bob"])}
            ssl.truststore.location = "{{other_ca}}\"""",
        "the brokers' certificate is not trusted (",
    ),
    "no client certificate where the broker requires one": (
        "SSL",
        """security.protocol = SSL
            ssl.truststore.location = "{ca}\"""",
        "the brokers closed the TLS connection",
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refused_security_is_named_and_the_records_are_kept_until_it_is_fixed(
    name: str, secured_kafka: SecuredKafka, start_collector: StartCollector, tmp_path: Path
) -> None:
    listener, producer, message = REFUSALS[name]
    certificates = secured_kafka.certificates
    producer = producer.format(ca=certificates.ca, other_ca=certificates.other_ca)
    topic = secured_kafka.broker.create_topic(partitions=1)
    spool = tmp_path / "spool"
    collector = start_collector(secured_config(secured_kafka, listener, topic, spool, producer))
    sent = [(1, event) for event in range(10)]
    send_events(collector.base_url, sent)
    wait_for_log(collector, message)
    address = secured_kafka.address(listener)
    assert f"cannot connect to Kafka at bootstrap.servers={address}" in collector.log()
    deadline = time.monotonic() + 20
    while metric(collector, 'divolte_spool_records_total{direction="in",sink="kafka"}') == 0:
        assert time.monotonic() < deadline, "nothing went to the spool"  # (the batch being retried follows at exit)
        time.sleep(0.2)
    assert metric(collector, 'divolte_sink_records_written_total{sink="kafka"}') == 0
    assert collector.stop() == 0

    fixed = case("SASL_SSL SCRAM-SHA-512" if listener == "SASL_SSL" else
                 "SSL with a client certificate" if listener == "SSL" else "SASL_PLAINTEXT SCRAM-SHA-512",
                 secured_kafka)  # fmt: skip
    restarted = start_collector(secured_config(secured_kafka, listener, topic, spool, fixed.producer))
    client = {"bootstrap.servers": address, **fixed.consumer}
    records = secured_kafka.broker.consume(topic, len(sent), client=client)
    assert [event_number(decode(r.value)) for r in records] == sent, "kept, then delivered in order, once"
    assert restarted.stop() == 0


def test_a_jks_trust_store_is_refused_at_start_up_and_the_documented_conversion_works(
    secured_kafka: SecuredKafka, start_collector: StartCollector, tmp_path: Path
) -> None:
    """A Divolte user's JKS trust store: a start-up error with the commands; after running them, records arrive."""
    jks = tmp_path / "truststore.jks"
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", str(secured_kafka.certificates.ca),
                    "-keystore", str(jks), "-storetype", "JKS", "-storepass", "changeit"],
                   check=True, capture_output=True)  # fmt: skip
    topic = secured_kafka.broker.create_topic(partitions=1)
    producer = f"""security.protocol = SASL_SSL
        sasl.mechanism = SCRAM-SHA-512
        sasl.jaas.config = {jaas(SCRAM_JAAS, "bob", USERS["bob"])}
        ssl.truststore.location = "{jks}"
        ssl.truststore.password = changeit"""
    config = tmp_path / "jks.conf"
    config.write_text(secured_config(secured_kafka, "SASL_SSL", topic, tmp_path / "spool", producer))
    checked = subprocess.run([sys.executable, "-m", "collector.cli", "check-config", str(config)],
                             capture_output=True, text=True, cwd=REPO)  # fmt: skip
    assert checked.returncode == 1
    assert f"ssl.truststore.location: '{jks}' is a JKS key store; Python reads PEM files only" in checked.stderr
    assert "keytool -importkeystore -srckeystore truststore.jks" in checked.stderr

    # The commands of the message, with the passwords given on the command line instead of typed in.
    subprocess.run(["keytool", "-importkeystore", "-srckeystore", "truststore.jks", "-destkeystore", "truststore.p12",
                    "-deststoretype", "PKCS12", "-srcstorepass", "changeit", "-deststorepass", "changeit"],
                   check=True, capture_output=True, cwd=tmp_path)  # fmt: skip
    subprocess.run(["openssl", "pkcs12", "-in", "truststore.p12", "-nokeys", "-out", "truststore.pem",
                    "-passin", "pass:changeit"], check=True, capture_output=True, cwd=tmp_path)  # fmt: skip
    converted = producer.replace(str(jks), str(tmp_path / "truststore.pem")).replace(
        "ssl.truststore.password = changeit", "ssl.truststore.type = PEM"
    )
    collector = start_collector(secured_config(secured_kafka, "SASL_SSL", topic, tmp_path / "spool", converted))
    send_events(collector.base_url, [(2, 0), (2, 1)])
    fixed = case("SASL_SSL SCRAM-SHA-512", secured_kafka)
    records = secured_kafka.broker.consume(
        topic, 2, client={"bootstrap.servers": secured_kafka.address("SASL_SSL"), **fixed.consumer}
    )
    assert [event_number(decode(r.value)) for r in records] == [(2, 0), (2, 1)]
    assert collector.stop() == 0
