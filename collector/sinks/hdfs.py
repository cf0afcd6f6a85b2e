"""Divolte's file sink on HDFS (``type = hdfs`` with an ``hdfs://``/``webhdfs://`` ``fs.defaultFS``), over WebHDFS.

The same protocol as the local file sink (``collector.sinks.file``, SPEC §9.3), with HDFS's calls:
- each shard's open file is ``<working_dir>/<name>.partial``, with Divolte's name; records go to a shard by
  party. The file is created (``CREATE``, ``overwrite=false``, the sink's ``replication``) on its first sync,
  holding the header and the first block; every later sync ``APPEND``\\ s the new Avro block: one request per
  sync, durable on the DataNodes when it returns;
- after ``roll_every`` the file is renamed into ``publish_dir``; files are opened on their first record, so no
  empty file is ever left behind (a file abandoned before it held a record is deleted);
- ``working_dir`` and ``publish_dir`` must exist and be writable (``CHECKACCESS``): checked at start-up.

A failed sync (HDFS unreachable, in safe mode, a NameNode stopped, permissions revoked) abandons the open file:
its records up to the last sync stay in it and it is *settled* later (cut back to its last good length with
``TRUNCATE`` in case a failed append left part of a block, then published), while the records of the failed
sync stay in memory and go into a fresh file once HDFS answers again. Meanwhile every write raises a
retriable ``SinkError``, so the runner keeps new records in its queue and spool and shows the sink failing.

Shutdown during an outage: records taken but not written go in front of the runner's spool (the same
``Spool``), so the next start writes them; abandoned files not settled yet are listed in a local ledger with
the length HDFS acknowledged, so the next start cuts them there.

Crash recovery (``collector.sinks.hdfs_leftovers``): on start, ``.partial`` files of this sink's own shards
(this host's name and shard numbers, which a restarted process takes again) are read, cut back to their last
complete block and published; so a crash loses at most what was not yet synced, as with local files. Files of
other hosts or shards sharing the directory are left to their owners.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from collector.avro.container import block, header
from collector.avro.schemas import Schema
from collector.config.settings import FileStrategySettings
from collector.errors import ConfigError, SinkError
from collector.events import EncodedRecord
from collector.protocol.identifiers import affinity_hash
from collector.ratelimit import RateLimitedLog
from collector.sinks.file import CLOSE_RETRY_DELAYS, next_file_number
from collector.sinks.hdfs_config import HdfsConnection, hdfs_path
from collector.sinks.hdfs_leftovers import Leftover, LeftoverFiles
from collector.sinks.spool import Spool
from collector.sinks.webhdfs import WebHdfs, WebHdfsError
from collector.supervise import failure

log = logging.getLogger(__name__)

SETTLE_SECONDS = 5.0
"""How often files abandoned by a failure (or left by a crash) are tried again: cut back and published."""


@dataclass(slots=True)
class _OpenFile:
    name: str
    partial: str
    sync_marker: bytes
    opened_at: float
    last_sync: float
    created: bool = False
    synced_records: int = 0
    size: int = 0
    """Bytes HDFS has acknowledged: what a failed append is cut back to."""


@dataclass(slots=True)
class _Shard:
    number: int
    pending: list[EncodedRecord] = field(default_factory=list)
    file: _OpenFile | None = None
    broken: bool = False


class HdfsSink:
    """Writes a sink's records into rolling Avro container files on HDFS."""

    def __init__(
        self,
        name: str,
        strategy: FileStrategySettings,
        schema: Schema,
        shards: int,
        client: WebHdfs,
        connection: HdfsConnection,
        *,
        replication: int | None = None,
        hostname: str | None = None,
        spool: Spool | None = None,
        ledger: Path | None = None,
    ) -> None:
        """``spool``: the runner's; records this sink took but could not write by shutdown go in front of it.
        ``ledger``: a local file where files not yet settled at shutdown are listed for the next start."""
        self.name = name
        self.strategy = strategy
        self.schema = schema
        self.client = client
        self.connection = connection
        self.replication = replication
        self.spool = spool
        prefix = f"divolte.sinks.{name}.file_strategy"
        self.working_key, self.publish_key = f"{prefix}.working_dir", f"{prefix}.publish_dir"
        self.working_dir = hdfs_path(strategy.working_dir, self.working_key, connection)
        self.publish_dir = hdfs_path(strategy.publish_dir, self.publish_key, connection)
        self.hostname = hostname or socket.gethostname() or "localhost"
        self._shards = [_Shard(next_file_number()) for _ in range(max(1, shards))]
        self.published: list[str] = []
        self._leftovers = LeftoverFiles(name, client, self.working_dir, self.publish_dir, self.published, ledger)
        self._recovered = False
        self._last_settle = float("-inf")
        self._taken: Sequence[EncodedRecord] | None = None
        self._last_error = ""
        self._error_log = RateLimitedLog(log, 10.0)
        self.task_label = f"sink:{name}"

    # -- start-up --------------------------------------------------------------------------------------

    async def check_directories(self) -> None:
        """Both directories exist and this user may create files in them; ``ConfigError`` saying which and how
        to fix it. ``WebHdfsError`` (retriable) when HDFS cannot be reached."""
        problems = []
        for path, key in ((self.working_dir, self.working_key), (self.publish_dir, self.publish_key)):
            status = await self.client.status(path)
            if status is None:
                problems.append(f"{key}: directory '{path}' does not exist on HDFS ({self.connection.describe()}). "
                                f"Create it (hdfs dfs -mkdir -p {path}), or point {key} elsewhere.")  # fmt: skip
                continue
            if status.get("type") != "DIRECTORY":
                problems.append(f"{key}: '{path}' on HDFS is a file, not a directory.")
                continue
            try:
                await self.client.check_access(path, "-wx")
            except WebHdfsError as exc:
                if exc.exception != "AccessControlException":
                    raise
                problems.append(f"{key}: user '{self.connection.user}' may not create files in '{path}' on HDFS "
                                f"({exc}). Grant it (hdfs dfs -chmod/-chown), or set HADOOP_USER_NAME.")  # fmt: skip
        if problems:
            raise ConfigError(problems)

    async def start(self) -> None:
        """Check the directories and recover this sink's crashed ``.partial`` files; if HDFS does not answer
        yet, start anyway (records are kept) and do both once it does."""
        try:
            await self.check_directories()
        except ConfigError as exc:
            raise SinkError("; ".join(exc.problems), retriable=False) from exc
        except WebHdfsError as exc:
            log.error("HDFS sink '%s': HDFS does not answer at start-up (%s); records are kept until it does.",
                      self.name, exc)  # fmt: skip
            return
        try:
            await self._recover()
        except Exception as exc:  # tried again on the heartbeat: a start-up must not fail on a passing fault
            self._failed(exc, "could not recover files left by an earlier process (retried)")

    async def _recover(self) -> None:
        # When HDFS answered only after start-up, shards may have opened files since: those are not leftovers.
        live = {shard.file.partial for shard in self._shards if shard.file is not None}
        numbers = {shard.number for shard in self._shards}
        await self._leftovers.find(self.hostname, numbers, live)
        self._recovered = True
        await self._settle_leftovers()

    # -- the sink contract -----------------------------------------------------------------------------

    async def write_batch(self, records: Sequence[EncodedRecord]) -> None:
        for shard in self._shards:
            if shard.broken:
                await self._sync(shard)
                if shard.broken:
                    raise SinkError(self._failing_message(), retriable=True)
        if records is not self._taken:
            self._take(records)
            self._taken = records
        limit = self.strategy.sync_file_after_records
        for shard in self._shards:
            if len(shard.pending) >= limit:
                await self._sync(shard)

    def _take(self, records: Sequence[EncodedRecord]) -> None:
        shards = self._shards
        if len(shards) == 1:
            shards[0].pending.extend(records)
            return
        count = len(shards)
        for record in records:
            shards[affinity_hash(record.party_id) % count].pending.append(record)

    async def heartbeat(self) -> None:
        """Sync by duration, roll by age, settle abandoned files; raises (retriable) while a shard cannot
        write, so the runner shows the sink failing even without traffic."""
        now = time.monotonic()
        for shard in self._shards:
            current = shard.file
            if shard.pending and (current is None or now - current.last_sync >= self.strategy.sync_file_after_duration):
                await self._sync(shard)
            current = shard.file
            if current is not None and now - current.opened_at > self.strategy.roll_every and not shard.broken:
                await self._publish(shard)
        if (self._leftovers.files or not self._recovered) and now - self._last_settle >= SETTLE_SECONDS:
            self._last_settle = now
            await self._settle_leftovers()
        if any(shard.broken for shard in self._shards):
            raise SinkError(self._failing_message(), retriable=True)

    async def aclose(self) -> None:
        """Sync and publish every file, trying again after ``CLOSE_RETRY_DELAYS``; a file that cannot be
        published is left as ``.partial`` for the next start to recover."""
        try:
            for shard in self._shards:
                for delay in (0.0, *CLOSE_RETRY_DELAYS):
                    if not shard.pending and shard.file is None:
                        break
                    await asyncio.sleep(delay)
                    if shard.pending:
                        await self._sync(shard)
                    if not shard.pending and shard.file is not None:
                        await self._publish(shard)
                if shard.file is not None:
                    log.error("HDFS sink '%s': left %s for the next start to recover.", self.name, shard.file.partial)
                if shard.pending:
                    self._keep_for_next_start(shard)
            if self._leftovers.files:
                await self._settle_leftovers()
            self._leftovers.save()
        finally:
            await self.client.aclose()

    # -- internals -------------------------------------------------------------------------------------

    def _keep_for_next_start(self, shard: _Shard) -> None:
        """Shutdown while HDFS fails: the records taken but not written go in front of the spool (they are older
        than anything in it), so the next start writes them; without a spool they are lost, and logged."""
        records, shard.pending = shard.pending, []
        kept = self.spool.prepend(records) if self.spool is not None else 0
        if kept:
            log.warning("HDFS sink '%s': %d records not written before shutdown kept in the spool %s for the next "
                        "start.", self.name, kept, self.spool.directory if self.spool else "")  # fmt: skip
        if kept < len(records):
            log.error("HDFS sink '%s': %d records could not be written before shutdown and are LOST (%s).",
                      self.name, len(records) - kept, self._last_error)  # fmt: skip

    def _failing_message(self) -> str:
        return f"hdfs sink '{self.name}' cannot write to {self.working_dir} on HDFS: {self._last_error}"

    def _failed(self, exc: BaseException, what: str) -> None:
        self._last_error = str(exc) or type(exc).__name__
        if isinstance(exc, WebHdfsError):
            self._error_log.error("HDFS sink '%s': %s: %s", self.name, what, exc)
        else:
            failure(self.task_label, exc, what)

    def _new_file(self, shard: _Shard, attempt: int = 1) -> _OpenFile:
        stamp = time.strftime("%Y%m%d%H%M%S", time.localtime())
        suffix = "" if attempt == 1 else f"-{attempt}"
        name = f"{stamp}-divolte-tracking-{self.hostname}-{shard.number}{suffix}.avro"
        now = time.monotonic()
        return _OpenFile(name, f"{self.working_dir}/{name}.partial", os.urandom(16), now, now)

    async def _sync(self, shard: _Shard) -> None:
        """Write the shard's pending records as one block (creating the file on its first); on failure the file
        is abandoned (settled later) and the records stay pending."""
        if not shard.pending:
            if shard.file is not None:
                shard.file.last_sync = time.monotonic()
            return
        try:
            await self._write_block(shard)
        except asyncio.CancelledError:  # the runner gave up on a hung call: the file's state is unknown
            self._abandon(shard)
            shard.broken = True
            raise
        except Exception as exc:
            self._abandon(shard)
            shard.broken = True
            self._failed(exc, f"could not write {len(shard.pending)} records to {self.working_dir} (kept for retry)")
            return
        shard.broken = False

    async def _write_block(self, shard: _Shard) -> None:
        codec = self.strategy.codec
        if shard.file is None:
            shard.file = self._new_file(shard)
        current = shard.file
        if current.created:
            data = block([record.payload for record in shard.pending], current.sync_marker, codec)
            await self.client.append(current.partial, data)
        else:
            attempt = 1
            while True:
                payloads = [record.payload for record in shard.pending]
                data = header(self.schema.json, current.sync_marker, codec)
                data += block(payloads, current.sync_marker, codec)
                try:
                    await self.client.create(current.partial, data, replication=self.replication)
                    break
                except WebHdfsError as exc:  # two files of one shard within a second: keep both
                    if exc.exception != "FileAlreadyExistsException" or attempt >= 10:
                        raise
                    attempt += 1
                    current = shard.file = self._new_file(shard, attempt)
            current.created = True
        current.size += len(data)
        current.synced_records += len(shard.pending)
        current.last_sync = time.monotonic()
        shard.pending = []

    def _abandon(self, shard: _Shard) -> None:
        """Hand the shard's file to the settling: what HDFS acknowledged stays; a failed call's part is cut."""
        current, shard.file = shard.file, None
        if current is not None:
            # Not created as far as we know: a CREATE whose answer was lost may still have made it (deleted then).
            records = current.synced_records if current.created else 0
            self._leftovers.add(Leftover(current.partial, current.name, current.size, records))

    async def _publish(self, shard: _Shard) -> None:
        """Rename the shard's file into the publish directory; on failure it stays open (tried next heartbeat)."""
        if shard.pending:
            await self._sync(shard)
            if shard.broken:
                return
        current = shard.file
        if current is None:
            return
        target = f"{self.publish_dir}/{current.name}"
        try:
            if not await self.client.rename(current.partial, target) and not await self._was_renamed(current, target):
                raise WebHdfsError(f"RENAME {current.partial} to {target} was declined (the target exists, or "
                                   "publish_dir is gone)", retriable=True)  # fmt: skip
        except Exception as exc:
            self._failed(exc, f"could not publish {current.partial} into {self.publish_dir} (retried)")
            return
        shard.file = None
        self.published.append(target)
        log.info("HDFS sink '%s': published %s (%d records).", self.name, target, current.synced_records)

    async def _was_renamed(self, current: _OpenFile, target: str) -> bool:
        """After a declined rename: whether an earlier attempt did it (its answer lost)."""
        return await self.client.status(current.partial) is None and await self.client.status(target) is not None

    async def _settle_leftovers(self) -> None:
        """Recover (once HDFS answers) and settle abandoned files, oldest first; what cannot be settled yet is
        tried again after ``SETTLE_SECONDS``."""
        try:
            if not self._recovered:
                await self.check_directories()
                await self._recover()
                return
            await self._leftovers.settle()
        except ConfigError as exc:
            self._failed(SinkError("; ".join(exc.problems), retriable=True), "cannot use its directories")
        except Exception as exc:
            self._failed(exc, "could not settle files left by a failure (retried)")
