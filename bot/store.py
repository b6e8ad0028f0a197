"""Where conversations, aggregate counters and seen Telegram updates are kept.

`SqlAlchemyStore` runs on SQLite (the default, a file under `data/`) and on PostgreSQL;
`InMemoryStore` is its twin for tests. Both keep only what DESIGN.md allows: a conversation
is keyed by an HMAC pseudonym and holds the engine's small JSON state; statistics are
counters without any user key; Telegram update ids are remembered briefly to drop
redeliveries. Writers never lose an answer: `update` is a compare-and-set on a version
number, and the caller re-reads and retries when someone else wrote first.

Schema changes go through Alembic (`bot/migrations/`); `open_store` upgrades to head first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    delete,
    event,
    exc,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from bot import ROOT

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_RETENTION_DAYS = 30
#: How long SQLite waits for another writer before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 5000
#: PostgreSQL: give up connecting or waiting for a statement after this long (seconds),
#: so a user hears "try again in a minute" instead of waiting forever.
PG_CONNECT_TIMEOUT = 5
PG_COMMAND_TIMEOUT = 15
#: Serialises `migrate` across processes that start at once (any fixed 64-bit number).
PG_MIGRATION_LOCK = 0x5AFE_AB40AD

# Lengths of the columns; the store refuses longer values on every backend alike.
KEY_LENGTH = 64
SECRET_HASH_LENGTH = 128
EVENT_LIMITS = {"name": 64, "value": 64, "channel": 16, "lang": 8, "campaign": 64}

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

conversations = Table(
    "conversations",
    metadata,
    Column("key", String(KEY_LENGTH), primary_key=True),
    Column("state", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("secret_hash", String(SECRET_HASH_LENGTH), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_conversations_updated_at", "updated_at"),
)

event_counts = Table(
    "event_counts",
    metadata,
    Column("day", Date, nullable=False),
    Column("name", String(EVENT_LIMITS["name"]), nullable=False),
    Column("value", String(EVENT_LIMITS["value"]), nullable=False),
    Column("channel", String(EVENT_LIMITS["channel"]), nullable=False),
    Column("lang", String(EVENT_LIMITS["lang"]), nullable=False),
    Column("campaign", String(EVENT_LIMITS["campaign"]), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("day", "name", "value", "channel", "lang", "campaign"),
)

seen_updates = Table(
    "seen_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_seen_updates_seen_at", "seen_at"),
)

#: Which conversation an open counsellor topic belongs to (`bot/relay_store.py`): no text,
#: no raw ids; a row lives only while the chat is open.
relay_routes = Table(
    "relay_routes",
    metadata,
    Column("topic", BigInteger, primary_key=True, autoincrement=False),
    Column("key", String(64), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("code", String(16), nullable=False),
    Column("address", String(128), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Column("nudged", Integer, nullable=False, default=0),
    Column("urgent", Integer, nullable=False, default=0),
    Column("seq", Integer, nullable=False, default=0),
)

_EVENT_DIMENSIONS = ("day", "name", "value", "channel", "lang", "campaign")


class StoreUnavailable(Exception):
    """The database cannot be reached or refused to work; ask the user to try again soon."""


class AlreadyExists(KeyError):
    """A conversation with this key is already stored."""


class SeenBefore(Exception):
    """The Telegram update was already handled: the turn was not saved (nothing changed)."""


class _Conflict(Exception):
    """Someone wrote first: undo the whole turn's transaction."""


@dataclass(frozen=True)
class SeenUpdate:
    """A Telegram update id to remember in the same transaction as the turn it caused."""

    update_id: int
    ttl: timedelta


@dataclass(frozen=True)
class Stored:
    """One conversation as stored: its state and the version a writer must match."""

    key: str
    state: dict[str, Any]
    version: int
    secret_hash: str | None = None
    #: When it was last written (for idle expiry), as `get` reads it; not part of equality.
    updated_at: datetime | None = dataclasses.field(default=None, compare=False)


@dataclass(frozen=True)
class EventCount:
    """One daily counter: how often `name` (with `value`) happened, per channel/lang/campaign."""

    day: date
    name: str
    value: str
    channel: str
    lang: str
    campaign: str
    count: int


