"""A Kafka broker with secured listeners, and the certificates it needs, made here (``cryptography``).

One broker serves every secured case of a test session, each on a listener of its own:

    PLAINTEXT       admin clients, and the broker itself
    SASL_PLAINTEXT  SASL PLAIN (users in the listener's JAAS config) and SCRAM-SHA-512 (users created by the
                    storage format's ``--add-scram``, so they exist before the broker answers anyone)
    SASL_SSL        the same SASL mechanisms inside TLS
    SSL             TLS with client certificates required (mutual TLS)

Certificates: a CA, the broker's certificate for ``127.0.0.1`` and ``localhost`` (so host name verification
passes), a client certificate, and a second CA that signed nothing the broker shows (to prove that an
untrusted broker is refused). The broker reads PEM stores (``ssl.keystore.type = PEM``), as a Divolte user's
collector does; every file is written to ``folder``.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.servers.kafka.broker import KafkaBroker

USERS = {"alice": "alice-secret", "bob": "bob-secret"}
"""SASL users: ``alice`` for PLAIN, ``bob`` for SCRAM-SHA-512 (each only where it is configured)."""
PLAIN_JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule"
LISTENERS = {"SASL_PLAINTEXT": "SASL_PLAINTEXT", "SASL_SSL": "SASL_SSL", "SSL": "SSL"}


@dataclass(frozen=True)
class Certificates:
    ca: Path
    """The CA that signed the broker's and the client's certificates (PEM)."""
    broker: Path
    """The broker's private key and certificate chain (PEM)."""
    client: Path
    """The client's certificate and private key, in one PEM file (a collector's ``ssl.keystore.location``)."""
    client_certificate: Path
    client_key: Path
    other_ca: Path
    """A CA that signed nothing the broker shows."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())  # fmt: skip


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *, ca: bool = False, server: bool = False,
) -> x509.Certificate:  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )  # fmt: skip
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certificates(folder: Path) -> Certificates:
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_key, other_key, broker_key, client_key = _key(), _key(), _key(), _key()
    ca = _certificate("Test CA", ca_key, None, ca=True)
    other = _certificate("Some other CA", other_key, None, ca=True)
    broker = _certificate("127.0.0.1", broker_key, (ca.subject, ca_key), server=True)
    client = _certificate("divolte-collector", client_key, (ca.subject, ca_key))
    paths = Certificates(ca=folder / "ca.pem", broker=folder / "broker.pem", client=folder / "client.pem",
                         client_certificate=folder / "client-certificate.pem", client_key=folder / "client-key.pem",
                         other_ca=folder / "other-ca.pem")  # fmt: skip
    paths.ca.write_bytes(ca.public_bytes(pem))
    paths.other_ca.write_bytes(other.public_bytes(pem))
    paths.broker.write_bytes(_pem_key(broker_key) + broker.public_bytes(pem) + ca.public_bytes(pem))
    paths.client_certificate.write_bytes(client.public_bytes(pem))
    paths.client_key.write_bytes(_pem_key(client_key))
    paths.client.write_bytes(client.public_bytes(pem) + _pem_key(client_key))
    for path in (paths.broker, paths.client, paths.client_key):
        path.chmod(0o600)
    return paths


def secured_broker(folder: Path) -> tuple[KafkaBroker, Certificates]:
    """A broker (not started yet) with the listeners of the module docstring."""
    certificates = make_certificates(folder / "certificates")
    plain_users = " ".join(f'user_{name}="{password}"' for name, password in USERS.items())
    extra = {
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(certificates.broker),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(certificates.ca),
        "listener.name.ssl.ssl.client.auth": "required",
    }
    for listener in ("sasl_plaintext", "sasl_ssl"):
        extra[f"listener.name.{listener}.plain.sasl.jaas.config"] = f"{PLAIN_JAAS} required {plain_users};"
        extra[f"listener.name.{listener}.scram-sha-512.sasl.jaas.config"] = f"{SCRAM_JAAS} required;"
    scram = [f"SCRAM-SHA-512=[name={name},password={password}]" for name, password in USERS.items()]
    broker = KafkaBroker(folder / "broker", extra=extra, listeners=LISTENERS, scram_users=scram)
    return broker, certificates
