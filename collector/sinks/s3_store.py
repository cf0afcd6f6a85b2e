"""Reaching S3 (or an S3-compatible store such as MinIO) with obstore, and naming the objects files become.

Shared by the S3 sink and ``divolte-collector cat``. Credentials follow the standard AWS chain as far as
obstore implements it (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, web identity
tokens, ECS container credentials, EC2 instance metadata); static keys of a named profile
(``AWS_PROFILE``, default ``default``, in ``~/.aws/credentials`` or ``~/.aws/config``) are read here, since
obstore does not read profiles. Region: the setting, else ``AWS_REGION``/``AWS_DEFAULT_REGION``, else the
profile's, else obstore's default (``us-east-1``). Endpoint: the setting, else ``AWS_ENDPOINT_URL``.

Object keys come from the file's name, never from the clock at upload time, so an upload retried after a
crash or an outage lands on the same key (an overwrite with the same bytes, never a duplicate).
"""

from __future__ import annotations

import configparser
import os
import re
import string
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from obstore.store import S3Store

from collector.errors import ConfigError

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

KEY_PLACEHOLDERS = {
    "name": "the file's name, e.g. 20240131093055-divolte-tracking-host-1.avro (required)",
    "date": "the file's creation date, YYYY-MM-DD",
    "year": "YYYY",
    "month": "MM",
    "day": "DD",
    "hour": "HH (00-23)",
    "minute": "mm",
    "sink": "the sink's name",
}
"""The placeholders of ``key_pattern``. Times are the file's creation time as its name gives it (the process's
local time zone, as Divolte's names; run the collector with ``TZ=UTC`` for UTC partitions)."""

FILE_NAME = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-divolte-tracking-.+\.avro$")


def check_key_pattern(pattern: str, key: str) -> None:
    """Raise ``ConfigError`` unless ``pattern`` uses only known placeholders and contains ``{name}``."""
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(pattern) if field is not None]
    except ValueError as exc:
        message = f"{key}: '{pattern}' is not a valid pattern ({exc}); write placeholders as {{name}}."
        raise ConfigError(message) from exc
    unknown = sorted({field for field in fields if field not in KEY_PLACEHOLDERS})
    if unknown:
        raise ConfigError(
            f"{key}: unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)} in '{pattern}'. "
            f"Allowed: {', '.join('{' + p + '}' for p in KEY_PLACEHOLDERS)}."
        )
    if "name" not in fields:
        raise ConfigError(f"{key}: '{pattern}' must contain {{name}}, or files of one partition would overwrite "
                          "each other.")  # fmt: skip
    if pattern.startswith("/"):
        raise ConfigError(f"{key}: '{pattern}' must not start with '/' (put the folder in prefix).")


def object_key(prefix: str, pattern: str, file_name: str, sink: str) -> str:
    """The key of the object a published file becomes: ``prefix`` + ``pattern`` filled from the file name."""
    match = FILE_NAME.match(file_name)
    if match is None:
        raise ValueError(f"'{file_name}' is not a collector file name")
    year, month, day, hour, minute, _ = match.groups()
    return prefix + pattern.format(
        name=file_name, date=f"{year}-{month}-{day}", year=year, month=month, day=day, hour=hour, minute=minute,
        sink=sink,
    )  # fmt: skip


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    if not url.startswith("s3://"):
        raise ValueError(f"'{url}' is not an s3:// URL")
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"'{url}' names no bucket; write s3://bucket/key")
    return bucket, key


def profile_settings(env: Mapping[str, str]) -> dict[str, str]:
    """Static credentials and region of the AWS profile in use, as obstore config keys (empty if none)."""
    profile = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    home = Path(env.get("HOME", "~")).expanduser()
    credentials = Path(env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
    config = Path(env.get("AWS_CONFIG_FILE") or home / ".aws" / "config")
    found: dict[str, str] = {}
    sources = ((config, "default" if profile == "default" else f"profile {profile}"), (credentials, profile))
    names = {"aws_access_key_id": "access_key_id", "aws_secret_access_key": "secret_access_key",
             "aws_session_token": "session_token", "region": "region"}  # fmt: skip
    for path, section in sources:  # the credentials file wins over the config file, as in the AWS CLI
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except (OSError, configparser.Error):
            continue
        if parser.has_section(section):
            found.update({names[k]: v for k, v in parser.items(section) if k in names and v})
    return found


def open_store(
    bucket: str,
    *,
    region: str | None = None,
    endpoint: str | None = None,
    env: Mapping[str, str] | None = None,
    request_timeout: float = 120.0,
) -> S3Store:
    """An obstore ``S3Store`` for ``bucket``. Requests fail within ``request_timeout`` (after obstore's own
    quick retries); the caller retries with its own, longer backoff."""
    env = os.environ if env is None else env
    config: S3Config = {}
    if not env.get("AWS_ACCESS_KEY_ID") and not env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        profile = profile_settings(env)
        if "access_key_id" in profile and "secret_access_key" in profile:
            config["access_key_id"] = profile["access_key_id"]
            config["secret_access_key"] = profile["secret_access_key"]
            if "session_token" in profile:
                config["session_token"] = profile["session_token"]
        if "region" in profile and not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
            config["region"] = profile["region"]
    if region:
        config["region"] = region
    endpoint = endpoint or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        config["endpoint"] = endpoint
    client: ClientConfig = {
        "connect_timeout": timedelta(seconds=5),
        "timeout": timedelta(seconds=request_timeout),
        "allow_http": bool(endpoint and endpoint.startswith("http://")),
    }
    retry: RetryConfig = {
        "max_retries": 2,
        "retry_timeout": timedelta(seconds=request_timeout),
        "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=2), "base": 2},
    }
    return S3Store(bucket, config=config, client_options=client, retry_config=retry)


def describe_error(exc: BaseException) -> str:
    """obstore's messages carry a multi-line debug dump; the first line says what happened."""
    text = str(exc).strip()
    if "<Code>NoSuchBucket</Code>" in text:  # obstore words it as "object not found"
        return "NoSuchBucket: the bucket does not exist (create it, or correct the sink's bucket)"
    lines = text.splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"
