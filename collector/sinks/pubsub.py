"""Divolte's Google Cloud Pub/Sub sink (``type = gcps``): one message per record on the sink's topic.

Messages and attributes are built by ``collector.sinks.pubsub_messages`` (SPEC §9.5; no ordering key). The
transport is the official client's own pieces (``google-cloud-pubsub``: its protobuf types; ``google-auth`` and
``google-api-core`` for the authorised channel) on a ``grpc.aio`` channel, so publishing runs on the event loop
without the client's background threads and futures: a batch from the runner is cut into publish requests by
``batching_settings`` (``element_count_threshold``, ``request_bytes_threshold``; ``delay_threshold`` has nothing
to wait for, as the runner hands over whole batches) and the requests go out concurrently.

Each request is retried as Divolte's publisher does, per ``retry_settings``: on Google's retriable codes
(UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, CANCELLED, INTERNAL, RESOURCE_EXHAUSTED, UNKNOWN), delays from
``initial_retry_delay`` times ``retry_delay_multiplier`` up to ``max_retry_delay``, each attempt bounded by an RPC
timeout from ``initial_rpc_timeout`` (times ``rpc_timeout_multiplier``, up to ``max_rpc_timeout``), until
``total_timeout`` has passed or ``max_attempts`` (0: no limit) were made. Then, where Divolte pauses and retries
forever in memory, the sink raises a retriable ``SinkError``: the runner keeps the records, in the disk spool
behind the queue, and writes them once Pub/Sub answers again, so an outage loses nothing. Requests that
succeeded are remembered and not sent again. Other errors (a deleted topic, lost permissions, a message the
topic's schema refuses) are not retried within the write but are kept the same way, and logged with the fix.

Credentials: with ``PUBSUB_EMULATOR_HOST`` set, a plaintext channel to it and no credentials (as Divolte);
otherwise Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's, the metadata server).
At start-up the credentials are loaded and the topic is looked up: unusable credentials or a missing topic stop the
collector with the fix; Pub/Sub merely unreachable does not (records wait in the spool), nor credentials that
may publish but not look topics up (``roles/pubsub.publisher``: a warning says the check was skipped).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
from google.pubsub_v1.types import GetTopicRequest, PublishRequest, PublishResponse, PubsubMessage, Topic

from collector.config.settings import GcpsSinkSettings, RetrySettings, Settings
from collector.errors import ConfigError, SinkError
from collector.events import EncodedRecord
from collector.sinks.pubsub_messages import MessageBuilder, requests, schema_fingerprint
from collector.sinks.runner import SinkRunner
from collector.sinks.spool import Spool

log = logging.getLogger(__name__)

ENDPOINT = "pubsub.googleapis.com:443"
SCOPES = ("https://www.googleapis.com/auth/pubsub",)
RETRIABLE = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNKNOWN,
})  # fmt: skip
"""The codes Google's Pub/Sub publisher retries."""
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
    # Reconnect within seconds once Pub/Sub is back (gRPC's default backoff grows to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
]
MAX_IN_FLIGHT = 64
"""Publish requests of one write sent at once (with Divolte's 1,000-byte requests, a batch makes hundreds)."""
CHECK_SECONDS = 10.0
"""How long the start-up look-up of the topic may take before the sink starts without it (Pub/Sub unreachable)."""
FIXES = {
    grpc.StatusCode.NOT_FOUND: "create it (gcloud pubsub topics create {topic} --project {project}), or correct "
    "the sink's topic / divolte.global.gcps.project_id",
    grpc.StatusCode.PERMISSION_DENIED: "grant the collector's credentials the Pub/Sub Publisher role "
    "(roles/pubsub.publisher) on the topic, or use other credentials (GOOGLE_APPLICATION_CREDENTIALS)",
    grpc.StatusCode.UNAUTHENTICATED: "the credentials are not accepted: check GOOGLE_APPLICATION_CREDENTIALS "
    "(or gcloud auth application-default login)",
}