class ConversationStore(Protocol):
    """What the engine service and the channels need from storage."""

    async def get(self, key: str) -> Stored | None:
        """Return the conversation, or None when there is none."""
        ...

    async def create(self, key: str, state: dict, secret_hash: str | None = None) -> Stored:
        """Store a new conversation at version 1; raise AlreadyExists if the key is taken."""
        ...

    async def update(self, key: str, state: dict, version: int) -> Stored | None:
        """Replace the state if still at `version`; None if someone wrote first or it is gone."""
        ...

    async def save(
        self,
        key: str,
        state: dict,
        version: int | None,
        *,
        secret_hash: str | None = None,
        events: Sequence[dict[str, Any]] = (),
        seen: SeenUpdate | None = None,
    ) -> Stored | None:
        """Write one turn at once: the state, its statistics and the update that caused it.

        `version` None creates the conversation (AlreadyExists if taken); otherwise this is
        `update`'s compare-and-set (None when someone wrote first). `events` are rows from
        `event_row`, added to the counters in the same transaction. With `seen`, an update id
        already remembered raises SeenBefore and nothing is written.
        """
        ...

    async def delete(self, key: str) -> bool:
        """Erase every row of the conversation; True if there was one."""
        ...

    async def purge(self, older_than: datetime) -> int:
        """Erase conversations untouched since `older_than`; return how many."""
        ...

    async def count_event(
        self,
        name: str,
        *,
        day: date,
        channel: str = "",
        lang: str = "",
        campaign: str = "",
        value: str = "",
        n: int = 1,
    ) -> None:
        """Add `n` to a daily counter; no user key is ever involved."""
        ...

    async def events(
        self, since: date | None = None, campaign: str | None = None
    ) -> list[EventCount]:
        """Return the daily counters, oldest first, optionally from a day or for one campaign."""
        ...

    async def remember_update(self, update_id: int, ttl: timedelta) -> bool:
        """Record a Telegram update id; False if it was already seen within `ttl`."""
        ...

    async def forget_update(self, update_id: int) -> None:
        """Forget a Telegram update id, so its redelivery (to any worker) runs again."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def utcnow() -> datetime:
    """Return the current time in UTC (the store's default clock)."""
    return datetime.now(UTC)


# ---------------------------------------------------------------------------- validation
# Both stores check their input the same way, so a test against the fake means something.


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not 0 < len(key) <= KEY_LENGTH:
        raise ValueError(f"conversation key must be 1..{KEY_LENGTH} characters")


def _dump_state(state: dict) -> str:
    if not isinstance(state, dict):
        raise TypeError("conversation state must be a dict")
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


def _load_state(raw: str) -> dict[str, Any]:
    """Decode a stored state; an unreadable one comes back empty so the user can start over."""
    try:
        state = json.loads(raw)
    except (TypeError, ValueError):
        state = None
    if not isinstance(state, dict):
        log.warning("conversation state unreadable; starting it afresh")
        return {}
    return state


def _check_secret_hash(secret_hash: str | None) -> None:
    if secret_hash is not None and len(secret_hash) > SECRET_HASH_LENGTH:
        raise ValueError(f"secret hash must be at most {SECRET_HASH_LENGTH} characters")


def _event_row(name: str, day: date, n: int, **dimensions: str) -> dict[str, Any]:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise TypeError("day must be a date")
    if not isinstance(n, int) or n < 1:
        raise ValueError("n must be a positive integer")
    row: dict[str, Any] = {"day": day, "name": name, **dimensions}
    for field, limit in EVENT_LIMITS.items():
        value = row[field]
        if not isinstance(value, str) or len(value) > limit:
            raise ValueError(f"event {field} must be a string of at most {limit} characters")
    if not name:
        raise ValueError("event name must not be empty")
    row["count"] = n
    return row


def event_row(
    name: str,
    *,
    day: date,
    channel: str = "",
    lang: str = "",
    campaign: str = "",
    value: str = "",
    n: int = 1,
) -> dict[str, Any]:
    """Return a checked counter row for `save` (ValueError for what could be free text)."""
    return _event_row(name, day, n, channel=channel, lang=lang, campaign=campaign, value=value)


async def save_in_steps(
    store: Any,
    key: str,
    state: dict,
    version: int | None,
    *,
    secret_hash: str | None = None,
    events: Sequence[dict[str, Any]] = (),
    seen: SeenUpdate | None = None,
) -> Stored | None:
    """`save` for a store without transactions: the same outcome, one call at a time."""
    if seen is not None and not await store.remember_update(seen.update_id, seen.ttl):
        raise SeenBefore(seen.update_id)
    try:
        if version is None:
            stored = await store.create(key, state, secret_hash)
        else:
            stored = await store.update(key, state, version)
    except BaseException:
        if seen is not None:
            with contextlib.suppress(Exception):
                await store.forget_update(seen.update_id)
        raise
    if stored is None:
        if seen is not None:
            await store.forget_update(seen.update_id)
        return None
    for row in events:
        dims = {d: row[d] for d in ("channel", "lang", "campaign", "value")}
        try:
            await store.count_event(row["name"], day=row["day"], n=row["count"], **dims)
        except Exception:  # statistics must never cost a person their answer
            log.warning("could not count event %s", row["name"], exc_info=True)
    return stored


def _check_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    # SQLite keeps no zone, so every stored time is UTC.
    return moment.astimezone(UTC)


# ---------------------------------------------------------------------------- in memory


class InMemoryStore(ConversationStore):
    """A store in a dict, for unit tests and fakes; set `down = True` to simulate an outage."""

    def __init__(self, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock
        self.conversations: dict[str, Stored] = {}
        self.updated_at: dict[str, datetime] = {}
        self.counts: dict[tuple[date, str, str, str, str, str], int] = {}
        self.seen: dict[int, datetime] = {}
        self.down = False
        self.closed = False

    async def _enter(self) -> None:
        # Yield to other tasks first, so races look like they do against a database.
        await asyncio.sleep(0)
        if self.down:
            raise StoreUnavailable("in-memory store is marked down")

    def _stored(self, key: str, raw: str, version: int, secret_hash: str | None) -> Stored:
        return Stored(key, _load_state(raw), version, secret_hash)

    async def get(self, key: str) -> Stored | None:
        """Return the conversation, or None when there is none."""
        await self._enter()
        found = self.conversations.get(key)
        if found is None:
            return None
        # A copy, as a database would give: callers cannot change what is stored.
        stored = self._stored(key, _dump_state(found.state), found.version, found.secret_hash)
        return dataclasses.replace(stored, updated_at=self.updated_at.get(key))

    async def create(self, key: str, state: dict, secret_hash: str | None = None) -> Stored:
        """Store a new conversation at version 1; raise AlreadyExists if the key is taken."""
        _check_key(key)
        _check_secret_hash(secret_hash)
        raw = _dump_state(state)
        await self._enter()
        if key in self.conversations:
            raise AlreadyExists(key)
        self.conversations[key] = self._stored(key, raw, 1, secret_hash)
        self.updated_at[key] = self.clock()
        return self._stored(key, raw, 1, secret_hash)

    async def update(self, key: str, state: dict, version: int) -> Stored | None:
        """Replace the state if still at `version`; None if someone wrote first or it is gone."""
        raw = _dump_state(state)
        await self._enter()
        found = self.conversations.get(key)
        if found is None or found.version != version:
            return None
        self.conversations[key] = self._stored(key, raw, version + 1, found.secret_hash)
        self.updated_at[key] = self.clock()
        return self._stored(key, raw, version + 1, found.secret_hash)

    async def delete(self, key: str) -> bool:
        """Erase every row of the conversation; True if there was one."""
        await self._enter()
        self.updated_at.pop(key, None)
        return self.conversations.pop(key, None) is not None

    async def purge(self, older_than: datetime) -> int:
        """Erase conversations untouched since `older_than`; return how many."""
        cutoff = _check_aware(older_than)
        await self._enter()
        stale = [key for key, at in self.updated_at.items() if at < cutoff]
        for key in stale:
            del self.conversations[key], self.updated_at[key]
        return len(stale)

    async def count_event(
        self,
        name: str,
        *,
        day: date,
        channel: str = "",
        lang: str = "",
        campaign: str = "",
        value: str = "",
        n: int = 1,
    ) -> None:
        """Add `n` to a daily counter; no user key is ever involved."""
        row = _event_row(name, day, n, channel=channel, lang=lang, campaign=campaign, value=value)
        await self._enter()
        dims = tuple(row[d] for d in _EVENT_DIMENSIONS)
        self.counts[dims] = self.counts.get(dims, 0) + n  # type: ignore[index]

    async def events(
        self, since: date | None = None, campaign: str | None = None
    ) -> list[EventCount]:
        """Return the daily counters, oldest first, optionally from a day or for one campaign."""
        await self._enter()
        rows = [
            EventCount(day, name, value, channel, lang, camp, count)
            for (day, name, value, channel, lang, camp), count in self.counts.items()
            if (since is None or day >= since) and (campaign is None or camp == campaign)
        ]
        return sorted(rows, key=_event_sort_key)

    async def remember_update(self, update_id: int, ttl: timedelta) -> bool:
        """Record a Telegram update id; False if it was already seen within `ttl`."""
        await self._enter()
        now = self.clock()
        for old in [u for u, at in self.seen.items() if at < now - ttl]:
            del self.seen[old]
        if update_id in self.seen:
            return False
        self.seen[update_id] = now
        return True

    async def forget_update(self, update_id: int) -> None:
        """Forget a Telegram update id, so its redelivery runs again."""
        await self._enter()
        self.seen.pop(update_id, None)

    async def save(
        self,
        key: str,
        state: dict,
        version: int | None,
        *,
        secret_hash: str | None = None,
        events: Sequence[dict[str, Any]] = (),
        seen: SeenUpdate | None = None,
    ) -> Stored | None:
        """Write one turn (state, counters, update id); see `ConversationStore.save`."""
        return await save_in_steps(
            self, key, state, version, secret_hash=secret_hash, events=events, seen=seen
        )

    async def ping(self) -> None:
        """Raise StoreUnavailable when marked down."""
        await self._enter()

    async def close(self) -> None:
        """Mark the store closed (observable in tests)."""
        self.closed = True


def _event_sort_key(row: EventCount) -> tuple:
    return (row.day, row.name, row.value, row.channel, row.lang, row.campaign)


# ---------------------------------------------------------------------------- SQLAlchemy

# Errors that mean "the database is not there or not working right now", as opposed to
# a bug in our SQL: these become StoreUnavailable. OSError covers refused connections
# and unknown hosts, TimeoutError a server that does not answer.
_UNAVAILABLE = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,
    OSError,
    TimeoutError,
)


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, _UNAVAILABLE):
        return True
    # Anything that fails while connecting (no statement yet: unknown database, server
    # starting up, too many clients) or that broke the connection is an outage too.
    return isinstance(error, exc.DBAPIError) and (
        error.statement is None or error.connection_invalidated
    )


