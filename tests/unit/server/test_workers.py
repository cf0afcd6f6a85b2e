"""What makes each worker's sinks its own: spool folders by index (worker 0 keeps the configured one)."""

from __future__ import annotations

from pathlib import Path

from collector.config import load
from collector.server.workers import duplicate_slots, settings_for, stranded_spools


def test_each_worker_spools_in_a_folder_of_its_own(tmp_path: Path) -> None:
    settings = load(None, env={}, overrides={"divolte.global.kafka.spool_dir": str(tmp_path / "spool")})
    assert settings_for(settings, 0).global_.kafka.spool_dir == str(tmp_path / "spool")  # as one process
    assert settings_for(settings, 3).global_.kafka.spool_dir == str(tmp_path / "spool" / "worker-3")
    assert settings_for(settings, 3).global_.server == settings.global_.server  # nothing else changes


def test_the_shared_duplicate_memory_has_one_memory_per_mapper_thread() -> None:
    settings = load(None, env={}, overrides={"divolte.global.mapper.threads": 3,
                                             "divolte.global.mapper.duplicate_memory_size": 1000})  # fmt: skip
    assert duplicate_slots(settings) == 3000


def test_spools_of_workers_no_longer_run_are_named(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    for folder, has_records in (("worker-1", True), ("worker-2", True), ("worker-3", False)):
        (spool / folder / "kafka").mkdir(parents=True)
        if has_records:
            (spool / folder / "kafka" / "00000000001000000000.spool").write_bytes(b"DVSPOOL1")
    overrides = {"divolte.global.kafka.enabled": True, "divolte.global.kafka.spool_dir": str(spool)}
    two = load(None, env={}, overrides={**overrides, "divolte.global.server.processes": 2})
    assert stranded_spools(two) == [spool / "worker-2"]  # worker-1 runs; worker-3 has nothing waiting
    one = load(None, env={}, overrides=overrides)
    assert stranded_spools(one) == [spool / "worker-1", spool / "worker-2"]


def test_pubsub_spools_of_workers_no_longer_run_are_named_too(tmp_path: Path) -> None:
    spool = tmp_path / "gcps-spool"
    (spool / "worker-1" / "pubsub").mkdir(parents=True)
    (spool / "worker-1" / "pubsub" / "00000000001000000000.spool").write_bytes(b"DVSPOOL1")
    overrides = {"divolte.global.gcps.enabled": True, "divolte.global.gcps.project_id": "p",
                 "divolte.global.gcps.spool_dir": str(spool)}  # fmt: skip
    assert stranded_spools(load(None, env={}, overrides=overrides)) == [spool / "worker-1"]
    assert settings_for(load(None, env={}, overrides=overrides), 1).global_.gcps.spool_dir == str(spool / "worker-1")
