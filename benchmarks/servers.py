"""The servers under test, each started as one process pinned to one core, and measured from ``/proc``.

* nginx ``empty_gif``: one process (``master_process off``), configuration generated into the run's
  folder, bound to 127.0.0.1: the physical limit of the machine for a tiny GET.
* an empty raw ASGI handler (``benchmarks/empty_asgi.py``) under uvicorn + uvloop + httptools: what the
  Python HTTP stack alone costs.
* the collector (``divolte-collector --config … --port …``) with a file sink, and optionally a Kafka sink.

Every process is started and stopped by its PID. CPU time and memory come from the kernel: utime + stime
from ``/proc/<pid>/stat`` while it runs and from ``wait4``'s rusage at exit (every thread included),
peak RSS from ``VmHWM`` / ``ru_maxrss``. A multi-process collector's workers are not the started
process's children (they fork from a fork server), so their ``/proc`` figures are read every 20 ms until
the collector has exited and added in.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(command: list[str], core: int | None) -> list[str]:
    """``command`` run on one core with ``taskset`` (the process keeps its PID: taskset execs it)."""
    if core is None:
        return command
    if shutil.which("taskset"):
        return ["taskset", "-c", str(core), *command]
    return command  # no taskset: started unpinned (the report says which cores were used)


@dataclass(slots=True)
class Exit:
    returncode: int
    cpu_seconds: float
    """User + system CPU of the whole process lifetime (every thread), from ``wait4``."""
    max_rss_mib: float
    exited_at: float
    """``time.time()`` when the process had exited."""


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3, the state, is index 0)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (a multi-process collector's fork server and workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(children.get(child, []))
    return found


@dataclass
class Running:
    """A started server process, and the processes it starts (measured with it)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _descendant_cpu: dict[int, float] = field(default_factory=dict)
    """Last CPU seconds seen for each descendant: a worker that has exited keeps its last reading."""
    _descendant_rss: dict[int, float] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def sample_descendants(self) -> None:
        """Read the CPU time and peak RSS of every process below this one (the wait4 of ``stop`` cannot:
        they are not this process's children)."""
        for pid in descendants(self.pid):
            with contextlib.suppress(OSError, IndexError):
                fields = _stat(pid)
                self._descendant_cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
                self._descendant_rss[pid] = _status_kib(pid, "VmHWM") / 1024

    def cpu_seconds(self) -> float:
        """utime + stime so far (all threads), from ``/proc/<pid>/stat``, its descendants' included."""
        fields = _stat(self.pid)
        self.sample_descendants()
        return (int(fields[11]) + int(fields[12])) / _TICKS + sum(self._descendant_cpu.values())

    def rss_mib(self) -> float:
        return sum(_status_kib(pid, "VmRSS") for pid in (self.pid, *descendants(self.pid))) / 1024

    def peak_rss_mib(self) -> float:
        """Peak RSS, summed over the processes (each at its own peak)."""
        self.sample_descendants()
        return _status_kib(self.pid, "VmHWM") / 1024 + sum(self._descendant_rss.values())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 120.0) -> Exit:
        """Signal the process, wait for it to exit, and return what the kernel says it used."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        deadline = time.monotonic() + timeout
        while True:
            self.sample_descendants()
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.process.kill()
                pid, status, usage = os.wait4(self.pid, 0)
                break
            time.sleep(0.02)
        exited_at = time.time()
        self.process.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime + sum(self._descendant_cpu.values())
        return Exit(
            self.process.returncode, cpu, usage.ru_maxrss / 1024 + sum(self._descendant_rss.values()), exited_at
        )


def _status_kib(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _wait_ready(running: Running, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"{running.name} exited with {running.process.returncode}:\n{running.log()[-3000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=1)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                connection.close()
                return
        time.sleep(0.05)
    running.stop(signal.SIGKILL)
    raise RuntimeError(f"{running.name} did not answer on port {running.port} within {timeout:.0f} s")


def _start(name: str, command: list[str], port: int, workdir: Path, ready_path: str) -> Running:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=workdir, stdout=log_file, stderr=subprocess.STDOUT)
    running = Running(name, process, port, log_path)
    _wait_ready(running, ready_path)
    return running


NGINX_CONF = """\
worker_processes 1;
master_process off;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 60s;
  server {{
    listen 127.0.0.1:{port};
    location / {{ empty_gif; }}
  }}
}}
"""


def start_nginx(workdir: Path, core: int | None) -> Running:
    """nginx serving ``empty_gif`` on every path; one process, no master (so its PID is the worker)."""
    port = free_port()
    folder = workdir / "nginx"
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    command = pinned([nginx, "-p", str(folder), "-e", str(folder / "nginx-error.log"), "-c", str(conf)], core)
    return _start("nginx", command, port, workdir, "/")


def start_empty_asgi(workdir: Path, core: int | None) -> Running:
    """uvicorn (uvloop, httptools, one process, no access log) serving ``benchmarks.empty_asgi:app``."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "benchmarks.empty_asgi:app", "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        "--app-dir", str(REPO),
    ]  # fmt: skip
    return _start("asgi", pinned(command, core), port, workdir, "/")


