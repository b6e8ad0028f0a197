"""Web step benchmark: a whole conversation step through the API versus a naive baseline.

A step is `POST /api/v1/conversations/{id}/messages` on the real `python -m bot serve`
(uvicorn): token check, detector (typed text), engine, i18n and persistence. The baseline
is `bench/baseline_app.py`, a minimal FastAPI endpoint that reads a row, updates it and
commits with SQLAlchemy on the same database, under the same uvicorn options. Both run
at 1, 8 and 32 concurrent clients on loopback, interleaved, several runs each; the table
shows medians over runs and the throughput ratio ours/baseline (>= 1.0 means our whole step
costs no more than the persisted echo).

    python -m bench.bench_web                 # SQLite (1 worker) and PostgreSQL (2 workers)
    python -m bench.bench_web --quick         # smoke: tiny runs, numbers meaningless
    python -m bench.bench_web --db sqlite --runs 5 --duration 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.baseline_app import prepare
from bench.common import (
    Connection,
    Samples,
    Server,
    baseline_command,
    bench_env,
    cpu_seconds,
    emit,
    fmt,
    free_port,
    loopback_addresses,
    machine_table,
    median,
    postgres_available,
    serve_command,
    sqlite_url,
    table,
    temp_dir,
    temp_postgres,
)
from bench.web_flow import FLOWS, LANGUAGES, WebPerson

LEVELS = (1, 8, 32)
#: Steps per conversation before a simulated person leaves (the API allows 20 in a burst).
STEPS_PER_PERSON = 18
#: Share of steps that are typed text (reaching the detector) instead of a button.
TEXT_SHARE = 0.2
BASELINE_ROWS = 10_000


@dataclass
class Level:
    """Results of one concurrency level: one Samples per run, for ours and the baseline."""

    clients: int
    ours: list[Samples] = field(default_factory=list)
    base: list[Samples] = field(default_factory=list)

    def row(self, label: str) -> list[str]:
        """Return the table row: medians over runs and the ratio."""
        ours_rps = median([s.throughput for s in self.ours])
        base_rps = median([s.throughput for s in self.base])
        errors = sum(sum(s.errors.values()) for s in self.ours + self.base)
        return [
            label,
            str(self.clients),
            fmt(ours_rps, 0),
            fmt(median([s.p(50) for s in self.ours])),
            fmt(median([s.p(99) for s in self.ours])),
            fmt(median([s.cpu_ms for s in self.ours]), 2),
            fmt(base_rps, 0),
            fmt(median([s.p(50) for s in self.base])),
            fmt(median([s.p(99) for s in self.base])),
            fmt(median([s.cpu_ms for s in self.base]), 2),
            fmt(ours_rps / base_rps, 2) if base_rps else "n/a (baseline served nothing)",
            fmt(median([s.cpu_ms for s in self.base]) / median([s.cpu_ms for s in self.ours]), 2),
            str(errors),
        ]


HEADERS = [
    "database",
    "clients",
    "ours steps/s",
    "ours p50 ms",
    "ours p99 ms",
    "ours server CPU ms/step",
    "baseline req/s",
    "baseline p50 ms",
    "baseline p99 ms",
    "baseline server CPU ms/req",
    "ratio (throughput)",
    "ratio (CPU)",
    "errors",
]


async def bounded(
    clients: int,
    duration: float,
    max_requests: int,
    one: Callable[[int], Awaitable[float]],
    server: Server | None = None,
) -> Samples:
    """Run `clients` loops of `one(client)` until `duration` or `max_requests`; time them.

    With `server`, also record the CPU time the server used meanwhile: on a noisy machine
    CPU per request moves far less than requests per second.
    """
    samples = Samples()
    issued = itertools.count()

    async def loop(client: int) -> None:
        while next(issued) < max_requests:
            try:
                samples.latencies.append(await one(client))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                samples.error(type(error).__name__ + str(getattr(error, "status", "")))

    cpu = cpu_seconds(server) if server else 0.0
    began = time.perf_counter()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(duration):
            await asyncio.gather(*(loop(c) for c in range(clients)))
    samples.elapsed = time.perf_counter() - began
    if server:
        samples.cpu = cpu_seconds(server) - cpu
    return samples


class People:
    """Conversations started ahead of the timed window, handed out as people leave."""

    def __init__(self, port: int, seed: int):
        self.port = port
        self.rng = random.Random(seed)
        self.addresses = loopback_addresses(seed * 100_000)
        self.ready: list[WebPerson] = []

    def new(self) -> WebPerson:
        """Return a person who has not started yet, with a random flow and language."""
        rng = random.Random(self.rng.random())
        return WebPerson(
            port=self.port,
            address=next(self.addresses),
            rng=rng,
            flow_choice=rng.choice(list(FLOWS)),
            lang=rng.choice(LANGUAGES),
        )

    async def fill(self, count: int, concurrency: int = 8) -> None:
        """Start `count` conversations (untimed), then drop their connections."""
        queue = [self.new() for _ in range(count)]

        async def worker() -> None:
            while queue:
                person = queue.pop()
                await person.start()
                await person.close()  # reopened on the first step, like a new visitor
                self.ready.append(person)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def take(self) -> WebPerson:
        """Return a started conversation (starting one now if the reserve ran out)."""
        if self.ready:
            return self.ready.pop()
        person = self.new()
        await person.start()
        return person


async def run_ours(
    server: Server, clients: int, duration: float, max_requests: int, seed: int
) -> Samples:
    """Time conversation steps by `clients` simulated people."""
    people = People(server.port, seed)
    await people.fill(max_requests // 12 + clients * 2)
    current: dict[int, WebPerson] = {}
    rng = random.Random(seed)

    async def one(client: int) -> float:
        person = current.get(client)
        if person is None or person.done or person.steps >= STEPS_PER_PERSON:
            if person is not None:
                await person.close()
            person = current[client] = await people.take()
        choice = person.next_choice()
        try:
            if choice is None or rng.random() < TEXT_SHARE:
                return await person.type()
            return await person.pick(choice)
        except Exception:
            current.pop(client, None)  # this person leaves; the next step brings another
            await person.close()
            raise

    try:
        return await bounded(clients, duration, max_requests, one, server)
    finally:
        for person in current.values():
            await person.close()


async def run_baseline(
    server: Server, clients: int, duration: float, max_requests: int, seed: int
) -> Samples:
    """Time the baseline's read-update-commit, with the same connection churn as ours."""
    addresses = loopback_addresses(seed * 100_000 + 50_000)
    rows = itertools.count(seed * 7919)
    state: dict[int, tuple[Connection, int, int]] = {}

    async def one(client: int) -> float:
        connection, row, used = state.get(client, (None, 0, STEPS_PER_PERSON))
        if connection is None or used >= STEPS_PER_PERSON:
            if connection is not None:
                await connection.close()
            connection, row, used = Connection(server.port, next(addresses)), next(rows), 0
        state[client] = (connection, row, used + 1)
        began = time.perf_counter()
        status, _ = await connection.request(
            "POST", f"/rows/{row % BASELINE_ROWS}", {"choice": "job_offer.fee.no"}
        )
        latency = time.perf_counter() - began
        if status != 200:
            raise RuntimeError(f"baseline HTTP {status}")
        return latency

    try:
        return await bounded(clients, duration, max_requests, one, server)
    finally:
        for connection, _, _ in state.values():
            await connection.close()


