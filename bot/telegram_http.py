"""The Bot API's HTTP connection: each request leaves in one write instead of two.

httpx (through httpcore and h11) writes a request's head and its body separately: two
system calls and two TCP segments per Bot API call, and the server wakes up twice. A reply
to a button press makes three or four calls, so this was a fifth of the channel's CPU in
the webhook profiles. Here a connection holds what httpcore writes and sends it in one go
when httpcore first reads (an HTTP/1.1 client always writes the whole request before it
reads the response), through httpcore's documented network-backend interface. Requests,
timeouts, retries and TLS are httpx's, unchanged.
"""

# httpcore's network interface takes `timeout` arguments; these methods implement it.
# ruff: noqa: ASYNC109

from __future__ import annotations

import os
import select
import socket
from typing import Any

import httpcore
import httpx
from telegram.request import HTTPXRequest

#: As python-telegram-bot's default for the bot's own requests.
CONNECTION_POOL_SIZE = 256
#: Environment variables through which httpx takes a proxy.
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


class _OneWriteStream(httpcore.AsyncNetworkStream):
    """A connection whose writes wait until the next read, then go out together."""

    def __init__(self, stream: httpcore.AsyncNetworkStream):
        self._stream = stream
        self._pending: list[bytes] = []
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def _flush(self, timeout: float | None) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            await self._stream.write(data, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._pending.append(buffer)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush(timeout)
        return await self._stream.read(max_bytes, timeout)

    async def aclose(self) -> None:
        self._pending.clear()
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        await self._flush(timeout)
        return _OneWriteStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None and hasattr(select, "poll"):
            # Asked of every idle pooled connection before each request; anyio would
            # rebuild its table of socket attributes every time to find the same socket.
            return _readable(self._socket)
        return self._stream.get_extra_info(info)


def _readable(sock: socket.socket) -> bool:
    """Tell whether a read would return at once (data, or the end: the server hung up)."""
    if sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class OneWriteBackend(httpcore.AsyncNetworkBackend):
    """httpcore's default network backend, with connections that write a request at once."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend | None = None):
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _OneWriteStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_unix_socket(path, timeout, socket_options)
        return _OneWriteStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class OneWriteTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool that uses `OneWriteBackend`."""

    def __init__(self, max_connections: int = CONNECTION_POOL_SIZE):
        limits = httpx.Limits(max_connections=max_connections)
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=OneWriteBackend(),
        )


def bot_request() -> HTTPXRequest:
    """Return the request object for the bot's Bot API calls (getUpdates keeps PTB's own).

    Behind a proxy set in the environment (HTTPS_PROXY, ALL_PROXY), httpx's own transport
    is kept: it is the one that reads those variables.
    """
    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return HTTPXRequest(connection_pool_size=CONNECTION_POOL_SIZE)
    return HTTPXRequest(
        connection_pool_size=CONNECTION_POOL_SIZE,
        httpx_kwargs={"transport": OneWriteTransport()},
    )
