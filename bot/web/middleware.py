"""ASGI middleware: security headers, the body limit, and a crash guard that logs no data.

Written as plain ASGI (not BaseHTTPMiddleware) so streaming and lifespan pass untouched.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.errors import log_unhandled

log = logging.getLogger("bot.web.access")

#: The chat page and the privacy page: our own scripts and styles only, no inline script.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)
#: The self-hosted API docs (Swagger UI from our own origin, like everything else).
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
#: JSON, scripts and everything else: nothing may load, nothing may frame it.
OTHER_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

FRAMEABLE = ("/chat", "/privacy")
BODY_LIMIT = 16 * 1024
#: Telegram updates carry more than a chat message (entities, reply context).
LARGE_BODY_PATHS = {"/telegram/webhook": 1024 * 1024}

_SOURCE = re.compile(r"^(\*|'self'|'none'|https?:|(https?://)?(\*\.)?[\w.-]+(:(\d+|\*))?/?)$")


def frame_ancestors(value: str) -> str:
    """Return the `frame-ancestors` sources from settings; anything after a `;` is dropped."""
    if not (value or "").strip():
        return "'self'"  # unset: only this site; widget host sites are listed explicitly
    sources = [s for s in (value or "").split(";")[0].split() if _SOURCE.match(s)]
    return " ".join(sources) or "'none'"


def content_security_policy(path: str, ancestors: str) -> str:
    """Pick the policy for a path: pages may be framed by the allowed sites, nothing else."""
    if path in FRAMEABLE or path.startswith(tuple(p + "/" for p in FRAMEABLE)):
        return PAGE_CSP.format(ancestors=ancestors)
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_CSP
    return OTHER_CSP


class SecurityHeaders:
    """Add CSP, nosniff, no-referrer and no-store to every response."""

    def __init__(self, app: ASGIApp, ancestors: str = "'self'"):
        self.app = app
        self.ancestors = frame_ancestors(ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        policy = content_security_policy(scope["path"], self.ancestors)
        widget = scope["path"] == "/widget.js"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                # A shared phone's browser cache must not show that these pages were seen.
                headers["Cache-Control"] = "no-store"
                headers["Cross-Origin-Resource-Policy"] = (
                    "cross-origin" if widget else "same-origin"
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _send_json(send: Send, status: int, code: str, text: str) -> None:
    body = json.dumps({"error": {"code": code, "message": text}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Answer 413 to bodies over the limit before any handler reads them."""

    def __init__(self, app: ASGIApp, limit: int = BODY_LIMIT):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = LARGE_BODY_PATHS.get(scope["path"], self.limit)
        too_large = f"The request body is larger than {limit // 1024} kB."
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await _send_json(send, 400, "bad_request", "Bad Content-Length.")
                if declared > limit:
                    return await _send_json(send, 413, "too_large", too_large)
        # Read the (small) body up front, so a chunked body cannot slip past the limit.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _send_json(send, 413, "too_large", too_large)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def route_of(scope: Scope) -> str:
    """Name a request by its route template, never by its path (which holds ids)."""
    route = scope.get("route")
    return f"{scope.get('method', '')} {getattr(route, 'path', '-')}"


class Guard:
    """Turn any crash into a JSON 500 and log one line per request, without personal data."""

    def __init__(self, app: ASGIApp, clock: Callable[[], float] = time.perf_counter):
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = self.clock()
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # the person gets an answer; the log gets no data
            log_unhandled(exc, route_of(scope))
            if status == 0:
                status = 500
                await _send_json(send, 500, "internal", "Something went wrong on our side.")
        log.info("%s %s %.0fms", route_of(scope), status, (self.clock() - started) * 1000)
