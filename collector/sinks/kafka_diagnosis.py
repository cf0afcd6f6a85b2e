"""Why the Kafka producer could not start, in the words of the settings a user wrote.

aiokafka's ``start()`` answers every failed bootstrap with ``KafkaConnectionError("Unable to bootstrap from
[...]")``, whether the brokers are down, refuse the credentials or present a certificate we do not trust;
the cause only reaches its log. After such a failure we connect to each bootstrap server once more, the way
the producer does (same TLS context, same SASL settings), keep the error that says most (a refused login
or certificate before a refused connection), and name the producer property that fixes it.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from collector.sinks.kafka_config import PREFIX

_CONNECTION_ARGUMENTS = ("client_id", "request_timeout_ms", "ssl_context", "security_protocol", "sasl_mechanism",
                         "sasl_plain_username", "sasl_plain_password", "sasl_kerberos_service_name")  # fmt: skip
_SECURITY = (SaslAuthenticationFailed, AuthenticationFailedError, UnsupportedSaslMechanismError,
             IllegalSaslStateError, ssl.SSLError)  # fmt: skip


async def _try(host: str, port: int, arguments: dict[str, Any]) -> BaseException | None:
    try:
        connection = await create_conn(host, port, **arguments)
    except Exception as exc:  # best effort: whatever it is, it is the answer (OSError, KafkaError, TimeoutError)
        return exc
    connection.close()
    return None


async def connection_error(kwargs: dict[str, Any]) -> BaseException | None:
    """The error a bootstrap server answers a connection with (a security one first), or None if all accept."""
    arguments = {name: kwargs[name] for name in _CONNECTION_ARGUMENTS if name in kwargs}
    errors = []
    for server in kwargs["bootstrap_servers"]:
        host, _, port = server.rpartition(":")
        error = await _try(host.strip("[]"), int(port), arguments)
        if isinstance(error, _SECURITY):
            return error
        if error is not None:
            errors.append(error)
    return errors[0] if errors else None


def explain(error: BaseException | None, kwargs: dict[str, Any]) -> str:
    """What to change for ``error`` (from ``connection_error``); empty when there is nothing specific to say."""
    protocol = kwargs.get("security_protocol", "PLAINTEXT")
    mechanism = kwargs.get("sasl_mechanism", "PLAIN")
    if isinstance(error, SaslAuthenticationFailed | AuthenticationFailedError):
        user = kwargs.get("sasl_plain_username")
        return (
            f"the brokers refuse the credentials (SASL {mechanism}"
            + (f", user '{user}'" if user else "")
            + f": {error}); check the username and password in {PREFIX}.sasl.jaas.config, and that the user exists "
            f"for {mechanism} on the brokers"
        )
    if isinstance(error, UnsupportedSaslMechanismError | IllegalSaslStateError):
        return (
            f"the brokers do not accept {PREFIX}.sasl.mechanism = {mechanism} on this listener ({error}); use one "
            "their sasl.enabled.mechanisms lists"
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"the brokers' certificate is not trusted ({error.verify_message}); set {PREFIX}.ssl.truststore.location "
            "to a PEM file with the CA that signed it (a host name mismatch: the certificate must name the host of "
            f'bootstrap.servers, or set {PREFIX}.ssl.endpoint.identification.algorithm = "")'
        )
    if isinstance(error, ssl.SSLError):
        return f"the TLS handshake with the brokers failed ({error}); check {PREFIX}.ssl.* and security.protocol"
    if error is not None and "closed" in str(error) and protocol == "SSL" and "ssl_context" in kwargs:
        return (
            f"the brokers closed the TLS connection ({error}); a listener that requires client certificates does "
            f"that when none is given: set {PREFIX}.ssl.keystore.location to a PEM file with the certificate and key"
        )
    return ""
