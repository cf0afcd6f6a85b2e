"""The ``divolte-collector`` command: ``serve`` (the default), ``check-config``, ``mapping-test``, ``cat``.

Configuration is found as Divolte's launcher finds it: ``--config FILE``, else
``$DIVOLTE_CONF_DIR/divolte-collector.conf`` if it exists, else the embedded default (a browser source,
the default mapping and a file sink under ``./data``), so that ``divolte-collector`` alone gives a
working collector.

Shutdown (SIGTERM or SIGINT) follows Divolte's order: ``/ping`` answers 503 at once, then after
``shutdown_delay`` the listener closes, in-flight requests get up to ``shutdown_timeout``, then every
queued event is mapped and written and every file published. A second signal forces an immediate exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
from collections.abc import Generator, Sequence
from importlib import resources
from pathlib import Path

import uvicorn

from collector import __version__
from collector.app import Collector, FrontDoor, build_app
from collector.config import load
from collector.config.settings import BrowserSourceSettings, HdfsSinkSettings, S3SinkSettings, Settings
from collector.errors import CollectorError, ConfigError
from collector.server import protocol_class
from collector.sources.pixel_fast_path import with_pixel_fast_path

log = logging.getLogger("collector")

LOG_FORMAT = "%(asctime)s.%(msecs)03d [%(threadName)s] %(levelname)-6s[%(name)s]: %(message)s"
EMBEDDED_CONFIG = "embedded.conf"


class WithoutQueryStrings(logging.Filter):
    """Strips query strings from request log lines: they carry party and session ids (the tracker's cookie
    values) and whatever else a page puts in a URL, none of which belongs in a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stdout, level=level.upper(), format=LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S")
    logging.getLogger("uvicorn.access").addFilter(WithoutQueryStrings())


def find_config(explicit: str | None) -> Path | None:
    """The configuration file to use, or None for the embedded default."""
    if explicit:
        return Path(explicit)
    conf_dir = os.environ.get("DIVOLTE_CONF_DIR")
    if conf_dir:
        candidate = Path(conf_dir) / "divolte-collector.conf"
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None) -> Settings:
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"Configuration file '{path}' does not exist.")
        return load(path)
    embedded = resources.files("collector.resources").joinpath(EMBEDDED_CONFIG)
    with resources.as_file(embedded) as embedded_path:
        settings = load(embedded_path)
    for sink in settings.sinks.values():  # the embedded default's folders are ours to create
        if isinstance(sink, HdfsSinkSettings):
            Path(sink.file_strategy.working_dir).mkdir(parents=True, exist_ok=True)
            Path(sink.file_strategy.publish_dir).mkdir(parents=True, exist_ok=True)
    return settings