def async_url(url: str | URL) -> URL:
    """Return the URL with an async driver (`postgres://…`, `sqlite:///…` are accepted too)."""
    parsed = make_url(url)
    # Read the names from the URL itself: asking SQLAlchemy would load the sync driver.
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", "postgresql") and driver != "asyncpg":
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite" and driver != "aiosqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def default_database_url() -> str:
    """Return the embedded default: a SQLite file in the repository's `data/` folder."""
    return f"sqlite+aiosqlite:///{ROOT / 'data' / 'safe_abroad.db'}"


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _engine_options(url: URL, *, pooled: bool) -> dict[str, Any]:
    # Parameters never reach exception messages: they may hold conversation state.
    options: dict[str, Any] = {"hide_parameters": True}
    if url.get_backend_name() == "postgresql":
        options["connect_args"] = {
            "timeout": PG_CONNECT_TIMEOUT,
            "command_timeout": PG_COMMAND_TIMEOUT,
        }
        if pooled:
            # pre_ping: after a server restart the first request gets a fresh connection
            # instead of an error.
            options.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    elif pooled:
        # SQLite has one writer at a time. One connection per process queues our requests
        # in the pool (a fair, prompt wait) instead of in SQLite's busy handler, which
        # sleeps up to 100 ms between tries; the statements themselves take microseconds.
        options.update(pool_size=1, max_overflow=0, pool_timeout=30)
    return options


def make_engine(url: URL, **extra: Any) -> AsyncEngine:
    """Create an engine tuned for its backend (SQLite pragmas, PostgreSQL timeouts, pool)."""
    pooled = extra.get("poolclass") is not NullPool
    engine = create_async_engine(url, **_engine_options(url, pooled=pooled), **extra)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Let readers and one writer work at once, and wait for a busy writer instead of failing."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # Safe with WAL: a power cut may lose the last commit but never corrupts the file.
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Erased conversations are overwritten with zeros, not just unlinked.
        cursor.execute("PRAGMA secure_delete = ON")
    finally:
        cursor.close()


#: SQLAlchemy's text form of a DateTime on SQLite (no zone: every stored time is UTC).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_SQLITE_TIME)


