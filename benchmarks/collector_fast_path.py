"""A/B launcher: the collector with ``PixelFastPath`` in its HTTP protocol, for ``bench --compare``.

    python -m benchmarks.bench --compare "python -m benchmarks.collector_fast_path"

Runs ``collector.cli`` unchanged except that uvicorn's protocol class gets the pixel fast path
(``collector.sources.pixel_fast_path``), so the two can be measured side by side in one run.
"""

from __future__ import annotations

import sys

import collector.cli as cli
from collector.sources.pixel_fast_path import with_pixel_fast_path

_protocol_class = cli.protocol_class
cli.protocol_class = lambda settings: with_pixel_fast_path(_protocol_class(settings))  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(cli.main())
