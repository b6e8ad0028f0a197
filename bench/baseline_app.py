"""The baseline: a minimal FastAPI endpoint that reads a row, updates it and commits.

This is the naive persisted echo our whole conversation step is compared with. It runs
under the same uvicorn options, on the same database, with the same SQLite settings the
store uses (WAL, synchronous=NORMAL, busy timeout), so the ratio measures our code and not
a database setting. Start it with `uvicorn bench.baseline_app:app` and DATABASE_URL set;
the bench fills its table first with `prepare`.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import DateTime, Integer, String, Text, event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE = "baseline_rows"


class Base(DeclarativeBase):
    """Declarative base of the baseline's one table."""


class Row(Base):
    """A conversation-like row: a JSON state and a version."""

    __tablename__ = TABLE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Step(BaseModel):
    """The same body our API takes."""

    choice: str | None = None
    text: str | None = None


def _url() -> str:
    url = os.environ["DATABASE_URL"]
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def make_engine(url: str) -> Any:
    """Create an async engine with the store's SQLite settings."""
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    return engine


async def prepare(url: str, rows: int) -> None:
    """Create the baseline table and fill it with `rows` rows (from the bench, before start)."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.run_sync(Base.metadata.create_all)
            now = datetime.now(UTC)
            state = json.dumps({"flow": "menu", "step": "main", "answers": {}})
            await connection.execute(
                Row.__table__.insert(),
                [
                    {"id": i, "key": f"{i:064x}", "state": state, "version": 1, "updated_at": now}
                    for i in range(rows)
                ],
            )
    finally:
        await engine.dispose()


engine = None
sessions: async_sessionmaker[AsyncSession] | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the engine for this worker."""
    global engine, sessions
    engine = make_engine(_url())
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/rows/{row_id}")
async def step(row_id: int, body: Step) -> dict[str, Any]:
    """Read the row, record the answer in its state, bump the version, commit."""
    assert sessions is not None
    async with sessions() as session:
        row = await session.get(Row, row_id)
        if row is None:
            raise HTTPException(404)
        state = json.loads(row.state)
        state["answers"][str(row.version % 20)] = body.choice or body.text or ""
        row.state = json.dumps(state)
        row.version += 1
        row.updated_at = datetime.now(UTC)
        await session.commit()
        return {"version": row.version, "state": state}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    """Answer when the database answers."""
    assert sessions is not None
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ready"}
