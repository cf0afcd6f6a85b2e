"""Imported once by the fork server that worker processes fork from: what every worker would otherwise redo.

Importing the collector's modules and compiling the user-agent rules take most of a worker's start-up
(about 2 s on a busy 2-core machine); done here once, a restarted worker inherits them through ``fork``
and is serving again in a fraction of a second.
"""

from __future__ import annotations

import collector.server.workers  # noqa: F401 - the worker's whole import graph
from collector.enrich.useragent import builtin_resolver

builtin_resolver()
