"""Load: 200 concurrent web conversations complete whole checklists; count errors and lost answers.

Each simulated person has their own loopback address, starts a conversation, answers the
job-offer or online-romance checklist button by button until its result, then reloads the
pending prompt. Afterwards every conversation is read back from the database: an answer is
lost if the stored state does not hold exactly the answers the person gave, or if the
conversation does not rest on the result the person was shown. Loopback only; bounded in
count and in time.

    python -m bench.load                      # SQLite, one `serve` process
    python -m bench.load --postgres           # PostgreSQL, `serve --workers 2`
    python -m bench.load --quick              # 20 conversations
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import (
    PSEUDONYM_SECRET,
    Server,
    bench_env,
    emit,
    fmt,
    free_port,
    loopback_addresses,
    machine_table,
    percentile,
    postgres_available,
    serve_command,
    sqlite_url,
    table,
    temp_dir,
    temp_postgres,
)
from bench.web_flow import LANGUAGES, WebPerson

CHECKLISTS = ("job", "romance")
#: More steps than any checklist has: a walk that gets this far is going in circles.
MAX_STEPS = 40


@dataclass
class Report:
    """What the load run saw."""

    conversations: int = 0
    completed: int = 0
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    lost_answers: int = 0
    wrong_state: int = 0
    wrong_pending: int = 0
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def error(self, what: str) -> None:
        """Count one failure by kind."""
        self.errors[what] = self.errors.get(what, 0) + 1


async def walk(person: WebPerson, report: Report, gate: asyncio.Event) -> None:
    """Start, answer every question, reload; record latencies and failures."""
    await gate.wait()
    try:
        report.latencies.append(await person.start())
        report.requests += 1
        while (choice := person.next_choice()) is not None and person.steps < MAX_STEPS:
            report.latencies.append(await person.pick(choice))
            report.requests += 1
        if not person.done:
            report.error("flow did not reach its result")
            return
        result = [m["text"] for m in person.messages if m["kind"] == "result"]
        pending = await person.pending()
        report.requests += 1
        if not any(m["text"] in result for m in pending):
            report.wrong_pending += 1
        report.completed += 1
    except Exception as error:
        report.error(f"{type(error).__name__} {getattr(error, 'status', '')}".strip())
    finally:
        await person.close()


async def verify(url: str, people: list[WebPerson], report: Report) -> None:
    """Read every conversation back from the database and compare it with what was sent."""
    from bot.pseudonym import pseudonym
    from bot.store import open_store

    store = await open_store(url, migrate=False)
    try:
        for person in people:
            if not person.id:
                continue
            stored = await store.get(pseudonym(PSEUDONYM_SECRET.encode(), "web", person.id))
            if stored is None:
                report.lost_answers += len(person.answers) or 1
                continue
            kept = stored.state.get("answers", {})
            report.lost_answers += sum(1 for k, v in person.answers.items() if kept.get(k) != v)
            if person.done and stored.state.get("flow") != person.flow:
                report.wrong_state += 1
    finally:
        await store.close()


async def load(port: int, url: str, conversations: int, seed: int, limit: float) -> Report:
    """Run all conversations at once; then verify them."""
    rng = random.Random(seed)
    addresses = loopback_addresses(seed * 1000)
    people = [
        WebPerson(
            port=port,
            address=next(addresses),
            rng=random.Random(rng.random()),
            flow_choice=rng.choice(CHECKLISTS),
            lang=rng.choice(LANGUAGES),
        )
        for _ in range(conversations)
    ]
    report = Report(conversations=conversations)
    gate = asyncio.Event()
    tasks = [asyncio.create_task(walk(p, report, gate)) for p in people]
    began = time.perf_counter()
    gate.set()
    _done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*pending, return_exceptions=True)
    report.elapsed = time.perf_counter() - began
    if pending:
        report.error(f"unfinished after {limit:g} s")
    await verify(url, people, report)
    return report


def render(report: Report, label: str) -> list[str]:
    """Return the report's table row."""
    errors = sum(report.errors.values())
    return [
        label,
        str(report.conversations),
        str(report.completed),
        str(report.requests),
        fmt(report.elapsed),
        fmt(report.requests / report.elapsed if report.elapsed else float("nan"), 0),
        fmt(percentile(report.latencies, 50) * 1000),
        fmt(percentile(report.latencies, 99) * 1000),
        f"{errors} {report.errors}" if errors else "0",
        str(report.lost_answers + report.wrong_state + report.wrong_pending),
    ]


HEADERS = [
    "database",
    "conversations",
    "completed",
    "requests",
    "seconds",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "lost answers",
]


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit 1 if anything was lost or failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, two workers")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20 conversations")
    parser.add_argument("--json", help="also write raw numbers here")
    args = parser.parse_args(argv)
    if args.quick:
        args.conversations, args.time_limit = 20, 120.0
    if args.postgres and not postgres_available():
        print("PostgreSQL is not reachable at 127.0.0.1:5432.")
        return 2
    with (
        temp_dir() as folder,
        temp_postgres() if args.postgres else contextlib.nullcontext(sqlite_url(folder)) as url,
    ):
        workers = 2 if args.postgres else 1
        port = free_port()
        server = Server(serve_command(port, workers), bench_env(folder, url), port, folder / "log")
        with server:
            report = asyncio.run(load(port, url, args.conversations, args.seed, args.time_limit))
    label = "PostgreSQL, 2 workers" if args.postgres else "SQLite, 1 worker"
    text = table(HEADERS, [render(report, label)])
    text += (
        "\n\nEvery conversation runs at once from its own loopback address; lost answers "
        "= answers missing or different in the stored state, plus conversations not "
        "resting on the result shown.\n\n" + machine_table()
    )
    data: dict[str, Any] = {k: v for k, v in vars(report).items() if k != "latencies"}
    emit(f"Load: {args.conversations} concurrent conversations", text, data, args.json)
    failed = sum(report.errors.values()) + report.lost_answers + report.wrong_state
    return 1 if failed or report.wrong_pending else 0


if __name__ == "__main__":
    raise SystemExit(main())
