"""`python -m bot serve`: the web chat, widget and API (and Telegram, with a token).

One process by default. With `--workers N` uvicorn starts N processes, each with its own
store connection, purge task and rate limits; Telegram then needs webhook mode
(PUBLIC_BASE_URL), because only one process may poll the Bot API.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # not a TCP socket after all
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's HTTP protocol with TCP_NODELAY set on each connection.

    With `--workers N` uvicorn makes the listening socket itself and asyncio then skips
    TCP_NODELAY, so a response body waits for the client's delayed ACK (~40 ms a request).
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


try:  # httptools, the faster parser of `uvicorn[standard]`
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - not installed: h11, the pure-Python parser
    HttpToolsProtocol = None


if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[misc, valid-type]
        """uvicorn's httptools protocol with TCP_NODELAY set on each connection."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            _no_delay(transport)
            super().connection_made(transport)


def http_protocol() -> type:
    """Return the HTTP protocol to serve with: httptools when installed, else h11; either
    way with TCP_NODELAY on every connection (module-level classes: workers pickle them)."""
    if HttpToolsProtocol is None:
        return NoDelayH11Protocol
    return NoDelayHttpToolsProtocol


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `serve` options (defaults come from HOST and PORT)."""
    parser.add_argument("--host", help="bind address (default: HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: PORT, 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")


def port_problem(host: str, port: int) -> str | None:
    """Say why `host:port` cannot be bound (taken, no such address), or None if it can."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return f"{host} is not an address of this machine: set HOST (or --host)"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (another copy of the bot, or "
                    f"another program). Stop it, or choose another port: PORT={port + 1} make "
                    f"run, or python -m bot serve --port {port + 1}"
                )
            return f"cannot listen on {host}:{port} ({error.strerror})"
    return None


def _stop_quietly(signum: int, _frame: object) -> None:
    """After uvicorn's graceful shutdown, end with status 0: Ctrl+C is a normal stop."""
    raise SystemExit(0)


def serve_command(args: argparse.Namespace) -> int:
    """Run the web server until interrupted."""
    import uvicorn
    from pydantic import ValidationError

    from bot.settings import SecretFileError, Settings
    from bot.web.app import create_app

    # Everything the bot creates (SQLite files, secrets, the data folder) is ours alone.
    os.umask(0o077)
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"]).upper()
            message = str(problem["msg"]).removeprefix("Value error, ")
            print(f"error: {where} {message}", file=sys.stderr)
        return 2
    host = args.host or settings.host
    port = args.port or settings.port
    workers = max(1, args.workers or 1)
    if workers > 1 and settings.telegram_bot_token and not settings.public_base_url:
        log.error("Telegram polling allows one process: set PUBLIC_BASE_URL or use --workers 1")
        return 2
    problems = settings.production_problems(workers) + settings.counsellor_problems()
    if not problems:
        try:
            settings.pseudonym_key()  # a broken kept secret stops us here, not per request
        except SecretFileError as error:
            problems.append(str(error))
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    if (problem := port_problem(host, port)) is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    trusted = settings.trusted_proxy_list()
    options = {
        "host": host,
        "port": port,
        "log_config": None,  # keep our logging (no personal data, JSON if asked)
        "access_log": False,  # uvicorn's access log shows addresses and ids in paths
        "server_header": False,
        # Forwarding headers are believed only from the proxies named in TRUSTED_PROXIES;
        # from anyone else a client could pick its own address (and rate-limit bucket).
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "ws": "none",
        "http": http_protocol(),
    }
    if not trusted:
        options.pop("forwarded_allow_ips")
    log.info("serving on http://%s:%s/chat", host, port)
    signal.signal(signal.SIGTERM, _stop_quietly)
    try:
        if workers > 1:
            uvicorn.run("bot.web.app:from_environment", factory=True, workers=workers, **options)
        else:
            uvicorn.run(create_app(settings), **options)
    except KeyboardInterrupt:
        pass
    return 0
