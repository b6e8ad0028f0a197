"""Scale: database size and step latency with 10k, 100k and 1M stored conversations; RSS and
start-up time of `serve`.

Stored conversations are inserted in bulk with realistic states: states the engine really
produced while walking random flows in four languages, keyed like real pseudonyms, touched
at random moments over the last 29 days (inside the retention period, so the purge at
start-up keeps them). At each size the real `python -m bot serve` is started on the
database and timed (start to /readyz answering), then conversation steps are timed. RSS is
measured idle and after 10k conversations through the API; start-to-ready is the median of
several fresh starts (migration included).

    python -m bench.bench_scale               # SQLite: 10k, 100k, 1M
    python -m bench.bench_scale --db both     # and PostgreSQL
    python -m bench.bench_scale --quick       # 1k and 5k; 200 conversations for RSS
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_web import People, run_ours
from bench.common import (
    Server,
    bench_env,
    emit,
    fmt,
    free_port,
    machine_table,
    median,
    postgres_available,
    serve_command,
    sqlite_url,
    table,
    temp_dir,
    temp_postgres,
)
from bench.web_flow import FLOWS, LANGUAGES

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 5_000)
CHUNK = 20_000


def realistic_states(count: int = 400, seed: int = 3) -> list[str]:
    """Return JSON states the engine produced at random points of random flows."""
    from bot.model import Pick, Start
    from bot.runtime import build_engine

    engine = build_engine()
    rng = random.Random(seed)
    states: list[str] = []
    while len(states) < count:
        state, replies = engine.advance(None, Start(lang=rng.choice(LANGUAGES)))
        state, replies = engine.advance(state, Pick(f"menu.main.{rng.choice(list(FLOWS))}"))
        for _ in range(rng.randint(0, 30)):
            offered = [r for r in replies if r.choices]
            ids = [c.id for c in offered[-1].choices] if offered else []
            ids = [i for i in ids if i not in {"back", "menu", "lang", "help"}]
            if not ids or any(r.kind == "result" for r in replies):
                break
            state, replies = engine.advance(state, Pick(rng.choice(ids)))
        if rng.random() < 0.3:
            state["campaign"] = rng.choice(["posters-vilnius", "school-2026", "radio"])
        states.append(json.dumps(state, ensure_ascii=False, separators=(",", ":")))
    return states


def rows(start: int, count: int, states: list[str], seed: int) -> list[tuple[Any, ...]]:
    """Return conversation rows: pseudonym-like key, state, version, token hash, times."""
    rng = random.Random(seed + start)
    now = datetime.now(UTC)
    out = []
    for n in range(start, start + count):
        key = hashlib.sha256(f"bench:{n}".encode()).hexdigest()
        secret = hashlib.sha256(f"token:{n}".encode()).hexdigest() if n % 2 else None
        created = now - timedelta(seconds=rng.uniform(3600, 29 * 86400))
        updated = created + timedelta(seconds=rng.uniform(0, (now - created).total_seconds()))
        out.append((key, rng.choice(states), rng.randint(1, 30), secret, created, updated))
    return out


def _sqlite_time(moment: datetime) -> str:
    # SQLAlchemy's SQLite DateTime storage format (it keeps no zone: every time is UTC).
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill_sqlite(path: Path, start: int, count: int, states: list[str]) -> None:
    """Insert `count` conversations numbered from `start`, in large transactions."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        for offset in range(start, start + count, CHUNK):
            batch = rows(offset, min(CHUNK, start + count - offset), states, 1)
            db.executemany(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                [(k, s, v, h, _sqlite_time(c), _sqlite_time(u)) for k, s, v, h, c, u in batch],
            )
            db.commit()


async def fill_postgres(url: str, start: int, count: int, states: list[str]) -> None:
    """Insert `count` conversations with COPY."""
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for offset in range(start, start + count, CHUNK):
            batch = rows(offset, min(CHUNK, start + count - offset), states, 1)
            await connection.copy_records_to_table("conversations", records=batch)
    finally:
        await connection.close()


async def size_of(url: str, folder: Path) -> int:
    """Return the database's size on disk in bytes."""
    if url.startswith("sqlite"):
        return sum(p.stat().st_size for p in folder.glob("bench.db*"))  # noqa: ASYNC240
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()


async def migrate(url: str) -> None:
    """Create the schema as `serve` would."""
    from bot.store import open_store

    store = await open_store(url)
    await store.close()


def start_serve(folder: Path, url: str, name: str) -> Server:
    """Start `python -m bot serve` on the database (one worker)."""
    port = free_port()
    return Server(serve_command(port), bench_env(folder, url), port, folder / f"{name}.log")