def _sqlite_time_read(raw: Any) -> datetime | None:
    if raw is None:
        return None
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _checkpoint(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


class _SqliteLine:
    """SQLite reads and turns without SQLAlchemy, the write lock held for microseconds.

    Through SQLAlchemy and aiosqlite a transaction is about six thread round trips, and the
    write lock is held across event-loop turns while other writers sleep in SQLite's busy
    handler. Here a whole transaction (`BEGIN IMMEDIATE` ... `COMMIT`) is one function
    call. It runs right on the event loop (a primary-key read or write in WAL mode takes
    ~10-80 µs, less than a hop to a thread and back), so this process's writers are
    naturally in FIFO order and never wait in the busy handler. Only when another process
    holds the lock (SQLITE_BUSY, answered at once: busy timeout 0 on this connection) does
    the call move to the line's own thread and wait there, in FIFO order too. The WAL is
    checkpointed from that thread, so a checkpoint never blocks the loop. The compare-and-set
    on `version` is the same as everywhere else.
    """

    #: Checkpoint the write-ahead log (PASSIVE, on the thread) after this many commits.
    CHECKPOINT_EVERY = 500

    def __init__(self, path: Path):
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-line")
        self._db: sqlite3.Connection | None = None  # used on the line's thread only
        self._fast: sqlite3.Connection | None = None  # used on the event loop only
        self._commits = 0
        self._checkpointing = False

    def _open(self, *, fast: bool) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            _tune_sqlite(db, None)
            if fast:
                db.execute("PRAGMA busy_timeout = 0")
                db.execute("PRAGMA wal_autocheckpoint = 0")
        except BaseException:
            db.close()
            raise
        return db

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open(fast=False)
        return self._db

    async def _call(self, work: Callable[..., Any], *args: Any) -> Any:
        """Run `work(connection, *args)` on the loop; on another process's lock, on the thread."""
        # Let other tasks run first, as a database round trip would: a read and the write
        # after it are not one atomic step, and the compare-and-set is what keeps answers.
        await asyncio.sleep(0)
        try:
            if self._fast is None:
                self._fast = self._open(fast=True)
            result = work(self._fast, *args)
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) not in (5, 6):  # not BUSY / LOCKED
                self._drop_fast()
                raise StoreUnavailable(f"database unavailable ({type(error).__name__})") from error
            return await self._run(work, *args)
        return result

    def _drop_fast(self) -> None:
        # A broken file or folder: start from a fresh connection next time.
        if self._fast is not None:
            with contextlib.suppress(sqlite3.Error):
                self._fast.close()
            self._fast = None

    def _committed(self) -> None:
        self._commits += 1
        if self._commits % self.CHECKPOINT_EVERY or self._checkpointing:
            return
        self._checkpointing = True
        future = self._pool.submit(self._guarded, _checkpoint)
        future.add_done_callback(self._checkpointed)

    def _checkpointed(self, future: Any) -> None:
        self._checkpointing = False
        if not future.cancelled() and future.exception() is not None:
            log.warning("SQLite checkpoint failed (%s)", type(future.exception()).__name__)

    # Everything below `_run` runs on the line's thread.

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._guarded, work, *args)
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"database unavailable ({type(error).__name__})") from error

    def _guarded(self, work: Callable[..., Any], *args: Any) -> Any:
        try:
            return work(self._connection(), *args)
        except sqlite3.OperationalError:
            # A broken file or folder: start from a fresh connection next time.
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None
            raise

    @staticmethod
    def _get(db: sqlite3.Connection, key: str) -> tuple | None:
        rows = db.execute(
            "SELECT state, version, secret_hash, updated_at FROM conversations WHERE key = ?",
            (key,),
        ).fetchall()
        return rows[0] if rows else None

    @staticmethod
    def _save(
        db: sqlite3.Connection,
        key: str,
        raw: str,
        version: int | None,
        secret_hash: str | None,
        now: str,
        events: Sequence[dict[str, Any]],
        seen: tuple[int, str, str] | None,
    ) -> tuple | str | None:
        db.execute("BEGIN IMMEDIATE")
        try:
            if seen is not None:
                update_id, seen_at, expired_before = seen
                # New, or remembered longer ago than its time to live: take it (again).
                taken = db.execute(
                    "INSERT INTO seen_updates (update_id, seen_at) VALUES (?, ?) "
                    "ON CONFLICT (update_id) DO UPDATE SET seen_at = excluded.seen_at "
                    "WHERE seen_updates.seen_at < ?",
                    (update_id, seen_at, expired_before),
                ).rowcount
                if taken != 1:
                    db.execute("ROLLBACK")
                    return "seen"
            if version is None:
                try:
                    db.execute(
                        "INSERT INTO conversations "
                        "(key, state, version, secret_hash, created_at, updated_at) "
                        "VALUES (?, ?, 1, ?, ?, ?)",
                        (key, raw, secret_hash, now, now),
                    )
                except sqlite3.IntegrityError:
                    db.execute("ROLLBACK")
                    return "exists"
                row: tuple | None = (1, secret_hash)
            else:
                rows = db.execute(
                    "UPDATE conversations SET state = ?, version = version + 1, updated_at = ? "
                    "WHERE key = ? AND version = ? RETURNING version, secret_hash",
                    (raw, now, key, version),
                ).fetchall()
                row = rows[0] if rows else None
                if row is None:
                    db.execute("ROLLBACK")
                    return None
            if events:
                db.executemany(
                    "INSERT INTO event_counts "
                    "(day, name, value, channel, lang, campaign, count) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (day, name, value, channel, lang, campaign) "
                    "DO UPDATE SET count = event_counts.count + excluded.count",
                    [
                        (
                            e["day"].isoformat(),
                            e["name"],
                            e["value"],
                            e["channel"],
                            e["lang"],
                            e["campaign"],
                            e["count"],
                        )
                        for e in events
                    ],
                )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return row

    # Called from the event loop.

    async def get(self, key: str) -> Stored | None:
        row = await self._call(self._get, key)
        if row is None:
            return None
        state, version, secret_hash, updated = row
        return Stored(key, _load_state(state), version, secret_hash, _sqlite_time_read(updated))

    async def save(
        self,
        key: str,
        raw: str,
        version: int | None,
        secret_hash: str | None,
        now: datetime,
        events: Sequence[dict[str, Any]],
        seen: SeenUpdate | None,
    ) -> Stored | None:
        marks = None
        if seen is not None:
            marks = (seen.update_id, _sqlite_time(now), _sqlite_time(now - seen.ttl))
        stamp = _sqlite_time(now)
        row = await self._call(self._save, key, raw, version, secret_hash, stamp, events, marks)
        if isinstance(row, tuple):
            self._committed()
        if row == "seen":
            raise SeenBefore(seen.update_id if seen else 0)
        if row == "exists":
            raise AlreadyExists(key)
        if row is None:
            return None
        return Stored(key, _load_state(raw), row[0], row[1])

    async def close(self) -> None:
        """Close both connections; a later call opens them again (like a disposed engine)."""
        self._drop_fast()
        pool, self._pool = (
            self._pool,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-line"),
        )

        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        with contextlib.suppress(Exception):
            await asyncio.get_running_loop().run_in_executor(pool, shut)
        pool.shutdown(wait=False)


