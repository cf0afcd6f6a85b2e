"""Reaching Google Cloud Storage with gcloud-aio-storage: credentials, the bucket check, object names, ``gs://`` URLs.

Shared by the GCS sink and ``divolte-collector cat``. The client speaks Cloud Storage's JSON API, as Divolte
does (obstore's GCS store speaks the XML API, which the emulator the tests run does not serve, and it
ignores ``skip_signature`` for GCS).

Credentials are Application Default Credentials, as in Divolte: ``GOOGLE_APPLICATION_CREDENTIALS`` (a
service-account key, an ``authorized_user`` file from ``gcloud auth application-default login``, or another
ADC file type), else gcloud's well-known file (``~/.config/gcloud/application_default_credentials.json``), else
the metadata server of the VM or container on Google Cloud. A named file is read and checked here, before
anything is sent, so a broken one is a start-up error that names the file and what is wrong, never a silent
fall-back to the metadata server (what the client library would do). ``STORAGE_EMULATOR_HOST``
(``http://host:port``, the variable Google's own clients read) points every request at an emulator, without
credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from gcloud.aio.storage import Storage

from collector.errors import ConfigError, SinkError

EMULATOR_VARIABLE = "STORAGE_EMULATOR_HOST"
CREDENTIALS_VARIABLE = "GOOGLE_APPLICATION_CREDENTIALS"
CREDENTIAL_FIELDS = {
    "service_account": ("client_email", "private_key"),
    "authorized_user": ("client_id", "client_secret", "refresh_token"),
    "external_account": ("audience", "subject_token_type", "token_url", "credential_source"),
    "impersonated_service_account": ("service_account_impersonation_url", "source_credentials"),
}
"""The ADC file types the client can use, and the fields each must have."""
CONTENT_TYPE = "application/octet-stream"
"""Divolte's content type for the Avro files it writes."""


def bucket_name(value: str, key: str) -> str:
    """``bucket`` as a bucket name: ``my-bucket`` or ``gs://my-bucket``; a folder after it is refused."""
    name = value.removeprefix("gs://").rstrip("/")
    if not name or "/" in name:
        raise ConfigError(
            f"{key}: '{value}' is not a bucket name. Name only the bucket (bucket = my-bucket); objects go under "
            "file_strategy.publish_dir inside it."
        )
    return name


def object_name(publish_dir: str, file_name: str) -> str:
    """The object a published file becomes: ``<publish_dir>/<file name>``, the directory verbatim, as Divolte
    names it (so ``publish_dir = /divolte/published`` gives objects named ``/divolte/published/…``)."""
    return f"{publish_dir}/{file_name}"


def parse_gs_url(url: str) -> tuple[str, str]:
    """``gs://bucket/name`` → ``(bucket, name)``."""
    if not url.startswith("gs://"):
        raise ValueError(f"'{url}' is not a gs:// URL")
    bucket, _, name = url[len("gs://") :].partition("/")
    if not bucket:
        raise ValueError(f"'{url}' names no bucket; write gs://bucket/name")
    return bucket, name


def emulator(env: Mapping[str, str]) -> str | None:
    """The emulator's base URL from ``STORAGE_EMULATOR_HOST`` (``http://`` added when missing), or None."""
    host = env.get(EMULATOR_VARIABLE, "").strip().rstrip("/")
    if not host:
        return None
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def credentials_file(env: Mapping[str, str]) -> Path | None:
    """The file ``GOOGLE_APPLICATION_CREDENTIALS`` names, checked; None when unset. ``ConfigError`` says what is
    wrong with it and how to fix it."""
    value = env.get(CREDENTIALS_VARIABLE)
    if not value:
        return None
    path = Path(value)
    where = f"{CREDENTIALS_VARIABLE}={value}"
    fix = ("Point it at a service-account key file (IAM → Service accounts → Keys → JSON), or unset it to use "
           "gcloud's application default credentials or the metadata server.")  # fmt: skip
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file ({exc.strerror or exc}). {fix}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: the file is not JSON ({exc}). {fix}") from exc
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in CREDENTIAL_FIELDS:
        raise ConfigError(f"{where}: credentials of type {kind!r} are not supported "
                          f"(one of: {', '.join(CREDENTIAL_FIELDS)}). {fix}")  # fmt: skip
    assert isinstance(data, dict)
    missing = [name for name in CREDENTIAL_FIELDS[kind] if not data.get(name)]
    if missing:
        raise ConfigError(f"{where}: the {kind} credentials lack {', '.join(missing)}. {fix}")
    if kind == "service_account":
        try:
            load_pem_private_key(str(data["private_key"]).encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: the private_key of {data['client_email']} is not a valid PEM key ({exc}). "
                              "Download a new key for the service account.") from exc  # fmt: skip
    return path


