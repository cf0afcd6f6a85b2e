"""Files on HDFS the HDFS sink no longer writes: abandoned after a failed sync, or left by a crashed process.

Each is *settled*: cut back to the length HDFS last acknowledged (``TRUNCATE``: a failed append may have left
part of a block; a crashed file is cut to its last complete block) and renamed into ``publish_dir``; a file
that never held a record is deleted. Settling waits for HDFS: a file whose lease is still held (an append cut
off mid-way) or whose cut is still running (block recovery) is tried again later, oldest first.

Which crashed files are a sink's own: those of this host whose shard number is one of the sink's
(``<stamp>-divolte-tracking-<host>-<n>[-<attempt>].avro.partial``); a restarted process numbers its shards as
before, and the files of other hosts or sinks sharing the directory are theirs to recover. Files a process
could not settle before it stopped are listed in its *ledger* (a local file beside the spool) with the length HDFS
acknowledged, which the next start uses instead of the last complete block. (Host names that
differ only by a ``-<number>`` suffix, ``web`` and ``web-1``, can make the same file name: give such hosts
working directories of their own.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import orjson

from collector.avro.container import complete_prefix
from collector.sinks.webhdfs import WebHdfs, WebHdfsError

log = logging.getLogger(__name__)

TRUNCATE_WAIT_SECONDS = 5.0
"""How long a settle waits for HDFS to finish cutting a file back (then it tries again later)."""
SHARD_SUFFIX = re.compile(r"^(\d+)(?:-\d+)?\.avro\.partial$")


@dataclass(slots=True)
class Leftover:
    """A ``.partial`` nobody writes any more, to cut back to ``size`` bytes holding ``records`` records."""

    partial: str
    name: str
    """The published file's name (without ``.partial``)."""
    size: int
    records: int


def is_ours(name: str, hostname: str, numbers: Collection[int]) -> bool:
    """Whether ``name`` is the ``.partial`` of one of the shards ``numbers`` on ``hostname``."""
    head = f"-divolte-tracking-{hostname}-"
    if len(name) < 14 or not name[:14].isdigit() or not name[14:].startswith(head):
        return False
    match = SHARD_SUFFIX.match(name[14 + len(head) :])
    return match is not None and int(match[1]) in numbers


class LeftoverFiles:
    """A sink's files to settle, oldest first; ``published`` collects what they became."""

    def __init__(
        self, sink: str, client: WebHdfs, working_dir: str, publish_dir: str, published: list[str],
        ledger: Path | None = None,
    ) -> None:  # fmt: skip
        self.sink = sink
        self.client = client
        self.working_dir = working_dir
        self.publish_dir = publish_dir
        self.published = published
        self.files: list[Leftover] = []
        self.ledger = ledger
        self._load()

    def _load(self) -> None:
        """The files an earlier process could not settle, with the lengths HDFS had acknowledged."""
        if self.ledger is None or not self.ledger.exists():
            return
        try:
            entries = orjson.loads(self.ledger.read_bytes())
            self.files = [
                Leftover(str(e["partial"]), str(e["name"]), int(e["size"]), int(e["records"])) for e in entries
            ]
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            log.error("HDFS sink '%s': cannot read %s (%s); its files are recovered by their last complete block.",
                      self.sink, self.ledger, exc)  # fmt: skip

    def save(self) -> None:
        """At shutdown: list the files not settled yet, so the next start cuts them to the acknowledged length
        (what an interrupted append left may look like complete blocks whose records were written again)."""
        if self.ledger is None:
            return
        try:
            if not self.files:
                self.ledger.unlink(missing_ok=True)
                return
            self.ledger.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.ledger.with_name(self.ledger.name + ".tmp")
            temporary.write_bytes(orjson.dumps([dataclasses.asdict(leftover) for leftover in self.files]))
            os.replace(temporary, self.ledger)
        except OSError as exc:
            log.error("HDFS sink '%s': cannot write %s (%s); the next start recovers these files by their last "
                      "complete block: %s", self.sink, self.ledger, exc, [f.partial for f in self.files])  # fmt: skip

    def add(self, leftover: Leftover) -> None:
        self.files.append(leftover)

    async def find(self, hostname: str, numbers: Collection[int], live: Collection[str]) -> None:
        """Add the crashed ``.partial`` files of these shards in the working directory (not ``live`` ones, open
        now), measured up to their last complete block."""
        known = set(live) | {leftover.partial for leftover in self.files}
        for entry in await self.client.list(self.working_dir):
            name = str(entry.get("pathSuffix", ""))
            partial = f"{self.working_dir}/{name}"
            if entry.get("type") != "FILE" or not is_ours(name, hostname, numbers) or partial in known:
                continue
            length, records = complete_prefix(await self.client.open(partial))
            log.warning("HDFS sink '%s': found %s left by an earlier process (%d records up to its last sync).",
                        self.sink, partial, records)  # fmt: skip
            self.files.append(Leftover(partial, name.removesuffix(".partial"), length, records))

    async def settle(self) -> None:
        """Settle files oldest first, stopping at the first HDFS is still cutting; raises ``WebHdfsError``."""
        while self.files:
            if not await self._settle(self.files[0]):
                return
            self.files.pop(0)

    async def _settle(self, leftover: Leftover) -> bool:
        """True once the file is published (or deleted, or gone); False while HDFS is still cutting it back."""
        status = await self.client.status(leftover.partial)
        if status is None:
            return True
        if leftover.records == 0:
            await self.client.delete(leftover.partial)
            log.info("HDFS sink '%s': removed %s (it held no record).", self.sink, leftover.partial)
            return True
        # Cut even when the length looks right: after an append cut off mid-way the NameNode may not know yet what
        # the DataNodes hold (the file is still open); TRUNCATE first recovers the lease (until then it refuses,
        # retriable), then cuts. Not on a block boundary, the DataNodes finish the cut in the background.
        try:
            cut = await self.client.truncate(leftover.partial, leftover.size)
        except WebHdfsError as exc:
            if exc.exception != "HadoopIllegalArgumentException":
                raise
            log.error("HDFS sink '%s': %s is shorter than the %d bytes HDFS acknowledged (%s); publishing what it "
                      "holds.", self.sink, leftover.partial, leftover.size, exc)  # fmt: skip
            cut = True
        if not cut and not await self._cut(leftover):
            return False
        target = f"{self.publish_dir}/{leftover.name}"
        if not await self.client.rename(leftover.partial, target):
            raise WebHdfsError(f"RENAME {leftover.partial} to {target} was declined", retriable=True)
        self.published.append(target)
        log.warning("HDFS sink '%s': published %s after a failure (%d records up to its last sync).",
                    self.sink, target, leftover.records)  # fmt: skip
        return True

    async def _cut(self, leftover: Leftover) -> bool:
        """Wait up to ``TRUNCATE_WAIT_SECONDS`` for a background truncation to finish."""
        deadline = time.monotonic() + TRUNCATE_WAIT_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            status = await self.client.status(leftover.partial)
            if status is not None and int(status.get("length", 0)) <= leftover.size:
                return True
        return False
