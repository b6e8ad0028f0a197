"""Database fixtures: a SQLite file per test, a fresh PostgreSQL database per test, a store.

`tests/conftest.py` imports these. PostgreSQL is the local server at 127.0.0.1:5432 (trust
auth, maintenance database `test`, user `postgres` or the current user); each test gets
its own database, dropped afterwards, and the test is skipped with the reason when the
server is not there. `TcpProxy` lets a test take the database away and bring it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SqlAlchemyStore, open_store

__all__ = ["TcpProxy", "postgres_url", "sqlite_url", "store", "store_url"]

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_MAINTENANCE_DB = "test"

# Why PostgreSQL is missing, once known, so later tests skip without waiting again.
_pg_missing: str | None = None


async def _pg_admin() -> tuple[object, str]:
    """Connect to the maintenance database as the first user that works, or skip."""
    global _pg_missing
    if _pg_missing:
        pytest.skip(_pg_missing)
    try:
        import asyncpg
    except ImportError:
        _pg_missing = "asyncpg is not installed (pip install '.[postgres]')"
        pytest.skip(_pg_missing)
    problems = []
    for user in dict.fromkeys(["postgres", getpass.getuser()]):
        try:
            connection = await asyncpg.connect(
                host=PG_HOST, port=PG_PORT, user=user, database=PG_MAINTENANCE_DB, timeout=3
            )
        except (OSError, TimeoutError) as error:
            _pg_missing = f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {error}"
            pytest.skip(_pg_missing)
        except asyncpg.PostgresError as error:
            problems.append(f"{user}: {error}")
            continue
        return connection, user
    _pg_missing = f"PostgreSQL at {PG_HOST}:{PG_PORT} refused us ({'; '.join(problems)})"
    pytest.skip(_pg_missing)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Return the URL of a SQLite file in a folder that does not exist yet."""
    return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'safe_abroad.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """Create an empty PostgreSQL database for one test, yield its URL, then drop it."""
    admin, user = await _pg_admin()
    name = f"safe_abroad_test_{uuid.uuid4().hex[:16]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        # FORCE: a test that failed half-way may still hold connections.
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """Return an empty database's URL, once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlAlchemyStore]:
    """Return a migrated store on each backend, closed after the test."""
    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()


class TcpProxy:
    """A loopback TCP relay to a server, which a test can stop (an outage) and restart."""

    def __init__(self, target_host: str = PG_HOST, target_port: int = PG_PORT) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Listen (on the same port as before, after a stop)."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut every open one, as a crashed server would."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, upstream_writer}
        pipes = [
            asyncio.create_task(self._pipe(reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, writer)),
        ]
        self._tasks.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)
        self._tasks.difference_update(pipes)
        self._writers -= {writer, upstream_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