def collector_command() -> list[str]:
    script = Path(sys.executable).with_name("divolte-collector")
    return [str(script)] if script.exists() else [sys.executable, "-m", "collector.cli"]


FILE_SINK_CONF = """\
// Generated by benchmarks/bench.py: the collector as deployed behind a load balancer, with a file sink
// using Divolte's default sync settings.
divolte {{
  global {{
    server {{
      host = 127.0.0.1
      use_x_forwarded_for = true
      serve_static_resources = false
    }}
    hdfs.enabled = true
    {kafka_global}
  }}
  sources.browser.type = browser
  sinks {{
    {sink}
  }}
  mappings.default {{ sources = [browser], sinks = [{sink_name}] }}
}}
"""


KAFKA_TOPIC = "divolte"
"""The topic ``make kafka`` creates (3 partitions)."""


def collector_config(workdir: Path, kafka: str | None = None) -> tuple[Path, Path]:
    """Write the collector's configuration; return it and the folder whose files count as delivered.

    With ``kafka`` (a bootstrap address) the sink is Kafka instead, writing to ``KAFKA_TOPIC`` with the
    production defaults (acks, batching) and its spool under the run's folder.
    """
    inflight = workdir / "inflight"
    published = workdir / "published"
    for folder in (inflight, published):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    if kafka is None:
        sink = (
            "files { type = hdfs, file_strategy { "
            f'working_dir = "{inflight}", publish_dir = "{published}", '
            "sync_file_after_records = 1000, sync_file_after_duration = 30 seconds, roll_every = 1 hour } }"
        )
        text = FILE_SINK_CONF.format(kafka_global="", sink=sink, sink_name="files")
    else:
        spool = workdir / "spool"
        kafka_global = (
            f'kafka {{ enabled = true, spool_dir = "{spool}", producer {{ bootstrap.servers = "{kafka}" }} }}'
        )
        sink = f"kafka {{ type = kafka, topic = {KAFKA_TOPIC} }}"
        text = FILE_SINK_CONF.format(kafka_global=kafka_global, sink=sink, sink_name="kafka")
    path = workdir / ("collector-kafka.conf" if kafka else "collector.conf")
    path.write_text(text)
    return path, published


def start_collector(
    workdir: Path,
    core: int | None,
    config: Path,
    name: str = "collector",
    command: list[str] | None = None,
    processes: int = 1,
) -> Running:
    """Start the collector (``command``: another build of it, e.g. a baseline checkout, for A/B runs).

    With ``processes`` above 1 it runs unpinned (its workers spread over the cores) and is ready when its
    log says every worker is."""
    port = free_port()
    command = [*(command or collector_command()), "--config", str(config), "--port", str(port)]
    if processes > 1:
        running = _start(name, [*command, "--processes", str(processes)], port, workdir, "/ping")
        deadline = time.monotonic() + 60
        while f"All {processes} workers ready" not in running.log():
            if time.monotonic() > deadline or running.process.poll() is not None:
                running.stop(signal.SIGKILL)
                raise RuntimeError(f"{name}: not every worker became ready:\n{running.log()[-3000:]}")
            time.sleep(0.05)
        return running
    return _start(name, pinned(command, core), port, workdir, "/ping")
