"""Divolte's Kafka sink (``type = kafka``): one message per record, exactly as Divolte produces it.

Message (SPEC §9.2): topic = the sink's ``topic``; key = the party id, UTF-8; value = the Avro binary record
(``naked`` mode) or ``0x00`` + the mapping's ``confluent_id`` as 4 big-endian bytes + the Avro binary
(``confluent`` mode); timestamp = the server's receive time; no headers; partition = what Java's default
partitioner picks for the key (``collector.sinks.partition``), so each party lands where Divolte puts it.

One aiokafka producer serves every Kafka sink of the process (``KafkaConnection``). A batch from the
runner is grouped by partition and sent as ready-made record batches (no per-record awaits), in *waves*:
the n-th batch of every partition goes out together, and a partition whose batch failed sends nothing
more, so records never overtake each other within a partition. Records delivered before a failure are
remembered, and the runner's retry of the same batch sends only the rest.

Failures of the connection, the topic or the cluster are retriable: Kafka unreachable or not started yet,
wrong credentials, a missing topic, missing permissions. Each is logged once per episode with what to do, and
the runner keeps the records (queue, then disk spool) until the fault is gone. A broker answer that refuses a
record for what it is (``REFUSED_FOR_GOOD``: too large for the topic, a timestamp outside its window) is not:
the refused batch is split at once (smaller batches, down to single records), the other records are delivered
in order, and the records refused alone are raised as ``RecordsRejected``, which the runner puts in the sink's
dead-letter folder (``collector.sinks.deadletter``), so that one poison record never halts the ones behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidTimestampError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from collector.avro.encode import confluent_frame
from collector.errors import RecordsRejected, SinkError
from collector.events import EncodedRecord
from collector.sinks.kafka_config import ProducerOptions
from collector.sinks.kafka_diagnosis import connection_error, explain
from collector.sinks.partition import KeyPartitioner
from collector.supervise import failure, supervise

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0
"""How long closing waits for records still inside the producer before giving up on them (they are in
the runner's spool or will be re-sent: the runner only forgets records that were acknowledged)."""
DIAGNOSIS_SECONDS = 10.0
"""How long finding out why the producer could not start may take (one connection per bootstrap server)."""
_TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError)
REFUSED_FOR_GOOD: dict[type[BaseException], str] = {
    MessageSizeTooLargeError: "message_too_large",
    RecordListTooLargeError: "message_too_large",
    InvalidTimestampError: "invalid_timestamp",
}
"""Broker answers that refuse a batch because of what is in it, not because of the connection, the topic or
the cluster's state: retrying the same record cannot succeed. A batch of several records refused so is split
(smaller batches, then one record each), and a record refused alone goes to the dead-letter folder, with this
label as the reason. Every other error is treated as transient (retried, records kept): e.g. CORRUPT_MESSAGE
(Kafka retries it too), NOT_ENOUGH_REPLICAS, authorisation, and INVALID_RECORD, which aiokafka cannot tell
apart from other unknown errors."""
REFUSAL_FIXES = {
    "message_too_large": "to let such records through, raise the topic's max.message.bytes (or the brokers' "
    "message.max.bytes)",
    "invalid_timestamp": "the record's timestamp is outside the topic's message.timestamp.before.max.ms / "
    "after.max.ms window (records kept a long time, e.g. in the spool); widen the window to let them through",
}


class _Throttle(logging.Filter):
    """Lets each of aiokafka's log messages through at most once per ``interval`` seconds.

    While brokers are unreachable aiokafka logs every reconnection attempt (ten lines a second); the sink
    says what is wrong in its own words, so repeats only flood the log.
    """

    def __init__(self, interval: float = 30.0) -> None:
        super().__init__()
        self.interval = interval
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        if now - self._last.get(key, -self.interval) < self.interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} more like this in the last {self.interval:.0f} s)"
        return True


def throttle_aiokafka_logs() -> None:
    """Install the throttle on every aiokafka logger (they exist once aiokafka is imported)."""
    throttle = _Throttle()
    names = [name for name in logging.root.manager.loggerDict if name == "aiokafka" or name.startswith("aiokafka.")]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Throttle) for f in logger.filters):
            logger.addFilter(throttle)


