"""`python -m bot serve`: the web chat, widget and API (and Telegram, with a token).

One process by default. With `--workers N` uvicorn starts N processes, each with its own
store connection, purge task and rate limits; Telegram then needs webhook mode
(PUBLIC_BASE_URL), because only one process may poll the Bot API.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's HTTP protocol with TCP_NODELAY set on each connection.

    With `--workers N` uvicorn makes the listening socket itself and asyncio then skips
    TCP_NODELAY, so a response body waits for the client's delayed ACK (~40 ms a request).
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # not a TCP socket after all
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `serve` options (defaults come from HOST and PORT)."""
    parser.add_argument("--host", help="bind address (default: HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: PORT, 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")


def serve_command(args: argparse.Namespace) -> int:
    """Run the web server until interrupted."""
    import uvicorn

    from bot.settings import Settings
    from bot.web.app import create_app

    settings = Settings()
    host = args.host or settings.host
    port = args.port or settings.port
    workers = max(1, args.workers or 1)
    if workers > 1 and settings.telegram_bot_token and not settings.public_base_url:
        log.error("Telegram polling allows one process: set PUBLIC_BASE_URL or use --workers 1")
        return 2
    options = {
        "host": host,
        "port": port,
        "log_config": None,  # keep our logging (no personal data, JSON if asked)
        "access_log": False,  # uvicorn's access log shows addresses and ids in paths
        "server_header": False,
        "proxy_headers": True,
        "ws": "none",
        "http": NoDelayH11Protocol,
    }
    log.info("serving on http://%s:%s/chat", host, port)
    if workers > 1:
        uvicorn.run("bot.web.app:from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0