#: PostgreSQL: one statement writes a turn (its state and, only if that took, its counters),
#: so a step is one round trip and the hot counter rows stay locked for no longer than it.
_PG_COUNTERS = (
    "INSERT INTO event_counts (day, name, value, channel, lang, campaign, count) "
    "SELECT d, n, v, ch, l, ca, sum(k) FROM unnest("
    "$5::date[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], "
    "$11::int[]) AS e(d, n, v, ch, l, ca, k) WHERE EXISTS (SELECT 1 FROM t) "
    "GROUP BY d, n, v, ch, l, ca ORDER BY d, n, v, ch, l, ca "
    "ON CONFLICT (day, name, value, channel, lang, campaign) "
    "DO UPDATE SET count = event_counts.count + excluded.count"
)
_PG_UPDATE = (
    "UPDATE conversations SET state = $3, version = version + 1, updated_at = $4 "
    "WHERE key = $1 AND version = $2 RETURNING version, secret_hash"
)
_PG_CREATE = (
    "INSERT INTO conversations (key, state, version, secret_hash, created_at, updated_at) "
    "VALUES ($1, $3, 1, $2, $4, $4) ON CONFLICT (key) DO NOTHING "
    "RETURNING version, secret_hash"
)
_PG_STATEMENTS = {
    (kind, with_counters): (
        f"WITH t AS ({body}), c AS ({_PG_COUNTERS}) SELECT version, secret_hash FROM t"  # noqa: S608 (constants only)
        if with_counters
        else body
    )
    for kind, body in (("update", _PG_UPDATE), ("create", _PG_CREATE))
    for with_counters in (False, True)
}
_PG_CLAIM = (
    "INSERT INTO seen_updates (update_id, seen_at) VALUES ($1, $2) "
    "ON CONFLICT (update_id) DO UPDATE SET seen_at = excluded.seen_at "
    "WHERE seen_updates.seen_at < $3 RETURNING 1"
)
_PG_GET = "SELECT state, version, secret_hash, updated_at FROM conversations WHERE key = $1"


async def _pg_keep(_connection: Any) -> None:
    """Return a connection to the pool as it is: we never change a session's settings."""


class _PgLine:
    """PostgreSQL reads and turns through asyncpg directly: one round trip each.

    Through SQLAlchemy a turn was two pooled transactions, each with a pre-ping, BEGIN and
    COMMIT. Here a read is one prepared statement, and a turn is one statement (the
    compare-and-set `UPDATE … WHERE version = … RETURNING`, with the counters' upsert in a
    CTE that runs only if the update took), committed on its own. A Telegram update id is
    claimed in the same transaction, so that one is BEGIN … COMMIT. The pool returns a
    connection without the reset query asyncpg would otherwise send every time; a connection
    the server dropped is noticed by the pool and replaced.
    """

    POOL_SIZE = 10

    def __init__(self, url: URL):
        # asyncpg takes a libpq URL: the same one without SQLAlchemy's driver name.
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool: Any = None
        self._opening: asyncio.Lock | None = None

    async def _get_pool(self) -> Any:
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                import asyncpg

                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=0,  # no floor to restore in the background (which logs a
                    # traceback while the database is away); connections open on demand
                    max_size=self.POOL_SIZE,
                    reset=_pg_keep,
                    timeout=PG_CONNECT_TIMEOUT,
                    command_timeout=PG_COMMAND_TIMEOUT,
                )
        return self._pool

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """Lend a pooled connection; outages surface as StoreUnavailable."""
        import asyncpg

        try:
            pool = await self._get_pool()
            connection = await pool.acquire()
        except (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresError) as error:
            # Anything that fails while connecting (refused, unknown database, starting
            # up, too many clients) is an outage, as on the SQLAlchemy path.
            raise StoreUnavailable(f"cannot connect ({type(error).__name__})") from error
        try:
            yield connection
        except (
            OSError,
            TimeoutError,
            asyncpg.InterfaceError,
            asyncpg.PostgresConnectionError,  # class 08: the connection broke
            asyncpg.InsufficientResourcesError,  # class 53
            asyncpg.OperatorInterventionError,  # class 57: shutting down
        ) as error:
            raise StoreUnavailable(f"database unavailable ({type(error).__name__})") from error
        finally:
            with contextlib.suppress(Exception):  # a broken connection is dropped, not kept
                await pool.release(connection)

    async def get(self, key: str) -> Stored | None:
        async with self._connection() as connection:
            row = await connection.fetchrow(_PG_GET, key)
        if row is None:
            return None
        state, version, secret_hash, updated = row
        return Stored(key, _load_state(state), version, secret_hash, updated)

    async def save(
        self,
        key: str,
        raw: str,
        version: int | None,
        secret_hash: str | None,
        now: datetime,
        events: Sequence[dict[str, Any]],
        seen: SeenUpdate | None,
    ) -> Stored | None:
        kind = "create" if version is None else "update"
        args: list[Any] = [key, secret_hash if version is None else version, raw, now]
        if events:
            args.extend([e[d] for e in events] for d in (*_EVENT_DIMENSIONS, "count"))
        statement = _PG_STATEMENTS[(kind, bool(events))]
        async with self._connection() as connection:
            if seen is None:
                row = await connection.fetchrow(statement, *args)
            else:
                row = await self._save_seen(connection, statement, args, now, seen)
        if row is None:
            if version is None:
                raise AlreadyExists(key)
            return None
        return Stored(key, _load_state(raw), row[0], row[1])

    @staticmethod
    async def _save_seen(
        connection: Any, statement: str, args: list[Any], now: datetime, seen: SeenUpdate
    ) -> Any:
        """The turn and its update id in one transaction; nothing is kept if either fails."""
        try:
            async with connection.transaction():
                taken = await connection.fetchval(_PG_CLAIM, seen.update_id, now, now - seen.ttl)
                if taken is None:
                    raise SeenBefore(seen.update_id)
                row = await connection.fetchrow(statement, *args)
                if row is None:
                    raise _Conflict  # rolls back the update id taken above
        except _Conflict:
            return None
        return row

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 5)


