"""A real Apache Kafka broker (KRaft, single node) on 127.0.0.1, from Maven Central jars, for tests.

    python tests/servers/kafka/broker.py fetch                 # resolve the jars into .cache/kafka/<version> (once)
    python -m tests.servers.kafka.broker run [--port 9092] [--topic divolte:3]   # a broker until Ctrl-C (make kafka)

``fetch`` runs ``mvn dependency:copy-dependencies`` on ``tests/servers/kafka/pom.xml``; a second run finds the jars
and does nothing. ``KafkaBroker`` formats a fresh log directory (``StorageTool format --standalone``),
starts ``kafka.Kafka`` as one broker+controller with ``auto.create.topics.enable=false`` and a bounded
heap, waits until it says it started, and stops it by its PID. Only the standard library is used here, so
``.ci/run`` can fetch before any virtual environment exists.

More listeners (``listeners={"SASL_PLAINTEXT": "SASL_PLAINTEXT", ...}``, each on a port of its own in ``ports``)
and SCRAM users created by the storage format (``scram_users``) let one broker serve secured clients beside the
PLAINTEXT listener that admin clients and the broker itself use; ``tests/servers/kafka/secured.py`` sets one up.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
POM = Path(__file__).resolve().parent / "pom.xml"
KAFKA_VERSION = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())[1]  # type: ignore[index]
JARS = REPO / ".cache" / "kafka" / KAFKA_VERSION
HEAP = os.environ.get("KAFKA_TEST_HEAP", "-Xmx512m")

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.raft.name = org.apache.kafka.raft
logger.raft.level = warn
logger.controller.name = org.apache.kafka.controller
logger.controller.level = warn
"""


class KafkaUnavailable(RuntimeError):
    """Java, Maven or the jars are missing, so no broker can run here."""


def fetch(capture: bool = True) -> Path:
    """The folder of broker jars, resolving them with Maven first if they are not there yet."""
    marker = JARS / ".complete"
    if marker.exists():
        return JARS
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise KafkaUnavailable("java and mvn are needed to run a Kafka broker (apt-get install maven openjdk-17-jre)")
    partial = JARS.with_name(JARS.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
               "-DincludeScope=runtime"]  # fmt: skip
    result = subprocess.run(command, capture_output=capture, text=True, check=False)
    if result.returncode != 0:
        raise KafkaUnavailable(f"mvn could not resolve the Kafka jars:\n{result.stdout}\n{result.stderr}")
    shutil.rmtree(JARS, ignore_errors=True)
    partial.rename(JARS)
    marker.touch()
    return JARS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_cluster_id() -> str:
    """What ``kafka-storage random-uuid`` prints (16 random bytes, URL-safe base64 without padding, never starting
    with ``-``), made here rather than in a JVM of its own: a second less for every broker a test starts."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


class KafkaBroker:
    """One KRaft broker+controller in ``workdir``; ``start``/``stop``/``kill`` keep its ports and data."""

    def __init__(
        self, workdir: Path, *, port: int | None = None, extra: dict[str, str] | None = None,
        listeners: dict[str, str] | None = None, scram_users: list[str] | None = None,
    ) -> None:  # fmt: skip
        """``listeners``: more listeners, name → security protocol; ``scram_users``: ``--add-scram`` values of the
        storage format, e.g. ``SCRAM-SHA-512=[name=alice,password=alice-secret]``."""
        self.jars = fetch()
        self.workdir = workdir
        self.port = port or free_port()
        self.controller_port = free_port()
        self.ports = {name: free_port() for name in listeners or {}}
        self.scram_users = scram_users or []
        more = "".join(f",{name}://127.0.0.1:{port}" for name, port in self.ports.items())
        protocols = "".join(f",{name}:{protocol}" for name, protocol in (listeners or {}).items())
        self.log_path = workdir / "server.log"
        self.data = workdir / "data"
        self.process: subprocess.Popen[bytes] | None = None
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}{more},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}{more}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT{protocols}",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # A killed broker's old registration must expire before it can register again on restart.
            "broker.session.timeout.ms": "2000",
            "broker.heartbeat.interval.ms": "500",
            **(extra or {}),
        }
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "server.properties"
        self.config.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
        self.log4j = workdir / "log4j2.properties"
        self.log4j.write_text(LOG4J2.format(log=self.log_path))
        self._format()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def address(self, listener: str) -> str:
        """``host:port`` of one of the extra listeners."""
        return f"127.0.0.1:{self.ports[listener]}"

    def _java(self, main: str, *args: str, heap: str = HEAP) -> list[str]:
        return ["java", heap, "-XX:+UseSerialGC", f"-Dlog4j2.configurationFile={self.log4j}",
                "-cp", f"{self.jars}/*", main, *args]  # fmt: skip

    def _format(self) -> None:
        cluster_id = random_cluster_id()
        format_storage = ["format", "--standalone", "--ignore-formatted", "-t", cluster_id, "-c", str(self.config)]
        for user in self.scram_users:
            format_storage += ["--add-scram", user]
        subprocess.run(
            self._java("kafka.tools.StorageTool", *format_storage, heap="-Xmx128m"),
            capture_output=True, text=True, check=True,
        )  # fmt: skip

    def start(self, timeout: float = 60.0) -> None:
        """Start the broker and wait until it logs that it started (and its port answers)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.workdir / "stdout.log", "ab") as out:
            self.process = subprocess.Popen(
                self._java("kafka.Kafka", str(self.config)), stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Kafka exited with {self.process.returncode}:\n{self.tail()}")
            if self._started_since(offset) and self._port_open():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"Kafka did not start within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.1)

    def _started_since(self, offset: int) -> bool:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                return b"Kafka Server started" in log.read()
        except FileNotFoundError:
            return False

    def _port_open(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop cleanly (SIGTERM), killing it if it does not exit within ``timeout`` seconds."""
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Stop at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 40) -> str:
        text = ""
        for path in (self.workdir / "stdout.log", self.log_path):
            if path.exists():
                text += f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text


def _create_topics(bootstrap: str, specs: list[str]) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = []
    for spec in specs:
        name, _, partitions = spec.partition(":")
        topics.append(NewTopic(name, num_partitions=int(partitions or 1), replication_factor=1))
    for name, future in admin.create_topics(topics).items():
        future.result(30)
        print(f"created topic {name}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="resolve the broker's jars (once; later runs reuse them)")
    run = commands.add_parser("run", help="run a broker in the foreground until Ctrl-C")
    run.add_argument("--port", type=int, default=9092)
    run.add_argument("--dir", help="data folder (default: a fresh temporary folder)")
    run.add_argument("--topic", action="append", default=[], metavar="NAME[:PARTITIONS]",
                     help="create this topic once started (needs confluent-kafka; may repeat)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "fetch":
        print(f"Kafka {KAFKA_VERSION} jars in {fetch(capture=False)}")
        return 0
    signal.signal(signal.SIGTERM, _interrupt)  # stop the broker on SIGTERM too, not only on Ctrl-C
    signal.signal(signal.SIGINT, _interrupt)
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafka-"))
    broker = KafkaBroker(workdir, port=args.port)
    broker.start()
    print(f"Kafka {KAFKA_VERSION} on {broker.bootstrap} (data and logs in {workdir}); Ctrl-C stops it.")
    try:
        if args.topic:
            _create_topics(broker.bootstrap, args.topic)
        while broker.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
