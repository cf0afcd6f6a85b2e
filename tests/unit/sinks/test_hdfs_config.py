"""``global.hdfs.client`` → WebHDFS addresses and auth (``hdfs_config``), and which crashed files are a sink's."""

from __future__ import annotations

import pytest

from collector.errors import ConfigError
from collector.sinks.hdfs_config import HdfsConnection, hdfs_connection, hdfs_path, is_remote
from collector.sinks.hdfs_leftovers import is_ours

ENV = {"HADOOP_USER_NAME": "divolte"}


def namenodes(client: dict[str, str], env: dict[str, str] | None = None) -> tuple[str, ...]:
    return hdfs_connection(client, ENV if env is None else env).namenodes


def test_local_and_unset_file_systems_are_not_remote() -> None:
    assert not is_remote(None)
    assert not is_remote({})
    assert not is_remote({"fs.defaultFS": "file:///"})
    assert is_remote({"fs.defaultFS": "hdfs://nn:8020"})
    assert is_remote({"fs.default.name": "hdfs://nn:8020"})


def test_an_hdfs_uri_maps_to_the_namenodes_http_port() -> None:
    assert namenodes({"fs.defaultFS": "hdfs://nn.example.com:8020"}) == ("http://nn.example.com:9870",)
    assert namenodes({"fs.defaultFS": "hdfs://nn:8020", "dfs.namenode.http-address": "web.example.com:50070"}) == (
        "http://web.example.com:50070",
    )
    # A wildcard bind address gives only the port; the host is fs.defaultFS's.
    assert namenodes({"fs.defaultFS": "hdfs://nn:8020", "dfs.namenode.http-address": "0.0.0.0:9871"}) == (
        "http://nn:9871",
    )
    assert namenodes({"fs.defaultFS": "hdfs://nn:8020", "dfs.http.policy": "HTTPS_ONLY"}) == ("https://nn:9871",)


def test_webhdfs_uris_name_the_http_address_itself() -> None:
    assert namenodes({"fs.defaultFS": "webhdfs://gateway:14000"}) == ("http://gateway:14000",)
    assert namenodes({"fs.defaultFS": "webhdfs://nn"}) == ("http://nn:9870",)
    assert namenodes({"fs.defaultFS": "swebhdfs://nn"}) == ("https://nn:9871",)


def test_a_nameservice_lists_its_namenodes_in_order() -> None:
    client = {
        "fs.defaultFS": "hdfs://lake",
        "dfs.nameservices": "other,lake",
        "dfs.ha.namenodes.lake": "nn2, nn1",
        "dfs.namenode.http-address.lake.nn1": "a.example.com:9870",
        "dfs.namenode.http-address.lake.nn2": "b.example.com:9870",
    }
    assert namenodes(client) == ("http://b.example.com:9870", "http://a.example.com:9870")


def test_a_nameservice_without_namenode_addresses_names_the_missing_key() -> None:
    client = {"fs.defaultFS": "hdfs://lake", "dfs.nameservices": "lake", "dfs.ha.namenodes.lake": "nn1"}
    with pytest.raises(ConfigError) as refused:
        hdfs_connection(client, ENV)
    (problem,) = refused.value.problems
    assert problem.startswith("divolte.global.hdfs.client.dfs.namenode.http-address.lake.nn1: missing")
    with pytest.raises(ConfigError) as refused:
        hdfs_connection({"fs.defaultFS": "hdfs://lake", "dfs.nameservices": "lake"}, ENV)
    assert refused.value.problems[0].startswith("divolte.global.hdfs.client.dfs.ha.namenodes.lake: missing")


def test_the_user_comes_from_the_environment_then_the_settings() -> None:
    client = {"fs.defaultFS": "hdfs://nn", "hadoop.user.name": "from-settings"}
    assert hdfs_connection(client, {"HADOOP_USER_NAME": "from-env"}).user == "from-env"
    assert hdfs_connection(client, {}).user == "from-settings"
    assert hdfs_connection({"fs.defaultFS": "hdfs://nn"}, {}).user  # the OS user, as Hadoop's client does


def test_a_delegation_token_replaces_the_user_and_makes_kerberos_usable() -> None:
    kerberos = {"fs.defaultFS": "hdfs://nn", "hadoop.security.authentication": "kerberos"}
    with pytest.raises(ConfigError) as refused:
        hdfs_connection(kerberos, ENV)
    assert "Kerberos (SPNEGO) is not supported" in refused.value.problems[0]
    connection = hdfs_connection({**kerberos, "webhdfs.delegation.token": "TOKEN"}, ENV)
    assert connection.delegation == "TOKEN"
    assert "TOKEN" not in repr(connection)
    assert hdfs_connection(kerberos, {"WEBHDFS_DELEGATION_TOKEN": "T2"}).delegation == "T2"


def test_other_schemes_and_hostless_uris_are_refused() -> None:
    with pytest.raises(ConfigError, match="uses the 'abfs:' scheme"):
        hdfs_connection({"fs.defaultFS": "abfs://container@account.dfs.core.windows.net"}, ENV)
    with pytest.raises(ConfigError, match="names no host"):
        hdfs_connection({"fs.defaultFS": "hdfs:///"}, ENV)


def test_directories_are_absolute_paths_on_the_same_file_system() -> None:
    connection = HdfsConnection(("http://nn:9870",), "nn:8020")
    assert hdfs_path("/divolte/inflight/", "k", connection) == "/divolte/inflight"
    assert hdfs_path("hdfs://nn:8020/divolte/published", "k", connection) == "/divolte/published"
    assert hdfs_path("hdfs:///divolte/published", "k", connection) == "/divolte/published"
    with pytest.raises(ConfigError, match="k: 'relative/dir' must be an absolute path"):
        hdfs_path("relative/dir", "k", connection)
    with pytest.raises(ConfigError, match="is not on the file system"):
        hdfs_path("s3a://bucket/dir", "k", connection)


def test_a_crashed_partial_is_ours_only_for_this_host_and_these_shards() -> None:
    stamp = "20240131093055"
    assert is_ours(f"{stamp}-divolte-tracking-web-1-3.avro.partial", "web-1", {3})
    assert is_ours(f"{stamp}-divolte-tracking-web-1-3-2.avro.partial", "web-1", {3})  # a second file in one second
    assert not is_ours(f"{stamp}-divolte-tracking-web-1-3.avro.partial", "web", {3})  # web-1's, not web's
    assert not is_ours(f"{stamp}-divolte-tracking-web-1-4.avro.partial", "web-1", {3})  # another sink's shard
    assert not is_ours(f"{stamp}-divolte-tracking-web-1-3.avro", "web-1", {3})  # published already
    assert not is_ours("notastamp0000-divolte-tracking-web-1-3.avro.partial", "web-1", {3})