class SqlAlchemyStore(ConversationStore):
    """The store on SQLite or PostgreSQL, one session per call (use `open_store` to build it)."""

    def __init__(self, url: str | URL, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.url = async_url(url)
        self.clock = clock
        self.engine = make_engine(self.url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._dialect = self.engine.dialect.name
        # SQLite file: reads and turns go one hop each through a dedicated connection.
        path = _sqlite_file(self.url)
        self._line: _SqliteLine | _PgLine | None = None
        if path is not None:
            self._line = _SqliteLine(path)
        elif self._dialect == "postgresql":
            # PostgreSQL: reads and turns one round trip each, through asyncpg directly.
            self._line = _PgLine(self.url)

    def __repr__(self) -> str:
        return f"SqlAlchemyStore({self.url.render_as_string(hide_password=True)!r})"

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """Open one session in one transaction; outages surface as StoreUnavailable."""
        try:
            async with self._sessions.begin() as session:
                yield session
        except Exception as error:
            if _is_unavailable(error):
                raise StoreUnavailable(f"database unavailable ({type(error).__name__})") from error
            raise

    async def get(self, key: str) -> Stored | None:
        """Return the conversation, or None when there is none."""
        if self._line is not None:
            return await self._line.get(key)
        c = conversations.c
        async with self._session() as session:
            query = select(c.state, c.version, c.secret_hash, c.updated_at).where(c.key == key)
            row = (await session.execute(query)).first()
        if row is None:
            return None
        updated = row.updated_at
        if updated is not None and updated.tzinfo is None:  # SQLite drops the zone: it is UTC
            updated = updated.replace(tzinfo=UTC)
        return Stored(key, _load_state(row.state), row.version, row.secret_hash, updated)

    async def create(self, key: str, state: dict, secret_hash: str | None = None) -> Stored:
        """Store a new conversation at version 1; raise AlreadyExists if the key is taken."""
        _check_key(key)
        _check_secret_hash(secret_hash)
        raw = _dump_state(state)
        now = self.clock()
        if self._line is not None:
            stored = await self._line.save(key, raw, None, secret_hash, now, (), None)
            assert stored is not None
            return stored
        row = {
            "key": key,
            "state": raw,
            "version": 1,
            "secret_hash": secret_hash,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self._session() as session:
                await session.execute(insert(conversations), row)
        except exc.IntegrityError as error:
            raise AlreadyExists(key) from error
        return Stored(key, _load_state(raw), 1, secret_hash)

    async def update(self, key: str, state: dict, version: int) -> Stored | None:
        """Replace the state if still at `version`; None if someone wrote first or it is gone."""
        raw = _dump_state(state)
        if self._line is not None:
            return await self._line.save(key, raw, version, None, self.clock(), (), None)
        c = conversations.c
        statement = (
            update(conversations)
            .where(c.key == key, c.version == version)
            .values(state=raw, version=c.version + 1, updated_at=self.clock())
            .returning(c.version, c.secret_hash)
        )
        async with self._session() as session:
            row = (await session.execute(statement)).first()
        if row is None:
            return None
        return Stored(key, _load_state(raw), row.version, row.secret_hash)

    async def save(
        self,
        key: str,
        state: dict,
        version: int | None,
        *,
        secret_hash: str | None = None,
        events: Sequence[dict[str, Any]] = (),
        seen: SeenUpdate | None = None,
    ) -> Stored | None:
        """Write one turn in one transaction; see `ConversationStore.save`."""
        _check_key(key)
        _check_secret_hash(secret_hash)
        raw = _dump_state(state)
        now = self.clock()
        if self._line is not None:
            return await self._line.save(key, raw, version, secret_hash, now, events, seen)
        c = conversations.c
        dialect_insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[self._dialect]
        try:
            async with self._session() as session:
                if seen is not None:
                    claim = dialect_insert(seen_updates).values(
                        update_id=seen.update_id, seen_at=now
                    )
                    claim = claim.on_conflict_do_update(
                        index_elements=["update_id"],
                        set_={"seen_at": claim.excluded.seen_at},
                        where=seen_updates.c.seen_at < now - seen.ttl,
                    )
                    if (await session.execute(claim)).rowcount != 1:
                        raise SeenBefore(seen.update_id)
                if version is None:
                    row = {
                        "key": key,
                        "state": raw,
                        "version": 1,
                        "secret_hash": secret_hash,
                        "created_at": now,
                        "updated_at": now,
                    }
                    await session.execute(insert(conversations), row)
                    stored = Stored(key, _load_state(raw), 1, secret_hash)
                else:
                    statement = (
                        update(conversations)
                        .where(c.key == key, c.version == version)
                        .values(state=raw, version=c.version + 1, updated_at=now)
                        .returning(c.version, c.secret_hash)
                    )
                    found = (await session.execute(statement)).first()
                    if found is None:
                        raise _Conflict  # rolls back the update id taken above
                    stored = Stored(key, _load_state(raw), found.version, found.secret_hash)
                for event_row_ in events:
                    upsert = dialect_insert(event_counts).values(event_row_)
                    upsert = upsert.on_conflict_do_update(
                        index_elements=list(_EVENT_DIMENSIONS),
                        set_={"count": event_counts.c.count + upsert.excluded.count},
                    )
                    await session.execute(upsert)
        except _Conflict:
            return None
        except exc.IntegrityError as error:
            raise AlreadyExists(key) from error
        return stored

    async def delete(self, key: str) -> bool:
        """Erase every row of the conversation; True if there was one."""
        async with self._session() as session:
            result = await session.execute(delete(conversations).where(conversations.c.key == key))
        await self._scrub()
        return result.rowcount > 0

    async def purge(self, older_than: datetime) -> int:
        """Erase conversations untouched since `older_than`; return how many."""
        cutoff = _check_aware(older_than)
        statement = delete(conversations).where(conversations.c.updated_at < cutoff)
        async with self._session() as session:
            result = await session.execute(statement)
        if result.rowcount:
            await self._scrub()
        return result.rowcount

    async def _scrub(self) -> None:
        """On SQLite, empty the write-ahead log, which still holds erased rows' old pages."""
        if self._dialect != "sqlite":
            return
        try:
            async with self.engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except exc.DBAPIError:  # busy: the next erase or purge empties it
            log.warning("could not empty the SQLite write-ahead log after an erase")

    async def count_event(
        self,
        name: str,
        *,
        day: date,
        channel: str = "",
        lang: str = "",
        campaign: str = "",
        value: str = "",
        n: int = 1,
    ) -> None:
        """Add `n` to a daily counter; no user key is ever involved."""
        row = _event_row(name, day, n, channel=channel, lang=lang, campaign=campaign, value=value)
        dialect_insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[self._dialect]
        statement = dialect_insert(event_counts).values(row)
        statement = statement.on_conflict_do_update(
            index_elements=list(_EVENT_DIMENSIONS),
            set_={"count": event_counts.c.count + statement.excluded.count},
        )
        async with self._session() as session:
            await session.execute(statement)

    async def events(
        self, since: date | None = None, campaign: str | None = None
    ) -> list[EventCount]:
        """Return the daily counters, oldest first, optionally from a day or for one campaign."""
        c = event_counts.c
        query = select(event_counts).order_by(*(c[d] for d in _EVENT_DIMENSIONS))
        if since is not None:
            query = query.where(c.day >= since)
        if campaign is not None:
            query = query.where(c.campaign == campaign)
        async with self._session() as session:
            rows = (await session.execute(query)).all()
        return [
            EventCount(r.day, r.name, r.value, r.channel, r.lang, r.campaign, r.count) for r in rows
        ]

    async def remember_update(self, update_id: int, ttl: timedelta) -> bool:
        """Record a Telegram update id; False if it was already seen within `ttl`."""
        now = self.clock()
        dialect_insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[self._dialect]
        statement = (
            dialect_insert(seen_updates)
            .values(update_id=update_id, seen_at=now)
            .on_conflict_do_nothing(index_elements=["update_id"])
        )
        async with self._session() as session:
            # Forget expired ids first, so an id seen longer ago than `ttl` counts as new.
            await session.execute(delete(seen_updates).where(seen_updates.c.seen_at < now - ttl))
            result = await session.execute(statement)
        return result.rowcount == 1

    async def forget_update(self, update_id: int) -> None:
        """Forget a Telegram update id, so its redelivery (to any worker) runs again."""
        async with self._session() as session:
            await session.execute(delete(seen_updates).where(seen_updates.c.update_id == update_id))

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        async with self._session() as session:
            await session.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Release every pooled connection (and the SQLite line's)."""
        if self._line is not None:
            await self._line.close()
        await self.engine.dispose()


# ---------------------------------------------------------------------------- migrations


#: The newest migration in `bot/migrations/versions/` (a test keeps the two in step).
HEAD_REVISION = "0002"

#: Alembic's own bookkeeping table, as Alembic creates it.
_alembic_version = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def alembic_config() -> Any:
    """Return an Alembic configuration for our migrations, no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """Return the newest migration's revision id, as Alembic reads the migrations."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade_on(connection: Connection, *, from_metadata: bool = True) -> None:
    """Bring the schema to HEAD_REVISION.

    Every start passes here, so the common cases skip Alembic (a third of a second of
    imports): a database already at the newest revision is recognised with one query, and
    an empty one gets the tables straight from `metadata`, stamped with the newest revision
    (Alembic's advice for new databases; a test proves the migrations build the same
    schema). Anything else goes through the migrations.
    """
    tables = set(inspect(connection).get_table_names())
    if _alembic_version.name in tables:
        found = connection.execute(select(_alembic_version.c.version_num)).scalars().all()
        if found == [HEAD_REVISION]:
            return
    elif from_metadata and not tables & set(metadata.tables):
        metadata.create_all(connection)
        _alembic_version.create(connection)
        connection.execute(_alembic_version.insert().values(version_num=HEAD_REVISION))
        log.info("database schema created at revision %s", HEAD_REVISION)
        return
    _migrate(connection)


def _migrate(connection: Connection) -> None:
    """Run the Alembic migrations from whatever revision the database is at."""
    from alembic import command
    from alembic.migration import MigrationContext

    # Alembic narrates every start ("Context impl ..."); we say one line when it matters.
    chatter = logging.getLogger("alembic.runtime.migration")
    level = chatter.level
    chatter.setLevel(logging.WARNING)
    try:
        before = MigrationContext.configure(connection).get_current_revision()
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        after = MigrationContext.configure(connection).get_current_revision()
    finally:
        chatter.setLevel(level)
    if after != before:
        log.info("database schema upgraded from %s to %s", before or "empty", after)


def ensure_folder(url: URL) -> None:
    """Create the folder of a SQLite file, and the file itself, readable by us alone.

    The default lives in `data/`, which may not exist. SQLite gives its `-wal` and `-shm`
    files the database file's mode, so creating the file 0600 keeps all three private.
    """
    path = _sqlite_file(url)
    if path is None:
        return
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        if not path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as error:
        raise StoreUnavailable(f"cannot create the database folder ({error.strerror})") from error


@contextlib.asynccontextmanager
async def _migration_lock(url: URL) -> AsyncIterator[None]:
    """Let one process at a time migrate a SQLite file (a no-op for other databases).

    Two processes starting on a new file would otherwise both switch it to WAL mode and
    create tables at once, and one of them fails with "database is locked".
    """
    path = _sqlite_file(url)
    if path is None:
        yield
        return
    fd = os.open(f"{path}.migrate-lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


async def upgrade_database(url: str | URL, *, from_metadata: bool = True) -> None:
    """Bring the schema to the newest revision; safe when several processes start at once.

    `from_metadata=False` builds an empty database through the migrations (for tests)."""
    url = async_url(url)
    ensure_folder(url)
    backend = url.get_backend_name()
    # SQLite: drive the transaction ourselves so DDL is atomic and BEGIN IMMEDIATE makes a
    # second process wait; PostgreSQL: DDL is transactional, an advisory lock serialises.
    extra = {"isolation_level": "AUTOCOMMIT"} if backend == "sqlite" else {}
    engine = make_engine(url, poolclass=NullPool, **extra)
    try:
        async with _migration_lock(url), engine.connect() as connection:
            if backend == "sqlite":
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    await connection.run_sync(_upgrade_on, from_metadata=from_metadata)
                except BaseException:
                    await connection.exec_driver_sql("ROLLBACK")
                    raise
                await connection.exec_driver_sql("COMMIT")
            else:
                async with connection.begin():
                    if backend == "postgresql":
                        lock = text("SELECT pg_advisory_xact_lock(:key)")
                        await connection.execute(lock, {"key": PG_MIGRATION_LOCK})
                    await connection.run_sync(_upgrade_on, from_metadata=from_metadata)
    except Exception as error:
        if _is_unavailable(error):
            raise StoreUnavailable(f"cannot migrate ({type(error).__name__})") from error
        raise
    finally:
        await engine.dispose()


async def open_store(
    url: str | URL, *, migrate: bool = True, clock: Callable[[], datetime] = utcnow
) -> SqlAlchemyStore:
    """Build the store for `url`, upgrading the schema first unless told not to."""
    url = async_url(url)
    if migrate:
        await upgrade_database(url)
    else:
        ensure_folder(url)
    return SqlAlchemyStore(url, clock=clock)


# ---------------------------------------------------------------------------- commands


def database_url() -> str:
    """Return DATABASE_URL from the settings (a SQLite file under the data folder if unset)."""
    from bot.settings import Settings

    return Settings().resolved_database_url()


def retention_days() -> int:
    """Return RETENTION_DAYS from the settings (default 30)."""
    from bot.settings import Settings

    return Settings().retention_days


def _shown(url: str) -> str:
    return async_url(url).render_as_string(hide_password=True)


def _unreachable(url: str, error: StoreUnavailable) -> int:
    """Tell the operator why the database cannot be used (no password) and fail."""
    reason = str(error.__cause__ or error).strip().splitlines()[0]
    print(f"Cannot reach the database {_shown(url)}: {reason}", file=sys.stderr)
    return 1


def migrate_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe `python -m bot migrate` (it takes no options)."""
    parser.description = "Create or upgrade the database schema (DATABASE_URL)."


def migrate_command(args: argparse.Namespace) -> int:
    """Upgrade the database to the newest schema; return the exit code."""
    url = database_url()
    try:
        asyncio.run(upgrade_database(url))
    except StoreUnavailable as error:
        return _unreachable(url, error)
    print(f"Database {_shown(url)} is at revision {head_revision()}.")
    return 0


def purge_arguments(parser: argparse.ArgumentParser) -> None:
    """Describe `python -m bot purge [--days N]`."""
    parser.description = "Erase conversations nobody has touched for a number of days."
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help=f"erase conversations untouched for this many days "
        f"(default: RETENTION_DAYS, else {DEFAULT_RETENTION_DAYS})",
    )


def purge_command(args: argparse.Namespace) -> int:
    """Erase stale conversations and say how many went; return the exit code."""
    days = args.days if getattr(args, "days", None) is not None else retention_days()
    if days < 0:
        print("--days must be 0 or more.", file=sys.stderr)
        return 2
    url = database_url()

    async def run() -> int:
        store = await open_store(url)
        try:
            return await store.purge(utcnow() - timedelta(days=days))
        finally:
            await store.close()

    try:
        removed = asyncio.run(run())
    except StoreUnavailable as error:
        return _unreachable(url, error)
    print(f"Removed {removed} conversation(s) untouched for {days} day(s).")
    return 0