class PubsubChannel:
    """The gRPC channel to Pub/Sub (or its emulator) and the two calls the sink makes, in raw protobuf."""

    def __init__(self, emulator_host: str | None, credentials: Any = None) -> None:
        """``credentials``: Google's (``default_credentials()``), needed unless ``emulator_host`` is given."""
        self.emulator_host = emulator_host
        self.credentials = credentials
        self.target = emulator_host or ENDPOINT
        self._channel: grpc.aio.Channel | None = None
        self.publish: Any = None
        self.get_topic: Any = None

    async def open(self) -> None:
        """Open the channel: plaintext to an emulator, else TLS with the credentials."""
        if self.emulator_host:
            channel = grpc.aio.insecure_channel(self.emulator_host, options=CHANNEL_OPTIONS)
        else:
            from google.api_core import grpc_helpers_async

            channel = grpc_helpers_async.create_channel(
                ENDPOINT, credentials=self.credentials, default_scopes=SCOPES, options=CHANNEL_OPTIONS
            )
        self._channel = channel
        request, response = PublishRequest.pb(), PublishResponse.pb()
        self.publish = channel.unary_unary(
            "/google.pubsub.v1.Publisher/Publish",
            request_serializer=request.SerializeToString, response_deserializer=response.FromString,
        )  # fmt: skip
        self.get_topic = channel.unary_unary(
            "/google.pubsub.v1.Publisher/GetTopic",
            request_serializer=GetTopicRequest.pb().SerializeToString, response_deserializer=Topic.pb().FromString,
        )  # fmt: skip

    async def aclose(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close(grace=1.0)


def default_credentials() -> Any:
    """Application Default Credentials; ``ConfigError`` naming the fix when there are none or they are unusable."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError as exc:
        source = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        where = f"GOOGLE_APPLICATION_CREDENTIALS={source}" if source else "Application Default Credentials"
        raise ConfigError(
            f"divolte.global.gcps: the Google Cloud credentials for Pub/Sub cannot be used ({where}): {exc} Point "
            "GOOGLE_APPLICATION_CREDENTIALS at a valid service-account key file, run on Google Cloud with a "
            "service account, run 'gcloud auth application-default login', or set PUBSUB_EMULATOR_HOST for an "
            "emulator."
        ) from exc
    return credentials


class PubsubSink:
    """Publishes a sink's records to one Pub/Sub topic; see the module docstring."""

    def __init__(
        self, settings: GcpsSinkSettings, project_id: str, channel: PubsubChannel, schema_json: str,
        confluent_id: int | None = None,
    ) -> None:  # fmt: skip
        self.name = settings.name
        self.settings = settings
        self.project_id = project_id
        self.topic = f"projects/{project_id}/topics/{settings.topic}"
        self.channel = channel
        self._message = MessageBuilder(PubsubMessage.pb(), schema_fingerprint(schema_json), confluent_id)
        self._request = PublishRequest.pb()
        batching = settings.batching_settings
        self._count_threshold = int(batching.get("element_count_threshold", 100))
        self._bytes_threshold = int(batching.get("request_bytes_threshold", 1000))
        self._pending: Sequence[EncodedRecord] | None = None
        self._delivered: set[int] = set()
        """Indices of the pending batch that Pub/Sub acknowledged: a retry of the batch sends only the others."""
        self._problem = ""

    async def start(self) -> None:
        """Look the topic up; ``ConfigError`` (the collector does not start) when it is missing or the credentials
        are refused. (Unusable credentials were refused with the configuration, by ``pubsub_runner``.)"""
        await self.channel.open()
        try:
            await self.channel.get_topic(GetTopicRequest.pb()(topic=self.topic), timeout=CHECK_SECONDS)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in RETRIABLE:
                log.error("Pub/Sub sink '%s': cannot reach Pub/Sub at %s to check topic %s (%s); starting anyway, "
                          "records are kept until it answers.", self.name, self.channel.target, self.topic,
                          exc.details())  # fmt: skip
                return
            if exc.code() == grpc.StatusCode.PERMISSION_DENIED:  # roles/pubsub.publisher may publish, not look up
                log.warning("Pub/Sub sink '%s': not allowed to look topic %s up (%s), so it is not checked at "
                            "start-up; publishing will tell (grant pubsub.topics.get, e.g. roles/pubsub.viewer, to "
                            "have it checked).", self.name, self.topic, exc.details())  # fmt: skip
                return
            await self.channel.aclose()
            problem = f"divolte.sinks.{self.name}: {self._explain(exc)}"
            log.error("Cannot start: %s", problem)
            raise ConfigError(problem) from exc
        log.info("Pub/Sub sink '%s': publishing to %s at %s.", self.name, self.topic, self.channel.target)

    def _explain(self, exc: grpc.aio.AioRpcError) -> str:
        code = exc.code()
        fix = FIXES.get(code, "").format(topic=self.settings.topic, project=self.project_id)
        what = "does not exist" if code == grpc.StatusCode.NOT_FOUND else f"cannot be used ({code.name})"
        return f"Pub/Sub topic {self.topic} {what}: {exc.details()}" + (f"; {fix}" if fix else "")

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        if records is not self._pending:
            self._pending, self._delivered = records, set()
        waiting = [i for i in range(len(records)) if i not in self._delivered]
        groups = list(requests(records, waiting, self._count_threshold, self._bytes_threshold))
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        results = await asyncio.gather(
            *(self._publish(records, group, slots) for group in groups), return_exceptions=True
        )
        failures = [result for result in results if isinstance(result, BaseException)]
        for group, result in zip(groups, results, strict=True):
            if not isinstance(result, BaseException):
                self._delivered.update(group)
        if failures:
            raise self._failure(failures, len(groups))
        self._pending, self._delivered = None, set()
        if self._problem:
            log.info("Pub/Sub sink '%s': publishing to %s again.", self.name, self.topic)
            self._problem = ""

    async def _publish(self, records: Sequence[EncodedRecord], group: list[int], slots: asyncio.Semaphore) -> None:
        message = self._message
        request = self._request(topic=self.topic, messages=[message(records[i]) for i in group])
        async with slots:
            await publish_with_retry(self.channel.publish, request, self.settings.retry_settings)

    def _failure(self, failures: list[BaseException], requests_sent: int) -> SinkError:
        first = failures[0]
        if isinstance(first, grpc.aio.AioRpcError):
            cause = self._explain(first) if first.code() not in RETRIABLE else f"{first.code().name}: {first.details()}"
        else:
            cause = repr(first)
        problem = f"could not publish to {self.topic} at {self.channel.target}: {cause}"
        if problem != self._problem:  # once per episode, not on every retry
            log.error("Pub/Sub sink '%s': %s. Records are kept until this is fixed.", self.name, problem)
            self._problem = problem
        return SinkError(f"{problem} ({len(failures)} of {requests_sent} publish requests failed)", retriable=True)

    async def heartbeat(self) -> None:
        """Nothing time-based: gRPC keeps the channel."""

    async def aclose(self) -> None:
        await self.channel.aclose()


async def publish_with_retry(publish: Any, request: Any, retry: RetrySettings) -> Any:
    """One publish request, retried per Divolte's ``retry_settings`` (see the module docstring); raises the last
    error once the settings allow no more attempts, or at once for a code that is not retriable."""
    started = time.monotonic()
    delay = retry.initial_retry_delay
    rpc_timeout = retry.initial_rpc_timeout or 15.0
    max_rpc_timeout = retry.max_rpc_timeout or rpc_timeout
    attempt = 0
    while True:
        attempt += 1
        remaining = retry.total_timeout - (time.monotonic() - started)
        try:
            return await publish(request, timeout=max(0.001, min(rpc_timeout, remaining)))
        except grpc.aio.AioRpcError as exc:
            remaining = retry.total_timeout - (time.monotonic() - started)
            out_of_attempts = retry.max_attempts and attempt >= retry.max_attempts
            if exc.code() not in RETRIABLE or out_of_attempts or remaining <= delay:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * retry.retry_delay_multiplier, retry.max_retry_delay)
        rpc_timeout = min(rpc_timeout * (retry.rpc_timeout_multiplier or 1.0), max_rpc_timeout)


