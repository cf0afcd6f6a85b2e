"""How the WebHDFS client reads HttpFS's answers (bodies as a real 3.4.1 gateway sends them): the exception
HttpFS wraps is named again, 500s carrying Hadoop's exception are judged by it, and a failed data step names the
gateway rather than a DataNode. The same calls against a real gateway: tests/integration/hdfs/test_httpfs.py."""

from __future__ import annotations

import httpx
import pytest

from collector.sinks.webhdfs import WebHdfs, WebHdfsError, _error

TRUNCATE_LARGER = (
    b'{"RemoteException":{"message":"Cannot truncate to a larger file size. Current size: 5, truncate size: 99.",'
    b'"exception":"RemoteException","javaClassName":"org.apache.hadoop.ipc.RemoteException"}}'
)
DENIED = (
    b'{"RemoteException":{"message":"Permission denied: user=divolte, access=WRITE, inode=\\"\\/\\":root:supergroup:'
    b'drwxr-xr-x","exception":"AccessControlException","javaClassName":'
    b'"org.apache.hadoop.security.AccessControlException"}}'
)
IMPERSONATION = (
    b'{"RemoteException":{"message":"User: httpfs is not allowed to impersonate divolte","exception":'
    b'"RemoteException","javaClassName":"org.apache.hadoop.ipc.RemoteException"}}'
)


def answer(status: int, body: bytes) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})


def test_httpfss_wrapped_truncate_refusal_is_named_as_the_namenode_names_it() -> None:
    error = _error(answer(500, TRUNCATE_LARGER), "TRUNCATE", "/d/f")
    assert error.exception == "HadoopIllegalArgumentException"
    assert str(error) == ("WebHDFS TRUNCATE /d/f: HadoopIllegalArgumentException: Cannot truncate to a larger file "
                          "size. Current size: 5, truncate size: 99.")  # fmt: skip


def test_other_wrapped_exceptions_stay_remote_exceptions_with_their_message() -> None:
    error = _error(answer(500, IMPERSONATION), "GETFILESTATUS", "/")
    assert (error.exception, error.status, error.retriable) == ("RemoteException", 500, False)
    assert str(error) == "WebHDFS GETFILESTATUS /: RemoteException: User: httpfs is not allowed to impersonate divolte"


def test_a_500_with_hadoops_exception_is_judged_by_the_exception() -> None:
    error = _error(answer(500, DENIED), "MKDIRS", "/x")
    assert (error.exception, error.status, error.retriable) == ("AccessControlException", 500, False)
    assert str(error).startswith("WebHDFS MKDIRS /x: AccessControlException: Permission denied: user=divolte")
    assert _error(answer(500, b"<html>Server Error</html>"), "MKDIRS", "/x").retriable  # no exception: retried


@pytest.mark.parametrize(
    ("location", "who"),
    [
        ("http://gateway:14000/webhdfs/v1/d/f?op=APPEND&data=true&user.name=divolte", "the gateway"),
        ("http://datanode:9864/webhdfs/v1/d/f?op=APPEND&namenoderpcaddress=nn:8020", "the DataNode"),
    ],
)
async def test_a_failed_data_step_names_where_the_data_went(location: str, who: str) -> None:
    def exchange(request: httpx.Request) -> httpx.Response:
        if request.url.host == "gateway" and "data=true" not in str(request.url):
            return httpx.Response(307, headers={"Location": location})
        raise httpx.ConnectError("connection refused", request=request)

    client = WebHdfs(["http://gateway:14000"], user="divolte")
    await client._http.aclose()
    client._http = httpx.AsyncClient(transport=httpx.MockTransport(exchange), follow_redirects=False)
    with pytest.raises(WebHdfsError) as failed:
        await client.append("/d/f", b"data")
    origin = location.split("/webhdfs", 1)[0]
    assert str(failed.value) == f"WebHDFS APPEND /d/f: {who} at {origin} failed: ConnectError: connection refused"
    assert failed.value.retriable
    await client.aclose()