class KafkaConnection:
    """The process's one producer, connected on demand and shared by every Kafka sink."""

    def __init__(self, options: ProducerOptions, *, write_timeout: float = 60.0) -> None:
        self.options = options
        self.stop_grace = min(STOP_GRACE_SECONDS, write_timeout)
        self._producer: Any = None
        self._lock: asyncio.Lock | None = None
        self._connecting: asyncio.Future[Any] | None = None
        self._users = 0
        self._last_error = ""
        throttle_aiokafka_logs()
        if options.no_effect:
            log.info("Kafka producer properties accepted without effect here: %s.", ", ".join(options.no_effect))

    async def producer(self) -> Any:
        """The started producer; raises a retriable ``SinkError`` while Kafka cannot be reached."""
        if self._producer is not None and not self._sender_died(self._producer):
            return self._producer
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._producer is not None and self._sender_died(self._producer):
                log.error("The Kafka producer stopped working; starting a new one.")
                await self._producer.stop()
                self._producer = None
            if self._producer is None:
                # Connecting runs in a task of its own that no caller's timeout can cancel: aiokafka leaks the
                # connection it is opening when start() is cancelled. A caller that gives up leaves it running;
                # the next caller (or release) takes its outcome.
                if self._connecting is None:
                    self._connecting = asyncio.ensure_future(self._connect())
                    self._connecting.add_done_callback(_retrieved)
                connecting = self._connecting
                try:
                    self._producer = await asyncio.shield(connecting)
                finally:
                    if connecting.done():
                        self._connecting = None
        return self._producer

    @staticmethod
    def _sender_died(producer: Any) -> bool:
        task = getattr(getattr(producer, "_sender", None), "sender_task", None)
        return task is not None and task.done()

    async def _connect(self) -> Any:
        producer = AIOKafkaProducer(**self.options.kwargs)
        try:
            await producer.start()
        except asyncio.CancelledError:  # only release() cancels a connect: shutting down
            with contextlib.suppress(Exception):
                await asyncio.shield(producer.stop())
            raise
        except Exception as exc:  # KafkaError and OSError are expected; anything else too must keep the records
            if not isinstance(exc, KafkaError | OSError):
                failure("kafka-connect", exc, "could not start the Kafka producer")
            with contextlib.suppress(Exception):
                await producer.stop()
            try:
                async with asyncio.timeout(DIAGNOSIS_SECONDS):
                    cause = await connection_error(self.options.kwargs)
            except TimeoutError:
                cause = None
            explanation = explain(cause, self.options.kwargs)
            if explanation:
                message = f"cannot connect to Kafka at bootstrap.servers={self.options.bootstrap}: {explanation}"
            else:
                message = f"cannot reach Kafka at bootstrap.servers={self.options.bootstrap}: {exc!r}"
            if message != self._last_error:
                hint = "" if explanation else "; check the address and the brokers"
                log.error("%s. Records are kept until it works%s.", message, hint)
                self._last_error = message
            raise SinkError(message, retriable=True) from exc
        log.info("Connected to Kafka at %s.", self.options.bootstrap)
        self._last_error = ""
        return producer

    def acquire(self) -> None:
        self._users += 1

    async def release(self, sink: str) -> None:
        """The last sink to close stops the producer, waiting a little (``stop_grace``) for records in flight."""
        self._users -= 1
        if self._users > 0:
            return
        connecting, self._connecting = self._connecting, None
        if connecting is not None and self._producer is None:  # a connect nobody waits for any more
            if not connecting.done():
                connecting.cancel()
            await asyncio.wait({connecting})
            if not connecting.cancelled() and connecting.exception() is None:
                self._producer = connecting.result()
        if self._producer is None:
            return
        producer, self._producer = self._producer, None
        for attempt in (1, 2, 3):  # a passing fault gets more tries, so the producer's connections are released
            stopping = asyncio.ensure_future(producer.stop())
            try:
                done, _ = await asyncio.wait({stopping}, timeout=self.stop_grace)
                if not done:
                    hung = TimeoutError(f"no answer within {self.stop_grace} s")
                    failure(f"kafka-producer:{sink}", hung, "is stopping the producer; failing the records in it")
                    accumulator = getattr(producer, "_message_accumulator", None)
                    if accumulator is not None:  # unreachable brokers: fail what waits, so stop() can finish
                        accumulator.fail_all(KafkaError("the collector is shutting down"))
                await stopping
                return
            except Exception as exc:  # records not acknowledged are in the runner's spool already
                failure(f"kafka-producer:{sink}", exc, f"could not stop the Kafka producer (attempt {attempt} of 3)")


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A connect's failure is logged by ``_connect``; mark it seen so asyncio does not report it again."""
    if not future.cancelled():
        future.exception()


