"""``check-config --connect``: beyond reading the configuration, reach what the sinks write to.

For each hdfs sink on a Hadoop file system: a NameNode answers over WebHDFS, and ``working_dir`` and
``publish_dir`` exist and the configured user may create files in them (``HdfsSink.check_directories``). Sinks
on local directories were checked when the configuration was built; other sink types are not contacted here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from collector.errors import ConfigError
from collector.sinks.hdfs import HdfsSink
from collector.sinks.runner import SinkRunner
from collector.sinks.webhdfs import WebHdfsError


def check_connections(sinks: Mapping[str, SinkRunner]) -> tuple[list[str], list[str]]:
    """``(what worked, problems)``, one line per sink contacted."""
    return asyncio.run(_check_all(sinks))


async def _check_all(sinks: Mapping[str, SinkRunner]) -> tuple[list[str], list[str]]:
    fine: list[str] = []
    problems: list[str] = []
    for name, runner in sinks.items():
        sink = runner.sink
        if not isinstance(sink, HdfsSink):
            continue
        try:
            await sink.check_directories()
            fine.append(f"Sink '{name}': HDFS answers ({sink.connection.describe()}); {sink.working_dir} and "
                        f"{sink.publish_dir} are writable directories")  # fmt: skip
        except ConfigError as exc:
            problems.extend(exc.problems)
        except WebHdfsError as exc:
            problems.append(f"Sink '{name}': cannot reach HDFS ({sink.connection.describe()}): {exc}")
        finally:
            await sink.client.aclose()
    return fine, problems