async def measure(
    ours: Server,
    base: Server,
    runs: int,
    duration: float,
    max_requests: int,
    warmup: float,
    clients_levels: tuple[int, ...] = LEVELS,
) -> list[Level]:
    """Run every level, interleaving baseline and ours so noise hits both alike."""
    levels = []
    seeds = itertools.count(1)
    for clients in clients_levels:
        level = Level(clients)
        await run_ours(ours, clients, warmup, max_requests, next(seeds))
        await run_baseline(base, clients, warmup, max_requests, next(seeds))
        for run in range(runs):
            order = [("base", run_baseline, base), ("ours", run_ours, ours)]
            for name, runner, server in order if run % 2 == 0 else order[::-1]:
                samples = await runner(server, clients, duration, max_requests, next(seeds))
                getattr(level, name).append(samples)
        levels.append(level)
    return levels


@contextlib.contextmanager
def servers(url: str, folder: Path, workers: int) -> Iterator[tuple[Server, Server]]:
    """Start our `serve` and the baseline on the same database."""
    asyncio.run(prepare(url, BASELINE_ROWS))
    env = bench_env(folder, url)
    ours_port, base_port = free_port(), free_port()
    ours = Server(serve_command(ours_port, workers), env, ours_port, folder / "serve.log")
    base = Server(baseline_command(base_port, workers), env, base_port, folder / "base.log")
    with ours, base:
        yield ours, base


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen databases; return the raw numbers."""
    results: dict[str, Any] = {}
    rows: list[list[str]] = []
    targets = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in targets:
        if db == "postgres" and not postgres_available():
            print("PostgreSQL is not reachable at 127.0.0.1:5432; skipping it.")
            continue
        with (
            temp_dir() as folder,
            (
                temp_postgres() if db == "postgres" else contextlib.nullcontext(sqlite_url(folder))
            ) as url,
        ):
            workers = 2 if db == "postgres" else 1
            # Migrate once before two workers start, as a deployment would.
            with servers(url, folder, workers) as (ours, base):
                levels = asyncio.run(
                    measure(
                        ours, base, args.runs, args.duration, args.max, args.warmup, args.levels
                    )
                )
        label = f"{db} ({workers} worker{'s' if workers > 1 else ''})"
        rows += [level.row(label) for level in levels]
        results[db] = [
            {
                "clients": lv.clients,
                "ours": [_raw(s) for s in lv.ours],
                "baseline": [_raw(s) for s in lv.base],
            }
            for lv in levels
        ]
    text = table(HEADERS, rows)
    text += (
        f"\n\nMedians over {args.runs} run(s) of {args.duration:g} s (at most {args.max} "
        f"requests) per level; {int(TEXT_SHARE * 100)}% of steps are typed text. "
        "ratio (throughput) = ours steps/s ÷ baseline req/s; ratio (CPU) = baseline server "
        "CPU per request ÷ ours per step (both ≥ 1.0 mean our step costs no more).\n\n"
        + machine_table()
    )
    emit("Web step vs baseline", text, results, args.json)
    return results


def _raw(samples: Samples) -> dict[str, Any]:
    return {
        "count": samples.count,
        "elapsed": samples.elapsed,
        "throughput": samples.throughput,
        "p50_ms": samples.p(50),
        "p99_ms": samples.p(99),
        "server_cpu_ms": samples.cpu_ms,
        "errors": samples.errors,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per level")
    parser.add_argument("--max", type=int, default=5000, help="requests per run at most")
    parser.add_argument("--json", help="also write raw numbers here")
    parser.add_argument(
        "--levels",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=LEVELS,
        help="concurrent clients per level, comma-separated (default 1,8,32)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.duration, args.warmup, args.max = 1, 0.5, 0.2, 60
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
