"""``divolte.global.kafka.producer`` (Java producer properties) → keyword arguments for aiokafka's producer.

Divolte hands its ``producer`` block verbatim to Java's ``KafkaProducer``. We translate each property we
can honour to its aiokafka argument, accept a few Java-client tunings that have no counterpart and change
nothing about what is delivered (listed in ``NO_EFFECT``; logged once at start-up), and refuse everything
else with a start-up error that names the property and lists the supported ones, so that no setting is
silently ignored.

TLS: Java reads JKS/PKCS12 key stores, Python reads PEM files. Point ``ssl.truststore.location`` (or give the
PEM text in ``ssl.truststore.certificates``) and ``ssl.keystore.location`` (certificate and key in one PEM
file) at PEM files and set the store types to ``PEM``, which the Java client also accepts. A JKS or PKCS12
store (by its type, or by the file's content when the type is left to Java's default) is a start-up error
that gives the ``keytool``/``openssl`` commands converting it (``CONVERSIONS``).

SASL: ``sasl.jaas.config`` with ``PlainLoginModule`` or ``ScramLoginModule`` gives the username and password
for ``sasl.mechanism`` PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, over SASL_PLAINTEXT or SASL_SSL.
"""

from __future__ import annotations

import importlib.util
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from collector.errors import ConfigError

PREFIX = "divolte.global.kafka.producer"

DEFAULTS = {
    "bootstrap.servers": "localhost:9092",
    "client.id": "divolte.collector",
    "acks": "1",
    "compression.type": "lz4",
    "request.timeout.ms": "30000",
    "batch.size": "262144",
}
"""Divolte's reference.conf values, applied when a property is missing altogether; also Java's request
timeout (aiokafka's own is 40 s), and a larger ``batch.size``: Java's 16 KiB counts compressed bytes,
aiokafka counts uncompressed ones, and 16 KiB batches cut throughput to a sixth (benchmarks/kafka_throughput.py)."""

NO_EFFECT = {
    "retries": "aiokafka retries a failed request until request.timeout.ms; the sink then retries forever",
    "max.in.flight.requests.per.connection": "aiokafka sends one request per broker at a time (order kept)",
    "buffer.memory": "records wait in the sink's queue (global.kafka.buffer_size) and disk spool instead",
    "max.block.ms": "sending never blocks the collector",
    "linger.ms": "batches are cut from the sink's queue (up to batch.size) and sent at once, never held back",
    "delivery.timeout.ms": "the sink retries until delivered; each attempt is bounded by request.timeout.ms",
    "send.buffer.bytes": "operating system defaults are used",
    "receive.buffer.bytes": "operating system defaults are used",
    "reconnect.backoff.ms": "aiokafka reconnects after retry.backoff.ms",
    "reconnect.backoff.max.ms": "aiokafka reconnects after retry.backoff.ms",
    "key.serializer": "Divolte fixes the serializers: key = party id (UTF-8), value = Avro",
    "value.serializer": "Divolte fixes the serializers: key = party id (UTF-8), value = Avro",
    "partitioner.class": "records go to murmur2(key) % partitions, as the Java default partitioner places them",
    "client.dns.lookup": "every address of a bootstrap host name is tried",
}

_DEFAULT_PARTITIONERS = {
    "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
    "org.apache.kafka.clients.producer.internals.BuiltInPartitioner",
}
_JAAS = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')
_COMPRESSION = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}
_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI")


