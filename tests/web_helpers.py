"""Fixtures and builders for the web channel's tests: the app over HTTP, live servers.

Import the fixtures into a test module with `from tests.web_helpers import *`. Each test
gets its own SQLite file under `tmp_path` (never the repository's ./data).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.service import Conversations
from bot.settings import Settings
from bot.store import SqlAlchemyStore, open_store
from bot.web.app import create_app

__all__ = [
    "LANGS",
    "LiveServer",
    "Web",
    "api",
    "lazy_service",
    "live_server",
    "web_engine",
    "web_service",
    "web_settings",
]

LANGS = ("lt", "ru", "uk", "en")


def make_engine() -> Any:
    """Build the engine from the repository's real content."""
    from bot.runtime import build_engine

    return build_engine()


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Return settings whose data (SQLite file, secrets) live under `tmp_path`."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "pseudonym_secret": "web-test-pseudonym-secret-0123456789abcdef-padding",
        "telegram_bot_token": None,
        "database_url": "",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def web_engine() -> Any:
    """The engine with the real flows, catalogs, detector and contacts (built once)."""
    return make_engine()


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    """Settings for one test, with a fresh data folder."""
    return settings_for(tmp_path)


@pytest.fixture
async def web_service(web_engine: Any, web_settings: Settings) -> AsyncIterator[Conversations]:
    """The conversation service over a fresh SQLite file."""
    store = await open_store(web_settings.resolved_database_url())
    try:
        yield Conversations(web_engine, store)
    finally:
        await store.close()


@dataclass
class Web:
    """A client for the app over HTTP, with builders for the API's common calls."""

    http: httpx.AsyncClient
    service: Conversations
    app: Any

    @property
    def store(self) -> SqlAlchemyStore:
        """The store under the app (to check what is kept)."""
        return self.service.store  # type: ignore[return-value]

    async def start(self, lang: str | None = "en", **extra: Any) -> dict[str, Any]:
        """Start a conversation and return the 201 body."""
        body = {"lang": lang, **extra} if lang else extra
        response = await self.http.post("/api/v1/conversations", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def send(self, conversation: dict[str, Any], **body: Any) -> httpx.Response:
        """Send `text=` or `choice=` with the conversation's token."""
        return await self.http.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json=body,
            headers=auth(conversation),
        )

    async def pick(self, conversation: dict[str, Any], label_part: str) -> dict[str, Any]:
        """Press the last shown choice whose label contains `label_part`."""
        last = conversation["_last"]
        choice = find_choice(last, label_part)
        response = await self.send(conversation, choice=choice)
        assert response.status_code == 200, response.text
        conversation["_last"] = response.json()["messages"]
        return response.json()


def auth(conversation: dict[str, Any], token: str | None = None) -> dict[str, str]:
    """Return the Authorization header for a conversation."""
    return {"Authorization": f"Bearer {token or conversation['token']}"}


def choices_of(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Return every choice offered in a list of messages."""
    return [choice for message in messages for choice in message["choices"]]


def find_choice(messages: list[dict[str, Any]], label_part: str) -> str:
    """Return the id of the choice whose label or id contains `label_part`."""
    for choice in choices_of(messages):
        if label_part in choice["label"] or label_part == choice["id"]:
            return choice["id"]
    raise AssertionError(f"no choice {label_part!r} in {choices_of(messages)}")


@pytest.fixture
async def api(web_service: Conversations, web_settings: Settings) -> AsyncIterator[Web]:
    """The real app (real engine, SQLite store) behind an httpx client, lifespan running."""
    app = create_app(web_settings, service=web_service)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        yield Web(http=http, service=web_service, app=app)


# ----------------------------------------------------------------------- live servers


def free_socket(host: str = "127.0.0.1") -> socket.socket:
    """Bind a listening socket on a free loopback port (kept open: no race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


class LiveServer:
    """An ASGI app served by real uvicorn in a background thread on a loopback port."""

    def __init__(self, app: Any, host: str = "127.0.0.1"):
        self.sock = free_socket(host)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            ws="none",
            http="h11",
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def lazy_service(engine: Any, settings: Settings) -> Conversations:
    """Return a service over a migrated SQLite file whose connections open in the server's loop."""

    async def migrate() -> None:
        await (await open_store(settings.resolved_database_url())).close()

    in_thread(migrate())
    return Conversations(engine, SqlAlchemyStore(settings.resolved_database_url()))


class ClosesStore:
    """Close the store in the server's own loop when it shuts down (its threads need it)."""

    def __init__(self, app: Any, store: Any):
        self.app = app
        self.store = store

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)

        async def closing(message: Any) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.store.close()
            await send(message)

        return await self.app(scope, receive, closing)


@pytest.fixture
def live_server(tmp_path: Path, web_engine: Any) -> Iterator[Callable[..., LiveServer]]:
    """Start real uvicorn servers for the app, each on its own port with its own SQLite file.

    `full=True` runs the app's own lifespan (open and migrate the store, build the engine),
    as `serve` does; otherwise the shared engine is used, which starts faster.
    """
    started: list[LiveServer] = []

    def start(app: Any = None, *, full: bool = False, **overrides: Any) -> LiveServer:
        settings = settings_for(tmp_path / f"server{len(started)}", **overrides)
        served = app
        if app is None:
            service = None if full else lazy_service(web_engine, settings)
            app = served = create_app(settings, service=service)
            if service is not None:
                served = ClosesStore(app, service.store)
        server = LiveServer(served)
        server.app = app  # type: ignore[attr-defined]
        server.__enter__()
        server.settings = settings  # type: ignore[attr-defined]
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.__exit__(None, None, None)


def in_thread(coroutine: Any) -> Any:
    """Run a coroutine to the end in its own thread (Playwright's sync API holds a loop here)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller
            result["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


@contextlib.contextmanager
def sync_client(base_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client for a live server."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client
