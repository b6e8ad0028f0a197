"""The web application factory: `create_app(settings)` builds a fresh app, no globals.

Its lifespan opens the store (migrating it), builds the engine, purges stale
conversations every hour and, when a bot token is set, runs the Telegram channel in the
same process. Tests pass their own `service` and skip all of that.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot import __version__
from bot.i18n import Translator, default_translator
from bot.service import Conversations
from bot.settings import Settings
from bot.web import admin, api, pages
from bot.web.errors import install_error_handlers
from bot.web.limits import RateLimits, TokenBuckets
from bot.web.middleware import BodyLimit, Guard, SecurityHeaders

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=1)

DESCRIPTION = """\
The Safe Abroad chat over HTTP: start a conversation, send typed text or a pressed
choice, show the pending prompt after a reload, erase everything.

Every call after the first needs `Authorization: Bearer <token>` with the token returned
when the conversation began (shown once). Errors are always
`{"error": {"code": str, "message": str}}`. Rate limits apply per conversation and per
client address (kept separately by each worker process).
"""


async def purge_forever(store: Any, retention_days: int, every: timedelta = PURGE_EVERY) -> None:
    """Delete conversations untouched for `retention_days`, now and then every `every`."""
    while True:
        try:
            removed = await store.purge(datetime.now(UTC) - timedelta(days=retention_days))
            if removed:
                log.info("retention purge removed %s conversations", removed)
        except Exception as exc:  # the next round tries again; a purge must not stop serving
            log.warning("retention purge failed (%s)", type(exc).__name__)
        await asyncio.sleep(every.total_seconds())


def _swagger_assets() -> StaticFiles | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - a dependency; docs degrade to openapi.json only
        return None
    return StaticFiles(directory=swagger_ui_path)


def create_app(settings: Settings, *, service: Conversations | None = None) -> FastAPI:
    """Build the web app; with `service` given, the lifespan opens and runs nothing."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            app.state.service = service
            app.state.engine = service.engine
            yield
            return
        async with contextlib.AsyncExitStack() as stack:
            await _start(app, settings, stack)
            _settle_heap()
            yield
            log.info("web app stopping")

    app = FastAPI(
        title="Safe Abroad web API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    translator = service.engine.translator if service is not None else default_translator()
    _install_state(app, settings, translator, service)
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    assets = _swagger_assets()
    if assets is not None:
        app.mount("/docs/assets", assets, name="docs-assets")
    # Added inside out: the last one added runs first.
    app.add_middleware(BodyLimit)
    app.add_middleware(Guard)
    app.add_middleware(SecurityHeaders, ancestors=settings.frame_ancestors)
    admin.include(app)  # last: the admin pages' own CSP wraps the headers above
    return app


def _settle_heap() -> None:
    """Keep what start-up built (flows, catalogs, the detector's model) out of the GC's way.

    A full collection walks every live object: with the engine loaded that is ~150,000 of
    them and 70-90 ms, during which no request is served (the p99 at 32 clients). Frozen,
    they are never walked again; start-up's own garbage is collected first.
    """
    gc.collect()
    gc.freeze()
    _release_freed_memory()


def _release_freed_memory() -> None:
    """Hand the heap start-up freed (parsed YAML, the model's load buffers) back to the system.

    glibc keeps freed memory in the process for reuse; `malloc_trim` returns what it can, a
    few MB of resident memory on a worker that otherwise holds it for its whole life.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): nothing to hand back this way
        return
    libc.malloc_trim(0)


def _install_state(
    app: FastAPI, settings: Settings, translator: Translator, service: Conversations | None
) -> None:
    limits = RateLimits.from_settings(settings)
    app.state.settings = settings
    app.state.service = service
    app.state.engine = service.engine if service is not None else None
    app.state.telegram = None
    relay = getattr(service, "relay", None) if service is not None else None
    app.state.hub = relay.hub if relay is not None else None
    app.state.translator = translator
    app.state.pseudonym_key = settings.pseudonym_key()
    app.state.address_limits = TokenBuckets(limits.per_address)
    app.state.conversation_limits = TokenBuckets(limits.per_conversation)
    app.state.page_strings = pages.page_strings(translator)
    app.state.widget_strings = pages.widget_strings(translator)


async def _start(app: FastAPI, settings: Settings, stack: contextlib.AsyncExitStack) -> None:
    """Open the store, build the service, start the purge task and Telegram."""
    from bot.runtime import build_engine
    from bot.store import open_store

    store = await open_store(settings.resolved_database_url())
    stack.push_async_callback(store.close)
    relay = await _start_relay(app, settings, store, stack)
    # The job-ad scanner's patterns compile in the background: ready a third of a second
    # sooner, and an ad pasted before they are done compiles what it needs itself.
    engine = build_engine(desk=relay.desk if relay is not None else None, compile_scanner=False)
    threading.Thread(target=_compile_scanner, args=(engine,), daemon=True).start()
    service = Conversations(engine, store, relay)
    app.state.service, app.state.engine = service, engine
    app.state.translator = engine.translator
    app.state.page_strings = pages.page_strings(engine.translator)
    app.state.widget_strings = pages.widget_strings(engine.translator)

    purge = asyncio.create_task(purge_forever(store, settings.retention_days))
    stack.push_async_callback(_cancel, purge)

    if settings.telegram_bot_token:
        from bot.telegram_bot import TelegramChannel

        channel = TelegramChannel(settings, service)
        try:
            await channel.start()
        except Exception as exc:  # the web chat keeps serving when Telegram cannot start
            log.error("telegram channel did not start (%s)", type(exc).__name__)
        else:
            stack.push_async_callback(channel.stop)
            app.state.telegram = channel
            log.info("telegram channel started")
    stack.callback(setattr, app.state, "service", None)


def _compile_scanner(engine: Any) -> None:
    try:
        engine.scanner.compile_all()
    except Exception:  # `validate` names the broken pattern; scans will fail until fixed
        log.exception("the job-ad scanner's patterns do not compile: run python -m bot validate")
    _release_freed_memory()


async def _start_relay(
    app: FastAPI, settings: Settings, store: Any, stack: contextlib.AsyncExitStack
) -> Any:
    """Set up "Write to a counsellor" when COUNSELLOR_CHAT_ID is set (None: off)."""
    from bot.counsellor import desk_from_settings
    from bot.relay import Hub, PgListener, Relay, pg_dsn
    from bot.relay_store import routes_for

    desk = desk_from_settings(settings)
    if desk is None:
        return None
    hub = Hub()
    routes = routes_for(store)
    relay = Relay(desk, routes, hub, settings.pseudonym_key())
    relay.notify = routes.postgres and settings.relay_bus != "local"
    if relay.notify:
        listener = PgListener(pg_dsn(store.url), hub)
        await listener.start()
        stack.push_async_callback(listener.stop)
    relay.start_sweeping()
    stack.push_async_callback(relay.stop)
    app.state.hub = hub
    log.info("counsellor relay on (%s)", "LISTEN/NOTIFY" if routes.postgres else "one process")
    return relay


async def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def from_environment() -> FastAPI:
    """Build the app from the environment (for `uvicorn --factory bot.web.app:from_environment`)."""
    from bot.logs import setup_logging

    setup_logging()  # worker processes start fresh: same format and privacy filters as serve
    return create_app(Settings())
