"""The ``divolte-collector`` command: ``serve`` (the default), ``check-config``, ``mapping-test``, ``cat``,
``replay``.

Configuration is found as Divolte's launcher finds it: ``--config FILE``, else
``$DIVOLTE_CONF_DIR/divolte-collector.conf`` if it exists, else the embedded default (a browser source,
the default mapping and a file sink under ``./data``), so that ``divolte-collector`` alone gives a
working collector.

Serving itself (uvicorn, the protocol, shutdown order) is ``collector.server.runner``; with several
``processes``, ``collector.server.supervisor`` runs the workers.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from collector import __version__
from collector.app import build_app
from collector.config import load
from collector.config.settings import HdfsSinkSettings, Settings
from collector.errors import CollectorError, ConfigError
from collector.server.runner import describe, serve
from collector.server.supervisor import supervise
from collector.server.workers import stranded_spools

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


def configure_logging(level: str, worker: int | None = None) -> None:
    """Log lines to stdout; a worker process (several ``processes``) marks each line with its index."""
    line = LOG_FORMAT if worker is None else LOG_FORMAT.replace("[%(threadName)s]", f"[worker-{worker} %(threadName)s]")
    logging.basicConfig(stream=sys.stdout, level=level.upper(), format=line, datefmt="%Y-%m-%d %H:%M:%S")
    logging.getLogger("uvicorn.access").addFilter(WithoutQueryStrings())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per WebHDFS request (the HDFS sink) is noise


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


def load_settings(path: Path | None, overrides: dict[str, object] | None = None) -> Settings:
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"Configuration file '{path}' does not exist.")
        return load(path, overrides=overrides)
    embedded = resources.files("collector.resources").joinpath(EMBEDDED_CONFIG)
    with resources.as_file(embedded) as embedded_path:
        settings = load(embedded_path, overrides=overrides)
    for sink in settings.sinks.values():  # the embedded default's folders are ours to create
        if isinstance(sink, HdfsSinkSettings):
            Path(sink.file_strategy.working_dir).mkdir(parents=True, exist_ok=True)
            Path(sink.file_strategy.publish_dir).mkdir(parents=True, exist_ok=True)
    return settings


def check_config(args: argparse.Namespace) -> int:
    settings = load_settings(Path(args.file))
    app = build_app(settings)  # builds every component: schemas, mappings, sink directories
    print(f"Configuration OK: {args.file}")
    for line in describe(settings, settings.global_.server.host or "127.0.0.1", settings.global_.server.port):
        print(f"  {line}")
    if args.connect:
        from collector.tools.connect import check_connections

        fine, problems = check_connections(app.collector.topology.sinks)
        for line in fine:
            print(f"  {line}")
        if problems:
            print("Connection check failed:", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            return 1
    return 0


def mapping_test(args: argparse.Namespace) -> int:
    from collector.tools.mapping_test import MappingTester, run_file, tester_from_config
    from collector.tools.mapping_test import serve as serve_tester

    config = args.mapping_config or args.config  # `mapping-test --config F`, or `--config F mapping-test`
    if config:
        tester = tester_from_config(load_settings(Path(config)), args.name, args.schema, args.mapping)
    elif args.mapping:
        tester = MappingTester(args.schema, args.mapping)
    else:
        print("Error: mapping-test needs --mapping FILE, or --config FILE to take the mapping, its schema and the "
              "GeoIP database from a configuration", file=sys.stderr)  # fmt: skip
        return 2
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

    hdfs_client = None
    if args.config:  # hdfs:// URIs reach HDFS as the collector's hdfs sinks do
        hdfs_client = load_settings(Path(args.config)).global_.hdfs.client
    return cat_main(args.files, count=args.count, schema=args.schema, endpoint=args.endpoint, region=args.region,
                    hdfs_client=hdfs_client)  # fmt: skip


def replay(args: argparse.Namespace) -> int:
    import asyncio

    from collector.tools.replay import replay as replay_files

    settings = load_settings(find_config(args.config))
    return asyncio.run(replay_files(args.files, settings, args.timeout, sys.stdout, sys.stderr))


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
        target.add_argument("--processes", metavar="N", help="worker processes, or auto: one per core "
                            "(overrides divolte.global.server.processes)")  # fmt: skip
        target.add_argument("--inspect", action="store_true", help="turn on the event inspector at /inspect "
                            "(sets divolte.global.inspector.enabled = true)")  # fmt: skip
    check = commands.add_parser("check-config", help="validate a configuration file without starting")
    check.add_argument("file")
    check.add_argument("--connect", action="store_true",
                       help="also reach HDFS and check the hdfs sinks' directories")  # fmt: skip
    tester = commands.add_parser("mapping-test", help="try a mapping on hand-written events")
    tester.add_argument("--schema", help="the Avro schema (.avsc); default: Divolte's DefaultEventRecord")
    tester.add_argument("--mapping", help="the mapping file (.py, or Divolte's .groovy)")
    tester.add_argument("--config", dest="mapping_config", help="take the mapping, its schema and the GeoIP "
                        "database from this configuration (--schema and --mapping replace its files)")  # fmt: skip
    tester.add_argument("--name", help="which of the configuration's mappings (divolte.mappings.<name>)")
    tester.add_argument("--event", help="map this JSON event description and print the record, then exit")
    tester.add_argument("--host", default="127.0.0.1")
    tester.add_argument("--port", type=int, default=8390)
    reader = commands.add_parser(
        "cat", help="print Avro container files (local, .partial, s3://, gs://, hdfs://, webhdfs://) as JSON lines"
    )
    reader.add_argument("files", nargs="+", metavar="FILE", help="a path, s3://bucket/key, s3://bucket/prefix/, "
                        "gs://bucket/name, gs://bucket/prefix/, hdfs://nn:8020/path, webhdfs://host:9870/path "
                        "(a file or a folder)")  # fmt: skip
    reader.add_argument("--schema", help="read with this reader schema (.avsc), by Avro schema resolution")
    reader.add_argument("--count", action="store_true", help="print only the number of records")
    reader.add_argument("--endpoint", help="S3-compatible endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    reader.add_argument("--region", help="S3 region (default: $AWS_REGION)")
    reader.add_argument("--config", help="the collector's configuration: its global.hdfs.client settings are used "
                        "for hdfs:// files (default: NameNode HTTP port 9870, user $HADOOP_USER_NAME)")  # fmt: skip
    resend = commands.add_parser("replay", help="send a Kafka sink's dead-letter files to its topic again")
    resend.add_argument("files", nargs="+", metavar="FILE", help="dead-letter files (<spool_dir>/<sink>/dead-letter/)")
    resend.add_argument("--config", help="the collector's configuration (default: $DIVOLTE_CONF_DIR or embedded)")
    resend.add_argument("--timeout", type=float, default=30.0, help="seconds to keep trying while Kafka is unreachable")
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
        if args.command == "replay":
            return replay(args)
        overrides: dict[str, object] = {}
        if args.processes is not None:  # checked as the configuration key is, with the same messages
            overrides["divolte.global.server.processes"] = args.processes
        if args.inspect:
            overrides["divolte.global.inspector.enabled"] = True
        settings = load_settings(find_config(args.config), overrides)
        for folder in stranded_spools(settings):
            log.warning("Spool %s holds records of a worker this collector no longer runs; they are replayed "
                        "only when processes is raised above its index again.", folder)  # fmt: skip
        if settings.global_.server.processes > 1:
            return supervise(settings, args.host, args.port, args.log_level)
        return serve(settings, args.host, args.port)
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
