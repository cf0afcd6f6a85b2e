"""A real HttpFS gateway (Hadoop's ``hadoop-hdfs-httpfs``) on 127.0.0.1, in front of a test ``HdfsCluster``.

    python -m tests.servers.hdfs.httpfs run [--port 14000]   # a cluster and a gateway until Ctrl-C

HttpFS serves the WebHDFS REST API from one process that talks Hadoop RPC to the NameNode: data goes through
the gateway (no DataNode redirect), which is how clusters behind a firewall expose HDFS. Its jars
(``.cache/hdfs/httpfs-<version>``, resolved by ``cluster.py fetch``) run in a JVM of their own, never on the
MiniDFSCluster's classpath. ``HttpFsGateway`` writes the gateway's configuration into its own folder
(``httpfs-site.xml``: address and temp folder; ``core-site.xml``: ``fs.defaultFS`` of the cluster), starts
``HttpFSServerWebServer``, waits until it answers a WebHDFS call, and stops it by its PID.

The gateway runs as the OS user and acts for the user each request names (``user.name=divolte``), so the
NameNode lets that OS user impersonate others (``hadoop.proxyuser.<user>.*`` in ``MiniHdfs.java``), as a real
cluster's ``core-site.xml`` does for its ``httpfs`` user. HttpFS's own ``httpfs.proxyuser.*`` settings are only
for ``doas=`` requests and are not needed; without a signature secret file it signs its cookies with a random one.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from xml.sax.saxutils import escape

from tests.servers import common
from tests.servers.hdfs.cluster import FETCH_COMMAND, HTTPFS_JARS, HTTPFS_VERSION, HdfsCluster, HdfsUnavailable

HEAP = "-Xmx256m"
JAVA_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
              # JAXB (Jersey's JSON) defines classes by reflection, which Java 17 allows only when opened.
              "--add-opens=java.base/java.lang=ALL-UNNAMED"]  # fmt: skip
MAIN = "org.apache.hadoop.fs.http.server.HttpFSServerWebServer"
ACCESS = re.compile(r'"([A-Z]+) (/webhdfs/v1\S*) HTTP/[0-9.]+" ([0-9]{3}) ')
"""An access log line's method, target and status (``… "PUT /webhdfs/v1/a?op=CREATE&… HTTP/1.1" 201 0 …``)."""


class HttpFsGateway(common.ServerProcess):
    """One HttpFS server for the HDFS at ``default_fs``, its configuration and logs in ``workdir``."""

    name = "HttpFS"

    def __init__(self, workdir: Path, default_fs: str, *, port: int | None = None) -> None:
        if not (HTTPFS_JARS / ".complete").exists():
            raise HdfsUnavailable(f"the HttpFS {HTTPFS_VERSION} jars are not in {HTTPFS_JARS}: {FETCH_COMMAND}")
        self.workdir = workdir
        self.default_fs = default_fs
        self.port = port or common.free_port()
        self.log_path = workdir / "httpfs.log"
        """The gateway's log: start-up, and one access line per request (``"PUT /webhdfs/v1/…?op=CREATE…" 201``)."""
        self.started_in = 0.0
        """Seconds ``start`` took (JVM start until the gateway answered its first WebHDFS call)."""

    @property
    def address(self) -> str:
        """``host:port`` of the gateway (WebHDFS under ``/webhdfs/v1``, as on a NameNode)."""
        return f"127.0.0.1:{self.port}"

    def _configure(self) -> Path:
        conf = self.workdir / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (self.workdir / "temp").mkdir(exist_ok=True)
        (self.workdir / "log").mkdir(exist_ok=True)
        _write_xml(conf / "httpfs-site.xml", {
            "httpfs.http.hostname": "127.0.0.1",
            "httpfs.http.port": str(self.port),
            "hadoop.http.temp.dir": str(self.workdir / "temp"),
        })  # fmt: skip
        # The gateway's Hadoop client configuration (httpfs.hadoop.config.dir defaults to the same folder).
        _write_xml(conf / "core-site.xml", {"fs.defaultFS": self.default_fs})
        return conf

    def start(self, timeout: float = 60.0) -> None:
        assert not self.running, "already running"
        began = time.monotonic()
        conf = self._configure()
        home = self.workdir
        folders = [f"-Dhttpfs.home.dir={home}", f"-Dhttpfs.config.dir={conf}", f"-Dhttpfs.log.dir={home / 'log'}",
                   f"-Dhttpfs.temp.dir={home / 'temp'}"]  # fmt: skip
        command = ["java", HEAP, *JAVA_FLAGS, *folders, "-cp", f"{conf}:{HTTPFS_JARS}/*", MAIN]
        self._launch(command, stdin=subprocess.DEVNULL)
        self._wait_until(self._answers, timeout, "answer")
        self.started_in = time.monotonic() - began

    def _answers(self) -> bool:
        probe = f"http://{self.address}/webhdfs/v1/?op=GETFILESTATUS&user.name=probe"
        try:
            with urllib.request.urlopen(probe, timeout=5) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the gateway's PID (Jetty stops), SIGKILL if it has not exited in time."""
        self._terminate(timeout)

    def requests(self) -> list[str]:
        """The requests the gateway served so far, from its access log: ``"POST /webhdfs/v1/a?op=APPEND&… 200"``."""
        if not self.log_path.exists():
            return []
        return [f"{method} {target} {status}" for method, target, status in ACCESS.findall(self.log_path.read_text())]


def _write_xml(path: Path, properties: dict[str, str]) -> None:
    entries = "".join(
        f"  <property><name>{escape(name)}</name><value>{escape(value)}</value></property>\n"
        for name, value in properties.items()
    )
    path.write_text(f'<?xml version="1.0"?>\n<configuration>\n{entries}</configuration>\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--port", type=int, default=14000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="httpfs-") as folder:
        cluster = HdfsCluster(Path(folder) / "cluster")
        gateway = HttpFsGateway(Path(folder) / "gateway", cluster.default_fs, port=args.port)

        def started() -> None:
            cluster.start()
            gateway.start()
            print(f"HDFS on {cluster.default_fs}; HttpFS {HTTPFS_VERSION} gateway at webhdfs://{gateway.address}"
                  f" (started in {gateway.started_in:.1f} s); Ctrl-C stops both.")  # fmt: skip

        return common.serve([cluster, gateway], started)


if __name__ == "__main__":
    sys.exit(main())
