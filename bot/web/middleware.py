"""ASGI middleware: security headers, the body limit, and a crash guard that logs no data.

Written as plain ASGI (not BaseHTTPMiddleware) so streaming and lifespan pass untouched.
"""

from __future__ import annotations

import asyncio
import hmac
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
#: A body must arrive within this many seconds, or the request is answered 408.
BODY_TIMEOUT = 10.0
#: No page needs the camera, microphone, location, payments or ad topics.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
)
#: Telegram updates carry more than a chat message (entities, reply context).
LARGE_BODY_PATHS = {"/telegram/webhook": 1024 * 1024}
WEBHOOK_SECRET_HEADER = b"x-telegram-bot-api-secret-token"

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
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                # A page opened from ours (a hotline's site) cannot reach back into it.
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _send_json(send: Send, status: int, code: str, text: str) -> None:
    body = json.dumps({"error": {"code": code, "message": text}}, separators=(",", ":")).encode()
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


def webhook_secret_of(scope: Scope) -> str | None:
    """Return the secret Telegram must send to the webhook, if the webhook is on."""
    app = scope.get("app")
    state = getattr(app, "state", None)
    if state is None or getattr(state, "telegram", None) is None:
        return None
    secret = getattr(state, "webhook_secret", None)
    if secret is None:
        settings = state.settings
        if not (settings.telegram_bot_token and settings.public_base_url):
            return None
        secret = state.webhook_secret = settings.webhook_secret()
    return secret


class BodyLimit:
    """Answer 413 to bodies over the limit, and 408 to slow ones, before any handler reads them.

    The Telegram webhook may send up to 1 MiB, so its secret header is checked first: a
    request without it is refused before a byte of its body is read.
    """

    def __init__(self, app: ASGIApp, limit: int = BODY_LIMIT, timeout: float | None = None):
        self.app = app
        self.limit = limit
        self.timeout = BODY_TIMEOUT if timeout is None else timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        if scope["path"] in LARGE_BODY_PATHS and (secret := webhook_secret_of(scope)):
            given = dict(scope["headers"]).get(WEBHOOK_SECRET_HEADER, b"")
            if not hmac.compare_digest(given, secret.encode()):
                return await _send_json(send, 403, "forbidden", "Wrong or missing secret.")
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
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                return await _send_json(
                    send, 408, "timeout", "The request body did not arrive in time."
                )
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
