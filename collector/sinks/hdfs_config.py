"""Where a Hadoop client configuration (``divolte.global.hdfs.client``) says HDFS is, as WebHDFS addresses.

Divolte hands ``global.hdfs.client`` to Hadoop's ``FileSystem``; we reach the same file system over HTTP, so the
settings map onto the NameNodes' HTTP addresses:

- ``fs.defaultFS`` (or the old ``fs.default.name``) unset or ``file:…``: local directories (``collector.sinks.file``).
- ``hdfs://host[:rpc port]``: the NameNode's HTTP address is ``dfs.namenode.http-address`` if set, else
  ``host:9870`` (Hadoop 3's default). With ``dfs.http.policy = HTTPS_ONLY``: ``dfs.namenode.https-address``,
  else ``host:9871``, over HTTPS.
- ``hdfs://<nameservice>`` where ``dfs.nameservices`` lists it (high availability): the NameNodes named by
  ``dfs.ha.namenodes.<nameservice>``, at ``dfs.namenode.http-address.<nameservice>.<namenode>`` (or
  ``https-address``), tried in that order; a standby's answer moves on to the next.
- ``webhdfs://host[:port]`` / ``swebhdfs://host[:port]``: that HTTP(S) address itself (default ports 9870 /
  9871): a NameNode, or an HttpFS gateway (usually port 14000).
- User (simple auth): ``HADOOP_USER_NAME`` from the environment, else ``hadoop.user.name`` in the client
  settings (an addition), else the collector's OS user, as Hadoop's client does.
- Delegation token: ``webhdfs.delegation.token`` in the client settings (an addition) or the
  ``WEBHDFS_DELEGATION_TOKEN`` environment variable; sent as ``delegation=`` instead of ``user.name=``.
- ``hadoop.security.authentication = kerberos`` without a delegation token is refused at start-up: SPNEGO is
  not implemented (fetch a delegation token with ``hdfs fetchdt`` / ``curl --negotiate`` and configure it).
"""

from __future__ import annotations

import getpass
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from collector.errors import ConfigError

PREFIX = "divolte.global.hdfs.client"
HTTP_PORT = 9870
HTTPS_PORT = 9871


@dataclass(frozen=True, slots=True)
class HdfsConnection:
    """How to reach HDFS: its NameNodes' (or gateway's) base URLs, in the order to try them, and the auth."""

    namenodes: tuple[str, ...]
    authority: str
    """``fs.defaultFS``'s authority (``host:port`` or the nameservice): paths given as URIs must match it."""
    user: str | None = None
    delegation: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        who = "a delegation token" if self.delegation else f"user {self.user}"
        return f"WebHDFS at {', '.join(self.namenodes)} as {who}"


def default_fs(client: Mapping[str, str]) -> str:
    return client.get("fs.defaultFS") or client.get("fs.default.name") or ""


def is_remote(client: Mapping[str, str] | None) -> bool:
    """Whether the file sinks write to a Hadoop file system rather than to local directories."""
    value = default_fs(client or {})
    return bool(value) and not value.startswith("file:")