class CollectorServer(uvicorn.Server):
    """uvicorn's server with Divolte's shutdown order (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, collector: Collector) -> None:
        super().__init__(config)
        self.collector = collector

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: int) -> None:
        if self.collector.shutting_down:
            log.warning("Second %s: exiting without waiting for in-flight requests.", signal.Signals(sig).name)
            self.force_exit = True
            self.should_exit = True
            return
        delay = self.collector.settings.global_.server.shutdown_delay
        log.info("%s received: /ping answers 503; stopping in %.1f s.", signal.Signals(sig).name, delay)
        self.collector.begin_shutdown()
        asyncio.get_running_loop().call_later(delay, self._stop)

    def _stop(self) -> None:
        self.should_exit = True


def describe(settings: Settings, host: str, port: int) -> list[str]:
    """Start-up lines a person needs: where to point a browser, and where events go."""
    base = f"http://{host}:{port}"
    lines = []
    if settings.global_.server.serve_static_resources:
        lines.append(f"Demo page:  {base}/")
    for name, source in settings.sources.items():
        if isinstance(source, BrowserSourceSettings):
            lines.append(f"Source '{name}': tracker {base}{source.prefix}{source.javascript.name}, "
                         f"events {base}{source.prefix}{source.event_suffix}")  # fmt: skip
        else:
            lines.append(f"Source '{name}': JSON events POST {base}{source.event_path}"
                         f"?{source.party_id_parameter}=<party id>")  # fmt: skip
    for name, sink in settings.sinks.items():
        if isinstance(sink, HdfsSinkSettings) and settings.global_.hdfs.enabled:
            fs = sink.file_strategy
            lines.append(f"Sink '{name}': files written in {Path(fs.working_dir).resolve()}, "
                         f"published to {Path(fs.publish_dir).resolve()} "
                         f"(sync every {fs.sync_file_after_records} records or {fs.sync_file_after_duration:g} s, "
                         f"roll every {fs.roll_every:g} s)")  # fmt: skip
        elif isinstance(sink, S3SinkSettings) and settings.global_.s3.enabled:
            fs = sink.file_strategy
            lines.append(f"Sink '{name}': files built in {(Path(fs.working_dir) / name).resolve()}, uploaded to "
                         f"s3://{sink.bucket}/{sink.prefix}{sink.key_pattern} "
                         f"(roll every {fs.roll_every:g} s, codec {fs.codec})")  # fmt: skip
    return lines


def serve(args: argparse.Namespace) -> int:
    settings = load_settings(find_config(args.config))
    server_settings = settings.global_.server
    host = args.host or server_settings.host or "127.0.0.1"
    port = args.port or server_settings.port
    app: FrontDoor = build_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        # The limits protocol, with the pixel answered inside uvicorn's protocol (sources/pixel_fast_path.py).
        http=with_pixel_fast_path(protocol_class(server_settings)),
        lifespan="on",
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For is honoured only as configured (use_x_forwarded_for)
        access_log=server_settings.debug_requests,
        timeout_graceful_shutdown=max(1, int(server_settings.shutdown_timeout)),
        timeout_keep_alive=max(1, math.ceil(server_settings.keep_alive_timeout)),
        log_config=None,
    )
    log.info("divolte-collector %s, configuration: %s", __version__, settings.origin)
    for line in describe(settings, host, port):
        log.info("%s", line)
    server = CollectorServer(config, app.collector)
    server.run()
    return 0 if app.collector.started or not server.started else 1


def check_config(args: argparse.Namespace) -> int:
    settings = load_settings(Path(args.file))
    build_app(settings)  # builds every component: schemas, mappings, sink directories
    print(f"Configuration OK: {args.file}")
    for line in describe(settings, settings.global_.server.host or "127.0.0.1", settings.global_.server.port):
        print(f"  {line}")
    return 0


def mapping_test(args: argparse.Namespace) -> int:
    from collector.tools.mapping_test import MappingTester, run_file
    from collector.tools.mapping_test import serve as serve_tester

    tester = MappingTester(args.schema, args.mapping)
    if args.event:
        try:
            sys.stdout.write(run_file(tester, args.event).decode() + "\n")
        except (OSError, ValueError) as exc:  # unreadable file, bad JSON, a bad key in the description
            print(f"Error: {args.event}: {exc}", file=sys.stderr)
            return 1
        return 0
    log.info("Mapping test server: POST event descriptions to http://%s:%d/", args.host, args.port)
    serve_tester(tester, args.host, args.port)
    return 0


def cat(args: argparse.Namespace) -> int:
    from collector.tools.cat import main as cat_main

    return cat_main(args.files, count=args.count, schema=args.schema, endpoint=args.endpoint, region=args.region)


def convert_mapping(args: argparse.Namespace) -> int:
    from collector.mapping.groovy import convert_groovy

    sys.stdout.write(convert_groovy(args.file))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="divolte-collector", description="Clickstream collector, Divolte-compatible.")
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    root.add_argument("--log-level", default=os.environ.get("DIVOLTE_LOG_LEVEL", "info"),
                      choices=["debug", "info", "warning", "error"])  # fmt: skip
    commands = root.add_subparsers(dest="command")
    run = commands.add_parser("serve", help="run the collector (the default command)")
    for target in (root, run):
        target.add_argument("--config", help="divolte-collector.conf to use (default: $DIVOLTE_CONF_DIR or embedded)")
        target.add_argument("--host", help="bind address (overrides divolte.global.server.host)")
        target.add_argument("--port", type=int, help="port (overrides divolte.global.server.port)")
    check = commands.add_parser("check-config", help="validate a configuration file without starting")
    check.add_argument("file")
    tester = commands.add_parser("mapping-test", help="try a mapping on hand-written events")
    tester.add_argument("--schema", help="the Avro schema (.avsc); default: Divolte's DefaultEventRecord")
    tester.add_argument("--mapping", required=True, help="the mapping file (.py, or Divolte's .groovy)")
    tester.add_argument("--event", help="map this JSON event description and print the record, then exit")
    tester.add_argument("--host", default="127.0.0.1")
    tester.add_argument("--port", type=int, default=8390)
    reader = commands.add_parser("cat", help="print Avro container files (local, .partial, s3://) as JSON lines")
    reader.add_argument("files", nargs="+", metavar="FILE", help="a path, s3://bucket/key, or s3://bucket/prefix/")
    reader.add_argument("--schema", help="read with this reader schema (.avsc), by Avro schema resolution")
    reader.add_argument("--count", action="store_true", help="print only the number of records")
    reader.add_argument("--endpoint", help="S3-compatible endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    reader.add_argument("--region", help="S3 region (default: $AWS_REGION)")
    convert = commands.add_parser("convert-mapping", help="print the Python mapping equivalent to a .groovy one")
    convert.add_argument("file", help="a Divolte mapping script (.groovy)")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        if args.command == "check-config":
            return check_config(args)
        if args.command == "mapping-test":
            return mapping_test(args)
        if args.command == "convert-mapping":
            return convert_mapping(args)
        if args.command == "cat":
            return cat(args)
        return serve(args)
    except ConfigError as exc:
        print("Configuration error:" if len(exc.problems) == 1 else
              f"Configuration errors ({len(exc.problems)}):", file=sys.stderr)  # fmt: skip
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except CollectorError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
