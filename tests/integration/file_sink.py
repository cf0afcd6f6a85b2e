"""A file-sink configuration in a test's folder, and its published files read back by two Avro readers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import avro.datafile
import avro.io
import fastavro

FILE_NAME = re.compile(r"^\d{14}-divolte-tracking-.+-\d+(-\d+)?\.avro$")


def file_sink_config(
    tmp_path: Path,
    extra_global: str = "",
    mapping_extra: str = "",
    source_extra: str = "",
    file_strategy_extra: str = "",
) -> str:
    (tmp_path / "work").mkdir(exist_ok=True)
    (tmp_path / "publish").mkdir(exist_ok=True)
    return f"""
divolte {{
  global {{
    hdfs.threads = 1  // one file, so records of different parties are read back in arrival order
    {extra_global}
  }}
  sources.browser {{
    type = browser
    {source_extra}
  }}
  sinks.files {{
    type = hdfs
    file_strategy {{
      working_dir = "{tmp_path / "work"}"
      publish_dir = "{tmp_path / "publish"}"
      {file_strategy_extra}
    }}
  }}
  mappings.test {{
    sources = [browser]
    sinks = [files]
    {mapping_extra}
  }}
}}
"""


def read_published(tmp_path: Path, schema_name: str = "io.divolte.record.DefaultEventRecord") -> list[dict[str, Any]]:
    """All records of all published files, read with fastavro and cross-checked with Apache Avro."""
    files = sorted((tmp_path / "publish").iterdir())
    assert files, "no file was published"
    assert all(FILE_NAME.match(f.name) for f in files), [f.name for f in files]
    assert not list((tmp_path / "work").iterdir()), "files left in the working directory"
    records: list[dict[str, Any]] = []
    for path in files:
        with open(path, "rb") as handle:
            fast_reader = fastavro.reader(handle)
            writer_schema = cast(dict[str, Any], fast_reader.writer_schema)
            assert writer_schema["name"] == schema_name  # the full name, namespace included
            fast = [cast(dict[str, Any], record) for record in fast_reader]
        with open(path, "rb") as handle:
            reader = avro.datafile.DataFileReader(handle, avro.io.DatumReader())
            apache = list(reader)
            assert reader.meta["avro.codec"] in (b"null", None)
            reader.close()
        assert fast == apache
        records.extend(fast)
    return records