@dataclass(slots=True)
class ProducerOptions:
    """The translated producer settings: aiokafka keyword arguments, and what was accepted without effect."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    no_effect: dict[str, str] = field(default_factory=dict)
    """Accepted properties with no counterpart → why that changes nothing."""

    @property
    def bootstrap(self) -> str:
        return ",".join(self.kwargs["bootstrap_servers"])


def _int(minimum: int = 0) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"\s*[+-]?\d+\s*", text):
            raise ValueError(f"expected an integer, found '{text}'")
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, found {value}")
        return value

    return parse


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"expected true or false, found '{text}'")
    return lowered == "true"


def _servers(text: str) -> list[str]:
    servers = [s.strip() for s in text.split(",") if s.strip()]
    if not servers:
        raise ValueError("expected host:port[,host:port...], found nothing")
    for server in servers:
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"'{server}' is not host:port")
    return servers


def _acks(text: str) -> int:
    value = {"all": -1, "-1": -1, "0": 0, "1": 1}.get(text.strip().lower())
    if value is None:
        raise ValueError(f"expected 0, 1, -1 or all, found '{text}'")
    return value


def _choice(allowed: Mapping[str, Any] | tuple[str, ...], *, upper: bool = False) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        key = text.strip().upper() if upper else text.strip().lower()
        if key not in allowed:
            raise ValueError(f"'{text}' is not one of: {', '.join(allowed)}")
        return allowed[key] if isinstance(allowed, Mapping) else key

    return parse


SASL_LIBRARIES = {"GSSAPI": ("gssapi", "kerberos")}
"""SASL mechanism → (the Python module aiokafka needs for it, the extra of this package that installs it)."""


def _with_library(mechanism: str) -> str:
    """A mechanism whose library is missing is refused now, not by a dying sink at the first record."""
    module, extra = SASL_LIBRARIES.get(mechanism, ("", ""))
    if module and importlib.util.find_spec(module) is None:
        raise ValueError(
            f"{mechanism} needs the Python package '{module}', which is not installed: "
            f"pip install 'divolte-collector-py[{extra}]' (it also needs the system's Kerberos library, e.g. "
            "libkrb5-dev to build it), or choose another mechanism"
        )
    return mechanism


TRANSLATED: dict[str, tuple[str, Callable[[str], Any]]] = {
    "bootstrap.servers": ("bootstrap_servers", _servers),
    "client.id": ("client_id", str),
    "acks": ("acks", _acks),
    "compression.type": ("compression_type", _choice(_COMPRESSION)),
    "batch.size": ("max_batch_size", _int(1)),
    "max.request.size": ("max_request_size", _int(1)),
    "request.timeout.ms": ("request_timeout_ms", _int(1)),
    "metadata.max.age.ms": ("metadata_max_age_ms", _int(1)),
    "retry.backoff.ms": ("retry_backoff_ms", _int()),
    "connections.max.idle.ms": ("connections_max_idle_ms", _int(1)),
    "enable.idempotence": ("enable_idempotence", _bool),
    "security.protocol": ("security_protocol", _choice(_SECURITY_PROTOCOLS, upper=True)),
    "sasl.mechanism": ("sasl_mechanism", lambda text: _with_library(_choice(_SASL_MECHANISMS, upper=True)(text))),
    "sasl.kerberos.service.name": ("sasl_kerberos_service_name", str),
}
"""Java property → (aiokafka argument, parser). ``sasl.jaas.config`` and ``ssl.*`` are handled apart."""

SSL_PROPERTIES = (
    "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.certificates", "ssl.keystore.type",
    "ssl.keystore.location", "ssl.key.password", "ssl.endpoint.identification.algorithm", "ssl.protocol",
    "ssl.truststore.password", "ssl.keystore.password",
)  # fmt: skip
"""The store passwords are read only to say that PEM stores have none (a JKS store converted to PEM)."""
SUPPORTED = (*TRANSLATED, "sasl.jaas.config", *SSL_PROPERTIES, *NO_EFFECT)


def producer_options(properties: Mapping[str, str]) -> ProducerOptions:
    """Translate the producer properties, or raise ``ConfigError`` naming every property that cannot be."""
    merged = {**DEFAULTS, **properties}
    options = ProducerOptions()
    problems: list[str] = []
    for name, text in merged.items():
        try:
            if name in TRANSLATED:
                argument, parse = TRANSLATED[name]
                options.kwargs[argument] = parse(text)
            elif name in NO_EFFECT:
                if name == "partitioner.class" and text.strip() not in _DEFAULT_PARTITIONERS:
                    raise ValueError(f"only Kafka's default partitioner is supported, found '{text}'")
                options.no_effect[name] = NO_EFFECT[name]
            elif name not in SSL_PROPERTIES and name != "sasl.jaas.config":
                problems.append(
                    f"{PREFIX}.{name}: unknown or unsupported Kafka producer property. "
                    f"Supported: {', '.join(SUPPORTED)}"
                )
        except ValueError as exc:
            problems.append(f"{PREFIX}.{name}: {exc}")
    try:
        _sasl(merged, options.kwargs)
        _ssl(merged, options.kwargs)
    except ValueError as exc:
        problems.append(str(exc))
    if options.kwargs.get("enable_idempotence") and options.kwargs.get("acks") != -1:
        problems.append(f"{PREFIX}.enable.idempotence: true needs acks = all (found acks = {merged['acks']})")
    if problems:
        raise ConfigError(problems)
    return options


def _sasl(properties: Mapping[str, str], kwargs: dict[str, Any]) -> None:
    jaas = properties.get("sasl.jaas.config")
    if jaas is None:
        return
    if "PlainLoginModule" not in jaas and "ScramLoginModule" not in jaas:
        raise ValueError(
            f"{PREFIX}.sasl.jaas.config: only PlainLoginModule and ScramLoginModule (username and password) "
            "are supported; for GSSAPI set sasl.mechanism = GSSAPI and sasl.kerberos.service.name"
        )
    values = dict(_JAAS.findall(jaas))
    if "username" not in values or "password" not in values:
        raise ValueError(f'{PREFIX}.sasl.jaas.config: needs username="…" and password="…"')
    kwargs["sasl_plain_username"] = values["username"]
    kwargs["sasl_plain_password"] = values["password"]


CONVERSIONS = {
    "truststore": "keytool -importkeystore -srckeystore truststore.jks -destkeystore truststore.p12 "
    "-deststoretype PKCS12 && openssl pkcs12 -in truststore.p12 -nokeys -out truststore.pem",
    "keystore": "keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 -deststoretype PKCS12 "
    "&& openssl pkcs12 -in keystore.p12 -nodes -out keystore.pem (certificate and unencrypted key; keep it private, "
    "or encrypt the key and set ssl.key.password)",
}
"""How to turn a Java key store into the PEM file Python reads (a PKCS12 store: the openssl step alone)."""


def _not_pem(store: str, detail: str) -> ValueError:
    return ValueError(
        f"{PREFIX}.ssl.{store}.{detail}; Python reads PEM files only. Convert the store, e.g. "
        f"`{CONVERSIONS[store]}`, then set ssl.{store}.location to the PEM file and ssl.{store}.type = PEM "
        "(the Java client reads that too)"
    )


def _check_pem_file(store: str, location: str | None) -> None:
    """A JKS or PKCS12 store at a ``location`` whose type was left to Java's default gets the same advice."""
    if location is None:
        return
    try:
        with open(location, "rb") as handle:
            start = handle.read(4096)
    except OSError as exc:
        raise ValueError(f"{PREFIX}.ssl.{store}.location: cannot read '{location}': {exc.strerror}") from exc
    if b"-----BEGIN " not in start:
        kind = "a JKS key store" if start.startswith(b"\xfe\xed\xfe\xed") else "not a PEM file (PKCS12 or DER?)"
        raise _not_pem(store, f"location: '{location}' is {kind}")