def sizes_table(db: str, sizes: tuple[int, ...], args: argparse.Namespace) -> list[list[str]]:
    """Grow one database through the sizes; at each, time a start and conversation steps."""
    out = []
    states = realistic_states()
    with (
        temp_dir() as folder,
        temp_postgres() if db == "postgres" else contextlib.nullcontext(sqlite_url(folder)) as url,
    ):
        asyncio.run(migrate(url))
        stored = 0
        for size in sizes:
            began = time.perf_counter()
            if db == "sqlite":
                fill_sqlite(folder / "bench.db", stored, size - stored, states)
            else:
                asyncio.run(fill_postgres(url, stored, size - stored, states))
            filled = time.perf_counter() - began
            stored = size
            on_disk = asyncio.run(size_of(url, folder))
            with start_serve(folder, url, f"serve-{size}") as server:
                levels = {
                    clients: asyncio.run(
                        run_ours(server, clients, args.duration, args.max, size + clients)
                    )
                    for clients in (1, 8)
                }
                ready = server.ready_after
            out.append(
                [
                    db,
                    f"{size:,}",
                    fmt(on_disk / 1e6),
                    fmt(on_disk / size, 0),
                    fmt(filled),
                    fmt(ready, 2),
                    fmt(levels[1].p(50)),
                    fmt(levels[1].p(99)),
                    fmt(levels[8].p(50)),
                    fmt(levels[8].p(99)),
                    fmt(levels[8].throughput, 0),
                    str(sum(sum(s.errors.values()) for s in levels.values())),
                ]
            )
            print(f"  {db} {size:,}: done", flush=True)
    return out


SIZE_HEADERS = [
    "database",
    "conversations",
    "size MB",
    "bytes/conv.",
    "bulk insert s",
    "start-to-ready s",
    "1 client p50 ms",
    "1 client p99 ms",
    "8 clients p50 ms",
    "8 clients p99 ms",
    "8 clients steps/s",
    "errors",
]


async def converse(port: int, count: int, concurrency: int = 16) -> int:
    """Start `count` conversations through the API, each answered once; return failures."""
    people = People(port, seed=99)
    remaining = iter(range(count))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for _ in remaining:
            person = people.new()
            try:
                await person.start()
                choice = person.next_choice()
                if choice:
                    await person.pick(choice)
            except Exception:
                failures += 1
            finally:
                await person.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


def memory_and_startup(args: argparse.Namespace) -> tuple[list[list[str]], dict[str, Any]]:
    """Measure start-to-ready over fresh starts, and RSS idle and after many conversations."""
    readies = []
    for n in range(args.starts):
        with temp_dir() as folder, start_serve(folder, sqlite_url(folder), f"start-{n}") as s:
            readies.append(s.ready_after)
    with temp_dir() as folder, start_serve(folder, sqlite_url(folder), "rss") as server:
        time.sleep(1.0)
        idle = server.rss_mb()
        began = time.perf_counter()
        failures = asyncio.run(converse(server.port, args.conversations))
        spent = time.perf_counter() - began
        time.sleep(0.5)
        after = server.rss_mb()
    rows_ = [
        ["start to /readyz (fresh database, median)", f"{median(readies):.2f} s", "< 2 s"],
        ["start to /readyz (each start)", ", ".join(f"{r:.2f}" for r in readies), ""],
        ["RSS idle", f"{idle:.0f} MB", "< 150 MB"],
        [
            f"RSS after {args.conversations:,} conversations",
            f"{after:.0f} MB ({args.conversations:,} in {spent:.0f} s, {failures} failed)",
            "< 150 MB",
        ],
    ]
    data = {"ready_s": readies, "rss_idle_mb": idle, "rss_after_mb": after, "failures": failures}
    return rows_, data


def main(argv: list[str] | None = None) -> int:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per latency run")
    parser.add_argument("--max", type=int, default=2000, help="steps per latency run at most")
    parser.add_argument("--conversations", type=int, default=10_000, help="for the RSS figure")
    parser.add_argument("--starts", type=int, default=5, help="fresh starts to time")
    parser.add_argument("--sizes-only", action="store_true", help="skip RSS and start-up")
    parser.add_argument("--json", help="also write raw numbers here")
    args = parser.parse_args(argv)
    sizes = SIZES
    if args.quick:
        sizes, args.duration, args.max, args.conversations, args.starts = (
            QUICK_SIZES,
            0.5,
            60,
            200,
            2,
        )
    memory_rows, data = ([], {}) if args.sizes_only else memory_and_startup(args)
    size_rows: list[list[str]] = []
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        if db == "postgres" and not postgres_available():
            print("PostgreSQL is not reachable at 127.0.0.1:5432; skipping it.")
            continue
        size_rows += sizes_table(db, sizes, args)
    text = table(["what", "measured", "target"], memory_rows) + "\n\n" if memory_rows else ""
    text += table(SIZE_HEADERS, size_rows)
    text += (
        f"\n\nSteps timed for {args.duration:g} s (at most {args.max}) per level at each size; "
        "the database keeps growing from one size to the next; one `serve` process.\n\n"
        + machine_table()
    )
    data["sizes"] = size_rows
    emit("Scale, memory and start-up", text, data, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
