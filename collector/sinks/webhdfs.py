"""A small asyncio client for HDFS's REST API (WebHDFS on the NameNodes, or one HttpFS gateway), on httpx.

Why our own: the WebHDFS clients on PyPI are synchronous (HdfsCLI ``hdfs``, ``pyhdfs``, ``pywebhdfs``,
fsspec's ``webhdfs``: all on ``requests``, so every call would need a thread), abandoned (``aiowebhdfs``
0.0.2, 2020) or an early beta (``fastwebhdfs``); pyarrow's ``HadoopFileSystem`` needs a JVM and libhdfs on the
collector's machine. The sink needs only a dozen calls, each one HTTP exchange.

- Data goes in two steps, as WebHDFS asks: ``CREATE``/``APPEND`` to the NameNode without a body, which answers
  307 with a DataNode's address; the data goes there (HttpFS redirects to itself with ``data=true``).
- High availability: the NameNodes are tried in order, starting from the one that answered last; a refused
  connection, a timeout, or a standby's answer (``StandbyException``) moves on to the next.
- Auth: ``delegation=<token>`` when a delegation token is configured, else simple auth ``user.name=<user>``.
- HttpFS (tested against a real 3.4.1 gateway): the same calls; its first ``CREATE``/``APPEND`` step redirects
  to itself with ``data=true``, errors other than "not found" come as 500 with Hadoop's exception, and a few
  NameNode exceptions come wrapped as ``RemoteException`` (``UNWRAPPED`` names them again).
- Every failure is a ``WebHdfsError`` naming the operation, the path and Hadoop's exception, with
  ``retriable`` telling whether the same call may succeed later (unreachable, safe mode, a lease being
  recovered, 5xx) or needs a person (permissions, a missing directory).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

API = "/webhdfs/v1"

RETRIABLE_EXCEPTIONS = frozenset({
    "StandbyException", "SafeModeException", "RetriableException", "RecoveryInProgressException",
    "AlreadyBeingCreatedException", "LeaseExpiredException", "NotReplicatedYetException", "ConnectException",
    "ObserverRetryOnActiveException", "IOException",
})  # fmt: skip
"""Hadoop exceptions after which the same call may succeed later (``IOException``: a DataNode pipeline failed)."""


UNWRAPPED = {"Cannot truncate to a larger file size": "HadoopIllegalArgumentException"}
"""HttpFS answers some of the NameNode's exceptions as a bare ``RemoteException`` (its Hadoop client unwraps only
the classes each call declares, and ``TRUNCATE`` does not declare this one), so the message, which the NameNode
wrote, tells which it was: these message prefixes get the class name WebHDFS on the NameNode gives."""


class WebHdfsError(Exception):
    """A WebHDFS call failed. ``exception`` is Hadoop's exception class name (e.g. ``AccessControlException``),
    or ``""`` when no NameNode answered at all."""

    def __init__(self, message: str, *, exception: str = "", status: int | None = None, retriable: bool) -> None:
        self.exception = exception
        self.status = status
        self.retriable = retriable
        super().__init__(message)


class WebHdfs:
    """WebHDFS calls on absolute HDFS paths; ``namenodes`` are base URLs such as ``http://nn1:9870``."""

    def __init__(
        self,
        namenodes: Sequence[str],
        *,
        user: str | None = None,
        delegation: str | None = None,
        timeout: float = 30.0,
        verify: bool | str = True,
    ) -> None:
        if not namenodes:
            raise ValueError("at least one NameNode address is needed")
        self.namenodes = tuple(url.rstrip("/") for url in namenodes)
        self.user = user
        self.delegation = delegation
        self._active = 0
        """Index of the NameNode that answered last: tried first next time."""
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), follow_redirects=False, verify=verify
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- operations ------------------------------------------------------------------------------------

    async def status(self, path: str) -> dict[str, Any] | None:
        """``GETFILESTATUS``: the ``FileStatus`` object, or None when the path does not exist."""
        try:
            answer = await self._call("GET", path, "GETFILESTATUS")
        except WebHdfsError as exc:
            if exc.exception == "FileNotFoundException":
                return None
            raise
        status: dict[str, Any] = answer.json()["FileStatus"]
        return status

    async def list(self, path: str) -> list[dict[str, Any]]:
        """``LISTSTATUS``: the ``FileStatus`` of every entry of a directory (``pathSuffix`` is the name)."""
        answer = await self._call("GET", path, "LISTSTATUS")
        entries: list[dict[str, Any]] = answer.json()["FileStatuses"]["FileStatus"]
        return entries

    async def check_access(self, path: str, action: str) -> None:
        """``CHECKACCESS`` (e.g. ``action="-wx"``); raises ``AccessControlException`` as a ``WebHdfsError``."""
        await self._call("GET", path, "CHECKACCESS", params={"fsaction": action})

    async def mkdirs(self, path: str) -> bool:
        return self._boolean(await self._call("PUT", path, "MKDIRS"))

    async def rename(self, source: str, destination: str) -> bool:
        """``RENAME``: False (not an error) when HDFS declines, e.g. the destination exists."""
        return self._boolean(await self._call("PUT", source, "RENAME", params={"destination": destination}))

    async def delete(self, path: str) -> bool:
        return self._boolean(await self._call("DELETE", path, "DELETE", params={"recursive": "false"}))

    async def truncate(self, path: str, length: int) -> bool:
        """``TRUNCATE``: True when done at once, False when HDFS finishes it in the background (block recovery:
        the file's length reaches ``length`` shortly)."""
        return self._boolean(await self._call("POST", path, "TRUNCATE", params={"newlength": str(length)}))

    async def open(self, path: str) -> bytes:
        """``OPEN``: the whole file, read from the DataNode the NameNode redirects to."""
        answer = await self._call("GET", path, "OPEN", redirect=True)
        return answer.content

    async def create(self, path: str, data: bytes, *, replication: int | None = None) -> None:
        """``CREATE`` with ``overwrite=false``: a new file holding ``data`` (``FileAlreadyExistsException`` if
        the path is taken)."""
        params = {"overwrite": "false"}
        if replication is not None:
            params["replication"] = str(replication)
        await self._call("PUT", path, "CREATE", data=data, params=params)

    async def append(self, path: str, data: bytes) -> None:
        """``APPEND``: ``data`` added at the end of the file; durable on the DataNodes when this returns."""
        await self._call("POST", path, "APPEND", data=data)

    # -- transport -------------------------------------------------------------------------------------

    @staticmethod
    def _boolean(answer: httpx.Response) -> bool:
        return bool(answer.json().get("boolean"))

    def _url(self, base: str, path: str, op: str, params: dict[str, str]) -> str:
        auth = {"delegation": self.delegation} if self.delegation else ({"user.name": self.user} if self.user else {})
        query = urllib.parse.urlencode({"op": op, **auth, **params})
        return f"{base}{API}{urllib.parse.quote(path)}?{query}"

    async def _call(
        self,
        method: str,
        path: str,
        op: str,
        *,
        data: bytes | None = None,
        redirect: bool = False,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One operation on the first NameNode that answers as the active one; with ``data`` (or ``redirect``)
        the second step goes to the DataNode (or gateway) the answer points at."""
        failures: list[str] = []
        count = len(self.namenodes)
        for attempt in range(count):
            index = (self._active + attempt) % count
            url = self._url(self.namenodes[index], path, op, params or {})
            try:
                answer = await self._http.request(method, url)
            except httpx.HTTPError as exc:
                failures.append(f"{self.namenodes[index]}: {_describe(exc)}")
                continue
            if answer.status_code in (403, 503) and _exception(answer)[0] == "StandbyException":
                failures.append(f"{self.namenodes[index]}: standby")
                continue
            self._active = index
            if answer.is_redirect and (data is not None or redirect):
                return await self._second_step(method, answer, path, op, data)
            if answer.is_success:
                return answer
            raise _error(answer, op, path)
        raise WebHdfsError(
            f"WebHDFS {op} {path}: no NameNode answered as active ({'; '.join(failures)})", retriable=True
        )

    async def _second_step(
        self, method: str, first: httpx.Response, path: str, op: str, data: bytes | None
    ) -> httpx.Response:
        location = first.headers.get("Location", "")
        headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
        try:
            answer = await self._http.request(method, location, content=data, headers=headers)
        except httpx.HTTPError as exc:
            # An HttpFS gateway redirects to itself: then it, not a DataNode, is what failed.
            where = "the gateway" if _origin(location) == _origin(str(first.request.url)) else "the DataNode"
            raise WebHdfsError(
                f"WebHDFS {op} {path}: {where} at {_origin(location)} failed: {_describe(exc)}", retriable=True
            ) from exc
        if answer.is_success:
            return answer
        raise _error(answer, op, path)


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _describe(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _exception(answer: httpx.Response) -> tuple[str, str]:
    """Hadoop's exception class name and message from a ``RemoteException`` answer (``("", text)`` if none)."""
    try:
        remote = orjson.loads(answer.content).get("RemoteException") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return "", answer.text[:300]
    exception = str(remote.get("exception", ""))
    # A DataNode's message carries the NameNode's Java stack trace after the first line: not for a log line.
    message = str(remote.get("message", "")).split("\n", 1)[0].strip()
    if exception == "RemoteException":  # wrapped by an HttpFS gateway
        exception = next((name for start, name in UNWRAPPED.items() if message.startswith(start)), exception)
    return exception, message


def _error(answer: httpx.Response, op: str, path: str) -> WebHdfsError:
    exception, message = _exception(answer)
    if answer.status_code == 401 and not exception:
        message = ("authentication required: a Kerberos cluster needs a delegation token "
                   "(webhdfs.delegation.token in divolte.global.hdfs.client, or WEBHDFS_DELEGATION_TOKEN)")  # fmt: skip
    retriable = (answer.status_code >= 500 and not exception) or exception in RETRIABLE_EXCEPTIONS
    name = exception or f"HTTP {answer.status_code}"
    return WebHdfsError(
        f"WebHDFS {op} {path}: {name}: {message}".rstrip(": "),
        exception=exception, status=answer.status_code, retriable=retriable,
    )  # fmt: skip
