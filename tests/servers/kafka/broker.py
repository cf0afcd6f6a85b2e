"""A real Apache Kafka broker (KRaft, single node) on 127.0.0.1, from Maven Central jars, for tests.

    python tests/servers/kafka/broker.py fetch                 # resolve the jars into .cache/kafka/<version> (once)
    python -m tests.servers.kafka.broker run [--port 9092] [--topic divolte:3]   # a broker until Ctrl-C (make kafka)

``fetch`` runs ``mvn dependency:copy-dependencies`` on ``tests/servers/kafka/pom.xml``; a second run finds the jars
and does nothing. ``KafkaBroker`` formats a fresh log directory (``StorageTool format --standalone``),
starts ``kafka.Kafka`` as one broker+controller with ``auto.create.topics.enable=false`` and a bounded
heap, waits until it says it started, and stops it by its PID. Only the standard library is used here, so
``make kafka-jars`` can fetch before any virtual environment exists.

More listeners (``listeners={"SASL_PLAINTEXT": "SASL_PLAINTEXT", ...}``, each on a port of its own in ``ports``)
and SCRAM users created by the storage format (``scram_users``) let one broker serve secured clients beside the
PLAINTEXT listener that admin clients and the broker itself use; ``tests/servers/kafka/secured.py`` sets one up.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

if not __package__:  # run as a file (python3 tests/servers/kafka/broker.py fetch): put the repository on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.servers import common
from tests.servers.common import free_port as free_port

POM = Path(__file__).resolve().parent / "pom.xml"
KAFKA_VERSION = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())[1]  # type: ignore[index]
JARS = common.REPO / ".cache" / "kafka" / KAFKA_VERSION
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


class KafkaUnavailable(common.ServerUnavailable):
    """Java, Maven or the jars are missing, so no broker can run here."""


def fetch() -> Path:
    """The folder of broker jars, resolving them with Maven first if they are not there yet."""
    if (JARS / ".complete").exists():
        return JARS
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise KafkaUnavailable("java and mvn are needed to run a Kafka broker (make system-deps installs them)")
    common.maven_resolve(POM, JARS, KafkaUnavailable, "the Kafka jars")
    return JARS


def random_cluster_id() -> str:
    """What ``kafka-storage random-uuid`` prints (16 random bytes, URL-safe base64 without padding, never starting
    with ``-``), made here rather than in a JVM of its own: a second less for every broker a test starts."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


class KafkaBroker(common.ServerProcess):
    """One KRaft broker+controller in ``workdir``; ``start``/``stop``/``kill`` keep its ports and data."""

    name = "Kafka"

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
        assert not self.running, "already running"
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._launch(self._java("kafka.Kafka", str(self.config)), log=self.workdir / "stdout.log")
        self._wait_until(lambda: self._started_since(offset) and common.port_open(self.port), timeout, "start")

    def _started_since(self, offset: int) -> bool:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                return b"Kafka Server started" in log.read()
        except FileNotFoundError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        """Stop cleanly (SIGTERM), killing it if it does not exit within ``timeout`` seconds."""
        self._terminate(timeout)

    def tail(self, lines: int = 40) -> str:
        paths = (self.workdir / "stdout.log", self.log_path)
        return "".join(f"--- {path.name}\n{common.tail(path, lines)}\n" for path in paths if path.exists())


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


def main(argv: list[str] | None = None) -> int:
    parser, run = common.command_line(__doc__, "resolve the broker's jars (once; later runs reuse them)",
                                      "run a broker in the foreground until Ctrl-C")  # fmt: skip
    run.add_argument("--port", type=int, default=9092)
    run.add_argument("--dir", help="data folder (default: a fresh temporary folder)")
    run.add_argument("--topic", action="append", default=[], metavar="NAME[:PARTITIONS]",
                     help="create this topic once started (needs confluent-kafka; may repeat)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "fetch":
        return common.report_fetch(lambda: f"Kafka {KAFKA_VERSION} jars in {fetch()}")
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kafka-"))
    broker = KafkaBroker(workdir, port=args.port)

    def started() -> None:
        broker.start()
        print(f"Kafka {KAFKA_VERSION} on {broker.bootstrap} (data and logs in {workdir}); Ctrl-C stops it.")
        if args.topic:
            _create_topics(broker.bootstrap, args.topic)

    return common.serve([broker], started)


if __name__ == "__main__":
    sys.exit(main())
