"""Where the relay finds a person from a counsellor's topic: one row per open chat.

A row holds the topic id, the conversation's pseudonym, the channel, the language, the
Telegram chat id only sealed (bot.relay.seal, so the database never holds a raw id), when
the chat opened and was first answered, and a counter that orders what is pushed to the
person. Never any text: relayed words live only in memory and on the counsellors' side.
The row is deleted when the chat ends.

`stamp` is where multi-worker order comes from: it increments the row's counter and, on
PostgreSQL, sends the NOTIFY in the same transaction, so notifications are delivered in
the counter's order (the row lock serialises writers; NOTIFY is delivered at commit, in
commit order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    delete,
    insert,
    select,
    text,
    update,
)

from bot.store import InMemoryStore, SqlAlchemyStore, StoreUnavailable, relay_routes, utcnow

#: The PostgreSQL channel every worker LISTENs on.
NOTIFY_CHANNEL = "safe_abroad_relay"


@dataclass(frozen=True)
class Route:
    """One open relay chat (no text, no raw id)."""

    topic: int
    key: str
    channel: str
    lang: str
    code: str
    address: str | None
    opened_at: datetime
    answered_at: datetime | None = None
    nudged: bool = False
    urgent: bool = False
    seq: int = 0


@dataclass(frozen=True)
class Stamp:
    """What `stamp` did: the row after it, the message's number, and a first answer's wait."""

    route: Route
    seq: int
    first_answer: timedelta | None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        from datetime import UTC

        return moment.replace(tzinfo=UTC)
    return moment


def _route(row: Any) -> Route:
    return Route(
        topic=row.topic,
        key=row.key,
        channel=row.channel,
        lang=row.lang,
        code=row.code,
        address=row.address,
        opened_at=_aware(row.opened_at),  # type: ignore[arg-type]
        answered_at=_aware(row.answered_at),
        nudged=bool(row.nudged),
        urgent=bool(row.urgent),
        seq=row.seq,
    )


class MemoryRoutes:
    """Routes in a dict (tests, and the in-memory store)."""

    postgres = False

    def __init__(self, clock: Callable[[], datetime] = utcnow):
        self.rows: dict[int, Route] = {}
        self.clock = clock
        self._lock = asyncio.Lock()

    async def add(self, route: Route) -> None:
        self.rows[route.topic] = route

    async def get(self, topic: int) -> Route | None:
        return self.rows.get(topic)

    async def of_key(self, key: str) -> list[Route]:
        return [r for r in self.rows.values() if r.key == key]

    async def drop(self, topic: int) -> Route | None:
        return self.rows.pop(topic, None)

    async def mark_urgent(self, topic: int) -> bool:
        route = self.rows.get(topic)
        if route is None or route.urgent:
            return False
        self.rows[topic] = replace(route, urgent=True)
        return True

    async def stamp(
        self, topic: int, *, answer: bool, payloads: Callable[[int], list[str]] | None = None
    ) -> Stamp | None:
        async with self._lock:
            route = self.rows.get(topic)
            if route is None:
                return None
            first = None
            now = self.clock()
            if answer and route.answered_at is None:
                first = now - route.opened_at
                route = replace(route, answered_at=now)
            route = replace(route, seq=route.seq + 1)
            self.rows[topic] = route
            return Stamp(route, route.seq, first)

    async def overdue(self, cutoff: datetime) -> list[Route]:
        found = []
        for topic, route in list(self.rows.items()):
            if route.answered_at is None and not route.nudged and route.opened_at < cutoff:
                self.rows[topic] = replace(route, nudged=True)
                found.append(self.rows[topic])
        return found

    async def purge(self, older_than: datetime) -> list[Route]:
        old = [r for r in self.rows.values() if r.opened_at < older_than]
        for route in old:
            del self.rows[route.topic]
        return old


class SqlRoutes:
    """Routes in the `relay_routes` table (SQLite or PostgreSQL)."""

    def __init__(self, store: SqlAlchemyStore):
        self.store = store
        self.postgres = store._dialect == "postgresql"
        self._lock = asyncio.Lock()  # SQLite has no row locks: one stamp at a time here

    async def add(self, route: Route) -> None:
        values = {
            "topic": route.topic,
            "key": route.key,
            "channel": route.channel,
            "lang": route.lang,
            "code": route.code,
            "address": route.address,
            "opened_at": route.opened_at,
            "answered_at": None,
            "nudged": 0,
            "urgent": 0,
            "seq": 0,
        }
        async with self.store._session() as session:
            await session.execute(delete(relay_routes).where(relay_routes.c.topic == route.topic))
            await session.execute(insert(relay_routes), values)

    async def get(self, topic: int) -> Route | None:
        async with self.store._session() as session:
            row = (
                await session.execute(select(relay_routes).where(relay_routes.c.topic == topic))
            ).first()
        return _route(row) if row else None

    async def of_key(self, key: str) -> list[Route]:
        async with self.store._session() as session:
            rows = (
                await session.execute(select(relay_routes).where(relay_routes.c.key == key))
            ).all()
        return [_route(r) for r in rows]

    async def drop(self, topic: int) -> Route | None:
        async with self.store._session() as session:
            row = (
                await session.execute(
                    delete(relay_routes)
                    .where(relay_routes.c.topic == topic)
                    .returning(relay_routes)
                )
            ).first()
        return _route(row) if row else None

    async def mark_urgent(self, topic: int) -> bool:
        c = relay_routes.c
        async with self.store._session() as session:
            result = await session.execute(
                update(relay_routes).where(c.topic == topic, c.urgent == 0).values(urgent=1)
            )
        return result.rowcount == 1

    async def stamp(
        self, topic: int, *, answer: bool, payloads: Callable[[int], list[str]] | None = None
    ) -> Stamp | None:
        """Number the next message to the person (and NOTIFY it, on PostgreSQL) atomically."""
        c = relay_routes.c
        async with self._lock, self.store._session() as session:
            query = select(relay_routes).where(c.topic == topic)
            if self.postgres:
                query = query.with_for_update()
            row = (await session.execute(query)).first()
            if row is None:
                return None
            route = _route(row)
            now = self.store.clock()
            values: dict[str, Any] = {"seq": route.seq + 1}
            first = None
            if answer and route.answered_at is None:
                values["answered_at"] = now
                first = now - route.opened_at
            await session.execute(update(relay_routes).where(c.topic == topic).values(**values))
            seq = route.seq + 1
            if self.postgres and payloads is not None:
                for payload in payloads(seq):
                    await session.execute(
                        text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": NOTIFY_CHANNEL, "payload": payload},
                    )
        route = replace(route, seq=seq, answered_at=values.get("answered_at", route.answered_at))
        return Stamp(route, seq, first)

    async def overdue(self, cutoff: datetime) -> list[Route]:
        """Claim (exactly once, across workers) the chats nobody answered in time."""
        c = relay_routes.c
        statement = (
            update(relay_routes)
            .where(c.answered_at.is_(None), c.nudged == 0, c.opened_at < cutoff)
            .values(nudged=1)
            .returning(relay_routes)
        )
        async with self.store._session() as session:
            rows = (await session.execute(statement)).all()
        return [_route(r) for r in rows]

    async def purge(self, older_than: datetime) -> list[Route]:
        statement = (
            delete(relay_routes)
            .where(relay_routes.c.opened_at < older_than)
            .returning(relay_routes)
        )
        async with self.store._session() as session:
            rows = (await session.execute(statement)).all()
        return [_route(r) for r in rows]


Routes = MemoryRoutes | SqlRoutes


def routes_for(store: Any) -> Routes:
    """Return the routes kept next to a conversation store."""
    if isinstance(store, SqlAlchemyStore):
        return SqlRoutes(store)
    if isinstance(store, InMemoryStore):
        return MemoryRoutes(store.clock)
    return MemoryRoutes()


__all__ = ["NOTIFY_CHANNEL", "Route", "Routes", "Stamp", "StoreUnavailable", "routes_for"]
