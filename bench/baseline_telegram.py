"""The Telegram baseline: a bare python-telegram-bot webhook handler doing the same DB write.

Each update is parsed by PTB, handled by one handler that reads the sender's row, updates it
and commits (SQLAlchemy, as `bench/baseline_app.py`), then sends one reply through the Bot
API (the loopback stand-in). A button press is answered first, as any bot must. Start it with
`uvicorn bench.baseline_telegram:app` and DATABASE_URL, TELEGRAM_BOT_TOKEN and
TELEGRAM_API_BASE_URL set; the bench fills the table first.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bench.baseline_app import Row, make_engine

ROWS = 10_000

sessions: async_sessionmaker[AsyncSession] | None = None
application: Application | None = None


async def write(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Read the sender's row, record the input, commit; then reply once."""
    assert sessions is not None and update.effective_user and update.effective_chat
    if update.callback_query is not None:
        await update.callback_query.answer()
    data = update.callback_query.data if update.callback_query else update.effective_message.text
    async with sessions() as session:
        row = await session.get(Row, update.effective_user.id % ROWS)
        assert row is not None
        state = json.loads(row.state)
        state["answers"][str(row.version % 20)] = data or ""
        row.state = json.dumps(state)
        row.version += 1
        row.updated_at = datetime.now(UTC)
        await session.commit()
    await context.bot.send_message(update.effective_chat.id, f"Noted ({row.version}).")


async def webhook(request: Request) -> Response:
    """Parse the update and process it before answering, as our webhook does."""
    assert application is not None
    update = Update.de_json(await request.json(), application.bot)
    await application.process_update(update)
    return Response(status_code=200)


async def readyz(request: Request) -> JSONResponse:
    """Answer once the bot is initialised."""
    return JSONResponse({"status": "ready"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Open the database engine and the PTB application for this worker."""
    global sessions, application
    engine = make_engine(os.environ["DATABASE_URL"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    base = os.environ["TELEGRAM_API_BASE_URL"].rstrip("/")
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base)
        .updater(None)
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.ALL, write))
    application.add_handler(CallbackQueryHandler(write))
    await application.initialize()
    await application.start()
    yield
    await application.stop()
    await application.shutdown()
    await engine.dispose()


routes: list[Any] = [
    Route("/telegram/webhook", webhook, methods=["POST"]),
    Route("/readyz", readyz),
]
app = Starlette(routes=routes, lifespan=lifespan)
