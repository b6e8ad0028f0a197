"""The store on SQLite, PostgreSQL and in memory: what a user would notice if it were wrong.

Answers must never be lost (two writers on one conversation), an erased conversation must
be gone, stale ones purged, counters add up, a redelivered Telegram update is dropped, an
outage is reported as StoreUnavailable and the store recovers when the database is back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot import ROOT
from bot.store import (
    HEAD_REVISION,
    AlreadyExists,
    ConversationStore,
    EventCount,
    InMemoryStore,
    SeenBefore,
    SeenUpdate,
    SqlAlchemyStore,
    StoreUnavailable,
    async_url,
    default_database_url,
    event_row,
    head_revision,
    metadata,
    migrate_command,
    open_store,
    purge_command,
    upgrade_database,
)
from tests.db_fixtures import TcpProxy

KEY = "a" * 64  # the shape of an HMAC-SHA256 pseudonym
OTHER = "b" * 64
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DAY = date(2025, 3, 1)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest) -> str:
    """Return "memory" or an empty database's URL (sync, so async URL fixtures can run)."""
    if request.param == "memory":
        return "memory"
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def any_store(any_url: str, clock: Clock) -> AsyncIterator[ConversationStore]:
    """The same behaviour tests run on the fake and on both databases."""
    if any_url == "memory":
        yield InMemoryStore(clock=clock)
        return
    opened = await open_store(any_url, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------- conversations


async def test_a_new_conversation_reads_back_at_version_1(any_store: ConversationStore):
    created = await any_store.create(KEY, {"lang": "uk", "answers": {"q1": "yes"}}, "hash")
    assert created.version == 1
    assert await any_store.get(KEY) == created
    assert created.state == {"lang": "uk", "answers": {"q1": "yes"}}
    assert created.secret_hash == "hash"


async def test_an_unknown_conversation_is_none(any_store: ConversationStore):
    assert await any_store.get(KEY) is None


async def test_creating_twice_keeps_the_first(any_store: ConversationStore):
    await any_store.create(KEY, {"step": "first"})
    with pytest.raises(AlreadyExists):
        await any_store.create(KEY, {"step": "second"})
    with pytest.raises(KeyError):  # AlreadyExists is a KeyError
        await any_store.create(KEY, {"step": "third"})
    assert (await any_store.get(KEY)).state == {"step": "first"}


async def test_update_needs_the_version_it_read(any_store: ConversationStore):
    await any_store.create(KEY, {"answers": []}, "hash")
    updated = await any_store.update(KEY, {"answers": ["a"]}, version=1)
    assert updated is not None
    assert (updated.version, updated.state, updated.secret_hash) == (2, {"answers": ["a"]}, "hash")
    # A writer that read version 1 lost the race: nothing of its write lands.
    assert await any_store.update(KEY, {"answers": ["stale"]}, version=1) is None
    assert await any_store.get(KEY) == updated


async def test_update_of_a_missing_conversation_is_none(any_store: ConversationStore):
    assert await any_store.update(KEY, {"x": 1}, version=1) is None
    assert await any_store.get(KEY) is None


async def test_text_in_every_language_reads_back_unchanged(any_store: ConversationStore):
    state = {"labels": ["Ar darbdavys paėmė pasą?", "Ваш паспорт забрали?", "Чи забрали паспорт?"]}
    await any_store.create(KEY, state)
    assert (await any_store.get(KEY)).state == state


async def test_changing_a_read_state_does_not_change_the_stored_one(
    any_store: ConversationStore,
):
    await any_store.create(KEY, {"answers": ["a"]})
    read = await any_store.get(KEY)
    read.state["answers"].append("sneaked in")
    assert (await any_store.get(KEY)).state == {"answers": ["a"]}


async def test_bad_input_is_refused_before_it_reaches_the_database(
    any_store: ConversationStore,
):
    with pytest.raises(ValueError):
        await any_store.create("k" * 65, {})
    with pytest.raises(ValueError):
        await any_store.create("", {})
    with pytest.raises(TypeError):
        await any_store.create(KEY, ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await any_store.create(KEY, {}, "h" * 129)
    assert await any_store.get(KEY) is None


async def test_delete_erases_the_conversation(any_store: ConversationStore):
    await any_store.create(KEY, {"answers": ["a"]})
    await any_store.create(OTHER, {"answers": ["b"]})
    assert await any_store.delete(KEY) is True
    assert await any_store.get(KEY) is None
    assert await any_store.delete(KEY) is False
    assert (await any_store.get(OTHER)).state == {"answers": ["b"]}
    # The same person can start over, from scratch.
    assert (await any_store.create(KEY, {})).version == 1


async def test_purge_removes_only_conversations_untouched_since(
    any_store: ConversationStore, clock: Clock
):
    await any_store.create(KEY, {})
    await any_store.create(OTHER, {})
    clock.advance(days=20)
    await any_store.update(OTHER, {"touched": True}, version=1)
    clock.advance(days=20)

    assert await any_store.purge(clock() - timedelta(days=30)) == 1
    assert await any_store.get(KEY) is None
    assert (await any_store.get(OTHER)).state == {"touched": True}
    assert await any_store.purge(clock() - timedelta(days=30)) == 0
    # Another time zone names the same moment: OTHER was touched 20 days ago.
    kyiv = clock().astimezone(timezone_kyiv()) - timedelta(days=19)
    assert await any_store.purge(kyiv) == 1


async def test_purge_refuses_a_time_without_a_zone(any_store: ConversationStore):
    with pytest.raises(ValueError):
        await any_store.purge(datetime(2025, 1, 1))


def timezone_kyiv():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Kyiv")


async def test_corrupt_stored_state_reads_as_a_fresh_start(store: SqlAlchemyStore):
    await store.create(KEY, {"ok": True})
    async with store.engine.begin() as connection:
        await connection.execute(text("UPDATE conversations SET state = '{broken'"))
    found = await store.get(KEY)
    assert found is not None
    assert (found.state, found.version) == ({}, 1)
    # And the conversation carries on from there.
    assert (await store.update(KEY, {"lang": "lt"}, 1)).state == {"lang": "lt"}


# ---------------------------------------------------------------------------- statistics


async def test_events_add_up_per_day_and_dimensions(any_store: ConversationStore):
    next_day = DAY + timedelta(days=1)
    await any_store.count_event("started", day=DAY, channel="web", lang="uk", campaign="bus")
    await any_store.count_event("started", day=DAY, channel="web", lang="uk", campaign="bus", n=2)
    await any_store.count_event("started", day=DAY, channel="telegram", lang="uk", campaign="bus")
    await any_store.count_event("danger", day=next_day, value="documents_taken", campaign="fair")

    assert await any_store.events() == [
        EventCount(DAY, "started", "", "telegram", "uk", "bus", 1),
        EventCount(DAY, "started", "", "web", "uk", "bus", 3),
        EventCount(next_day, "danger", "documents_taken", "", "", "fair", 1),
    ]
    assert [e.name for e in await any_store.events(since=next_day)] == ["danger"]
    assert [e.count for e in await any_store.events(campaign="bus")] == [1, 3]
    assert await any_store.events(since=next_day, campaign="bus") == []


async def test_concurrent_counts_are_all_kept(any_store: ConversationStore):
    await asyncio.gather(*(any_store.count_event("started", day=DAY) for _ in range(40)))
    assert [e.count for e in await any_store.events()] == [40]


async def test_events_refuse_what_could_be_free_text(any_store: ConversationStore):
    with pytest.raises(ValueError):
        await any_store.count_event("started", day=DAY, campaign="x" * 65)
    with pytest.raises(ValueError):
        await any_store.count_event("danger", day=DAY, value="my boss took my passport " * 3)
    with pytest.raises(ValueError):
        await any_store.count_event("", day=DAY)
    with pytest.raises(ValueError):
        await any_store.count_event("started", day=DAY, n=0)
    assert await any_store.events() == []


# ---------------------------------------------------------------------------- Telegram updates


async def test_a_redelivered_update_is_recognised_until_it_expires(
    any_store: ConversationStore, clock: Clock
):
    ttl = timedelta(minutes=10)
    assert await any_store.remember_update(1001, ttl) is True
    assert await any_store.remember_update(1002, ttl) is True
    clock.advance(minutes=5)
    assert await any_store.remember_update(1001, ttl) is False
    clock.advance(minutes=6)
    # Seen 11 minutes ago: forgotten (pruned), so it counts as new again.
    assert await any_store.remember_update(1001, ttl) is True
    assert await any_store.remember_update(2**40, ttl) is True  # ids beyond 32 bits


async def test_seen_updates_are_pruned(store: SqlAlchemyStore, clock: Clock):
    for update_id in range(5):
        await store.remember_update(update_id, timedelta(minutes=1))
    store.clock = clock  # from now on the store lives an hour later
    clock.now = datetime.now(UTC) + timedelta(hours=1)
    await store.remember_update(99, timedelta(minutes=1))
    async with store.engine.connect() as connection:
        ids = (await connection.execute(text("SELECT update_id FROM seen_updates"))).scalars()
        assert list(ids) == [99]


# ---------------------------------------------------------------------------- one turn


async def test_a_turn_writes_its_state_and_counters_together(any_store: ConversationStore):
    started = [event_row("started", day=DAY, channel="web", lang="uk")]
    created = await any_store.save(KEY, {"answers": []}, None, secret_hash="h", events=started)
    assert (created.version, created.secret_hash) == (1, "h")
    # The same note twice in one turn, and one with a value: all counted.
    notes = [
        event_row("answered", day=DAY, channel="web", lang="uk"),
        event_row("answered", day=DAY, channel="web", lang="uk"),
        event_row("danger", day=DAY, channel="web", lang="uk", value="debt"),
    ]
    saved = await any_store.save(KEY, {"answers": ["yes"]}, 1, events=notes)
    assert (saved.version, saved.secret_hash, saved.state) == (2, "h", {"answers": ["yes"]})
    assert await any_store.events() == [
        EventCount(DAY, "answered", "", "web", "uk", "", 2),
        EventCount(DAY, "danger", "debt", "web", "uk", "", 1),
        EventCount(DAY, "started", "", "web", "uk", "", 1),
    ]


async def test_a_turn_that_lost_the_race_writes_nothing(any_store: ConversationStore):
    await any_store.create(KEY, {"answers": []})
    await any_store.update(KEY, {"answers": ["first"]}, 1)
    late = [event_row("answered", day=DAY)]
    assert await any_store.save(KEY, {"answers": ["late"]}, 1, events=late) is None
    with pytest.raises(AlreadyExists):
        await any_store.save(KEY, {"answers": []}, None, events=late)
    assert (await any_store.get(KEY)).state == {"answers": ["first"]}
    assert await any_store.events() == []


async def test_a_redelivered_update_changes_nothing(any_store: ConversationStore):
    ttl = timedelta(hours=1)
    await any_store.create(KEY, {"answers": []})
    # Lost the race: the update id is not kept either, so the retry of the same update runs.
    await any_store.update(KEY, {"answers": ["other"]}, 1)
    assert await any_store.save(KEY, {"answers": ["x"]}, 1, seen=SeenUpdate(7, ttl)) is None
    saved = await any_store.save(KEY, {"answers": ["other", "x"]}, 2, seen=SeenUpdate(7, ttl))
    assert saved.version == 3
    # Telegram delivers it again: refused, nothing written, nothing counted.
    again = [event_row("answered", day=DAY)]
    with pytest.raises(SeenBefore):
        await any_store.save(KEY, {"answers": ["twice"]}, 3, events=again, seen=SeenUpdate(7, ttl))
    assert (await any_store.get(KEY)).state == {"answers": ["other", "x"]}
    assert await any_store.events() == []


# ---------------------------------------------------------------------------- migrations


async def test_migrations_build_the_schema_from_nothing(store_url: str):
    store = await open_store(store_url)
    try:
        async with store.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = await connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == head_revision()
        assert tables == {
            "alembic_version",
            "conversations",
            "event_counts",
            "seen_updates",
            "relay_routes",
        }
    finally:
        await store.close()


async def test_migrating_again_changes_nothing_and_keeps_data(store_url: str):
    store = await open_store(store_url)
    await store.create(KEY, {"answers": ["kept"]})
    await upgrade_database(store_url)
    await upgrade_database(store_url)
    again = await open_store(store_url)
    try:
        assert (await again.get(KEY)).state == {"answers": ["kept"]}
    finally:
        await store.close()
        await again.close()


async def test_processes_starting_at_once_both_migrate(store_url: str):
    await asyncio.gather(*(upgrade_database(store_url) for _ in range(3)))
    store = await open_store(store_url, migrate=False)
    try:
        async with store.engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            assert rows.scalars().all() == [head_revision()]
    finally:
        await store.close()


async def test_the_migrations_build_the_tables_the_code_uses(store_url: str):
    # A new database gets its tables from `metadata` (fast starts); this proves that the
    # migrations, which upgrade older databases, build exactly the same schema.
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    await upgrade_database(store_url, from_metadata=False)
    store = await open_store(store_url, migrate=False)
    try:
        async with store.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
            version = await connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == HEAD_REVISION
    finally:
        await store.close()


def test_the_head_revision_constant_names_the_newest_migration():
    assert head_revision() == HEAD_REVISION


async def test_a_database_at_an_older_revision_is_migrated_forward(store_url: str):
    from alembic import command

    from bot.store import alembic_config

    def back_to_first(connection):
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")

    store = await open_store(store_url)
    await store.create(KEY, {"answers": ["kept"]})
    try:
        async with store.engine.begin() as connection:
            await connection.run_sync(back_to_first)
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "relay_routes" not in tables
        await upgrade_database(store_url)
        async with store.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = await connection.execute(text("SELECT version_num FROM alembic_version"))
        assert "relay_routes" in tables and version.scalar_one() == HEAD_REVISION
        assert (await store.get(KEY)).state == {"answers": ["kept"]}
    finally:
        await store.close()


async def test_downgrade_then_upgrade_works(store_url: str):
    from alembic import command

    from bot.store import alembic_config

    def downgrade(connection):
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    store = await open_store(store_url)
    try:
        async with store.engine.begin() as connection:
            await connection.run_sync(downgrade)
        async with store.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables == {"alembic_version"}
        await upgrade_database(store_url)
        assert (await store.create(KEY, {})).version == 1
    finally:
        await store.close()


def test_urls_get_an_async_driver():
    assert str(async_url("postgres://u@h/db")) == "postgresql+asyncpg://u@h/db"
    assert str(async_url("postgresql://u@h/db")) == "postgresql+asyncpg://u@h/db"
    assert str(async_url("sqlite:///x.db")) == "sqlite+aiosqlite:///x.db"
    assert default_database_url() == f"sqlite+aiosqlite:///{ROOT / 'data' / 'safe_abroad.db'}"


# ---------------------------------------------------------------------------- two writers


@dataclass
class Tally:
    attempts: list[int] = field(default_factory=list)


async def append_with_retry(store: ConversationStore, item: int, tally: Tally) -> None:
    """Read, append, write back; on a conflict read again (what the service does)."""
    for attempt in range(1, 10_000):
        current = await store.get(KEY)
        assert current is not None
        state = {"items": [*current.state["items"], item]}
        if await store.update(KEY, state, current.version) is not None:
            tally.attempts.append(attempt)
            return
        await asyncio.sleep(random.uniform(0, 0.001 * min(attempt, 20)))
    raise AssertionError("never got a write in")


async def test_two_writers_at_once_lose_no_append(
    store_url: str, capsys: pytest.CaptureFixture[str]
):
    first = await open_store(store_url)
    second = await open_store(store_url, migrate=False)  # its own engine and pool
    try:
        await first.create(KEY, {"items": []})
        tally = Tally()
        began = time.perf_counter()
        await asyncio.gather(
            *(append_with_retry(first, i, tally) for i in range(50)),
            *(append_with_retry(second, i, tally) for i in range(50, 100)),
        )
        seconds = time.perf_counter() - began
        final = await second.get(KEY)
    finally:
        await first.close()
        await second.close()

    assert sorted(final.state["items"]) == list(range(100))
    assert final.version == 101
    assert sum(tally.attempts) > 100, "the writers never collided; the test proved nothing"
    with capsys.disabled():
        print(
            f"\n[{async_url(store_url).get_backend_name()}] 2x50 writers, one engine each: "
            f"{seconds:.2f} s, {sum(tally.attempts) - 100} conflicts, "
            f"max {max(tally.attempts)} attempts"
        )


WRITER = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[3])
from tests.test_store import Tally, append_with_retry
from bot.store import open_store

async def main(url, first):
    store = await open_store(url, migrate=False)
    await store.ping()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    tally = Tally()
    await asyncio.gather(*(append_with_retry(store, first + i, tally) for i in range(50)))
    await store.close()
    print(json.dumps(tally.attempts), flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


@pytest.mark.slow
async def test_two_processes_at_once_lose_no_append(
    store_url: str, capsys: pytest.CaptureFixture[str]
):
    store = await open_store(store_url)
    await store.create(KEY, {"items": []})
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            store_url,
            str(first),
            str(ROOT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for first in (0, 50)
    ]
    try:
        for writer in writers:  # both are connected before either starts writing
            assert await asyncio.wait_for(writer.stdout.readline(), 60) == b"ready\n"
        began = time.perf_counter()
        for writer in writers:
            writer.stdin.write(b"go\n")
            await writer.stdin.drain()
        outputs = [await asyncio.wait_for(w.communicate(), 120) for w in writers]
        seconds = time.perf_counter() - began
        assert [w.returncode for w in writers] == [0, 0]
        final = await store.get(KEY)
    finally:
        for writer in writers:
            if writer.returncode is None:
                writer.kill()
                await writer.wait()
        await store.close()

    attempts = [n for out, _ in outputs for n in json.loads(out)]
    assert sorted(final.state["items"]) == list(range(100))
    assert final.version == 101
    assert sum(attempts) > 100, "the writers never collided; the test proved nothing"
    with capsys.disabled():
        print(
            f"\n[{async_url(store_url).get_backend_name()}] 2 processes x 50 writers: "
            f"{seconds:.2f} s, {sum(attempts) - 100} conflicts, max {max(attempts)} attempts"
        )


# ---------------------------------------------------------------------------- outages


async def every_operation(store: ConversationStore) -> list[str]:
    """Call each operation; return the names of those that did not raise StoreUnavailable."""
    calls = {
        "ping": store.ping(),
        "get": store.get(KEY),
        "create": store.create(KEY, {}),
        "update": store.update(KEY, {}, 1),
        "delete": store.delete(KEY),
        "purge": store.purge(START),
        "count_event": store.count_event("started", day=DAY),
        "events": store.events(),
        "remember_update": store.remember_update(1, timedelta(minutes=1)),
    }
    survived = []
    for name, call in calls.items():
        try:
            await call
        except StoreUnavailable:
            continue
        survived.append(name)
    return survived


async def test_a_database_on_a_closed_port_is_unavailable():
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/test"
    store = SqlAlchemyStore(url)
    try:
        assert await every_operation(store) == []
    finally:
        await store.close()
    with pytest.raises(StoreUnavailable):
        await open_store(url)


async def test_the_fake_store_can_be_taken_down_and_brought_back():
    store = InMemoryStore()
    await store.create(KEY, {"answers": ["a"]})
    store.down = True
    assert await every_operation(store) == []
    store.down = False
    assert (await store.get(KEY)).state == {"answers": ["a"]}


async def test_sqlite_unreachable_then_back_without_a_restart(tmp_path: Path):
    folder = tmp_path / "data"
    folder.write_text("a file where the data folder should be")
    url = f"sqlite+aiosqlite:///{folder / 'safe_abroad.db'}"
    store = SqlAlchemyStore(url)
    try:
        assert await every_operation(store) == []
        with pytest.raises(StoreUnavailable):
            await open_store(url)

        folder.unlink()  # the operator fixes the disk
        await upgrade_database(url)
        await store.ping()
        await store.create(KEY, {"answers": ["after"]})
        assert (await store.get(KEY)).state == {"answers": ["after"]}
    finally:
        await store.close()


@pytest.mark.postgres
async def test_postgres_outage_then_recovery_without_a_restart(postgres_url: str):
    proxy = TcpProxy()
    await proxy.start()
    url = async_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    store = await open_store(url)
    try:
        await store.create(KEY, {"answers": ["before"]})
        await store.get(KEY)  # leaves a pooled connection behind

        await proxy.stop()  # the server goes away, pooled connections die with it
        assert await every_operation(store) == []

        await proxy.start()
        await store.ping()
        assert (await store.get(KEY)).state == {"answers": ["before"]}
        assert (await store.update(KEY, {"answers": ["before", "after"]}, 1)).version == 2
    finally:
        await store.close()
        await proxy.stop()


# ---------------------------------------------------------------------------- commands


def test_migrate_command_creates_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    database = tmp_path / "fresh" / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert migrate_command(argparse.Namespace()) == 0
    assert migrate_command(argparse.Namespace()) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert database.exists()


def test_migrate_command_says_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:secret@127.0.0.1:{closed_port()}/x")
    assert migrate_command(argparse.Namespace()) == 1
    err = capsys.readouterr().err
    assert "Cannot reach the database" in err
    assert "secret" not in err


@pytest.mark.parametrize(
    ("days", "env", "removed"), [(None, None, 1), (None, "5", 2), (5, None, 2)]
)
def test_purge_command_uses_days_then_retention_setting(
    days: int | None,
    env: str | None,
    removed: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    if env is None:
        monkeypatch.delenv("RETENTION_DAYS", raising=False)
    else:
        monkeypatch.setenv("RETENTION_DAYS", env)

    async def seed() -> None:
        now = datetime.now(UTC)
        for key, age in ((KEY, 40), (OTHER, 10), ("c" * 64, 1)):
            store = await open_store(url, clock=lambda age=age: now - timedelta(days=age))
            await store.create(key, {})
            await store.close()

    asyncio.run(seed())
    assert purge_command(argparse.Namespace(days=days)) == 0
    assert f"Removed {removed} conversation" in capsys.readouterr().out


async def test_a_forgotten_update_counts_as_new_again(store):
    from datetime import timedelta

    assert await store.remember_update(42, timedelta(hours=1))
    assert not await store.remember_update(42, timedelta(hours=1))
    await store.forget_update(42)
    assert await store.remember_update(42, timedelta(hours=1))