def _ssl(properties: Mapping[str, str], kwargs: dict[str, Any]) -> None:
    given = {name: properties[name] for name in SSL_PROPERTIES if name in properties}
    if not kwargs.get("security_protocol", "PLAINTEXT").endswith("SSL"):
        if given:
            raise ValueError(f"{PREFIX}: {', '.join(given)} set, but security.protocol is not SSL or SASL_SSL")
        return
    for store in ("truststore", "keystore"):
        kind = given.get(f"ssl.{store}.type", "PEM").strip().upper()
        if kind != "PEM":
            raise _not_pem(store, f"type: '{kind}' key stores cannot be read here")
        _check_pem_file(store, given.get(f"ssl.{store}.location"))
        if f"ssl.{store}.password" in given:
            raise ValueError(
                f"{PREFIX}.ssl.{store}.password: PEM stores have no store password; remove it (an encrypted private "
                "key in the key store takes ssl.key.password)"
            )
    try:
        context = ssl.create_default_context(
            cafile=given.get("ssl.truststore.location"), cadata=given.get("ssl.truststore.certificates")
        )
        if given.get("ssl.endpoint.identification.algorithm", "https").strip() == "":
            context.check_hostname = False
        if "ssl.keystore.location" in given:
            context.load_cert_chain(given["ssl.keystore.location"], password=given.get("ssl.key.password"))
        protocol = given.get("ssl.protocol", "TLS").strip().upper()
        if protocol in ("TLSV1.2", "TLSV1.3"):
            context.minimum_version = ssl.TLSVersion[protocol.replace("TLSV1.", "TLSv1_")]
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{PREFIX}: TLS settings cannot be used: {exc}") from exc
    kwargs["ssl_context"] = context