def confluent_id_of(settings: Settings, sink_name: str) -> int | None:
    """The ``confluent_id`` of the first mapping feeding the sink (the one whose schema the sink publishes)."""
    for mapping in settings.mappings.values():
        if sink_name in mapping.sinks:
            return mapping.confluent_id
    return None


def pubsub_runner(settings: Settings, sink: GcpsSinkSettings, schema_json: str) -> SinkRunner:
    """A Pub/Sub sink behind a queue and, unless turned off, a disk spool (``<spool_dir>/<sink name>``)."""
    gcps = settings.global_.gcps
    project_id = gcps.project_id
    if not project_id:  # the configuration rules already refuse this; kept for the type checker
        raise ConfigError("divolte.global.gcps.project_id: a Google Cloud project id is needed")
    emulator_host = os.environ.get("PUBSUB_EMULATOR_HOST") or None
    # Loaded here, while the configuration is checked, so that unusable credentials stop the start like a bad key.
    channel = PubsubChannel(emulator_host, None if emulator_host else default_credentials())
    pubsub = PubsubSink(sink, project_id, channel, schema_json, confluent_id_of(settings, sink.name))
    directory = Path(gcps.spool_dir) / sink.name
    spool = Spool(directory, gcps.spool_max_bytes, event_ids=True) if gcps.spool_max_bytes > 0 else None
    return SinkRunner(pubsub, gcps.buffer_size * max(1, gcps.threads), spool, limits=settings.global_.supervision)