class KafkaSink:
    """Writes a sink's records to one Kafka topic; see the module docstring."""

    def __init__(self, name: str, topic: str, connection: KafkaConnection, *, confluent_id: int | None = None) -> None:
        self.name = name
        self.topic = topic
        self.connection = connection
        self.confluent_id = confluent_id
        self._partition = KeyPartitioner()
        self._batch_bytes_cap: int | None = None
        """Set after the broker refused a batch as too large: build smaller batches from then on."""
        self._pending: Sequence[EncodedRecord] | None = None
        """The batch being written; while the runner retries it, these remember how far it got:"""
        self._delivered: set[int] = set()
        """indices acknowledged by the broker (a retry sends only the others),"""
        self._refused: dict[int, BaseException] = {}
        """indices refused for good, each alone in its batch (they go to the dead-letter folder),"""
        self._alone: set[int] = set()
        """indices whose batch was refused for a record in it: each is sent in a batch of its own."""
        self._problem = ""
        self._probe: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Never fails for Kafka being down: the collector starts, and records wait until it is back."""
        self.connection.acquire()
        self._probe = supervise(f"kafka-probe:{self.name}", self._check_topic)

    async def _check_topic(self) -> None:
        try:
            producer = await self.connection.producer()
            partitions = await self._partitions(producer)
        except SinkError:
            return  # already logged
        log.info("Kafka sink '%s': topic '%s' has %d partitions.", self.name, self.topic, partitions)

    async def _partitions(self, producer: Any) -> int:
        try:
            partitions = await producer.partitions_for(self.topic)
        except TopicAuthorizationFailedError as exc:
            raise self._fault(f"not authorised to write to topic '{self.topic}'; grant this client access") from exc
        except UnknownTopicOrPartitionError as exc:
            raise self._fault(
                f"topic '{self.topic}' is unknown to the cluster at {self.connection.options.bootstrap}: create it "
                "(brokers often have auto.create.topics.enable = false), or the brokers are unreachable"
            ) from exc
        except (KafkaError, OSError, TimeoutError) as exc:
            raise self._fault(f"cannot read metadata of topic '{self.topic}': {exc!r}") from exc
        return len(partitions)

    def _fault(self, problem: str) -> SinkError:
        """A retriable error; the problem is logged once per episode, not on every retry."""
        if problem != self._problem:
            log.error("Kafka sink '%s': %s. Records are kept until this is fixed.", self.name, problem)
            self._problem = problem
        return SinkError(problem, retriable=True)

    def _value(self, payload: bytes) -> bytes:
        return payload if self.confluent_id is None else confluent_frame(self.confluent_id, payload)

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        if records is not self._pending:
            self._pending, self._delivered, self._alone, self._refused = records, set(), set(), {}
        producer = await self.connection.producer()
        partition_count = await self._partitions(producer)
        while True:
            failures, split = await self._send_waves(producer, records, partition_count)
            if not split or failures:
                break  # else a batch was refused for a record in it: resend its records in smaller batches now
        if failures:
            raise self._failure(failures)
        refused = self._refused
        self._pending, self._delivered, self._alone, self._refused = None, set(), set(), {}
        if self._problem:
            log.info("Kafka sink '%s': writing to topic '%s' again.", self.name, self.topic)
            self._problem = ""
        if refused:
            raise self._rejected(records, refused)

    async def _send_waves(
        self, producer: Any, records: Sequence[EncodedRecord], partitions: int
    ) -> tuple[dict[int, tuple[BaseException, int]], bool]:
        """Send what is not yet delivered or refused, wave by wave; the partitions that failed (retriable), and
        whether a batch was refused for one of its records and must be split."""
        batches = self._build(producer, records, partitions)
        failures: dict[int, tuple[BaseException, int]] = {}
        split = False
        wave = 0
        while True:
            sending = [(p, queue[wave]) for p, queue in batches.items() if wave < len(queue) and p not in failures]
            if not sending:
                return failures, split
            results = await asyncio.gather(
                *(self._send(producer, builder, p) for p, (builder, _) in sending), return_exceptions=True
            )
            for (p, (builder, indices)), result in zip(sending, results, strict=True):
                if not isinstance(result, BaseException):
                    self._delivered.update(indices)
                elif type(result) not in REFUSED_FOR_GOOD:
                    failures[p] = (result, len(indices))
                elif len(indices) == 1:
                    self._refused[indices[0]] = result  # that record alone: the partition goes on without it
                else:
                    split = True
                    if isinstance(result, _TOO_LARGE):
                        self._shrink(builder.size(), len(indices))
                    else:
                        self._alone.update(indices)
                    batches[p] = batches[p][: wave + 1]  # the rest of this partition waits for the split batch
            wave += 1

    async def _send(self, producer: Any, builder: Any, partition: int) -> Any:
        builder.close()  # complete: the runner already gathered the batch, so nothing lingers for more
        delivery = await producer.send_batch(builder, self.topic, partition=partition)
        return await delivery

    def _build(self, producer: Any, records: Sequence[EncodedRecord], partitions: int) -> dict[int, list[Any]]:
        """Record batches per partition, in order: ``{partition: [(builder, record indices), ...]}``."""
        batches: dict[int, list[Any]] = {}
        cap = self._batch_bytes_cap
        delivered, refused, alone = self._delivered, self._refused, self._alone
        for index, record in enumerate(records):
            if index in delivered or index in refused:
                continue
            key = record.party_id.encode("utf-8")
            value = self._value(record.payload)
            queue = batches.setdefault(self._partition(key, partitions), [])
            if queue and index not in alone:
                builder, indices = queue[-1]
                full = cap is not None and builder.size() + len(key) + len(value) > cap
                joins = not full and indices[-1] not in alone
                if joins and builder.append(timestamp=record.timestamp, key=key, value=value) is not None:
                    indices.append(index)
                    continue
            builder = producer.create_batch()
            builder.append(timestamp=record.timestamp, key=key, value=value)
            queue.append((builder, [index]))
        return batches

    def _shrink(self, size: int, count: int) -> None:
        self._batch_bytes_cap = max(1, size // 2)
        log.warning(
            "Kafka sink '%s': the broker refused a batch of %d records (%d bytes) as too large; sending smaller "
            "batches (at most %d bytes).", self.name, count, size, self._batch_bytes_cap,
        )  # fmt: skip

    def _failure(self, failures: dict[int, tuple[BaseException, int]]) -> SinkError:
        partition, (error, _) = next(iter(failures.items()))
        return self._fault(
            f"could not deliver to topic '{self.topic}' ({len(failures)} partitions failing, e.g. {partition}): "
            f"{error!r}"
        )

    def _rejected(self, records: Sequence[EncodedRecord], refused: dict[int, BaseException]) -> RecordsRejected:
        """The records the broker refused for good, each alone in its batch, in their original order."""
        indices = sorted(refused)
        reasons = sorted({REFUSED_FOR_GOOD[type(refused[i])] for i in indices})
        largest = max(len(records[i].payload) for i in indices)
        fixes = "; ".join(REFUSAL_FIXES[reason] for reason in reasons)
        message = (
            f"the broker refuses {len(indices)} records for topic '{self.topic}' "
            f"({', '.join(sorted({type(refused[i]).__name__ for i in indices}))}; largest value {largest} bytes): "
            f"{fixes}"
        )
        return RecordsRejected([records[i] for i in indices], "+".join(reasons), message)

    async def heartbeat(self) -> None:
        """Nothing time-based: the producer keeps its own connections."""

    async def aclose(self) -> None:
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
        await self.connection.release(self.name)
