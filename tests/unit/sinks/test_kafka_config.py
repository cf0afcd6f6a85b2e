"""``global.kafka.producer``: Java property names to aiokafka arguments; anything else stops start-up."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, pkcs12
from cryptography.x509.oid import NameOID

from collector.app import Collector
from collector.config import load
from collector.errors import ConfigError
from collector.sinks.kafka import KafkaSink
from collector.sinks.kafka_config import producer_options


def test_divoltes_reference_defaults() -> None:
    settings = load(None)
    options = producer_options(settings.global_.kafka.producer)
    assert options.kwargs == {
        "bootstrap_servers": ["localhost:9092"], "client_id": "divolte.collector", "acks": 1,
        "compression_type": "lz4", "request_timeout_ms": 30000, "max_batch_size": 262144,
    }  # fmt: skip
    assert set(options.no_effect) == {"retries", "max.in.flight.requests.per.connection"}
    assert settings.global_.kafka.spool_dir == "/tmp/divolte-spool"
    assert settings.global_.kafka.spool_max_bytes == 1024**3


def test_every_translated_property() -> None:
    options = producer_options({
        "bootstrap.servers": "a:9092, b:9093", "client.id": "me", "acks": "all", "compression.type": "zstd",
        "batch.size": "65536", "max.request.size": "2097152", "request.timeout.ms": "10000",
        "metadata.max.age.ms": "60000", "retry.backoff.ms": "50", "connections.max.idle.ms": "1000",
        "enable.idempotence": "true", "security.protocol": "sasl_plaintext", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" '
                            'password="p\\"w";',
    })  # fmt: skip
    assert options.kwargs == {
        "bootstrap_servers": ["a:9092", "b:9093"], "client_id": "me", "acks": -1, "compression_type": "zstd",
        "max_batch_size": 65536, "max_request_size": 2097152, "request_timeout_ms": 10000,
        "metadata_max_age_ms": 60000, "retry_backoff_ms": 50, "connections_max_idle_ms": 1000,
        "enable_idempotence": True, "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "u", "sasl_plain_password": 'p\\"w',
    }  # fmt: skip
    assert producer_options({"compression.type": "none"}).kwargs["compression_type"] is None


def test_unknown_and_bad_properties_are_all_named() -> None:
    with pytest.raises(ConfigError) as raised:
        producer_options({"acks": "2", "batch.size": "soon", "transactional.id": "x", "partitioner.class": "my.P"})
    problems = "\n".join(raised.value.problems)
    assert "divolte.global.kafka.producer.acks: expected 0, 1, -1 or all, found '2'" in problems
    assert "divolte.global.kafka.producer.batch.size: expected an integer, found 'soon'" in problems
    assert "divolte.global.kafka.producer.transactional.id: unknown or unsupported" in problems
    assert "Supported: bootstrap.servers, client.id, acks" in problems
    assert "only Kafka's default partitioner" in problems
    assert len(raised.value.problems) == 4


def test_tls_needs_pem_and_an_ssl_protocol() -> None:
    with pytest.raises(ConfigError, match=r"truststore\.type: 'JKS' key stores cannot be read here") as raised:
        producer_options({"security.protocol": "SSL", "ssl.truststore.type": "JKS"})
    assert "keytool -importkeystore -srckeystore truststore.jks" in str(raised.value)
    assert "openssl pkcs12 -in truststore.p12 -nokeys -out truststore.pem" in str(raised.value)
    with pytest.raises(ConfigError, match=r"keystore\.type: 'PKCS12' key stores cannot be read here") as raised:
        producer_options({"security.protocol": "SASL_SSL", "ssl.keystore.type": "PKCS12"})
    assert "openssl pkcs12 -in keystore.p12 -nodes -out keystore.pem" in str(raised.value)
    with pytest.raises(ConfigError, match="PEM stores have no store password; remove it"):
        producer_options({"security.protocol": "SSL", "ssl.truststore.password": "changeit"})
    with pytest.raises(ConfigError, match=r"security\.protocol is not SSL"):
        producer_options({"ssl.truststore.location": "/x.pem"})
    options = producer_options({"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": ""})
    assert options.kwargs["ssl_context"].check_hostname is False


def test_idempotence_needs_acks_all() -> None:
    with pytest.raises(ConfigError, match="needs acks = all"):
        producer_options({"enable.idempotence": "true"})


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.conf"
    path.write_text(body)
    return path


def test_a_bad_producer_property_stops_start_up_once_for_all_kafka_sinks(tmp_path: Path) -> None:
    settings = load(
        _config(
            tmp_path,
            """
        divolte.global.kafka { enabled = true, producer.max.poll.records = 5 }
        divolte.sinks { a { type = kafka }, b { type = kafka, topic = other } }
        divolte.mappings.m { sources = [browser], sinks = [a, b] }
    """,
        )
    )
    with pytest.raises(ConfigError) as raised:
        Collector(settings)
    assert len(raised.value.problems) == 1
    assert "divolte.global.kafka.producer.max.poll.records: unknown or unsupported" in raised.value.problems[0]


def test_kafka_sinks_are_built_with_the_mappings_confluent_id(tmp_path: Path) -> None:
    settings = load(
        _config(
            tmp_path,
            f"""
        divolte.global.kafka {{ enabled = true, spool_dir = "{tmp_path}/spool", spool_max_bytes = 4096 }}
        divolte.sinks {{ k {{ type = kafka, mode = confluent }}, n {{ type = kafka }} }}
        divolte.mappings.m {{ sources = [browser], sinks = [k, n], confluent_id = 42 }}
    """,
        )
    )
    topology = Collector(settings).topology
    confluent, naked = topology.sinks["k"], topology.sinks["n"]
    assert isinstance(confluent.sink, KafkaSink) and isinstance(naked.sink, KafkaSink)
    assert (confluent.sink.confluent_id, naked.sink.confluent_id) == (42, None)
    assert confluent.sink.connection is naked.sink.connection, "one producer per process"
    assert confluent.spool is not None and confluent.spool.directory == tmp_path / "spool" / "k"
    assert confluent.spool.max_bytes == 4096
    assert confluent.capacity == 2 * 1048576


def test_spool_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="spool_max_bytes: must be between 0 and"):
        load(_config(tmp_path, "divolte.global.kafka.spool_max_bytes = -1"))
    settings = load(
        _config(
            tmp_path,
            """
        divolte.global.kafka { enabled = true, spool_max_bytes = 0 }
        divolte.sinks.k.type = kafka
        divolte.mappings.m { sources = [browser], sinks = [k] }
    """,
        )
    )
    assert Collector(settings).topology.sinks["k"].spool is None


def test_dead_letter_folders_default_to_the_spool_and_can_be_moved(tmp_path: Path) -> None:
    sinks = """
        divolte.sinks { k.type = kafka, other.type = kafka }
        divolte.mappings.m { sources = [browser], sinks = [k, other] }
    """
    settings = load(_config(tmp_path, f'divolte.global.kafka {{ enabled = true, spool_dir = "{tmp_path}/s" }}' + sinks))
    runner = Collector(settings).topology.sinks["k"]
    assert runner.dead_letters is not None and runner.dead_letters.directory == tmp_path / "s" / "k" / "dead-letter"
    assert runner.dead_letters.max_bytes == 1024**3
    assert runner.dead_letters.statistics().stored == {"invalid_timestamp": 0, "message_too_large": 0}
    moved = (
        f'divolte.global.kafka {{ enabled = true, dead_letter_dir = "{tmp_path}/dl", dead_letter_max_bytes = 5000 }}'
    )
    runners = Collector(load(_config(tmp_path, moved + sinks))).topology.sinks
    assert [(r.dead_letters.directory, r.dead_letters.max_bytes) for r in runners.values() if r.dead_letters] == [
        (tmp_path / "dl" / "k", 5000), (tmp_path / "dl" / "other", 5000)
    ]  # fmt: skip
    with pytest.raises(ConfigError, match="dead_letter_max_bytes: must be between 0 and"):
        load(_config(tmp_path, "divolte.global.kafka.dead_letter_max_bytes = -1"))


def test_a_store_that_is_not_pem_is_refused_with_the_command_that_converts_it(tmp_path: Path) -> None:
    """A PKCS12 trust store (Java's default type since Java 9), with the type left out as Java users do."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256())
    )  # fmt: skip
    store = tmp_path / "truststore.p12"
    store.write_bytes(pkcs12.serialize_key_and_certificates(b"ca", None, None, [certificate], NoEncryption()))
    with pytest.raises(ConfigError) as raised:
        producer_options({"security.protocol": "SSL", "ssl.truststore.location": str(store)})
    assert f"ssl.truststore.location: '{store}' is not a PEM file" in str(raised.value)
    assert "openssl pkcs12 -in truststore.p12 -nokeys -out truststore.pem" in str(raised.value)
    pem = tmp_path / "truststore.pem"
    pem.write_bytes(certificate.public_bytes(Encoding.PEM))  # what the command makes
    options = producer_options({"security.protocol": "SSL", "ssl.truststore.location": str(pem)})
    assert options.kwargs["ssl_context"].get_ca_certs()[0]["subject"] == ((("commonName", "ca"),),)
