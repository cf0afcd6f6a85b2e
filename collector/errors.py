"""The collector's one exception tree, so callers can catch by meaning rather than by library.

    CollectorError
     ├── ConfigError            configuration cannot be used; carries every problem found, start-up exits 1
     ├── MappingError           a mapping or schema is unusable (raised at start-up)
     ├── IncompleteRequest      an event lacks a required part or has a malformed one; it is dropped, counted
     └── SinkError              a sink could not write a batch; ``retriable`` says whether trying again may help
          └── RecordsRejected   some records are refused for good (e.g. too large); the rest of the batch was written

Third-party exceptions are translated where they occur (``raise SinkError(...) from exc``) so that no
caller has to know which library a sink uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from collector.events import EncodedRecord


class CollectorError(Exception):
    """Base of every error the collector raises on purpose."""


class ConfigError(CollectorError):
    """The configuration cannot be used. ``problems`` lists every problem found, each naming its key."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class MappingError(CollectorError):
    """A mapping or its schema cannot be used; found at start-up, never per event."""


class IncompleteRequest(CollectorError):
    """An event is missing a required parameter or has a malformed one, so it is dropped.

    ``reason`` is a short, stable label used as the metrics label for the drop (e.g. ``invalid_party_id``).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


class SinkError(CollectorError):
    """A sink could not write a batch. ``retriable`` is True when the same batch may succeed later."""

    def __init__(self, message: str, *, retriable: bool) -> None:
        self.retriable = retriable
        super().__init__(message)


class RecordsRejected(SinkError):
    """The destination refused ``records`` for good, each for itself (too large, an invalid timestamp), while
    every other record of the batch was written. Retrying cannot help and must not hold up the records behind
    them, so the runner moves these to the sink's dead-letter folder and goes on.

    ``reason`` is a short, stable label (a metrics label and the dead-letter file's reason, e.g.
    ``message_too_large``); the message says what was refused and what would let it through.
    """

    def __init__(self, records: Sequence[EncodedRecord], reason: str, message: str) -> None:
        self.records = list(records)
        self.reason = reason
        super().__init__(message, retriable=False)