def describe_credentials(env: Mapping[str, str]) -> str:
    """Which credentials requests use, for messages."""
    if emulator(env):
        return f"none (the emulator at {emulator(env)}, from {EMULATOR_VARIABLE})"
    if env.get(CREDENTIALS_VARIABLE):
        return f"{CREDENTIALS_VARIABLE}={env[CREDENTIALS_VARIABLE]}"
    well_known = Path(env.get("CLOUDSDK_CONFIG") or Path(env.get("HOME", "~")) / ".config" / "gcloud")
    well_known = (well_known / "application_default_credentials.json").expanduser()
    if well_known.exists():
        return f"gcloud's application default credentials ({well_known})"
    return "the metadata server (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud application default credentials)"


def open_storage(env: Mapping[str, str] | None = None) -> Storage:
    """A client for Cloud Storage, or for the emulator ``STORAGE_EMULATOR_HOST`` names. Call it inside the
    event loop that will use it (its HTTP session belongs to that loop)."""
    env = os.environ if env is None else env
    service_file = credentials_file(env)
    return Storage(service_file=str(service_file) if service_file else None, api_root=emulator(env))


async def check_access(storage: Storage, bucket: str, key: str, env: Mapping[str, str], timeout: int = 30) -> None:
    """Fetch a token (unless talking to an emulator) and the bucket's metadata, as Divolte does at start-up;
    ``SinkError`` (not retriable) names what failed and the fix."""
    credentials = describe_credentials(env)
    if emulator(env) is None:
        try:
            await storage.token.refresh(timeout=timeout)
        except Exception as exc:  # the client raises plain Exception, KeyError, aiohttp errors, ...
            raise SinkError(
                f"{key}: could not obtain Google credentials from {credentials}: {describe_error(exc)}. Set "
                f"{CREDENTIALS_VARIABLE} to a service-account key file, run `gcloud auth application-default "
                "login`, or run on Google Cloud with a service account attached.",
                retriable=False,
            ) from exc
    try:
        await storage.get_bucket_metadata(bucket, timeout=timeout)
    except aiohttp.ClientResponseError as exc:
        if exc.status == 404:
            problem = (f"bucket '{bucket}' does not exist. Create it (gcloud storage buckets create gs://{bucket}), "
                       "or correct the sink's bucket.")  # fmt: skip
        elif exc.status in (401, 403):
            problem = (f"the credentials ({credentials}) may not use bucket '{bucket}' (HTTP {exc.status}). Grant "
                       "them roles/storage.legacyBucketWriter on the bucket (read it, create and overwrite objects), "
                       "or use other credentials.")  # fmt: skip
        else:
            problem = f"reading bucket '{bucket}' failed: {describe_error(exc)}."
        raise SinkError(f"{key}: {problem}", retriable=False) from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise SinkError(f"{key}: cannot reach Cloud Storage to check bucket '{bucket}': {describe_error(exc)}.",
                        retriable=False) from exc  # fmt: skip


async def list_names(storage: Storage, bucket: str, prefix: str, timeout: int = 60) -> list[str]:
    """The names of the objects under ``prefix``, in name order (every page of the listing)."""
    names: list[str] = []
    params = {"prefix": prefix} if prefix else {}
    while True:
        page = await storage.list_objects(bucket, params=params, timeout=timeout)
        names += [str(item["name"]) for item in page.get("items", [])]
        token = page.get("nextPageToken")
        if not token:
            return sorted(names)
        params = {**params, "pageToken": str(token)}


def describe_error(exc: BaseException) -> str:
    """One line: the HTTP status and Google's message, or the connection error."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status}: {_google_message(exc.message)}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _google_message(message: str) -> str:
    """Google's error body is JSON after the reason; its ``error.message`` is what a person needs."""
    reason, _, body = message.partition(": ")
    try:
        data: Any = json.loads(body)
        return f"{reason}: {data['error']['message']}"
    except (ValueError, KeyError, TypeError):
        return message.strip()[:300]