def hdfs_connection(client: Mapping[str, str], environ: Mapping[str, str] | None = None) -> HdfsConnection:
    """The WebHDFS addresses and credentials ``client`` (a remote ``fs.defaultFS``) points at; ``ConfigError``
    naming the key when they cannot be worked out."""
    env = os.environ if environ is None else environ
    uri = default_fs(client)
    key = "fs.defaultFS" if client.get("fs.defaultFS") else "fs.default.name"
    parts = urllib.parse.urlsplit(uri)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if not host:
        raise ConfigError(f"{PREFIX}.{key}: '{uri}' names no host; use hdfs://namenode:8020 or webhdfs://host:9870.")
    if scheme in ("webhdfs", "swebhdfs"):
        secure = scheme == "swebhdfs"
        port = parts.port or (HTTPS_PORT if secure else HTTP_PORT)
        namenodes: tuple[str, ...] = (f"{'https' if secure else 'http'}://{host}:{port}",)
    elif scheme == "hdfs":
        namenodes = _hdfs_namenodes(client, host)
    else:
        raise ConfigError(
            f"{PREFIX}.{key}: '{uri}' uses the '{scheme}:' scheme; hdfs sinks write to HDFS (hdfs://, webhdfs://, "
            "swebhdfs://) or to local directories (file: or no fs.defaultFS). For object storage use an s3 sink."
        )
    delegation = client.get("webhdfs.delegation.token") or env.get("WEBHDFS_DELEGATION_TOKEN") or None
    if client.get("hadoop.security.authentication", "simple").lower() == "kerberos" and not delegation:
        raise ConfigError(
            f"{PREFIX}.hadoop.security.authentication = kerberos: Kerberos (SPNEGO) is not supported by this "
            "collector. Configure a delegation token instead (webhdfs.delegation.token, or the "
            "WEBHDFS_DELEGATION_TOKEN environment variable; e.g. from `hdfs fetchdt`), or use simple auth."
        )
    user = env.get("HADOOP_USER_NAME") or client.get("hadoop.user.name") or _os_user()
    return HdfsConnection(namenodes, parts.netloc, user=user, delegation=delegation)


def _https(client: Mapping[str, str]) -> bool:
    return client.get("dfs.http.policy", "HTTP_ONLY").upper() == "HTTPS_ONLY"


def _hdfs_namenodes(client: Mapping[str, str], host: str) -> tuple[str, ...]:
    secure = _https(client)
    scheme, kind, port = ("https", "https-address", HTTPS_PORT) if secure else ("http", "http-address", HTTP_PORT)
    services = [name.strip() for name in client.get("dfs.nameservices", "").split(",") if name.strip()]
    if host in services:
        names_key = f"dfs.ha.namenodes.{host}"
        names = [name.strip() for name in client.get(names_key, "").split(",") if name.strip()]
        if not names:
            raise ConfigError(
                f"{PREFIX}.{names_key}: missing; nameservice '{host}' (dfs.nameservices) needs its NameNodes listed, "
                'e.g. "nn1,nn2", each with dfs.namenode.http-address.<nameservice>.<namenode>.'
            )
        urls = []
        for name in names:
            address_key = f"dfs.namenode.{kind}.{host}.{name}"
            address = client.get(address_key)
            if not address:
                raise ConfigError(f"{PREFIX}.{address_key}: missing; the HTTP address (host:port) of NameNode "
                                  f"'{name}' of nameservice '{host}' is needed to reach it over WebHDFS.")  # fmt: skip
            urls.append(f"{scheme}://{address}")
        return tuple(urls)
    address = client.get(f"dfs.namenode.{kind}")
    if address:
        bind_host, _, bind_port = address.rpartition(":")
        # A wildcard bind address says only the port; the host is fs.defaultFS's.
        return (f"{scheme}://{host if bind_host in ('', '0.0.0.0', '[::]') else bind_host}:{bind_port or port}",)
    return (f"{scheme}://{host}:{port}",)


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def hdfs_path(value: str, key: str, connection: HdfsConnection) -> str:
    """A ``working_dir``/``publish_dir`` value as an absolute HDFS path: a plain absolute path, or a URI on the
    same file system as ``fs.defaultFS`` (``hdfs://namenode:8020/divolte/published``)."""
    if "://" in value:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("hdfs", "webhdfs", "swebhdfs") or (
            parts.netloc and parts.netloc != connection.authority
        ):
            raise ConfigError(
                f"{key}: '{value}' is not on the file system of {PREFIX}.fs.defaultFS ({connection.authority}); "
                "use a plain absolute path, or a URI with the same scheme and authority."
            )
        value = parts.path or "/"
    if not value.startswith("/"):
        raise ConfigError(f"{key}: '{value}' must be an absolute path on HDFS (starting with '/').")
    return value.rstrip("/") or "/"
